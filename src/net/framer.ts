/**
 * Length-prefixed framing over a byte stream: every frame is a 4-byte big-endian length, then that many
 * bytes of payload. TCP delivers arbitrary slices of the stream, so the reader reassembles payloads from
 * chunks, and it checks the announced length before buffering anything, so that a garbage or hostile
 * prefix can never make it allocate more than the configured bound.
 */

/** Frames up to 16 MiB by default: a whole learn snapshot fits, a garbage length does not. */
export const FRAME_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

/** Bytes of the length prefix. */
const HEADER_BYTES = 4;

/** The largest length the 4-byte prefix can announce. */
const LENGTH_MAX = 0xffff_ffff;

/**
 * A frame's announced or actual length exceeds the limit. The stream cannot be resynchronised after it
 * (the length prefix is the only delimiter), so the connection must be closed.
 *
 * @example
 * ```ts
 * try { reader.push(chunk); } catch (e) { if (e instanceof FrameTooLargeError) socket.destroy(); }
 * ```
 */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";
}

/**
 * Encodes payloads as consecutive frames — each a 4-byte big-endian length, then the payload — in one
 * new buffer, what one `socket.write` sends. Pass `frameBytesMax` to refuse a payload the peer would
 * refuse anyway: {@link FrameTooLargeError} is thrown before anything is copied.
 *
 * @example
 * ```ts
 * framesBytes([new Uint8Array([7]), new Uint8Array([8, 9])]); // [0, 0, 0, 1, 7, 0, 0, 0, 2, 8, 9]
 * socket.write(framesBytes([encodeFrame({ t: "status", id: 1 })]));
 * ```
 */
export function framesBytes(payloads: readonly Uint8Array[], frameBytesMax: number = LENGTH_MAX): Uint8Array {
  let total = 0;
  for (const payload of payloads) total += HEADER_BYTES + checkedLength(payload, frameBytesMax);
  // A Buffer (pooled when small, not zero-filled): `socket.write` takes it as it is, where a plain
  // Uint8Array is wrapped in a new Buffer on every write.
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const payload of payloads) {
    const length = payload.byteLength;
    // DataView-free big-endian write: `>>> 0` keeps the top byte unsigned for lengths ≥ 2^31.
    out[at] = (length >>> 24) & 0xff;
    out[at + 1] = (length >>> 16) & 0xff;
    out[at + 2] = (length >>> 8) & 0xff;
    out[at + 3] = length & 0xff;
    out.set(payload, at + HEADER_BYTES);
    at += HEADER_BYTES + length;
  }
  return out;
}

/** The bytes a payload takes as a frame; throws {@link FrameTooLargeError} past `frameBytesMax`. */
export function frameLength(payload: Uint8Array, frameBytesMax: number = LENGTH_MAX): number {
  return HEADER_BYTES + checkedLength(payload, frameBytesMax);
}

function checkedLength(payload: Uint8Array, frameBytesMax: number): number {
  const length = payload.byteLength;
  if (length > frameBytesMax || length > LENGTH_MAX) {
    throw new FrameTooLargeError(`frame of ${length} bytes exceeds frameBytesMax ${frameBytesMax}`);
  }
  return length;
}

/**
 * Accumulates chunks from a socket and yields complete payloads.
 *
 * It keeps the chunks of the one incomplete frame in a list and joins them only once the frame is
 * complete, so a frame arriving in n pieces costs O(n) rather than O(n²); a frame lying inside one chunk
 * is returned as a view of that chunk without copying. Returned payloads may therefore share memory with
 * the pushed chunks: do not reuse a chunk's memory after pushing it (socket chunks are fresh buffers).
 *
 * After it throws, the reader has lost its place in the stream and keeps throwing: close the connection.
 *
 * @example
 * ```ts
 * const reader = new FrameReader({ frameBytesMax: FRAME_BYTES_MAX_DEFAULT });
 * socket.on("data", (chunk) => {
 *   for (const payload of reader.push(chunk)) handle(decodeFrame(payload));
 * });
 * ```
 */
export class FrameReader {
  readonly #frameBytesMax: number;
  /** Chunks of the incomplete frame (header and/or body), oldest first; `#chunks[0]` starts at `#offset`. */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  /** Unconsumed bytes across `#chunks`. */
  #buffered = 0;
  /** Length of the body being read, or -1 while the header is incomplete. */
  #bodyLength = -1;
  #failure: FrameTooLargeError | null = null;

