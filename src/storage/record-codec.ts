import { Packr } from "msgpackr";
import type { PersistRecord } from "../core/durable.ts";
import { encodedBatch, expandBatch } from "../encoding/batch-bytes.ts";
import { MsgpackWriter } from "../encoding/msgpack-writer.ts";
import { unpackCopying } from "../encoding/unpack-copying.ts";
import { crc32c } from "./crc32c.ts";

/**
 * The framing of the write-ahead log. Every record is one frame:
 *
 * ```
 * length  u32 little-endian   bytes of payload (1 … recordBytesMax)
 * crc     u32 little-endian   CRC32C of payload
 * payload msgpack [seq, final, record]
 * ```
 *
 * `seq` numbers the append call (the batch) the record belongs to and `final` (1 or 0) marks the batch's
 * last frame. Recovery uses them to tell a torn write (damage inside the last, never acknowledged batch,
 * which may legitimately be followed by later frames of that same batch because pages reach the disk in
 * any order) from corruption (damage followed by a later batch, which proves the damaged one had been
 * synced), and to keep batches all-or-nothing.
 *
 * @example
 * ```ts
 * const bytes = encodeFrame({ seq: 1, final: true, record: { kind: "commit", throughSlot: 4 } });
 * const read = readFrame(bytes, 0, RECORD_BYTES_MAX_DEFAULT); // { ok: true, frame, end: bytes.length }
 * ```
 *
 * @module
 */

/**
 * Bytes before a frame's payload: length and checksum.
 *
 * @example
 * ```ts
 * const payloadBytes = frame.length - FRAME_HEADER_BYTES;
 * ```
 */
export const FRAME_HEADER_BYTES = 8;

/**
 * Default bound on one frame's payload: 64 MiB, far above the core's 1 MiB batches.
 *
 * @example
 * ```ts
 * new FileStorage({ dir, identity, recordBytesMax: RECORD_BYTES_MAX_DEFAULT / 4 });
 * ```
 */
export const RECORD_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/**
 * Where a snapshot lives: the WAL records this small reference instead of the snapshot itself, so that a
 * large application image is written once, not copied into every checkpoint.
 *
 * @example
 * ```ts
 * const ref: SnapshotRef = { slot: 4096, file: "snapshot-4096.bin", crc: 0x1234abcd, bytes: 812 };
 * ```
 */
export interface SnapshotRef {
  readonly slot: number;
  readonly file: string;
  /** CRC32C of the snapshot file's payload; checked against the file's own header on recovery. */
  readonly crc: number;
  /** Size of the whole snapshot file. */
  readonly bytes: number;
}

/**
 * What the WAL holds: the core's records except snapshots, snapshot references, and the header of a
 * checkpoint (the image that starts every segment; `records` frames of the same batch follow it).
 *
 * @example
 * ```ts
 * const r: WalRecord = { kind: "snapshot-ref", ref };
 * ```
 */
export type WalRecord =
  | Exclude<PersistRecord, { kind: "snapshot" }>
  | { readonly kind: "snapshot-ref"; readonly ref: SnapshotRef }
  | { readonly kind: "checkpoint"; readonly records: number };

/**
 * One decoded frame.
 *
 * @example
 * ```ts
 * const f: WalFrame = { seq: 7, final: true, record: { kind: "campaign", round: 3 } };
 * ```
 */
export interface WalFrame {
  readonly seq: number;
  readonly final: boolean;
  readonly record: WalRecord;
}

// copyBuffers: decoded byte strings must not be views into the segment just read, or one command's
// bytes would keep a whole 64 MiB segment buffer alive.
const packr = new Packr({ useRecords: false, copyBuffers: true });

/**
 * Encodes a value with msgpack (no record extension, so any msgpack reader can inspect a WAL).
 *
 * @example
 * ```ts
 * decodeValue(encodeValue({ a: new Uint8Array([1]) })); // { a: Uint8Array [1] }
 * ```
 */
