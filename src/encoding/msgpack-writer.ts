/**
 * A msgpack writer for the few fixed shapes that every command passes through — a batch of operations,
 * a client's command, an `ok` reply — written field by field into one reused buffer. msgpackr serves
 * every other value; for these it spent most of its time deciding what each value is (a byte string
 * goes through its extension table's `instanceof` chain before it is recognised). The bytes are exactly
 * those msgpackr writes for the same arrays (its integer widths, float64 for any other number, the
 * shortest string, byte-string and array headers), so any msgpack reader, msgpackr included, reads them
 * back, and a test compares the two byte for byte.
 *
 * @example
 * ```ts
 * const w = new MsgpackWriter();
 * w.array(3); w.string("r"); w.number(7); w.bytes(result);
 * const payload = w.take(); // a copy; the writer is empty again
 * ```
 *
 * @module
 */
/** The writer's buffer starts at this size and doubles while a value needs more. */
const INITIAL_BYTES = 64 * 1024;
/** One value may not need more than this (batches and frames are bounded well below it by their own limits). */
export const WRITER_BYTES_MAX = 64 * 1024 * 1024;

/**
 * A value would take more than {@link WRITER_BYTES_MAX} bytes. Nothing past the value's start was kept
 * by the writer's buffer growth; callers `reset()` before their next value.
 *
 * @example
 * ```ts
 * try { w.bytes(huge); } catch (e) { if (e instanceof MsgpackValueTooLargeError) w.reset(); }
 * ```
 */
export class MsgpackValueTooLargeError extends RangeError {
  override readonly name = "MsgpackValueTooLargeError";
}

/** Writes msgpack values one after another; `take()` returns them and starts again. */
export class MsgpackWriter {
  #buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  #position = 0;

  /** An array header for `length` items, which the caller writes next. */
  array(length: number): void {
    this.#reserve(5);
    if (length < 0x10) this.#buffer[this.#position++] = 0x90 | length;
    else if (length < 0x10000) this.#u8u16(0xdc, length);
    else this.#u8u32(0xdd, length);
  }

  /** A map header for `length` key-value pairs, which the caller writes next (key, value, key, …). */
  map(length: number): void {
    this.#reserve(5);
    if (length < 0x10) this.#buffer[this.#position++] = 0x80 | length;
    else if (length < 0x10000) this.#u8u16(0xde, length);
    else this.#u8u32(0xdf, length);
  }

