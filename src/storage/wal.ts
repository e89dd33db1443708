import { fdatasyncSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../core/assert.ts";
import { DurableImage } from "./durable-image.ts";
import { fsyncDir, writeAllSync, writeFileSynced } from "./fs-util.ts";
import type { SyncHook } from "./node-storage.ts";
import type { WalFrame, WalRecord } from "./record-codec.ts";
import { encodeFrame, FRAME_HEADER_BYTES, readFrame } from "./record-codec.ts";
import { errorCode, REFUSE_HINT, StorageError } from "./storage-error.ts";

/**
 * The write-ahead log: numbered segment files in `<dir>/wal/`, each a sequence of frames (see
 * record-codec.ts) that starts with a checkpoint — the whole durable image as records — followed by the
 * batches appended since. A segment is created complete (written as `<n>.wal.tmp`, synced, renamed), so
 * only the newest segment's end can be torn; once a new segment is in place every older one is
 * redundant and deleted.
 *
 * @example
 * ```ts
 * const recovery = await recoverWal({ dataDir, walDir: join(dataDir, WAL_DIR), recordBytesMax });
 * const segment = await ActiveSegment.open({ walDir, number: recovery.active, bytes: recovery.activeBytes, checkpointBytes: recovery.checkpointBytes, preallocateBytes: 0 });
 * ```
 *
 * @module
 */

/**
 * The WAL's directory inside a data dir.
 *
 * @example
 * ```ts
 * const walDir = join(dataDir, WAL_DIR); // "<dir>/wal"
 * ```
 */
export const WAL_DIR = "wal";

const SEGMENT_PATTERN = /^(\d{8,})\.wal$/;
const TMP_PATTERN = /\.wal\.tmp$/;

/**
 * Default of the zeros written ahead of the active segment's log at a time: one size-changing sync per
 * this many bytes of log instead of one per batch.
 *
 * @example
 * ```ts
 * new FileStorage({ dir, identity, preallocateBytes: WAL_PREALLOCATE_BYTES_DEFAULT * 4 });
 * ```
 */
export const WAL_PREALLOCATE_BYTES_DEFAULT = 1024 * 1024;

/**
 * The file name of segment `n`.
 *
 * @example
 * ```ts
 * segmentFileName(3); // "00000003.wal"
 * ```
 */
export function segmentFileName(n: number): string {
  return `${String(n).padStart(8, "0")}.wal`;
}

/**
 * The numbers of the segments in `walDir`, ascending.
 *
 * @example
 * ```ts
 * await listSegments(walDir); // [7, 8]
 * ```
 */
export async function listSegments(walDir: string): Promise<number[]> {
  const numbers: number[] = [];
  for (const name of await readdir(walDir)) {
    const match = SEGMENT_PATTERN.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

/**
 * Encodes records as one batch: frames of the same `seq`, the last one marked final.
 *
 * @example
 * ```ts
 * const bytes = encodeBatch(5, [{ kind: "commit", throughSlot: 2 }]);
 * ```
 */
export function encodeBatch(seq: number, records: readonly WalRecord[]): Uint8Array {
  return concatBytes(
    records.map((record, i) => encodeFrame({ seq, final: i === records.length - 1, record })),
  );
}

/**
 * Concatenates byte arrays into one, so a batch reaches the file in a single write.
 *
 * @example
 * ```ts
 * concatBytes([a, b]).length === a.length + b.length;
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Creates segment `n` holding `bytes` (a checkpoint batch): written under a temporary name, synced,
 * renamed into place, then the directory synced — a crash leaves no segment or a complete one.
 *
 * @example
 * ```ts
 * await createSegment(walDir, 1, encodeBatch(1, [{ kind: "checkpoint", records: 0 }]));
 * ```
 */
export async function createSegment(
  walDir: string,
  n: number,
  bytes: Uint8Array,
  onSync?: SyncHook,
): Promise<void> {
  const path = join(walDir, segmentFileName(n));
  const tmp = `${path}.tmp`;
  await writeFileSynced(tmp, bytes);
  onSync?.({ kind: "segment", path: tmp });
  await rename(tmp, path);
  await fsyncDir(walDir, onSync);
}

/**
 * Deletes every segment numbered below `keepFrom`, oldest first (so a crash midway leaves a contiguous
 * run), then syncs the directory.
 *
 * @example
 * ```ts
 * await deleteSegmentsBelow(walDir, 9);
 * ```
 */
export async function deleteSegmentsBelow(
  walDir: string,
  keepFrom: number,
  onSync?: SyncHook,
): Promise<number> {
  let deleted = 0;
  for (const n of await listSegments(walDir)) {
    if (n >= keepFrom) break;
    await unlink(join(walDir, segmentFileName(n)));
    deleted++;
  }
  if (deleted > 0) await fsyncDir(walDir, onSync);
  return deleted;
}

/**
 * The segment appends go to. One `append` is one positioned write and one datasync: the group commit
 * the core's contract asks for. Both run on the event-loop thread: handing them to libuv's thread pool
 * cost four thread wake-ups per batch, which measured as about 40% of a node's CPU with one request in
 * flight (put at C=1 went from about 440 to 760 ops/s on the benchmark machine). The loop stops for
 * one sync (0.2–0.5 ms here); what arrives meanwhile waits in the socket buffers and joins the next batch,
 * and the leader's accepts have left before (see `Ready.early`).
 *
 * @example
 * ```ts
 * const segment = await ActiveSegment.open({ walDir, number: 3, bytes: 0, checkpointBytes: 0, preallocateBytes: 0 });
 * await segment.append(encodeBatch(seq, records));
 * ```
 */
export class ActiveSegment {
  readonly number: number;
  readonly path: string;
  /** Bytes in the segment; the next batch is written here. */
  bytes: number;
  /** Bytes of the checkpoint that starts the segment (0 when it has no complete one). */
  readonly checkpointBytes: number;
  readonly #handle: FileHandle;
  /** The file's size: `bytes` of log, then zeros written ahead. */
  #allocatedBytes: number;
  /** What is written ahead when the log reaches the end of the file (empty: nothing). */
  readonly #zeros: Uint8Array;

  private constructor(
    number: number,
    path: string,
    handle: FileHandle,
    bytes: number,
    checkpointBytes: number,
    allocatedBytes: number,
    preallocateBytes: number,
  ) {
    assert(allocatedBytes >= bytes, "a segment's file holds its log");
    this.number = number;
    this.path = path;
    this.#handle = handle;
    this.bytes = bytes;
    this.checkpointBytes = checkpointBytes;
    this.#allocatedBytes = allocatedBytes;
    this.#zeros = new Uint8Array(preallocateBytes);
  }

  /**
   * Opens segment `number` of `walDir`, which holds `bytes` valid bytes; appends write `preallocateBytes`
   * of zeros ahead whenever the log reaches the end of the file (0: never).
   */
  static async open(options: {
    walDir: string;
    number: number;
    bytes: number;
    checkpointBytes: number;
    preallocateBytes: number;
  }): Promise<ActiveSegment> {
    const { walDir, number, bytes, checkpointBytes, preallocateBytes } = options;
    const path = join(walDir, segmentFileName(number));
    const handle = await open(path, "r+");
    const { size } = await handle.stat();
    return new ActiveSegment(number, path, handle, bytes, checkpointBytes, size, preallocateBytes);
  }

  /** Writes `batch` at the end and datasyncs; resolves when it is durable. */
  async append(batch: Uint8Array, onSync?: SyncHook): Promise<void> {
    writeAllSync(this.#handle.fd, batch, this.bytes);
    const end = this.bytes + batch.length;
    if (end > this.#allocatedBytes && this.#zeros.length > 0) {
      // Zeros ahead of the log: a datasync that leaves the file's size alone need not write its size
      // (three members syncing one disk: ~0.65 → ~0.45 ms per sync). Recovery reads a run of zeros to
      // the end of a segment as unused space.
      writeAllSync(this.#handle.fd, this.#zeros, end);
      this.#allocatedBytes = end + this.#zeros.length;
    }
    fdatasyncSync(this.#handle.fd);
    this.bytes += batch.length;
    onSync?.({ kind: "wal", path: this.path });
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * A frame read back, with where it lies in its segment.
 *
 * @example
 * ```ts
 * const f: ScannedFrame = { seq: 2, final: true, record, offset: 14, end: 40 };
 * ```
 */
export interface ScannedFrame extends WalFrame {
  readonly offset: number;
  readonly end: number;
}

/**
 * The outcome of scanning one segment: the frames kept, where they end, and — for the newest segment —
 * the torn tail cut off (or corruption, which refuses to start).
 *
 * @example
 * ```ts
 * const scan: SegmentScan = scanSegment(bytes, { isNewest: true, previous: null, recordBytesMax });
 * if (!scan.ok) throw new Error(`corrupt at byte ${scan.offset} (${scan.reason})`);
 * ```
 */
export type SegmentScan =
  | {
      readonly ok: true;
      readonly frames: readonly ScannedFrame[];
      readonly keptBytes: number;
      /** Why bytes after `keptBytes` are dropped, when there are any. */
      readonly torn: string | null;
    }
  | { readonly ok: false; readonly offset: number; readonly reason: string };

/**
 * Scans a segment's bytes. A frame is good when its length is in bounds, its checksum matches, it
 * decodes, and its batch number follows the previous frame's (`previous`, possibly from the segment
 * before). At the first bad frame:
 *
 * - in an older segment (`isNewest` false): corruption — older segments were complete when the next
 *   one was created;
 * - in the newest segment, when any later frame belongs to a later batch: corruption — that later
 *   batch was written after the damaged one had been synced and acknowledged;
 * - otherwise a torn tail: the damage lies in the last batch, which was never acknowledged (and whose
 *   later pages may have reached the disk before earlier ones).
 *
 * Batches are all-or-nothing: the newest segment is cut back to the end of its last complete batch.
 *
 * @example
 * ```ts
 * const scan = scanSegment(bytes, { isNewest: true, previous: null, recordBytesMax });
 * ```
 */
export function scanSegment(
  bytes: Uint8Array,
  options: { isNewest: boolean; previous: WalFrame | null; recordBytesMax: number },
): SegmentScan {
  const frames: ScannedFrame[] = [];
  let previous = options.previous;
  let offset = 0;
  let damage: { offset: number; reason: string } | null = null;
  while (offset < bytes.length) {
    const read = readFrame(bytes, offset, options.recordBytesMax);
    if (!read.ok) {
      damage = { offset, reason: read.reason };
      break;
    }
    const expected = nextSeq(previous);
    if (expected !== null && read.frame.seq !== expected) {
      damage = { offset, reason: `batch ${read.frame.seq} out of sequence, expected ${expected}` };
      break;
    }
    const frame: ScannedFrame = { ...read.frame, offset, end: read.end };
    frames.push(frame);
    previous = frame;
    offset = read.end;
  }
  // Space written ahead of the log (see ActiveSegment.append), in any segment: not damage.
  if (damage !== null && isZeroFrom(bytes, damage.offset)) damage = null;
  if (!options.isNewest) {
    if (damage !== null) return { ok: false, ...damage };
    const last = frames.at(-1);
    if (last !== undefined && !last.final)
      return { ok: false, offset: last.end, reason: "ends inside a batch" };
    return { ok: true, frames, keptBytes: last?.end ?? 0, torn: null };
  }
  if (damage !== null) {
    const later = findFramesAfter(bytes, damage.offset + 1, options.recordBytesMax);
    const tornSeq = nextSeq(previous) ?? later[0]?.seq;
    if (later.some((f) => f.seq !== tornSeq)) return { ok: false, ...damage };
  }
  // Keep complete batches only.
  let kept = frames.length;
  while (kept > 0 && !frames[kept - 1]!.final) kept--;
  const keptBytes = kept > 0 ? frames[kept - 1]!.end : 0;
  let torn: string | null = null;
  if (damage !== null) torn = `${damage.reason} at byte ${damage.offset}`;
  else if (kept < frames.length) torn = `incomplete batch at byte ${keptBytes}`;
  return { ok: true, frames: frames.slice(0, kept), keptBytes, torn };
}

/** True when every byte from `offset` to the end is zero. */
function isZeroFrom(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The batch number the frame after `previous` must carry (null when anything may follow). */
function nextSeq(previous: WalFrame | null): number | null {
  if (previous === null) return null;
  return previous.final ? previous.seq + 1 : previous.seq;
}

/**
 * Every good frame at or after `from`, found by trying each byte offset (the damage before it says
 * nothing about where frames start). Lengths are checked before any checksum is computed, so garbage
 * costs little; a false match needs a 32-bit checksum and a well-formed record to agree by chance.
 */
function findFramesAfter(bytes: Uint8Array, from: number, recordBytesMax: number): WalFrame[] {
  const found: WalFrame[] = [];
  let q = from;
  while (q + FRAME_HEADER_BYTES < bytes.length) {
    const length = (bytes[q]! | (bytes[q + 1]! << 8) | (bytes[q + 2]! << 16) | (bytes[q + 3]! << 24)) >>> 0;
    if (length === 0 || length > recordBytesMax || q + FRAME_HEADER_BYTES + length > bytes.length) {
      q++;
      continue;
    }
    const read = readFrame(bytes, q, recordBytesMax);
    if (read.ok) {
      found.push(read.frame);
      q = read.end;
    } else {
      q++;
    }
  }
  return found;
}

/**
 * What {@link recoverWal} rebuilt and where appends continue.
 *
 * @example
 * ```ts
 * const { image, active, activeBytes, nextSeq }: WalRecovery = await recoverWal(options);
 * ```
 */
export interface WalRecovery {
  /** The durable image; its snapshot is a placeholder until the snapshot file is read. */
  readonly image: DurableImage;
  /** The segment appends continue in (the newest). */
  readonly active: number;
  readonly activeBytes: number;
  readonly checkpointBytes: number;
  /** The batch number of the next append. */
  readonly nextSeq: number;
  /** Segments before the newest complete checkpoint, deleted as redundant. */
  readonly deleted: readonly number[];
  /** The torn tail cut off the newest segment, if any. */
  readonly truncated: {
    readonly segment: number;
    readonly fromBytes: number;
    readonly reason: string;
  } | null;
}

/**
 * Recovers the WAL in `walDir` (which must hold at least one segment): reads every segment in order,
 * refuses corruption with a {@link StorageError}, cuts a torn tail off the newest segment (and syncs
 * that), folds the records from the newest segment that starts with a complete checkpoint, and deletes
 * the segments before it. Leftover `*.wal.tmp` files (a crash before a roll's rename) are removed.
 *
 * @example
 * ```ts
 * const { image, nextSeq } = await recoverWal({ dataDir, walDir, recordBytesMax });
 * ```
 */
export async function recoverWal(options: {
  dataDir: string;
  walDir: string;
  recordBytesMax: number;
  onSync?: SyncHook;
}): Promise<WalRecovery> {
  const { dataDir, walDir, recordBytesMax, onSync } = options;
  const corrupt = (n: number, reason: string) =>
    new StorageError(`data dir ${dataDir}: WAL segment ${segmentFileName(n)} ${reason}; ${REFUSE_HINT}`);

  let removedTmp = false;
  for (const name of await readdir(walDir)) {
    if (!TMP_PATTERN.test(name)) continue;
    await unlink(join(walDir, name));
    removedTmp = true;
  }
  if (removedTmp) await fsyncDir(walDir, onSync);

  const numbers = await listSegments(walDir);
  assert(numbers.length > 0, "recoverWal needs a segment");
  const scans: { n: number; frames: readonly ScannedFrame[] }[] = [];
  let previous: WalFrame | null = null;
  let truncated: WalRecovery["truncated"] = null;
  let activeBytes = 0;
  for (const [i, n] of numbers.entries()) {
    const isNewest = i === numbers.length - 1;
    // Batch numbers continue across adjacent segments only; after a gap (a crash while deleting old
    // segments) the next segment must stand on its own checkpoint.
    if (i > 0 && numbers[i - 1] !== n - 1) previous = null;
    const path = join(walDir, segmentFileName(n));
    const bytes = await readFile(path);
    const scan = scanSegment(bytes, { isNewest, previous, recordBytesMax });
    if (!scan.ok) throw corrupt(n, `is corrupt at byte ${scan.offset} (${scan.reason})`);
    scans.push({ n, frames: scan.frames });
    previous = scan.frames.at(-1) ?? previous;
    if (isNewest) {
      activeBytes = scan.keptBytes;
      // A torn tail is cut off (a later batch must not find its frames behind it); zeros are kept.
      if (scan.torn !== null) truncated = { segment: n, fromBytes: bytes.length, reason: scan.torn };
    }
  }

  let base = -1;
  for (let i = scans.length - 1; i >= 0 && base < 0; i--) {
    if (checkpointEnd(scans[i]!.frames) !== null) base = i;
  }
  if (base < 0) {
    if (scans[0]!.n !== 1)
      throw corrupt(scans[0]!.n, "does not start with a complete checkpoint and no earlier segment is left");
    base = 0;
  }
  for (let i = base + 1; i < scans.length; i++) {
    if (scans[i]!.n !== scans[i - 1]!.n + 1) throw corrupt(scans[i - 1]!.n + 1, "is missing");
  }

  // Only now, with the whole log validated, change anything on disk.
  if (truncated !== null) {
    const path = join(walDir, segmentFileName(truncated.segment));
    await truncateFile(path, activeBytes);
    onSync?.({ kind: "truncate", path });
  }

  const image = new DurableImage();
  for (const scan of scans.slice(base)) for (const frame of scan.frames) image.apply(frame.record);

  const deleted = scans.slice(0, base).map((s) => s.n);
  const newest = scans.at(-1)!;
  if (deleted.length > 0) await deleteSegmentsBelow(walDir, scans[base]!.n, onSync);
  return {
    image,
    active: newest.n,
    activeBytes,
    checkpointBytes: checkpointEnd(newest.frames) ?? 0,
    nextSeq: previous === null ? 1 : previous.seq + 1,
    deleted,
    truncated,
  };
}

/**
 * Where the checkpoint that starts a segment ends, or null when the segment does not start with a
 * complete one (its header, then `records` frames, all one batch ending in a final frame).
 */
function checkpointEnd(frames: readonly ScannedFrame[]): number | null {
  const header = frames[0];
  if (header === undefined || header.record.kind !== "checkpoint") return null;
  const last = frames[header.record.records];
  if (last === undefined || last.seq !== header.seq || !last.final) return null;
  return last.end;
}

async function truncateFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.truncate(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes `path` if it exists; true when it did.
 *
 * @example
 * ```ts
 * if (await removeIfPresent(join(dir, "snapshot.tmp"))) await fsyncDir(dir);
 * ```
 */
export async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if (errorCode(err) === "ENOENT") return false;
    throw err;
  }
}
