import type { DurableState, PersistRecord } from "../core/durable.ts";

/**
 * What a host uses to make the core's records durable. One instance per data directory.
 *
 * The host calls `append` with each effect batch's `persist` records and waits for it before sending the
 * batch's messages and replies: an acknowledgement must never go out before what it acknowledges is on
 * disk.
 *
 * @example
 * ```ts
 * const storage: NodeStorage = new FileStorage({ dir: "/var/lib/concoord", identity });
 * const durable = await storage.open();
 * // … for every ready() batch:
 * await storage.append(batch.persist);
 * send(batch.messages);
 * ```
 */
export interface NodeStorage {
  /** Opens (creating if needed) and recovers: returns the durable state folded from what is on disk. */
  open(): Promise<DurableState>;
  /**
   * Appends the records of one batch and makes them durable with one sync for the whole batch (group
   * commit). Resolves only when durable. Calls are serialized: a second call waits for the first. An
   * empty array resolves at once without touching the disk.
   */
  append(records: readonly PersistRecord[]): Promise<void>;
  /** Waits for pending appends, then releases the data dir. */
  close(): Promise<void>;
  /** Where it writes (null for memory). */
  readonly dir: string | null;
}

/**
 * A sync the storage has just completed, reported for observability (and for tests that count syncs).
 *
 * - `wal`: the one datasync of an append batch
 * - `truncate`: recovery cut a torn tail off the last segment
 * - `segment`: a new segment (checkpoint) file, before it is renamed into place
 * - `snapshot`: a snapshot file, before it is renamed into place
 * - `meta`: `meta.json`, before it is renamed into place
 * - `dir`: a directory, after a file in it was created, renamed or deleted
 *
 * @example
 * ```ts
 * new FileStorage({ dir, identity, onSync: (e) => e.kind === "wal" && syncs++ });
 * ```
 */
export interface SyncEvent {
  readonly kind: "wal" | "truncate" | "segment" | "snapshot" | "meta" | "dir";
  readonly path: string;
}

/**
 * Receives every {@link SyncEvent}; must not throw.
 *
 * @example
 * ```ts
 * const onSync: SyncHook = (e) => metrics.count(`storage_sync_${e.kind}`);
 * ```
 */
export type SyncHook = (event: SyncEvent) => void;