  constructor(options: { frameBytesMax: number }) {
    const max = options.frameBytesMax;
    if (!Number.isSafeInteger(max) || max < 0 || max > LENGTH_MAX) {
      throw new RangeError(`frameBytesMax must be an integer in [0, ${LENGTH_MAX}]: ${max}`);
    }
    this.#frameBytesMax = max;
  }

  /**
   * Feeds a chunk; returns the complete payloads now available (possibly none). Throws
   * {@link FrameTooLargeError} as soon as a header announces more than `frameBytesMax`, before any of
   * that body is buffered. It never holds more than one partial frame (at most `frameBytesMax + 4` bytes).
   *
   * @example
   * ```ts
   * reader.push(new Uint8Array([0, 0, 0, 2, 9])); // []
   * reader.push(new Uint8Array([8]));             // [Uint8Array [9, 8]]
   * ```
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure) throw this.#failure;
    const payloads: Uint8Array[] = [];
    if (chunk.byteLength === 0) return payloads;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    for (;;) {
      if (this.#bodyLength < 0) {
        if (this.#buffered < HEADER_BYTES) break;
        const length = this.#readHeader();
        if (length > this.#frameBytesMax) {
          this.#failure = new FrameTooLargeError(
            `frame header announces ${length} bytes, more than frameBytesMax ${this.#frameBytesMax}`,
          );
          // Drop what we hold: the reader is dead, and keeping the chunks would only retain memory.
          this.#chunks = [];
          this.#offset = 0;
          this.#buffered = 0;
          throw this.#failure;
        }
        this.#bodyLength = length;
      }
      if (this.#buffered < this.#bodyLength) break;
      payloads.push(this.#take(this.#bodyLength));
      this.#bodyLength = -1;
    }
    this.#compactRemainder();
    return payloads;
  }

  /** Bytes of an incomplete frame held (for tests). */
  get pendingBytes(): number {
    return this.#buffered;
  }

  /** Consumes the 4-byte big-endian length, which may span chunks. */
  #readHeader(): number {
    const first = this.#chunks[0]!;
    if (first.byteLength - this.#offset >= HEADER_BYTES) {
      // The common case: no intermediate copy.
      const o = this.#offset;
      const length = ((first[o]! << 24) | (first[o + 1]! << 16) | (first[o + 2]! << 8) | first[o + 3]!) >>> 0;
      this.#skip(HEADER_BYTES);
      return length;
    }
    const header = this.#take(HEADER_BYTES);
    return ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
  }

  /** Advances past `n` bytes that lie inside the first chunk. */
  #skip(n: number): void {
    this.#offset += n;
    this.#buffered -= n;
    if (this.#offset === this.#chunks[0]!.byteLength) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  /** Removes and returns the next `n` bytes (n ≤ buffered): a view when they lie in one chunk, else a copy. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first === undefined || n === 0) return new Uint8Array(0);
    if (first.byteLength - this.#offset >= n) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#skip(n);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0; // whole chunks consumed
    while (filled < n) {
      const chunk = this.#chunks[used]!;
      const available = chunk.byteLength - this.#offset;
      const want = n - filled;
      if (available <= want) {
        out.set(this.#offset === 0 ? chunk : chunk.subarray(this.#offset), filled);
        filled += available;
        used++;
        this.#offset = 0;
      } else {
        out.set(chunk.subarray(this.#offset, this.#offset + want), filled);
        this.#offset += want;
        filled += want;
      }
    }
    // One splice per frame (not a shift per chunk), so a frame made of many chunks stays linear.
    this.#chunks.splice(0, used);
    this.#buffered -= n;
    return out;
  }

  /**
   * The bytes left after the last complete frame are usually a small tail of a large socket chunk;
   * copying them lets that chunk (and the payload views into it) be collected independently.
   */
  #compactRemainder(): void {
    if (this.#chunks.length !== 1) return;
    const only = this.#chunks[0]!;
    if (this.#offset === 0 || this.#buffered * 2 > only.byteLength) return;
    // `new Uint8Array(view)` copies; `Buffer#slice` would only make another view.
    this.#chunks[0] = new Uint8Array(only.subarray(this.#offset));
    this.#offset = 0;
  }
}
