/**
 * Frames to bytes and back: msgpack for the encoding, {@link validateFrame} for trust. The framing
 * (length prefix) is `framer.ts`'s job; this module sees one payload at a time.
 *
 * What survives a round trip (checked by the tests): `Uint8Array` fields (decoded as plain, copied
 * `Uint8Array`s), `Infinity` (PromiseMessage.coveredThrough), `null`, and optional fields set to
 * `undefined` (msgpackr encodes `undefined` as an extension, so the key comes back with `undefined`).
 * `-0` comes back as `0`.
 *
 * Commands, reads and replies with a result travel as arrays (see `compact-frames.ts`). Peer messages
 * carry each batch (of accepts, learns and promises) as its bytes, a msgpack value inside
 * the frame (see `encoding/batch-bytes.ts`): a batch is encoded once by the leader, and a follower writes
 * the bytes it received to its log. The peer messages of every round, `accept` and `accepted`, are
 * written and read field by field (see `peer-frames.ts`), in the same bytes msgpackr gives them.
 */
import { Packr, Unpackr } from "msgpackr";
import type { Batch } from "../core/command.ts";
import { decodeBatchBytes, encodedBatch, rememberBatchBytes } from "../encoding/batch-bytes.ts";
import { MsgpackWriter } from "../encoding/msgpack-writer.ts";
import { unpackCopying } from "../encoding/unpack-copying.ts";
import { expandCompactFrame, readCompactCommand, writeCompactFrame } from "./compact-frames.ts";
import type { Frame } from "./frames.ts";
import { readRoundPeerFrame, writeRoundPeerFrame } from "./peer-frames.ts";
import { BadFrameError, validateFrame } from "./validate.ts";

/**
 * Plain msgpack maps and arrays: no records (msgpackr's shared-structure extension would make the
 * encoding depend on what was sent before on some other connection) and map headers sized to content.
 */
const packr = new Packr({ useRecords: false, variableMapSize: true });

/**
 * `copyBuffers`: binary values are copied out of the frame rather than viewing it, so that a small `op`
 * kept in the log for hours does not pin the whole socket chunk it arrived in. `mapsAsObjects`: maps
 * decode to plain objects, which is what the validator expects.
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });

/**
 * Encodes a frame as one msgpack value (the payload of a frame; add the length prefix with `framesBytes`).
 * The result may be a `Buffer` viewing msgpackr's pooled output buffer; it is never overwritten later.
 *
 * @example
 * ```ts
 * const payload = encodeFrame({ t: "status", id: 1 });
 * socket.write(framesBytes([payload]));
 * ```
 */
export function encodeFrame(frame: Frame): Uint8Array {
  writer.reset();
  if (writeCompactFrame(writer, frame) || writeRoundPeerFrame(writer, frame)) return writer.take();
  return packr.pack(withBatchBytes(frame));
}

/** Frames are written synchronously and taken at once, so one writer serves them all. */
const writer = new MsgpackWriter();

/** The frame as it goes on the wire: the batches of peer messages replaced by their bytes. */
function withBatchBytes(frame: Frame): unknown {
  if (frame.t !== "peer") return frame;
  const m = frame.m;
  switch (m.type) {
    case "accept":
    case "learn":
      return {
        t: "peer",
        m: { ...m, entries: m.entries.map((e) => ({ slot: e.slot, value: encodedBatch(e.value) })) },
      };
    case "promise":
      return {
        t: "peer",
        m: {
          ...m,
          accepted: m.accepted.map((p) => ({ slot: p.slot, ballot: p.ballot, value: encodedBatch(p.value) })),
        },
      };
    default:
      return frame;
  }
}

/**
 * Decodes, in place, the batch bytes of a peer message (before validation, which then checks the
 * batches as it would any value), and returns each decoded batch with its bytes. Throws
 * {@link BadFrameError} for a batch that is not bytes or not msgpack.
 */
function decodeBatches(value: unknown): [unknown, Uint8Array][] {
  const m = isRecord(value) && value.t === "peer" && isRecord(value.m) ? value.m : null;
  if (m === null) return [];
  const field =
    m.type === "accept" || m.type === "learn" ? "entries" : m.type === "promise" ? "accepted" : null;
  const items = field === null ? null : m[field];
  if (!Array.isArray(items)) return [];
  const decoded: [unknown, Uint8Array][] = [];
  items.forEach((item: unknown, i) => {
    if (!isRecord(item)) return;
    const path = `peer.m.${field}[${i}].value`;
    const bytes = item.value;
    if (!(bytes instanceof Uint8Array)) throw new BadFrameError(path, "expected the batch's msgpack bytes");
    let batch: unknown;
    try {
      batch = decodeBatchBytes(bytes);
    } catch (error) {
      throw new BadFrameError(path, `not a msgpack value: ${errorText(error)}`);
    }
    item.value = batch;
    decoded.push([batch, bytes]);
  });
  return decoded;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/**
 * Decodes and validates one payload. Throws {@link BadFrameError} when the bytes are not exactly one
 * msgpack value (including nesting too deep to decode, and trailing bytes) or the value is not a valid
 * {@link Frame}; it throws nothing else, whatever the bytes.
 *
 * @example
 * ```ts
 * const frame = decodeFrame(payload);
 * if (frame.t === "command") node.propose(frame.id, frame.command);
 * ```
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  // The most common frame a leader reads, read field by field; anything else takes the general path.
  const command = readCompactCommand(bytes);
  if (command !== null) return command;
  // Then the messages of every round (an accept for a follower, its answer for the leader).
  const peer = readRoundPeerFrame(bytes);
  if (peer !== null) return peer;
  // Never the caller's object as the source: msgpackr would store a `dataView` property on it, and a
  // Buffer source would yield Buffers where the types promise plain Uint8Arrays (see unpackCopying).
  let value: unknown;
  try {
    value = unpackCopying(unpackr, bytes);
  } catch (error) {
    // Anything msgpackr throws (truncation, unknown extension, non-string map key, stack overflow on
    // absurd nesting) means the same thing to the peer: this is not a frame.
    throw new BadFrameError("", `not a msgpack value: ${errorText(error)}`);
  }
  if (Array.isArray(value)) value = expandCompactFrame(value);
  const batches = decodeBatches(value);
  const frame = validateFrame(value);
  // Only now are they known to be batches: tie each to the bytes it came in, for the log.
  for (const [batch, bytes] of batches) rememberBatchBytes(batch as Batch, bytes);
  return frame;
}

/** The first line of an error's message, shortened: msgpackr may quote decoded data in it. */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
