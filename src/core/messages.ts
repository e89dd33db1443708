import type { Ballot } from "./ballot.ts";
import type { Batch } from "./command.ts";
import type { Snapshot } from "./snapshot.ts";

/** A value an acceptor accepted for a slot, with the ballot it was accepted in. */
export interface PValue {
  readonly slot: number;
  readonly ballot: Ballot;
  readonly value: Batch;
}

/** A slot and its value, as proposed (accept) or as decided (learn). */
export interface SlotValue {
  readonly slot: number;
  readonly value: Batch;
}

/** Phase 1a: a candidate asks acceptors to promise `ballot` and report what they accepted from `fromSlot`. */
export interface PrepareMessage {
  readonly type: "prepare";
  readonly ballot: Ballot;
  readonly fromSlot: number;
  /** Sent by a candidate the old leader handed over to: acceptors need not wait out the old leader. */
  readonly handover?: boolean;
}

/** A leader that is leaving the cluster asks a replica of the new membership to campaign at once. */
export interface TakeOverMessage {
  readonly type: "take-over";
}

/**
 * Phase 1b. `coveredThrough` is the last slot the report is complete for (it may stop early to keep the
 * message bounded; `Infinity` when complete); slots at or below `truncatedThrough` were decided and
 * compacted away, so the candidate must learn them instead of proposing there.
 */
export interface PromiseMessage {
  readonly type: "promise";
  readonly ballot: Ballot;
  readonly accepted: readonly PValue[];
  readonly coveredThrough: number;
  readonly truncatedThrough: number;
}

/** Phase 2a, pipelined: values for several slots; also carries the leader's commit and compaction points. */
export interface AcceptMessage {
  readonly type: "accept";
  readonly ballot: Ballot;
  readonly entries: readonly SlotValue[];
  readonly commitThrough: number;
  readonly compactThrough: number;
}

/** Phase 2b. */
export interface AcceptedMessage {
  readonly type: "accepted";
  readonly ballot: Ballot;
  readonly slots: readonly number[];
}

/** An acceptor refuses a ballot because it promised `promised`, or because it still hears another leader. */
export interface NackMessage {
  readonly type: "nack";
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/** The leader's liveness signal; `readRound` confirms leadership for reads queued before it. */
export interface HeartbeatMessage {
  readonly type: "heartbeat";
  readonly ballot: Ballot;
  readonly commitThrough: number;
  readonly compactThrough: number;
  readonly readRound: number;
}

/**
 * An acceptor confirms it still holds the leader's ballot. `snapshotSlot` is the slot of the node's
 * durable snapshot (-1 on an acceptor-only node): the leader compacts only what every replica has
 * on disk, so that no crash of all of them can lose decided state.
 */
export interface HeartbeatAckMessage {
  readonly type: "heartbeat-ack";
  readonly ballot: Ballot;
  readonly readRound: number;
  readonly snapshotSlot: number;
}

/**
 * A lagging replica asks for decided values from `fromSlot`. A node joining a running cluster sets
 * `wantSnapshot`: it does not know the membership the log started from, so replaying entries would
 * rebuild the wrong one.
 */
export interface LearnRequestMessage {
  readonly type: "learn-request";
  readonly fromSlot: number;
  readonly wantSnapshot: boolean;
  /** Continuing a snapshot transfer: the snapshot's slot and the next byte of its application state. */
  readonly snapshotSlot?: number;
  readonly snapshotOffset?: number;
}

/** Decided values, or a snapshot when the asker is behind the responder's log. */
export interface LearnMessage {
  readonly type: "learn";
  /**
   * A snapshot, or one part of one: then `snapshot.app` holds the bytes from `snapshotPart.offset` of
   * `snapshotPart.total`, so no message carries more than `snapshotChunkBytes` of application state.
   */
  readonly snapshot: Snapshot | null;
  readonly snapshotPart?: { readonly offset: number; readonly total: number };
  readonly entries: readonly SlotValue[];
}

/** Every message nodes exchange. */
export type Message =
  | PrepareMessage
  | PromiseMessage
  | AcceptMessage
  | AcceptedMessage
  | NackMessage
  | HeartbeatMessage
  | HeartbeatAckMessage
  | LearnRequestMessage
  | LearnMessage
  | TakeOverMessage;

/** A message with its addressee. */
export interface Envelope {
  readonly to: number;
  readonly message: Message;
}
