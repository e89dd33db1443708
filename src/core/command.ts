import type { ConfChange } from "./config.ts";

/**
 * What clients ask the replicated state to do. Every command is identified by `(clientId, seq)` so that
 * a retry is applied at most once; `ackedThrough` tells the replicas which replies the client no longer
 * needs, which bounds the session table.
 *
 * @example
 * ```ts
 * const cmd: Command = { clientId: 7, seq: 3, ackedThrough: 2, body: { kind: "op", op: bytes } };
 * ```
 */
export interface Command {
  readonly clientId: number;
  readonly seq: number;
  readonly ackedThrough: number;
  readonly body: CommandBody;
  /** The client's deadline for this call: the longest it may stay parked (see `ApplyContext.timeoutMs`). */
  readonly timeoutMs?: number;
}

/**
 * `open` starts a session (clientId 0; `seq` is a nonce that routes the reply; `ttlMs` is how long the
 * session lives without a sign of life), `op` runs an operation on the state machine, `reconfig` changes
 * membership, `keepalive` (proposed by the leader, clientId 0, seq 0) records that the listed sessions'
 * clients are alive.
 */
export type CommandBody =
  | { readonly kind: "open"; readonly ttlMs?: number }
  | { readonly kind: "op"; readonly op: Uint8Array }
  | { readonly kind: "reconfig"; readonly change: ConfChange }
  | { readonly kind: "keepalive"; readonly sessions: readonly number[] };

/**
 * The value decided in one slot: the leader's agreed time, a random seed it drew (every replica derives
 * the same per-command randomness from it), and the commands; no commands is a no-op.
 */
export interface Batch {
  readonly timeMs: number;
  readonly seed: number;
  readonly commands: readonly Command[];
}

/** Error codes a client may receive. */
export type ErrorCode =
  | "NotLeader"
  | "Busy"
  | "TooLarge"
  | "SessionExpired"
  | "TooManyInFlight"
  | "ReconfigRefused"
  | "Timeout"
  | "BadCommand";

/** The outcome of a command or read. */
export type Reply =
  | { readonly ok: true; readonly result: Uint8Array }
  | { readonly ok: true; readonly sessionId: number }
  | { readonly ok: true; readonly reconfigured: true }
  | { readonly ok: false; readonly error: ErrorCode; readonly message: string; readonly leaderId?: number };

/** Approximate wire size of a command, for the batch and message limits. */
export function commandBytes(cmd: Command): number {
  const overhead = 32;
  if (cmd.body.kind === "op") return overhead + cmd.body.op.byteLength;
  return overhead + 32;
}

/** Approximate wire size of a batch. */
export function batchBytes(batch: Batch): number {
  let total = 16;
  for (const cmd of batch.commands) total += commandBytes(cmd);
  return total;
}
