/**
 * A strict msgpack reader for the fixed shapes every command passes through (a batch of operations, a
 * client's command frame), the reading side of {@link MsgpackWriter}. It reads one expected item at a
 * time and answers "not that" instead of throwing, so that a caller can try the fast reading first and
 * hand anything unexpected — another shape, another encoder's choices, garbage — to msgpackr and the
 * validator, which name what is wrong. Every item it accepts is one the validator accepts too: a number
 * read as a natural is a non-negative safe integer, a finite number is finite.
 *
 * @example
 * ```ts
 * const r = new MsgpackReader(bytes);
 * if (r.arrayLength() === 2 && (n = r.natural()) >= 0 && r.atEnd()) use(n); else slowPath(bytes);
 * ```
 *
 * @module
 */

/**
 * Longest array accepted anywhere in a frame; far above any real message, far below a memory problem.
 * The wire's validator refuses longer arrays, and {@link MsgpackReader.arrayLength} does not read them,
 * so that a batch or message read field by field (and then not validated again) keeps the same bound.
 */
export const ARRAY_LENGTH_MAX = 1_000_000;

/** What {@link MsgpackReader.natural} returns for anything that is not a non-negative safe integer. */
export const NOT_NATURAL = -1;

/** What {@link MsgpackReader.scalar} returns for anything but nil, a boolean, a number or an ASCII string. */
export const NOT_SCALAR: unique symbol = Symbol("not a scalar");

/** Strings longer than this are decoded by the platform's decoder: building them code by code costs more. */
const ASCII_BY_CODE_MAX = 16;
const utf8 = new TextDecoder();

/** Big-endian float64s are read through these (no DataView per reader: making one costs more than a read). */
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads items from `bytes` front to back. */
export class MsgpackReader {
  readonly #bytes: Uint8Array;
  #position = 0;

