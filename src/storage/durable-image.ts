import { assert } from "../core/assert.ts";
import { BALLOT_ZERO, compareBallots } from "../core/ballot.ts";
import type { DurableState } from "../core/durable.ts";
import { applyRecord, emptyDurableState } from "../core/durable.ts";
import type { Snapshot } from "../core/snapshot.ts";
import type { SnapshotRef, WalRecord } from "./record-codec.ts";

/**
 * The durable state folded from every record written so far, plus where its snapshot lives. The storage
 * keeps it in memory so that a segment roll can write a checkpoint — the image as records — instead of
 * copying the old log: the acceptor's `truncate` and the replica's snapshots shrink the image, so a
 * checkpoint stays small while the log behind it is dropped.
 *
 * @example
 * ```ts
 * const image = new DurableImage();
 * image.apply({ kind: "commit", throughSlot: 3 });
 * const copy = new DurableImage();
 * for (const r of image.checkpoint()) copy.apply(r, image.state.snapshot ?? undefined); // same state
 * ```
 */
export class DurableImage {
  readonly state: DurableState = emptyDurableState();
  #snapshotRef: SnapshotRef | null = null;

  /** Where the image's snapshot is stored, or null when it has none. */
  get snapshotRef(): SnapshotRef | null {
    return this.#snapshotRef;
  }

  /** True when a snapshot of `slot` would change the image (`applyRecord` ignores older ones). */
  acceptsSnapshot(slot: number): boolean {
    return this.state.snapshot === null || slot > this.state.snapshot.slot;
  }

  /**
   * Folds one WAL record. A snapshot reference installs `snapshot` when given; during recovery it is not
   * loaded yet (older references point at files already deleted), so a placeholder of the same slot
   * stands in until {@link installSnapshot} — `applyRecord` only reads a snapshot's slot.
   */
  apply(record: WalRecord, snapshot?: Snapshot): void {
    switch (record.kind) {
      case "checkpoint":
        return;
      case "snapshot-ref": {
        if (!this.acceptsSnapshot(record.ref.slot)) return;
        assert(
          snapshot === undefined || snapshot.slot === record.ref.slot,
          "snapshot does not match its ref",
        );
        applyRecord(this.state, {
          kind: "snapshot",
          snapshot: snapshot ?? placeholderSnapshot(record.ref.slot),
        });
        this.#snapshotRef = record.ref;
        return;
      }
      default:
        applyRecord(this.state, record);
    }
  }

  /** Replaces the placeholder left by recovery with the snapshot read from its file. */
  installSnapshot(snapshot: Snapshot): void {
    assert(this.state.snapshot?.slot === snapshot.slot, "installed snapshot is not the image's");
    this.state.snapshot = snapshot;
  }

  /**
   * Records that rebuild this image when folded into an empty state, in an order `applyRecord` accepts:
   * the compaction point before the accepted values above it, the snapshot before the decided values
   * above it.
   */
  checkpoint(): WalRecord[] {
    const s = this.state;
    const out: WalRecord[] = [];
    if (compareBallots(s.promised, BALLOT_ZERO) > 0) out.push({ kind: "promise", ballot: s.promised });
    if (s.campaignRound > 0) out.push({ kind: "campaign", round: s.campaignRound });
    if (s.truncatedThrough > 0) out.push({ kind: "truncate", throughSlot: s.truncatedThrough });
    if (this.#snapshotRef !== null) out.push({ kind: "snapshot-ref", ref: this.#snapshotRef });
    for (const slot of [...s.accepted.keys()].sort((a, b) => a - b)) {
      out.push({ kind: "accept", pvalue: s.accepted.get(slot)! });
    }
    for (const slot of [...s.decided.keys()].sort((a, b) => a - b)) {
      out.push({ kind: "decide", slot, value: s.decided.get(slot)! });
    }
    if (s.committedThrough > 0) out.push({ kind: "commit", throughSlot: s.committedThrough });
    return out;
  }
}

/**
 * A copy the caller may mutate without touching the original (the maps are copied; the values in them
 * are immutable records shared by both).
 *
 * @example
 * ```ts
 * const forCore = cloneDurableState(image.state);
 * ```
 */
export function cloneDurableState(state: DurableState): DurableState {
  return {
    promised: state.promised,
    campaignRound: state.campaignRound,
    accepted: new Map(state.accepted),
    truncatedThrough: state.truncatedThrough,
    decided: new Map(state.decided),
    committedThrough: state.committedThrough,
    snapshot: state.snapshot,
  };
}

/**
 * True when `state` is what a node that never wrote anything has.
 *
 * @example
 * ```ts
 * isEmptyDurableState(emptyDurableState()); // true
 * ```
 */
export function isEmptyDurableState(state: DurableState): boolean {
  return (
    compareBallots(state.promised, BALLOT_ZERO) === 0 &&
    state.campaignRound === 0 &&
    state.accepted.size === 0 &&
    state.truncatedThrough === 0 &&
    state.decided.size === 0 &&
    state.committedThrough === 0 &&
    state.snapshot === null
  );
}

function placeholderSnapshot(slot: number): Snapshot {
  return { slot, app: new Uint8Array(0), sessions: [], configs: [], clockMs: 0, nextSessionId: 0 };
}
