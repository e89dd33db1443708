import type { DurableState, PersistRecord } from "../core/durable.ts";
import { applyRecord, emptyDurableState } from "../core/durable.ts";
import { cloneDurableState } from "./durable-image.ts";
import type { NodeStorage } from "./node-storage.ts";
import { decodeValue, encodeValue, RECORD_BYTES_MAX_DEFAULT } from "./record-codec.ts";
import { StorageError } from "./storage-error.ts";

/**
 * A {@link NodeStorage} that keeps everything in memory, with the same semantics as the file storage:
 * records survive `close`/`open` of the same instance (a restart), appends are serialized, a record over
 * `recordBytesMax` refuses its batch, and records go through the same msgpack encoding, so what `open`
 * returns is what a disk would have given back (byte strings as fresh `Uint8Array`s, no shared objects).
 *
 * @example
 * ```ts
 * const storage = new MemoryStorage();
 * await storage.open();
 * await storage.append([{ kind: "commit", throughSlot: 3 }]);
 * await storage.close();
 * (await storage.open()).committedThrough; // 3
 * ```
 */
export class MemoryStorage implements NodeStorage {
  readonly dir: null = null;
  readonly #recordBytesMax: number;
  #image: DurableState = emptyDurableState();
  #open = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: { recordBytesMax?: number } = {}) {
    this.#recordBytesMax = options.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT;
  }

  /** Returns a copy of the state folded from every record appended so far. */
  async open(): Promise<DurableState> {
    if (this.#open) throw new StorageError("memory storage: already open");
    this.#open = true;
    return cloneDurableState(this.#image);
  }

  /** Folds the batch into the image (after checking every record's size, so a refused batch changes nothing). */
  append(records: readonly PersistRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const run = this.#queue.then(() => this.#append(records));
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #append(records: readonly PersistRecord[]): Promise<void> {
    if (!this.#open) throw new StorageError("memory storage: append on a storage that is not open");
    const copies = records.map((record) => {
      const bytes = encodeValue(record);
      // Snapshots live in their own files on disk, outside the WAL's record bound.
      if (record.kind !== "snapshot" && bytes.length > this.#recordBytesMax) {
        throw new StorageError(
          `memory storage: a ${record.kind} record of ${bytes.length} bytes exceeds recordBytesMax ${this.#recordBytesMax}; the batch was not written`,
        );
      }
      return decodeValue(bytes) as PersistRecord;
    });
    for (const record of copies) applyRecord(this.#image, record);
  }

  /** Waits for pending appends; the records stay for the next `open`. */
  async close(): Promise<void> {
    await this.#queue;
    this.#open = false;
  }
}
