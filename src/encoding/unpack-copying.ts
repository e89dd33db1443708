/**
 * Decoding small msgpack values without the per-call setup msgpackr asks of its input. msgpackr reads
 * through a `DataView` of the source, which it creates and stores as a property of the source object;
 * and a small `Uint8Array` (64 bytes or fewer, such as a call or a command's `op`) lives inside V8's
 * heap until something asks for its `.buffer`, which moves it out with an allocation of its own. Each
 * decode of a call paid for both: about a micro-second, on every replica, for every command. Copying the
 * bytes into one reused buffer whose `DataView` is made once costs a `memcpy` of a few dozen bytes.
 *
 * @module
 */
import type { Unpackr } from "msgpackr";

/** Inputs up to this size are copied into the scratch buffer; larger ones are read where they are. */
export const SCRATCH_BYTES = 4096;

// An explicit ArrayBuffer, so the scratch is off V8's heap and its `.buffer` costs nothing.
const scratch = new Uint8Array(new ArrayBuffer(SCRATCH_BYTES));
/** Set while the scratch holds an input being decoded: a nested decode must not overwrite it. */
let scratchBusy = false;

/**
 * Decodes `bytes` with `unpackr`, which must copy binary values out (`copyBuffers: true`): with the
 * scratch buffer as the source, views into it would change under the caller. The caller's bytes are
 * neither modified nor given a `dataView` property. Throws whatever `unpackr.unpack` throws, including
 * for trailing bytes.
 *
 * @example
 * ```ts
 * const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });
 * unpackCopying(unpackr, new Uint8Array([0x92, 0x01, 0x02])); // [1, 2]
 * ```
 */
export function unpackCopying(unpackr: Unpackr, bytes: Uint8Array): unknown {
  const length = bytes.byteLength;
  // Zero bytes would read as "to the end of the source" in msgpackr's range options.
  if (length === 0 || length > SCRATCH_BYTES || scratchBusy) {
    return unpackr.unpack(new Uint8Array(bytes.buffer, bytes.byteOffset, length));
  }
  scratch.set(bytes);
  scratchBusy = true;
  try {
    return unpackr.unpack(scratch, { start: 0, end: length });
  } finally {
    scratchBusy = false;
  }
}
