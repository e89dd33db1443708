/**
 * The encoded form of a {@link Batch}, made once per batch and shared by the wire and the log. A leader
 * encodes a batch when it sends the accept to its followers and writes the same bytes into its own log;
 * a follower receives the bytes, decodes them to apply the commands, and writes the bytes it received
 * into its log without encoding the batch again. Re-encoding every batch for the log was a tenth of a
 * follower's work.
 *
 * The bytes are msgpack of `[timeMs, seed, commands]`, each command that runs an operation as the array
 * `[clientId, seq, ackedThrough, op, timeoutMs | null]` and any other command as its map: without the
 * field names a follower decodes a batch in about half the time, and the log holds fewer bytes.
 * {@link expandBatch} turns that form back into a {@link Batch} (and leaves a batch written as a map, as
 * older logs hold them, as it is).
 *
 * @module
 */
import { Packr, Unpackr } from "msgpackr";
import { assert } from "../core/assert.ts";
import type { Batch, Command } from "../core/command.ts";
import { MsgpackReader, NOT_NATURAL } from "./msgpack-reader.ts";
import { MsgpackWriter } from "./msgpack-writer.ts";

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
  if (batch instanceof EncodedBatch) return batch.bytes();
  const known = remembered.get(batch);
  if (known !== undefined) return known;
  const bytes = writeBatch(batch);
  remembered.set(batch, bytes);
  return bytes;
}

/** Writes are synchronous and taken at once, so one writer serves every batch. */
const writer = new MsgpackWriter();

/** The batch's bytes, a copy of their own (a long-lived batch must not pin a shared slab). */
function writeBatch(batch: Batch): Uint8Array {
  writer.reset();
  writer.array(BATCH_FIELDS);
  writer.number(batch.timeMs);
  writer.number(batch.seed);
  writer.array(batch.commands.length);
  for (const command of batch.commands) {
    // Other commands (sessions, keepalives, membership changes) are rare and keep their map form.
    if (!writeOpCommandFields(writer, command)) writer.raw(packr.pack(command));
  }
  return writer.take();
}

/**
 * A batch that keeps its commands as objects only while its node needs them, and its bytes for as long
 * as it lives. A slot's value stays in the acceptor, the decided log and the storage's image until a
 * snapshot of every replica passes it (thousands of slots), but its commands are read only to apply them
 * and on rare paths after (a new leader's recovery, a sameness check). Kept as objects, every command of
 * that window survived the young generation's collections and was copied into the old one: about 400
 * bytes a write on a leader, most of the collector's work. Once {@link EncodedBatch.release} drops them,
 * the batch is a few objects and one buffer outside the heap; a later read decodes them again from the
 * bytes (and keeps them). Only batches of operation commands drop them: those decode from the bytes in
 * exactly the fields they were written with (see {@link readOpBatch}); others keep their objects.
 *
 * @example
 * ```ts
 * const batch = EncodedBatch.of({ timeMs, seed, commands }); // a leader's proposal
 * batch.release(); // applied: keep the bytes, let the commands go
 * batch.commands; // decoded again, equal to the originals
 * ```
 */
export class EncodedBatch implements Batch {
  readonly timeMs: number;
  readonly seed: number;
  #bytes: Uint8Array | null;
  #commands: readonly Command[] | null;
  readonly #opsOnly: boolean;

  private constructor(options: {
    timeMs: number;
    seed: number;
    bytes: Uint8Array | null;
    commands: readonly Command[];
    opsOnly: boolean;
  }) {
    this.timeMs = options.timeMs;
    this.seed = options.seed;
    this.#bytes = options.bytes;
    this.#commands = options.commands;
    this.#opsOnly = options.opsOnly;
  }

  /** A batch of the given fields, encoded when its bytes are first asked for. */
  static of(batch: Batch): EncodedBatch {
    const opsOnly = batch.commands.every((command) => command.body.kind === "op");
    const { timeMs, seed, commands } = batch;
    return new EncodedBatch({ timeMs, seed, commands, bytes: null, opsOnly });
  }

