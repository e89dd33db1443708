import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Snapshot } from "../core/snapshot.ts";
import { crc32c } from "./crc32c.ts";
import { fsyncDir, writeFileSynced } from "./fs-util.ts";
import type { SyncHook } from "./node-storage.ts";
import type { SnapshotRef } from "./record-codec.ts";
import {
  decodeValue,
  encodeValue,
  FRAME_HEADER_BYTES,
  framePayload,
  snapshotFileName,
} from "./record-codec.ts";
import { errorCode, REFUSE_HINT, StorageError } from "./storage-error.ts";

/**
 * Snapshot files: `<dir>/snapshot-<slot>.bin`, each `CCSNAP01` then one frame (length, CRC32C, msgpack
 * of the {@link Snapshot}). A snapshot is written once to its own file instead of into the WAL, so that
 * checkpoints carry a small reference, not the application image.
 *
 * @example
 * ```ts
 * const ref = await writeSnapshotFile(dir, snapshot);
 * const back = await readSnapshotFile(dir, ref); // deep-equals snapshot
 * ```
 *
 * @module
 */

/**
 * The first bytes of every snapshot file.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(SNAPSHOT_MAGIC); // "CCSNAP01"
 * ```
 */
export const SNAPSHOT_MAGIC: Uint8Array = new TextEncoder().encode("CCSNAP01");

/**
 * Where a snapshot is written before it is renamed into place; a leftover one is a crash mid-write.
 *
 * @example
 * ```ts
 * join(dir, SNAPSHOT_TMP_FILE); // "<dir>/snapshot.tmp"
 * ```
 */
export const SNAPSHOT_TMP_FILE = "snapshot.tmp";

const SNAPSHOT_FILE_PATTERN = /^snapshot-(\d+)\.bin$/;

/**
 * Writes `snapshot` atomically: `snapshot.tmp`, datasync, rename to `snapshot-<slot>.bin`, fsync the
 * directory. A crash leaves either no new file or a complete one; never a torn snapshot under its name.
 *
 * @example
 * ```ts
 * const ref = await writeSnapshotFile("/var/lib/concoord", snapshot, onSync);
 * ```
 */
export async function writeSnapshotFile(
  dir: string,
  snapshot: Snapshot,
  onSync?: SyncHook,
): Promise<SnapshotRef> {
  const payload = encodeValue(snapshot);
  const frame = framePayload(payload);
  const bytes = new Uint8Array(SNAPSHOT_MAGIC.length + frame.length);
  bytes.set(SNAPSHOT_MAGIC, 0);
  bytes.set(frame, SNAPSHOT_MAGIC.length);
  const tmp = join(dir, SNAPSHOT_TMP_FILE);
  await writeFileSynced(tmp, bytes);
  onSync?.({ kind: "snapshot", path: tmp });
  const file = snapshotFileName(snapshot.slot);
  await rename(tmp, join(dir, file));
  await fsyncDir(dir, onSync);
  return { slot: snapshot.slot, file, crc: crc32c(payload), bytes: bytes.length };
}

/**
 * Reads and verifies the snapshot `ref` points at: magic, length, the file's own checksum, the checksum
 * the WAL recorded, and the slot. Any mismatch is corruption (a StorageError that refuses to start).
 *
 * @example
 * ```ts
 * const snapshot = await readSnapshotFile(dir, ref);
 * ```
 */
export async function readSnapshotFile(dir: string, ref: SnapshotRef): Promise<Snapshot> {
  const path = join(dir, ref.file);
  const corrupt = (reason: string) =>
    new StorageError(`data dir ${dir}: snapshot file ${ref.file} is corrupt (${reason}); ${REFUSE_HINT}`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if (errorCode(err) === "ENOENT") throw corrupt("missing");
    throw err;
  }
  const headerBytes = SNAPSHOT_MAGIC.length + FRAME_HEADER_BYTES;
  if (bytes.length < headerBytes) throw corrupt(`only ${bytes.length} bytes`);
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw corrupt("bad magic");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(SNAPSHOT_MAGIC.length, true);
  // The length is checked against the real file size, so a garbage length never allocates anything.
  if (bytes.length !== ref.bytes) throw corrupt(`${bytes.length} bytes, the WAL recorded ${ref.bytes}`);
  if (length !== bytes.length - headerBytes) {
    throw corrupt(`length ${length} but ${bytes.length - headerBytes} payload bytes`);
  }
  const payload = bytes.subarray(headerBytes);
  const crc = crc32c(payload);
  if (crc !== view.getUint32(SNAPSHOT_MAGIC.length + 4, true)) throw corrupt("checksum mismatch");
  if (crc !== ref.crc) throw corrupt("checksum differs from the one the WAL recorded");
  let snapshot: unknown;
  try {
    snapshot = decodeValue(payload);
  } catch {
    throw corrupt("undecodable payload");
  }
  if (!isSnapshot(snapshot)) throw corrupt("not a snapshot");
  if (snapshot.slot !== ref.slot) throw corrupt(`holds slot ${snapshot.slot}, expected ${ref.slot}`);
  return snapshot;
}

/**
 * The snapshot file names present in `dir` (complete ones; not `snapshot.tmp`).
 *
 * @example
 * ```ts
 * await listSnapshotFiles(dir); // ["snapshot-4096.bin"]
 * ```
 */
export async function listSnapshotFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => SNAPSHOT_FILE_PATTERN.test(name)).sort();
}

/**
 * True when `value` has the shape of a {@link Snapshot}.
 *
 * @example
 * ```ts
 * isSnapshot(decodeValue(bytes));
 * ```
 */
export function isSnapshot(value: unknown): value is Snapshot {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.slot === "number" &&
    Number.isSafeInteger(s.slot) &&
    s.app instanceof Uint8Array &&
    Array.isArray(s.sessions) &&
    Array.isArray(s.configs) &&
    typeof s.clockMs === "number" &&
    typeof s.nextSessionId === "number"
  );
}
