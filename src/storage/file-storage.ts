import { mkdir, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DurableState, PersistRecord } from "../core/durable.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { ensureDataDir } from "./data-dir.ts";
import { acquireLock, releaseLock } from "./dir-lock.ts";
import type { DurableImage } from "./durable-image.ts";
import { cloneDurableState, isEmptyDurableState } from "./durable-image.ts";
import { fsyncDir } from "./fs-util.ts";
import { checkIdentity, META_FILE, readMeta, writeMeta } from "./meta-file.ts";
import type { NodeStorage, SyncHook } from "./node-storage.ts";
import type { WalRecord } from "./record-codec.ts";
import { encodeFrame, FRAME_HEADER_BYTES, RECORD_BYTES_MAX_DEFAULT } from "./record-codec.ts";
import {
  listSnapshotFiles,
  readSnapshotFile,
  SNAPSHOT_TMP_FILE,
  writeSnapshotFile,
} from "./snapshot-file.ts";
import { describeOsError, errorCode, REFUSE_HINT, StorageError } from "./storage-error.ts";
import {
  ActiveSegment,
  concatBytes,
  createSegment,
  deleteSegmentsBelow,
  encodeBatch,
  listSegments,
  recoverWal,
  removeIfPresent,
  WAL_DIR,
  WAL_PREALLOCATE_BYTES_DEFAULT,
} from "./wal.ts";

/**
 * Default size past which the active segment is rolled into a checkpoint: 64 MiB.
 *
 * @example
 * ```ts
 * new FileStorage({ dir, identity, segmentBytesMax: SEGMENT_BYTES_MAX_DEFAULT / 4 });
 * ```
 */
export const SEGMENT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/**
 * Options of a {@link FileStorage}.
 *
 * @example
 * ```ts
 * const options: FileStorageOptions = { dir: "/var/lib/concoord", identity, segmentBytesMax: 16 << 20 };
 * ```
 */
export interface FileStorageOptions {
  /** The data directory (created if missing). */
  readonly dir: string;
  /** The cluster identity this node runs for; a data dir of another identity is refused. */
  readonly identity: string;
  /** Size past which the active segment rolls to a new one that starts with a checkpoint. */
  readonly segmentBytesMax?: number;
  /** Largest encoded record the WAL accepts (and the largest frame length recovery believes). */
  readonly recordBytesMax?: number;
  /**
   * Zeros written ahead of the log at a time, so that most syncs leave the file's size alone (cheaper);
   * 0 turns it off. Default {@link WAL_PREALLOCATE_BYTES_DEFAULT}, at most `segmentBytesMax`.
   */
  readonly preallocateBytes?: number;
  /** Told about every sync, for metrics and tests. */
  readonly onSync?: SyncHook;
}

type Phase = "closed" | "opening" | "open";

/**
 * The durable storage of a node: a write-ahead log of the core's records in `<dir>/wal/`, snapshots in
 * their own files, `meta.json` binding the dir to a cluster identity, and a `LOCK` against a second
 * process.
 *
 * Every `append` is one write and one datasync of the active segment (plus, for a snapshot record, the
 * snapshot file's own atomic write). When the segment passes `segmentBytesMax` the storage rolls to a
 * new one that starts with a checkpoint of the durable image and deletes the old ones, so the log stays
 * about as small as the image. Any I/O failure during `append` leaves the storage failed: after a
 * failed fsync the kernel may have dropped the dirty pages, so retrying could report durable what is
 * not — the node must stop and recover from what is on disk.
 *
 * @example
 * ```ts
 * const storage = new FileStorage({ dir: "/var/lib/concoord", identity: "9f2c…" });
 * const durable = await storage.open();
 * await storage.append(ready.persist); // then send ready.messages
 * await storage.close();
 * ```
 */