  /** The commands, decoded again from the bytes when they were released. */
  get commands(): readonly Command[] {
    if (this.#commands === null) {
      assert(this.#bytes !== null, "a released batch keeps its bytes");
      const read = readOpBatch(this.#bytes);
      assert(read !== null && read.timeMs === this.timeMs, "a released batch's bytes read back");
      this.#commands = read.commands;
    }
    return this.#commands;
  }

  /** The batch's encoding; the caller must not modify it. */
  bytes(): Uint8Array {
    if (this.#bytes === null) {
      this.#bytes = writeBatch(this);
      assert(this.#bytes.byteLength > 0, "a batch encodes to some bytes");
    }
    return this.#bytes;
  }

  /** Drops the command objects (a batch of operation commands only), keeping the bytes to read them again. */
  release(): void {
    if (!this.#opsOnly) return;
    this.bytes();
    this.#commands = null;
  }

  /**
   * A batch of operation commands only, in the array form {@link writeBatch} writes, read field by field
   * from `bytes` (each op viewing them, the batch holding them) with every field checked as the wire's
   * validator checks it; null, without throwing, for anything else (other commands, another encoder's
   * choices, garbage), which msgpackr and the validator then read and judge.
   *
   * @example
   * ```ts
   * const batch = EncodedBatch.read(bytes) ?? slowPath(bytes);
   * ```
   */
  static read(bytes: Uint8Array): EncodedBatch | null {
    const read = readOpBatch(bytes);
    if (read === null) return null;
    return new EncodedBatch({ ...read, bytes, opsOnly: true });
  }
}

/**
 * Lets an applied batch drop its command objects (see {@link EncodedBatch}); other batches are left as
 * they are.
 *
 * @example
 * ```ts
 * for (const { batch } of ready.applied) releaseCommands(batch);
 * ```
 */
export function releaseCommands(batch: Batch): void {
  if (batch instanceof EncodedBatch) batch.release();
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
  const batch = EncodedBatch.read(bytes);
  if (batch !== null) return batch;
  // A view of our own: msgpackr caches a DataView as a property of the object it reads.
  return expandBatch(unpackr.unpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
}

/** The fields of {@link EncodedBatch.read}'s batch, or null. */
function readOpBatch(bytes: Uint8Array): Batch | null {
  const r = new MsgpackReader(bytes);
  if (r.arrayLength() !== BATCH_FIELDS) return null;
  const timeMs = r.finite();
  const seed = r.natural();
  const count = r.arrayLength();
  if (timeMs === undefined || seed === NOT_NATURAL || count < 0) return null;
  const commands: Command[] = [];
  for (let i = 0; i < count; i++) {
    if (r.arrayLength() !== OP_COMMAND_FIELDS) return null;
    const command = readOpCommandItems(r, false);
    if (command === null) return null;
    commands.push(command);
  }
  if (!r.atEnd()) return null;
  return { timeMs, seed, commands };
}

/**
 * True for a batch that {@link EncodedBatch.read} read field by field, whose every field it checked as
 * the wire's validator does (so the validator need not walk its commands again).
 *
 * @example
 * ```ts
 * if (isCheckedBatch(value)) return value as Batch;
 * ```
 */
export function isCheckedBatch(value: unknown): boolean {
  // A frame's batches are made by the decoder, and it makes this kind only in EncodedBatch.read.
  return value instanceof EncodedBatch;
}

/**
 * Reads the items {@link writeOpCommandItems} writes: a command that runs an operation, or null when the
 * next items are not exactly those. The op views the reader's input, or is a copy of its own with `copy`
 * (a command frame's op must not pin the socket chunk it arrived in).
 *
 * @example
 * ```ts
 * const command = readOpCommandItems(reader, true); // after the frame's tag and id
 * ```
 */
export function readOpCommandItems(r: MsgpackReader, copy: boolean): Command | null {
  const clientId = r.natural();
  const seq = r.natural();
  const ackedThrough = r.natural();
  const view = r.bytesView();
  if (clientId === NOT_NATURAL || seq === NOT_NATURAL || ackedThrough === NOT_NATURAL || view === null)
    return null;
  const op = copy ? view.slice() : view;
  if (r.nil()) return { clientId, seq, ackedThrough, body: { kind: "op", op } };
  const timeoutMs = r.natural();
  if (timeoutMs === NOT_NATURAL) return null;
  return { clientId, seq, ackedThrough, body: { kind: "op", op }, timeoutMs };
}

/** Length of a batch's array form, and of an operation command's. */
const BATCH_FIELDS = 3;
export const OP_COMMAND_FIELDS = 5;

/**
 * Writes a command that runs an operation as `[clientId, seq, ackedThrough, op, timeoutMs | null]` and
 * returns true, or writes nothing and returns false for any other command (those keep their map form).
 * The wire's command frames use the same fields.
 *
 * @example
 * ```ts
 * writeOpCommandFields(writer, { clientId: 1, seq: 2, ackedThrough: 1, body: { kind: "op", op } }); // [1, 2, 1, op, nil]
 * ```
 */
export function writeOpCommandFields(w: MsgpackWriter, c: Command): boolean {
  if (c.body.kind !== "op") return false;
  w.array(OP_COMMAND_FIELDS);
  return writeOpCommandItems(w, c);
}

/**
 * The items of {@link writeOpCommandFields}' array without its header, for an array that holds them
 * among others (a command frame puts its tag and id first). False, with nothing written, for a command
 * that runs no operation.
 */
export function writeOpCommandItems(w: MsgpackWriter, c: Command): boolean {
  if (c.body.kind !== "op") return false;
  w.number(c.clientId);
  w.number(c.seq);
  w.number(c.ackedThrough);
  w.bytes(c.body.op);
  if (c.timeoutMs === undefined) w.nil();
  else w.number(c.timeoutMs);
  return true;
}

/**
 * The map form of {@link writeOpCommandFields}' array (unchecked: callers validate it).
 *
 * @example
 * ```ts
 * opCommandFromFields([1, 2, 1, op, null]); // { clientId: 1, seq: 2, ackedThrough: 1, body: { kind: "op", op } }
 * ```
 */
export function opCommandFromFields(fields: readonly unknown[]): Record<string, unknown> {
  const [clientId, seq, ackedThrough, op, timeoutMs] = fields;
  const command: Record<string, unknown> = { clientId, seq, ackedThrough, body: { kind: "op", op } };
  // Absent, not undefined: validators count a command's fields.
  if (timeoutMs !== null) command.timeoutMs = timeoutMs;
  return command;
}

/**
 * The map form of a decoded batch (unchecked: callers validate it). A value that is not a batch's
 * array form is returned as it is, so that batches written as maps still read, and garbage is left for
 * the validator to name.
 *
 * @example
 * ```ts
 * expandBatch([5, 9, [[1, 2, 1, op, null]]]);
 * // { timeMs: 5, seed: 9, commands: [{ clientId: 1, seq: 2, ackedThrough: 1, body: { kind: "op", op } }] }
 * ```
 */
export function expandBatch(value: unknown): unknown {
  if (!Array.isArray(value) || value.length !== BATCH_FIELDS || !Array.isArray(value[2])) return value;
  const commands = (value[2] as unknown[]).map((c) =>
    Array.isArray(c) && c.length === OP_COMMAND_FIELDS ? opCommandFromFields(c) : c,
  );
  return { timeMs: value[0], seed: value[1], commands };
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
  if (batch instanceof EncodedBatch) {
    assert(batch.bytes() === bytes, "an encoded batch holds the bytes it was read from");
    return;
  }
  remembered.set(batch, bytes);
}