export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * Decodes one msgpack value that must span all of `bytes`; byte strings come back as plain
 * `Uint8Array`s (not Node `Buffer`s) so they compare equal to what was written.
 *
 * @example
 * ```ts
 * decodeValue(encodeValue([1, Infinity])); // [1, Infinity]
 * ```
 */
export function decodeValue(bytes: Uint8Array): unknown {
  // Never a Buffer source (which would make msgpackr return Buffers): a plain view or the scratch copy.
  return unpackCopying(packr, bytes);
}

/**
 * Frames an already encoded payload: header (length, CRC32C) then the payload.
 *
 * @example
 * ```ts
 * const frame = framePayload(encodeValue("x"));
 * ```
 */
export function framePayload(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return sealFrame(out);
}

/** Writes the header (length, CRC32C) of a frame whose payload is already in place after it. */
function sealFrame(out: Uint8Array): Uint8Array {
  const payload = out.subarray(FRAME_HEADER_BYTES);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32c(payload), true);
  return out;
}

/**
 * Encodes and frames one WAL frame.
 *
 * @example
 * ```ts
 * encodeFrame({ seq: 1, final: true, record: { kind: "truncate", throughSlot: 9 } });
 * ```
 */
export function encodeFrame(frame: WalFrame): Uint8Array {
  writer.reset();
  if (writeRoundRecord(writer, frame)) return sealFrame(writer.take(FRAME_HEADER_BYTES));
  return framePayload(encodeValue([frame.seq, frame.final ? 1 : 0, frame.record]));
}

/** Frames are encoded synchronously and taken at once, so one writer serves them all. */
const writer = new MsgpackWriter();

/**
 * Writes the payload of a frame whose record is one of those every write passes through (`accept`,
 * `decide`, `commit`) and returns true; writes nothing and returns false for other records. The bytes
 * are msgpackr's for `[seq, final, record]` with the shortest map headers (the general path writes
 * 16-bit ones), so every reader of the log reads them as before. msgpackr's general writer, cold on a
 * node that writes one slot at a time, took 20–30 µs here before each sync at one request in flight.
 * A batch goes in as its bytes (encoded once by whoever made it, or as received from the leader).
 */
function writeRoundRecord(w: MsgpackWriter, frame: WalFrame): boolean {
  const record = frame.record;
  if (record.kind !== "accept" && record.kind !== "decide" && record.kind !== "commit") return false;
  w.array(3);
  w.number(frame.seq);
  w.number(frame.final ? 1 : 0);
  w.map(record.kind === "decide" ? 3 : 2);
  w.string("kind");
  w.string(record.kind);
  if (record.kind === "accept") {
    const { slot, ballot, value } = record.pvalue;
    w.string("pvalue");
    w.map(3);
    w.string("slot");
    w.number(slot);
    w.string("ballot");
    w.ballot(ballot);
    w.string("value");
    w.raw(encodedBatch(value));
  } else if (record.kind === "decide") {
    w.string("slot");
    w.number(record.slot);
    w.string("value");
    w.raw(encodedBatch(record.value));
  } else {
    w.string("throughSlot");
    w.number(record.throughSlot);
  }
  return true;
}

/**
 * The outcome of reading a frame at an offset: the frame and where the next one starts, or why the
 * bytes there are not a frame (`incomplete` when the file ends inside it).
 *
 * @example
 * ```ts
 * const read: FrameRead = readFrame(bytes, offset, recordBytesMax);
 * if (!read.ok) console.log(read.reason); // "checksum mismatch"
 * ```
 */
export type FrameRead =
  | { readonly ok: true; readonly frame: WalFrame; readonly end: number }
  | { readonly ok: false; readonly reason: string; readonly incomplete: boolean };

/**
 * Reads the frame at `offset`. Never allocates from an untrusted length: a length over
 * `recordBytesMax` is refused before anything is read.
 *
 * @example
 * ```ts
 * const r = readFrame(segmentBytes, 0, RECORD_BYTES_MAX_DEFAULT);
 * if (r.ok) offset = r.end;
 * ```
 */