export class FileStorage implements NodeStorage {
  readonly dir: string;
  readonly #identity: string;
  readonly #segmentBytesMax: number;
  readonly #recordBytesMax: number;
  readonly #preallocateBytes: number;
  readonly #onSync: SyncHook | undefined;
  readonly #walDir: string;
  #phase: Phase = "closed";
  #opening: Promise<unknown> = Promise.resolve();
  #image: DurableImage | null = null;
  #segment: ActiveSegment | null = null;
  #nextSeq = 1;
  /** Snapshot files on disk; all but the image's are deleted once a newer one is durable. */
  #snapshotFiles = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  #failure: StorageError | null = null;
  #closing = false;
  #closeRun: Promise<void> | null = null;

  constructor(options: FileStorageOptions) {
    const segmentBytesMax = options.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT;
    const recordBytesMax = options.recordBytesMax ?? RECORD_BYTES_MAX_DEFAULT;
    if (!Number.isSafeInteger(segmentBytesMax) || segmentBytesMax < 1) {
      throw new RangeError(`segmentBytesMax must be a positive integer: ${segmentBytesMax}`);
    }
    if (!Number.isSafeInteger(recordBytesMax) || recordBytesMax < 1 || recordBytesMax > 0xffffffff) {
      throw new RangeError(`recordBytesMax must be a positive 32-bit integer: ${recordBytesMax}`);
    }
    const preallocateBytes = options.preallocateBytes ?? WAL_PREALLOCATE_BYTES_DEFAULT;
    if (
      !Number.isSafeInteger(preallocateBytes) ||
      preallocateBytes < 0 ||
      preallocateBytes > segmentBytesMax
    ) {
      throw new RangeError(
        `preallocateBytes must be an integer from 0 to segmentBytesMax (${segmentBytesMax}): ${preallocateBytes}`,
      );
    }
    if (options.identity.length === 0) throw new RangeError("identity must not be empty");
    this.dir = resolve(options.dir);
    this.#identity = options.identity;
    this.#segmentBytesMax = segmentBytesMax;
    this.#recordBytesMax = recordBytesMax;
    this.#preallocateBytes = preallocateBytes;
    this.#onSync = options.onSync;
    this.#walDir = join(this.dir, WAL_DIR);
  }

  /**
   * Opens the data dir — creating it, its `meta.json` and first segment if it is new — takes its lock,
   * and recovers. Rejects with a one-line {@link StorageError} on anything it cannot trust.
   */
  open(): Promise<DurableState> {
    if (this.#phase !== "closed") {
      return Promise.reject(new StorageError(`data dir ${this.dir}: this storage is already open`));
    }
    this.#phase = "opening";
    const opening = this.#open();
    this.#opening = opening.catch(() => undefined);
    return opening;
  }

