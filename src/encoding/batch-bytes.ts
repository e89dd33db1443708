/**
 * The encoded form of a {@link Batch}, made once per batch and shared by the wire and the log. A leader
 * encodes a batch when it sends the accept to its followers and writes the same bytes into its own log;
 * a follower receives the bytes, decodes them to apply the commands, and writes the bytes it received
 * into its log without encoding the batch again. Re-encoding every batch for the log was a tenth of a
 * follower's work.
 *
 * The bytes are plain msgpack of the batch object, so a log record that embeds them reads back exactly
 * as if the whole record had been encoded in one go.
 *
 * @module
 */
import { Packr, Unpackr } from "msgpackr";
import type { Batch } from "../core/command.ts";

/** Plain maps and arrays, as everywhere else on the wire and in the log (see `frame-codec.ts`). */
const packr = new Packr({ useRecords: false, variableMapSize: true });

/**
 * No `copyBuffers`: a decoded command's `op` views the batch's bytes, which the batch keeps alive anyway
 * (they are remembered with it), instead of being copied out one by one.
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Each batch's bytes, for as long as the batch object lives (in the log, in flight). */
const remembered = new WeakMap<Batch, Uint8Array>();

/**
 * The msgpack bytes of `batch`: the bytes it arrived in or was first encoded to, else encoded now (and
 * remembered). The caller must not modify them.
 *
 * @example
 * ```ts
 * const bytes = encodedBatch(batch);
 * encodedBatch(batch) === bytes; // true: encoded once
 * ```
 */
export function encodedBatch(batch: Batch): Uint8Array {
  const known = remembered.get(batch);
  if (known !== undefined) return known;
  // A copy: msgpackr's output views a shared slab that a long-lived batch would otherwise pin.
  const bytes = new Uint8Array(packr.pack(batch));
  remembered.set(batch, bytes);
  return bytes;
}

/**
 * Decodes bytes that should hold one batch. The result is unchecked (the wire's validator checks it);
 * once it is known to be a valid batch, {@link rememberBatchBytes} ties the bytes to it. Throws whatever
 * msgpackr throws for bytes that are not exactly one msgpack value.
 *
 * @example
 * ```ts
 * const value = decodeBatchBytes(bytes); // then validate, then rememberBatchBytes(value, bytes)
 * ```
 */
export function decodeBatchBytes(bytes: Uint8Array): unknown {
  // A view of our own: msgpackr caches a DataView as a property of the object it reads.
  return unpackr.unpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * Records that `bytes` are the encoding of `batch` (they were decoded into it), so that writing the
 * batch to the log copies them instead of encoding it.
 *
 * @example
 * ```ts
 * rememberBatchBytes(batch, bytes);
 * encodedBatch(batch) === bytes; // true
 * ```
 */
export function rememberBatchBytes(batch: Batch, bytes: Uint8Array): void {
  remembered.set(batch, bytes);
}
