import type { Ballot } from "./ballot.ts";
import { BALLOT_ZERO, compareBallots } from "./ballot.ts";
import type { Batch } from "./command.ts";
import type { PValue } from "./messages.ts";
import type { Snapshot } from "./snapshot.ts";

/**
 * What a node asks its host to make durable, in order. The host appends these to its log and syncs
 * before it sends any message or reply of the same batch.
 *
 * `commit` says every slot through `throughSlot` is decided and its value is on this disk — in the
 * acceptor's store, or in a `decide` record when the local acceptor never held the chosen value. A
 * restarted replica replays them itself instead of re-deciding them, which may be impossible once the
 * members that decided them have been removed.
 */
export type PersistRecord =
  | { readonly kind: "promise"; readonly ballot: Ballot }
  | { readonly kind: "campaign"; readonly round: number }
  | { readonly kind: "accept"; readonly pvalue: PValue }
  | { readonly kind: "truncate"; readonly throughSlot: number }
  | { readonly kind: "decide"; readonly slot: number; readonly value: Batch }
  | { readonly kind: "commit"; readonly throughSlot: number }
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot };

/** A node's durable state, rebuilt from its records on restart. */
export interface DurableState {
  promised: Ballot;
  campaignRound: number;
  accepted: Map<number, PValue>;
  truncatedThrough: number;
  /** Decided values the local acceptor does not hold, after the snapshot. */
  decided: Map<number, Batch>;
  committedThrough: number;
  snapshot: Snapshot | null;
}

/** The state of a node that has never written anything. */
export function emptyDurableState(): DurableState {
  return {
    promised: BALLOT_ZERO,
    campaignRound: 0,
    accepted: new Map(),
    truncatedThrough: 0,
    decided: new Map(),
    committedThrough: 0,
    snapshot: null,
  };
}

/**
 * Folds one record into `state`. Hosts use it to recover, and to keep a compact image they can write
 * out instead of the whole record history.
 *
 * @example
 * ```ts
 * const state = emptyDurableState();
 * for (const r of records) applyRecord(state, r);
 * ```
 */
export function applyRecord(state: DurableState, record: PersistRecord): void {
  switch (record.kind) {
    case "promise":
      if (compareBallots(record.ballot, state.promised) > 0) state.promised = record.ballot;
      return;
    case "campaign":
      state.campaignRound = Math.max(state.campaignRound, record.round);
      return;
    case "accept":
      if (record.pvalue.slot > state.truncatedThrough) state.accepted.set(record.pvalue.slot, record.pvalue);
      return;
    case "truncate":
      if (record.throughSlot <= state.truncatedThrough) return;
      state.truncatedThrough = record.throughSlot;
      for (const slot of [...state.accepted.keys()])
        if (slot <= record.throughSlot) state.accepted.delete(slot);
      return;
    case "decide":
      if (record.slot > (state.snapshot?.slot ?? 0)) state.decided.set(record.slot, record.value);
      return;
    case "commit":
      state.committedThrough = Math.max(state.committedThrough, record.throughSlot);
      return;
    case "snapshot":
      if (state.snapshot && record.snapshot.slot <= state.snapshot.slot) return;
      state.snapshot = record.snapshot;
      state.committedThrough = Math.max(state.committedThrough, record.snapshot.slot);
      for (const slot of [...state.decided.keys()])
        if (slot <= record.snapshot.slot) state.decided.delete(slot);
      return;
  }
}

/** Rebuilds durable state from a record history. */
export function foldRecords(records: Iterable<PersistRecord>): DurableState {
  const state = emptyDurableState();
  for (const r of records) applyRecord(state, r);
  return state;
}