  async #open(): Promise<DurableState> {
    let locked = false;
    try {
      await ensureDataDir(this.dir);
      await acquireLock(this.dir);
      locked = true;
      const state = await this.#recover();
      this.#phase = "open";
      return state;
    } catch (err) {
      await this.#segment?.close().catch(() => undefined);
      this.#segment = null;
      this.#image = null;
      if (locked) await releaseLock(this.dir).catch(() => undefined);
      this.#phase = "closed";
      if (err instanceof StorageError) throw err;
      throw new StorageError(
        `data dir ${this.dir}: cannot open (${describeOsError(err)}); check the disk and its permissions, or use another --data-dir`,
        { cause: err },
      );
    }
  }

  async #recover(): Promise<DurableState> {
    const dir = this.dir;
    const onSync = this.#onSync;
    const meta = await readMeta(dir);
    if (meta !== null) checkIdentity(dir, meta, this.#identity);

    // Leftovers of writes a crash interrupted before their rename: never valid, always removable.
    let dirChanged = false;
    for (const name of [SNAPSHOT_TMP_FILE, `${META_FILE}.tmp`]) {
      if (await removeIfPresent(join(dir, name))) dirChanged = true;
    }
    if (await mkdirIfMissing(this.#walDir)) dirChanged = true;
    if (dirChanged) await fsyncDir(dir, onSync);

    if ((await listSegments(this.#walDir)).length === 0) {
      if (meta !== null) {
        throw new StorageError(
          `data dir ${dir}: ${META_FILE} exists but ${WAL_DIR}/ holds no segment; ${REFUSE_HINT}`,
        );
      }
      await createSegment(this.#walDir, 1, encodeBatch(1, [{ kind: "checkpoint", records: 0 }]), onSync);
    }

    const recovery = await recoverWal({
      dataDir: dir,
      walDir: this.#walDir,
      recordBytesMax: this.#recordBytesMax,
      ...(onSync ? { onSync } : {}),
    });
    const image = recovery.image;
    const ref = image.snapshotRef;
    if (ref !== null) image.installSnapshot(await readSnapshotFile(dir, ref));

    // Snapshot files the WAL does not reference: older ones whose deletion a crash interrupted, or a
    // newer one whose reference never became durable.
    let deletedSnapshots = false;
    for (const name of await listSnapshotFiles(dir)) {
      if (name === ref?.file) continue;
      await unlink(join(dir, name));
      deletedSnapshots = true;
    }
    if (deletedSnapshots) await fsyncDir(dir, onSync);
    this.#snapshotFiles = new Set(ref ? [ref.file] : []);

    if (meta === null) {
      // meta.json is written last on a new dir, so a WAL with content and no meta means meta was lost,
      // not that the dir is new.
      if (!isEmptyDurableState(image.state)) {
        throw new StorageError(`data dir ${dir}: holds a WAL but no ${META_FILE}; ${REFUSE_HINT}`);
      }
      await writeMeta(dir, this.#identity, onSync);
    }

    this.#segment = await ActiveSegment.open({
      walDir: this.#walDir,
      number: recovery.active,
      bytes: recovery.activeBytes,
      checkpointBytes: recovery.checkpointBytes,
      preallocateBytes: this.#preallocateBytes,
    });
    this.#image = image;
    this.#nextSeq = recovery.nextSeq;
    this.#failure = null;
    return cloneDurableState(image.state);
  }

  /**
   * Appends one batch with one write and one datasync; resolves when it is durable. Serialized: a
   * second call starts after the first settles. A record whose encoding exceeds `recordBytesMax` refuses
   * the whole batch before anything is written (the storage stays usable).
   */
  append(records: readonly PersistRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.#closing) {
      return Promise.reject(new StorageError(`data dir ${this.dir}: append after close`));
    }
    const run = this.#queue.then(() => this.#append(records));
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #append(records: readonly PersistRecord[]): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    if (this.#phase !== "open")
      throw new StorageError(`data dir ${this.dir}: append on a storage that is not open`);
    const image = this.#image!;
    const segment = this.#segment!;

    // A snapshot no newer than the image's is ignored by applyRecord; writing it would only replace
    // the referenced file under the same name, so it is dropped here.
    const planned: (WalRecord | Snapshot)[] = [];
    let latestSlot = image.state.snapshot?.slot ?? null;
    for (const record of records) {
      if (record.kind !== "snapshot") planned.push(record);
      else if (latestSlot === null || record.snapshot.slot > latestSlot) {
        planned.push(record.snapshot);
        latestSlot = record.snapshot.slot;
      }
    }
    if (planned.length === 0) return;

    // Encode first: an oversized record refuses the batch before anything touches the disk.
    const seq = this.#nextSeq;
    const frames = planned.map((p, i) =>
      isWalRecord(p) ? this.#encode(seq, i === planned.length - 1, p) : null,
    );

    try {
      const snapshots = new Map<number, { snapshot: Snapshot; record: WalRecord }>();
      for (const [i, p] of planned.entries()) {
        if (isWalRecord(p)) continue;
        const ref = await writeSnapshotFile(this.dir, p, this.#onSync);
        this.#snapshotFiles.add(ref.file);
        const record: WalRecord = { kind: "snapshot-ref", ref };
        snapshots.set(i, { snapshot: p, record });
        frames[i] = encodeFrame({ seq, final: i === planned.length - 1, record });
      }
      await segment.append(concatBytes(frames.map((f) => f!)), this.#onSync);
      this.#nextSeq = seq + 1;

      for (const [i, p] of planned.entries()) {
        const snap = snapshots.get(i);
        if (snap) image.apply(snap.record, snap.snapshot);
        else if (isWalRecord(p)) image.apply(p);
      }
      if (snapshots.size > 0) await this.#deleteOldSnapshots();
      if (
        segment.bytes >= this.#segmentBytesMax &&
        segment.bytes - segment.checkpointBytes >= segment.checkpointBytes
      ) {
        await this.#roll();
      }
    } catch (err) {
      this.#failure =
        err instanceof StorageError
          ? err
          : new StorageError(
              `data dir ${this.dir}: write failed (${describeOsError(err)}); stop this node and restart it to recover from its log`,
              { cause: err },
            );
      throw this.#failure;
    }
  }

  #encode(seq: number, final: boolean, record: WalRecord): Uint8Array {
    const frame = encodeFrame({ seq, final, record });
    const payloadBytes = frame.length - FRAME_HEADER_BYTES;
    if (payloadBytes > this.#recordBytesMax) {
      throw new StorageError(
        `data dir ${this.dir}: a ${record.kind} record of ${payloadBytes} bytes exceeds recordBytesMax ${this.#recordBytesMax}; the batch was not written`,
      );
    }
    return frame;
  }

  /** Deletes every snapshot file but the image's, now that the reference to it is durable. */
  async #deleteOldSnapshots(): Promise<void> {
    const keep = this.#image!.snapshotRef?.file;
    let deleted = false;
    for (const file of this.#snapshotFiles) {
      if (file === keep) continue;
      await removeIfPresent(join(this.dir, file));
      this.#snapshotFiles.delete(file);
      deleted = true;
    }
    if (deleted) await fsyncDir(this.dir, this.#onSync);
  }

  /**
   * Starts a new segment with a checkpoint of the image, then deletes the older ones. The new segment
   * is complete and synced before it gets its name, so a crash at any point leaves either the old
   * segments alone (a leftover `.tmp` is ignored) or the new one next to redundant old ones.
   */
  async #roll(): Promise<void> {
    const old = this.#segment!;
    const next = old.number + 1;
    const seq = this.#nextSeq;
    const records = this.#image!.checkpoint();
    const bytes = encodeBatch(seq, [{ kind: "checkpoint", records: records.length }, ...records]);
    await createSegment(this.#walDir, next, bytes, this.#onSync);
    this.#nextSeq = seq + 1;
    this.#segment = await ActiveSegment.open({
      walDir: this.#walDir,
      number: next,
      bytes: bytes.length,
      checkpointBytes: bytes.length,
      preallocateBytes: this.#preallocateBytes,
    });
    await old.close();
    await deleteSegmentsBelow(this.#walDir, next, this.#onSync);
  }

  /** Waits for pending appends, closes the active segment and releases the lock. */
  close(): Promise<void> {
    this.#closeRun ??= this.#close().finally(() => {
      this.#closeRun = null;
    });
    return this.#closeRun;
  }

  async #close(): Promise<void> {
    await this.#opening;
    if (this.#phase !== "open") return;
    // Appends already queued still complete; later ones are refused.
    this.#closing = true;
    await this.#queue;
    const segment = this.#segment;
    this.#segment = null;
    this.#image = null;
    this.#phase = "closed";
    try {
      await segment?.close();
    } finally {
      this.#closing = false;
      await releaseLock(this.dir);
    }
  }
}

function isWalRecord(p: WalRecord | Snapshot): p is WalRecord {
  return "kind" in p;
}

/** Creates `dir` if it is missing; true when it did (the parent must then be synced). */
async function mkdirIfMissing(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (err) {
    if (errorCode(err) === "EEXIST") return false;
    throw err;
  }
}