export function readFrame(bytes: Uint8Array, offset: number, recordBytesMax: number): FrameRead {
  if (bytes.length - offset < FRAME_HEADER_BYTES) {
    return { ok: false, reason: "incomplete frame header", incomplete: true };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(offset, true);
  if (length === 0) return { ok: false, reason: "zero frame length", incomplete: false };
  if (length > recordBytesMax) {
    return {
      ok: false,
      reason: `frame length ${length} exceeds recordBytesMax ${recordBytesMax}`,
      incomplete: false,
    };
  }
  const start = offset + FRAME_HEADER_BYTES;
  if (bytes.length - start < length) {
    return { ok: false, reason: `incomplete frame of ${length} bytes`, incomplete: true };
  }
  const payload = bytes.subarray(start, start + length);
  if (crc32c(payload) !== view.getUint32(offset + 4, true)) {
    return { ok: false, reason: "checksum mismatch", incomplete: false };
  }
  let decoded: unknown;
  try {
    decoded = decodeValue(payload);
  } catch {
    return { ok: false, reason: "undecodable payload", incomplete: false };
  }
  const frame = toWalFrame(decoded);
  if (frame === null) return { ok: false, reason: "unknown record", incomplete: false };
  return { ok: true, frame, end: start + length };
}

/** Checks the shape of a decoded payload; a valid checksum over bytes of another format must not pass. */
function toWalFrame(value: unknown): WalFrame | null {
  if (!Array.isArray(value) || value.length !== 3) return null;
  const [seq, final, record] = value as unknown[];
  // Batches are embedded in their array form (see `encodedBatch`); older logs hold maps.
  if (isObject(record) && record.kind === "accept" && isObject(record.pvalue))
    record.pvalue.value = expandBatch(record.pvalue.value);
  else if (isObject(record) && record.kind === "decide") record.value = expandBatch(record.value);
  if (!isCount(seq) || (final !== 0 && final !== 1) || !isWalRecord(record)) return null;
  return { seq, final: final === 1, record };
}

/**
 * True when `value` has the shape of a WAL record (the fields recovery folds; nested commands are
 * trusted to the checksum).
 *
 * @example
 * ```ts
 * isWalRecord({ kind: "commit", throughSlot: 3 }); // true
 * ```
 */
export function isWalRecord(value: unknown): value is WalRecord {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case "promise":
      return isBallot(value.ballot);
    case "campaign":
      return isCount(value.round);
    case "accept":
      return (
        isObject(value.pvalue) &&
        isCount(value.pvalue.slot) &&
        isBallot(value.pvalue.ballot) &&
        isBatch(value.pvalue.value)
      );
    case "truncate":
    case "commit":
      return isCount(value.throughSlot);
    case "decide":
      return isCount(value.slot) && isBatch(value.value);
    case "snapshot-ref":
      return isSnapshotRef(value.ref);
    case "checkpoint":
      return isCount(value.records);
    default:
      return false;
  }
}

/**
 * True when `value` is a well-formed snapshot reference (its file name is the one its slot implies).
 *
 * @example
 * ```ts
 * isSnapshotRef({ slot: 8, file: "snapshot-8.bin", crc: 1, bytes: 40 }); // true
 * ```
 */
export function isSnapshotRef(value: unknown): value is SnapshotRef {
  return (
    isObject(value) &&
    isCount(value.slot) &&
    value.file === snapshotFileName(value.slot) &&
    isCount(value.crc) &&
    value.crc <= 0xffffffff &&
    isCount(value.bytes)
  );
}

/**
 * The file a snapshot of `slot` is stored in, relative to the data dir.
 *
 * @example
 * ```ts
 * snapshotFileName(4096); // "snapshot-4096.bin"
 * ```
 */
export function snapshotFileName(slot: number): string {
  return `snapshot-${slot}.bin`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isBallot(value: unknown): boolean {
  return isObject(value) && isCount(value.round) && isCount(value.nodeId);
}

function isBatch(value: unknown): boolean {
  return isObject(value) && typeof value.timeMs === "number" && Array.isArray(value.commands);
}
