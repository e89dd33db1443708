import type { Reply } from "./command.ts";
import type { Config } from "./config.ts";

/** The replicated state of one client session. */
export interface SessionState {
  readonly id: number;
  readonly ackedThrough: number;
  readonly lastActiveMs: number;
  /** The lease: the session expires this long (agreed time) after its last sign of life. */
  readonly ttlMs: number;
  /** Replies to commands the client has not acknowledged yet, by seq. */
  readonly replies: readonly (readonly [number, Reply])[];
  /** Parked calls, by seq, with their deadline (Infinity: until woken). */
  readonly parked: readonly (readonly [number, number])[];
}

/** A membership config and the first slot it governs. */
export interface ConfigEpoch {
  readonly fromSlot: number;
  readonly config: Config;
  /** The call that asked for this change: it is answered when the change takes effect. */
  readonly requester?: { readonly clientId: number; readonly seq: number };
}

/**
 * Everything a replica needs to resume at `slot`: the application's bytes, the sessions, the membership
 * history still relevant, and the agreed clock.
 */
export interface Snapshot {
  readonly slot: number;
  readonly app: Uint8Array;
  readonly sessions: readonly SessionState[];
  readonly configs: readonly ConfigEpoch[];
  readonly clockMs: number;
  readonly nextSessionId: number;
}