  /** A number as msgpackr writes it: the shortest integer form for 32-bit integers, else a float64. */
  number(value: number): void {
    this.#reserve(9);
    const b = this.#buffer;
    if (value >>> 0 === value) {
      if (value < 0x80) b[this.#position++] = value;
      else if (value < 0x100) {
        b[this.#position++] = 0xcc;
        b[this.#position++] = value;
      } else if (value < 0x10000) this.#u8u16(0xcd, value);
      else this.#u8u32(0xce, value);
    } else if (value >> 0 === value) {
      if (value >= -0x20) b[this.#position++] = 0x100 + value;
      else if (value >= -0x80) {
        b[this.#position++] = 0xd0;
        b[this.#position++] = value + 0x100;
      } else if (value >= -0x8000) {
        b[this.#position++] = 0xd1;
        b.writeInt16BE(value, this.#position);
        this.#position += 2;
      } else {
        b[this.#position++] = 0xd2;
        b.writeInt32BE(value, this.#position);
        this.#position += 4;
      }
    } else {
      b[this.#position++] = 0xcb;
      b.writeDoubleBE(value, this.#position);
      this.#position += 8;
    }
  }

  nil(): void {
    this.#reserve(1);
    this.#buffer[this.#position++] = 0xc0;
  }

  /** `undefined` as msgpackr writes it: a fixext 1 of type 0 holding a zero byte. */
  undefinedValue(): void {
    this.#reserve(3);
    this.#buffer[this.#position++] = 0xd4;
    this.#buffer[this.#position++] = 0;
    this.#buffer[this.#position++] = 0;
  }

  boolean(value: boolean): void {
    this.#reserve(1);
    this.#buffer[this.#position++] = value ? 0xc3 : 0xc2;
  }

  /** A UTF-8 string. */
  string(value: string): void {
    // Short ASCII strings (frame tags, keys) byte by byte: Buffer's UTF-8 path costs more than the copy.
    if (value.length < 0x20 && this.#asciiFixstr(value)) return;
    const length = Buffer.byteLength(value);
    this.#reserve(5 + length);
    if (length < 0x20) this.#buffer[this.#position++] = 0xa0 | length;
    else if (length < 0x100) {
      this.#buffer[this.#position++] = 0xd9;
      this.#buffer[this.#position++] = length;
    } else if (length < 0x10000) this.#u8u16(0xda, length);
    else this.#u8u32(0xdb, length);
    this.#position += this.#buffer.write(value, this.#position, "utf8");
  }

  /** A byte string. */
  bytes(value: Uint8Array): void {
    const length = value.byteLength;
    this.#reserve(5 + length);
    if (length < 0x100) {
      this.#buffer[this.#position++] = 0xc4;
      this.#buffer[this.#position++] = length;
    } else if (length < 0x10000) this.#u8u16(0xc5, length);
    else this.#u8u32(0xc6, length);
    this.#buffer.set(value, this.#position);
    this.#position += length;
  }

  /** A value msgpack-encoded elsewhere, copied in as it is (an array's item written by msgpackr). */
  raw(encoded: Uint8Array): void {
    this.#reserve(encoded.byteLength);
    this.#buffer.set(encoded, this.#position);
    this.#position += encoded.byteLength;
  }

  /**
   * What was written since the last `take()`, as a new array of its own, after `leadingBytes` zero bytes
   * the caller fills (a frame's header: one array for header and payload, no second copy); the writer
   * starts again.
   */
  take(leadingBytes = 0): Uint8Array {
    const out = new Uint8Array(leadingBytes + this.#position);
    out.set(this.#buffer.subarray(0, this.#position), leadingBytes);
    this.#position = 0;
    return out;
  }

  /** A ballot, as msgpackr writes the core's ballot objects: a map of `round` then `nodeId`. */
  ballot(ballot: { readonly round: number; readonly nodeId: number }): void {
    this.map(2);
    this.string("round");
    this.number(ballot.round);
    this.string("nodeId");
    this.number(ballot.nodeId);
  }

  /** Forgets what was written since the last `take()` (after a failed encoding). */
  reset(): void {
    this.#position = 0;
  }

  /** Writes `value` as a fixstr if it is ASCII; otherwise writes nothing and returns false. */
  #asciiFixstr(value: string): boolean {
    const length = value.length;
    this.#reserve(1 + length);
    const b = this.#buffer;
    const start = this.#position;
    b[start] = 0xa0 | length;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return false;
      b[start + 1 + i] = code;
    }
    this.#position = start + 1 + length;
    return true;
  }

  #u8u16(tag: number, value: number): void {
    this.#buffer[this.#position++] = tag;
    this.#buffer.writeUInt16BE(value, this.#position);
    this.#position += 2;
  }

  #u8u32(tag: number, value: number): void {
    this.#buffer[this.#position++] = tag;
    this.#buffer.writeUInt32BE(value, this.#position);
    this.#position += 4;
  }

  #reserve(bytes: number): void {
    const needed = this.#position + bytes;
    if (needed <= this.#buffer.length) return;
    if (needed > WRITER_BYTES_MAX)
      throw new MsgpackValueTooLargeError(`a msgpack value of over ${WRITER_BYTES_MAX} bytes`);
    let size = this.#buffer.length;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, WRITER_BYTES_MAX));
    grown.set(this.#buffer.subarray(0, this.#position));
    this.#buffer = grown;
  }
}
