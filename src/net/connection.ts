import type { Socket } from "node:net";
import { decodeFrame, encodeFrame } from "./frame-codec.ts";
import { FrameReader, FrameTooLargeError, frameLength, framesBytes } from "./framer.ts";
import type { Frame, FrameErrorCode } from "./frames.ts";
import { BadFrameError } from "./validate.ts";

/** Bounds of one connection. */
export interface ConnectionLimits {
  /** Largest frame accepted or sent. */
  readonly frameBytesMax: number;
  /** Bytes that may wait in the socket's send buffer; past it `send` refuses (the peer is too slow). */
  readonly sendBytesMax: number;
}

/** Defaults: frames up to 16 MiB, 64 MiB queued per connection. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  frameBytesMax: 16 * 1024 * 1024,
  sendBytesMax: 64 * 1024 * 1024,
};

/**
 * When the frames queued on a connection leave by themselves (`flush` sends them at once):
 * - `"tick"`: when the current callback and its microtasks are done, so that a node's replies and
 *   messages leave before its next log sync holds the thread;
 * - `"turn"`: when the event-loop turn ends, so that the calls a client makes over several connections
 *   in one turn, say after one turn's replies, reach the leader together and can share a slot.
 */
export type SendPoint = "tick" | "turn";

/** How one connection behaves. */
export interface ConnectionOptions {
  readonly limits?: ConnectionLimits;
  /** Default `"tick"`. */
  readonly sendsAt?: SendPoint;
}

/**
 * One TCP connection speaking concoord frames: decodes and validates every frame before handing it on,
 * answers garbage with an `error` frame (and closes when the stream cannot be trusted any more), keeps
 * `TCP_NODELAY` on, and sends the frames queued together in one write (one buffer, so the stream
 * machinery runs once per {@link SendPoint} instead of once per frame).
 *
 * @example
 * ```ts
 * const conn = new FrameConnection(socket, { onFrame: (f) => handle(f), onClose: () => {} });
 * conn.send({ t: "status", id: 1 });
 * ```
 */
export class FrameConnection {
  readonly socket: Socket;
  readonly #reader: FrameReader;
  readonly #limits: ConnectionLimits;
  readonly #sendsAtTurnEnd: boolean;
  /** Frames sent since the last write, written together at the next {@link SendPoint} or `flush`. */
  #outbox: Uint8Array[] = [];
  #outboxBytes = 0;
  #closed = false;
  badFrames = 0;

  constructor(
    socket: Socket,
    handlers: {
      onFrame: (frame: Frame, conn: FrameConnection) => void;
      onClose: (conn: FrameConnection) => void;
      onBadFrame?: (reason: string, conn: FrameConnection) => void;
    },
    options: ConnectionOptions = {},
  ) {
    this.socket = socket;
    this.#limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
    this.#sendsAtTurnEnd = options.sendsAt === "turn";
    this.#reader = new FrameReader({ frameBytesMax: this.#limits.frameBytesMax });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (this.#closed) return;
      let payloads: Uint8Array[];
      try {
        payloads = this.#reader.push(chunk);
      } catch (error: unknown) {
        // The length prefix is not trustworthy any more: the stream cannot be resynchronised.
        const tooLarge = error instanceof FrameTooLargeError;
        this.badFrames++;
        handlers.onBadFrame?.((error as Error).message, this);
        this.fail(tooLarge ? "TooLarge" : "BadFrame", (error as Error).message);
        return;
      }
      for (const payload of payloads) {
        if (this.#closed) return;
        let frame: Frame;
        try {
          frame = decodeFrame(payload);
        } catch (error) {
          if (!(error instanceof BadFrameError)) throw error;
          this.badFrames++;
          handlers.onBadFrame?.(error.message, this);
          const id = error.requestId;
          this.send({
            t: "error",
            ...(id === undefined ? {} : { id }),
            code: "BadFrame",
            message: error.message,
          });
          continue;
        }
        handlers.onFrame(frame, this);
      }
    });
    socket.on("error", () => {
      // "close" follows; the owner decides what a lost connection means.
    });
    socket.on("close", () => {
      this.#closed = true;
      handlers.onClose(this);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting to be sent: this turn's frames and the socket's send buffer. */
  get queuedBytes(): number {
    return this.socket.writableLength + this.#outboxBytes;
  }

  /** Queues a frame; false when the connection is closed or its send buffer is full (the frame is dropped). */
  send(frame: Frame): boolean {
    if (this.#closed || this.socket.destroyed) return false;
    return this.sendEncoded(encodeFrame(frame));
  }

  /**
   * Queues a frame already encoded with `encodeFrame` (one frame sent to several peers is encoded once);
   * false when the connection is closed or its send buffer is full. Throws `FrameTooLargeError` for a
   * payload over `frameBytesMax`.
   */
  sendEncoded(payload: Uint8Array): boolean {
    if (this.#closed || this.socket.destroyed) return false;
    if (this.queuedBytes > this.#limits.sendBytesMax) return false;
    const bytes = frameLength(payload, this.#limits.frameBytesMax);
    // encodeFrame never writes over a payload it returned, so holding it until the turn ends is safe.
    this.#outbox.push(payload);
    this.#outboxBytes += bytes;
    if (this.#outbox.length === 1) {
      if (this.#sendsAtTurnEnd) setImmediate(this.flush);
      else process.nextTick(this.flush);
    }
    return true;
  }

  /**
   * Writes the frames queued so far as one buffer. They go by themselves (see {@link SendPoint}); a
   * caller about to block the thread (a node's log sync) calls this first so they travel meanwhile.
   */
  readonly flush = (): void => {
    if (this.#outbox.length === 0) return;
    const payloads = this.#outbox;
    this.#outbox = [];
    this.#outboxBytes = 0;
    if (this.socket.destroyed) return;
    this.socket.write(framesBytes(payloads, this.#limits.frameBytesMax));
  };

  /** Sends an error frame and closes after it is flushed. */
  fail(code: FrameErrorCode, message: string): void {
    if (this.#closed) return;
    this.send({ t: "error", code, message });
    this.#closed = true;
    // The error frame (and anything queued before it) goes out before the end of the stream.
    this.flush();
    this.socket.end();
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  close(): void {
    this.#closed = true;
    this.socket.destroy();
  }
}
