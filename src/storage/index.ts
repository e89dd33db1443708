/**
 * Durable storage for a concoord node: the write-ahead log of the core's `persist` records, group
 * committed with one datasync per batch, with snapshots in their own files, checkpointed segments,
 * torn-tail recovery, corruption refusal, a cluster-identity check and a process lock.
 *
 * @example
 * ```ts
 * import { FileStorage } from "./storage/index.ts";
 * const storage = new FileStorage({ dir: "/var/lib/concoord", identity });
 * const durable = await storage.open();
 * await storage.append(ready.persist);
 * ```
 */
export { crc32c } from "./crc32c.ts";
export type { FileStorageOptions } from "./file-storage.ts";
export { FileStorage, SEGMENT_BYTES_MAX_DEFAULT } from "./file-storage.ts";
export { MemoryStorage } from "./memory-storage.ts";
export type { NodeStorage, SyncEvent, SyncHook } from "./node-storage.ts";
export type { SnapshotRef, WalRecord } from "./record-codec.ts";
export { RECORD_BYTES_MAX_DEFAULT } from "./record-codec.ts";
export { StorageError } from "./storage-error.ts";