  constructor(bytes: Uint8Array) {
    // Views of a Buffer would be Buffers: byte strings come out as plain Uint8Arrays, as msgpackr's do.
    this.#bytes =
      Object.getPrototypeOf(bytes) === Uint8Array.prototype
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when every byte was read. */
  atEnd(): boolean {
    return this.#position === this.#bytes.length;
  }

  /** The length of an array header, or -1 for anything else (a length over {@link ARRAY_LENGTH_MAX} too). */
  arrayLength(): number {
    const length = this.#headerLength(0x90, 0xdc);
    return length > ARRAY_LENGTH_MAX ? -1 : length;
  }

  /** The length of a map header, or -1 for anything else. */
  mapLength(): number {
    return this.#headerLength(0x80, 0xde);
  }

  /**
   * True (and the item read) when the next item is the string `text` (ASCII, under 32 characters) as a
   * fixstr, the header msgpackr gives such strings; false, with nothing read, otherwise.
   */
  fixstr(text: string): boolean {
    const b = this.#bytes;
    const at = this.#position;
    const length = text.length;
    if (b[at] !== (0xa0 | length) || length >= 0x20 || at + 1 + length > b.length) return false;
    for (let i = 0; i < length; i++) if (b[at + 1 + i] !== text.charCodeAt(i)) return false;
    this.#position = at + 1 + length;
    return true;
  }

  /** A non-negative safe integer, in any integer or float width, or {@link NOT_NATURAL}. */
  natural(): number {
    const value = this.#number();
    return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : NOT_NATURAL;
  }

  /** A finite number, in any integer or float width, or undefined. */
  finite(): number | undefined {
    const value = this.#number();
    return value !== undefined && Number.isFinite(value) ? value : undefined;
  }

  /** True (and the item read) when the next item is nil; false, with nothing read, otherwise. */
  nil(): boolean {
    if (this.#bytes[this.#position] !== 0xc0) return false;
    this.#position++;
    return true;
  }

  /** A byte string as a view of the input (not a copy), or null for anything else. */
  bytesView(): Uint8Array | null {
    const tag = this.#tag();
    let length: number;
    if (tag === 0xc4 && this.#fixed(1)) length = this.#bytes[this.#position - 1]!;
    else if (tag === 0xc5 && this.#fixed(2)) length = this.#u16(this.#position - 2);
    else if (tag === 0xc6 && this.#fixed(4)) length = this.#u32(this.#position - 4);
    else return null;
    if (!this.#fixed(length)) return null;
    return this.#bytes.subarray(this.#position - length, this.#position);
  }

  /**
   * A string of ASCII characters, in any header width, or null: other strings are left to msgpackr, so that
   * UTF-8 (and what to do with malformed UTF-8) has one reader.
   */
  asciiString(): string | null {
    const tag = this.#tag();
    let length: number;
    if (tag >= 0xa0 && tag <= 0xbf) length = tag & 0x1f;
    else if (tag === 0xd9 && this.#fixed(1)) length = this.#bytes[this.#position - 1]!;
    else if (tag === 0xda && this.#fixed(2)) length = this.#u16(this.#position - 2);
    else if (tag === 0xdb && this.#fixed(4)) length = this.#u32(this.#position - 4);
    else return null;
    if (!this.#fixed(length)) return null;
    return asciiText(this.#bytes, this.#position - length, this.#position);
  }

  /**
   * The next item when it is nil (read as null, as msgpackr reads it), msgpackr's `undefined` (a fixext 1
   * of type 0 with a zero byte), a boolean, a number of a width {@link finite} reads (NaN and infinities
   * included) or an ASCII string; {@link NOT_SCALAR} otherwise.
   */
  scalar(): undefined | null | boolean | number | string | typeof NOT_SCALAR {
    const b = this.#bytes;
    const at = this.#position;
    const tag = b[at];
    if (tag === undefined) return NOT_SCALAR;
    if (tag === 0xc0 || tag === 0xc2 || tag === 0xc3) {
      this.#position++;
      return tag === 0xc0 ? null : tag === 0xc3;
    }
    if (tag === 0xd4) {
      if (b[at + 1] !== 0 || b[at + 2] !== 0) return NOT_SCALAR;
      this.#position = at + 3;
      return undefined;
    }
    if ((tag >= 0xa0 && tag <= 0xbf) || (tag >= 0xd9 && tag <= 0xdb)) return this.asciiString() ?? NOT_SCALAR;
    return this.#number() ?? NOT_SCALAR;
  }

  #number(): number | undefined {
    const tag = this.#tag();
    if (tag < 0x80) return tag < 0 ? undefined : tag;
    if (tag >= 0xe0) return tag - 0x100;
    const b = this.#bytes;
    switch (tag) {
      case 0xcc:
        return this.#fixed(1) ? b[this.#position - 1] : undefined;
      case 0xcd:
        return this.#fixed(2) ? this.#u16(this.#position - 2) : undefined;
      case 0xce:
        return this.#fixed(4) ? this.#u32(this.#position - 4) : undefined;
      case 0xd0:
        return this.#fixed(1) ? (b[this.#position - 1]! << 24) >> 24 : undefined;
      case 0xd1:
        return this.#fixed(2) ? (this.#u16(this.#position - 2) << 16) >> 16 : undefined;
      case 0xd2:
        return this.#fixed(4) ? this.#u32(this.#position - 4) | 0 : undefined;
      case 0xcb:
        return this.#fixed(8) ? this.#f64(this.#position - 8) : undefined;
      default:
        // 64-bit integers (bigints or numbers depending on the reader) and float32 (which msgpackr may
        // round) are left to msgpackr.
        return undefined;
    }
  }

  /** An array's or a map's length: up to 15 in the tag from `fix`, else 16 bits after `tag16`, 32 after the next tag. */
  #headerLength(fix: number, tag16: number): number {
    const tag = this.#tag();
    if (tag >= fix && tag <= fix + 0x0f) return tag & 0x0f;
    if (tag === tag16) return this.#fixed(2) ? this.#u16(this.#position - 2) : -1;
    if (tag === tag16 + 1) return this.#fixed(4) ? this.#u32(this.#position - 4) : -1;
    return -1;
  }

  #u16(at: number): number {
    const b = this.#bytes;
    return (b[at]! << 8) | b[at + 1]!;
  }

  #u32(at: number): number {
    const b = this.#bytes;
    return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  }

  #f64(at: number): number {
    const b = this.#bytes;
    for (let i = 0; i < 8; i++) float64Bytes[LITTLE_ENDIAN ? 7 - i : i] = b[at + i]!;
    return float64[0]!;
  }

  /** The next byte, consumed; -1 past the end. */
  #tag(): number {
    return this.#position < this.#bytes.length ? this.#bytes[this.#position++]! : -1;
  }

  /** Consumes `n` more bytes if there are that many. */
  #fixed(n: number): boolean {
    if (this.#bytes.length - this.#position < n) return false;
    this.#position += n;
    return true;
  }
}

/** `bytes[start, end)` as a string when every byte is ASCII; null otherwise. */
function asciiText(bytes: Uint8Array, start: number, end: number): string | null {
  let any = 0;
  for (let i = start; i < end; i++) any |= bytes[i]!;
  if (any >= 0x80) return null;
  const length = end - start;
  if (length > ASCII_BY_CODE_MAX) return utf8.decode(bytes.subarray(start, end));
  // Explicit arguments, as msgpackr does for short strings: building the string one code at a time makes
  // a rope that every later hash or comparison must flatten.
  const b = bytes;
  const s = start;
  const c = String.fromCharCode;
  switch (length) {
    case 0:
      return "";
    case 1:
      return c(b[s]!);
    case 2:
      return c(b[s]!, b[s + 1]!);
    case 3:
      return c(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    default: {
      // One call for up to 16 codes; codes past the string (or past the input: undefined, read as 0) are
      // cut off again.
      const text = c(
        b[s]!,
        b[s + 1]!,
        b[s + 2]!,
        b[s + 3]!,
        b[s + 4]!,
        b[s + 5]!,
        b[s + 6]!,
        b[s + 7]!,
        b[s + 8]!,
        b[s + 9]!,
        b[s + 10]!,
        b[s + 11]!,
        b[s + 12]!,
        b[s + 13]!,
        b[s + 14]!,
        b[s + 15]!,
      );
      return length === ASCII_BY_CODE_MAX ? text : text.slice(0, length);
    }
  }
}
