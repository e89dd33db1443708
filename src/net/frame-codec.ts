/**
 * Frames to bytes and back: msgpack for the encoding, {@link validateFrame} for trust. The framing
 * (length prefix) is `framer.ts`'s job; this module sees one payload at a time.
 *
 * What survives a round trip (checked by the tests): `Uint8Array` fields (decoded as plain, copied
 * `Uint8Array`s), `Infinity` (PromiseMessage.coveredThrough), `null`, and optional fields set to
 * `undefined` (msgpackr encodes `undefined` as an extension, so the key comes back with `undefined`).
 * `-0` comes back as `0`.
 */
import { Packr, Unpackr } from "msgpackr";
import type { Frame } from "./frames.ts";
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
 * Encodes a frame as one msgpack value (the payload of a frame; add the length prefix with `frameBytes`).
 * The result may be a `Buffer` viewing msgpackr's pooled output buffer; it is never overwritten later.
 *
 * @example
 * ```ts
 * const payload = encodeFrame({ t: "status", id: 1 });
 * socket.write(frameBytes(payload));
 * ```
 */
export function encodeFrame(frame: Frame): Uint8Array {
  return packr.pack(frame);
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
  // A fresh plain view, for two reasons: msgpackr caches a `dataView` property on the object it decodes
  // (we do not want to mutate the caller's buffer), and binary values are sliced with the source's
  // species, so a Buffer source would yield Buffers where the types promise plain Uint8Arrays.
  const source = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let value: unknown;
  try {
    value = unpackr.unpack(source);
  } catch (error) {
    // Anything msgpackr throws (truncation, unknown extension, non-string map key, stack overflow on
    // absurd nesting) means the same thing to the peer: this is not a frame.
    throw new BadFrameError("", `not a msgpack value: ${errorText(error)}`);
  }
  return validateFrame(value);
}

/** The first line of an error's message, shortened: msgpackr may quote decoded data in it. */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
