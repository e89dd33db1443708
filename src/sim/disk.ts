import type { DurableState, PersistRecord } from "../core/durable.ts";
import { applyRecord, emptyDurableState } from "../core/durable.ts";
import type { Prng } from "./prng.ts";

/** How a crash treated the writes that were not synced yet. */
export type CrashLoss = "none" | "lost" | "prefix" | "torn";

/**
 * A node's disk: records become durable only when a sync covering them completes. On a crash the
 * unsynced tail is lost, kept in part (a prefix: the file system wrote some pages), or torn (a prefix,
 * and the record after it half written; recovery detects it by checksum and drops it with what follows).
 *
 * @example
 * ```ts
 * const disk = new SimDisk();
 * const batch = disk.write(records);
 * disk.sync(batch);           // later, when the simulated fsync completes
 * disk.crash(rng);            // unsynced records: lost, prefix or torn
 * const state = disk.recover();
 * ```
 */
export class SimDisk {
  #image: DurableState = emptyDurableState();
  #pending: { batch: number; record: PersistRecord }[] = [];
  #nextBatch = 1;
  syncs = 0;

  /** Appends records (not durable yet); returns the batch number to sync. */
  write(records: readonly PersistRecord[]): number {
    const batch = this.#nextBatch++;
    for (const record of records) this.#pending.push({ batch, record });
    return batch;
  }

  /** Makes every record of batches up to `batch` durable, in write order. */
  sync(batch: number): void {
    this.syncs++;
    while (this.#pending.length > 0 && this.#pending[0]!.batch <= batch) {
      applyRecord(this.#image, this.#pending.shift()!.record);
    }
  }

  /** Loses power: the unsynced tail is lost, partly kept, or torn, as `rng` decides. */
  crash(rng: Prng): CrashLoss {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return "none";
    const roll = rng.next();
    if (roll < 0.4) return "lost";
    const kept = rng.int(0, pending.length);
    // A torn record fails its checksum at recovery; it and everything after it are dropped, so the
    // visible effect is a shorter prefix.
    const torn = roll >= 0.7 && kept > 0;
    const survivors = torn ? kept - 1 : kept;
    for (let i = 0; i < survivors; i++) applyRecord(this.#image, pending[i]!.record);
    return torn ? "torn" : "prefix";
  }

  /** The durable state a restarted node reads back. */
  recover(): DurableState {
    return {
      promised: this.#image.promised,
      campaignRound: this.#image.campaignRound,
      accepted: new Map(this.#image.accepted),
      truncatedThrough: this.#image.truncatedThrough,
      decided: new Map(this.#image.decided),
      committedThrough: this.#image.committedThrough,
      snapshot: this.#image.snapshot,
    };
  }
}
