import { MsgpackReader, NOT_SCALAR } from "../encoding/msgpack-reader.ts";
import { MsgpackWriter } from "../encoding/msgpack-writer.ts";
import { decodeValue, encodeValue, packWire, toWire } from "./codec.ts";
import { ObjectCallError } from "./errors.ts";

/**
 * One method call on a hosted object: the bytes of `Command.body.op` (through the log) or of a read's
 * query (read-only methods only).
 *
 * @example
 * ```ts
 * const call: CallOp = { object: "counter", method: "increment", args: [] };
 * ```
 */
export interface CallOp {
  readonly object: string;
  readonly method: string;
  readonly args: readonly unknown[];
}

/**
 * The outcome of a call: the method's return value, or the error it threw (or that concoord raised for
 * it: `MethodNotFound`, `AsyncMethod`…). Only `name` and `message` of an error travel; stacks would differ
 * between replicas and leak the host's paths.
 *
 * @example
 * ```ts
 * const result: CallResult = { ok: false, error: { name: "InsufficientFunds", message: "ann has 5" } };
 * ```
 */
export type CallResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

/**
 * Encodes a call. Throws NotEncodableError when an argument is not plain data.
 *
 * @example
 * ```ts
 * const op = encodeCall({ object: "bank", method: "open", args: ["ann", 10] });
 * ```
 */
export function encodeCall(call: CallOp): Uint8Array {
  // An array, not a map: every replica decodes every call, and without the field names that is about a
  // third faster (and the op a third smaller in the log). Maps are still read (see `decodeCall`).
  return writePlainCall(call) ?? packWire([call.object, call.method, toWire([...call.args], "$.args")]);
}

/** Calls are written synchronously and taken at once, so one writer serves them all. */
const callWriter = new MsgpackWriter();

/**
 * Writes the common call — the form {@link readPlainCall} reads: ASCII names, at most
 * {@link PLAIN_ARGS_MAX} arguments that are undefined, null, booleans, numbers or ASCII strings — field by
 * field, in the bytes the general path writes for it (`test/object/call-protocol.test.ts` holds the two
 * to each other); null for any other call. A client encodes every call it makes, and the general path
 * (checking and converting the arguments, then msgpackr) cost several times more.
 */
function writePlainCall(call: CallOp): Uint8Array | null {
  const { object, method, args } = call;
  if (args.length > PLAIN_ARGS_MAX || !isAscii(object) || !isAscii(method)) return null;
  const w = callWriter;
  w.array(3);
  w.string(object);
  w.string(method);
  w.array(args.length);
  for (const arg of args) {
    if (arg === undefined) w.undefinedValue();
    else if (arg === null) w.nil();
    else if (typeof arg === "boolean") w.boolean(arg);
    else if (typeof arg === "number") w.number(arg);
    else if (isAscii(arg)) w.string(arg);
    else {
      w.reset();
      return null;
    }
  }
  return w.take();
}

function isAscii(value: unknown): value is string {
  if (typeof value !== "string") return false;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Decodes a call, throwing {@link ObjectCallError} with code `BadCall` for bytes that are not one.
 *
 * @example
 * ```ts
 * decodeCall(encodeCall({ object: "counter", method: "getvalue", args: [] })).method; // "getvalue"
 * ```
 */
export function decodeCall(bytes: Uint8Array): CallOp {
  const plain = readPlainCall(bytes);
  if (plain !== null) return plain;
  const value = decodeOrThrow(bytes, "BadCall");
  let object: unknown;
  let method: unknown;
  let args: unknown;
  if (Array.isArray(value) && value.length === 3) [object, method, args] = value;
  else if (isPlainRecord(value)) ({ object, method, args } = value);
  else throw new ObjectCallError("BadCall", "a call must be [object, method, args] (or a map of them)");
  if (typeof object !== "string") throw new ObjectCallError("BadCall", "the call's object is not a string");
  if (typeof method !== "string") throw new ObjectCallError("BadCall", "the call's method is not a string");
  if (!Array.isArray(args)) throw new ObjectCallError("BadCall", "the call's args are not an array");
  return { object, method, args };
}

/**
 * Reads the common call — `[object, method, args]` with ASCII names and arguments that are undefined,
 * nil, booleans, numbers or ASCII strings — field by field, or returns null for anything else, which
 * msgpackr reads. Every replica decodes every call, and msgpackr's general decoding was a third of
 * applying a `set`. A call read here is one msgpackr reads identically (`test/object/call-protocol.test.ts`
 * holds the two to each other on random and damaged calls).
 */
function readPlainCall(bytes: Uint8Array): CallOp | null {
  const r = new MsgpackReader(bytes);
  if (r.arrayLength() !== 3) return null;
  const object = r.asciiString();
  const method = object === null ? null : r.asciiString();
  const count = method === null ? -1 : r.arrayLength();
  if (count < 0 || count > PLAIN_ARGS_MAX) return null;
  // Sized up front: growing by push reserves room for more arguments than a call has.
  const args = new Array<unknown>(count);
  for (let i = 0; i < count; i++) {
    const arg = r.scalar();
    if (arg === NOT_SCALAR) return null;
    args[i] = arg;
  }
  return r.atEnd() ? { object: object!, method: method!, args } : null;
}

/** Calls with more arguments than this are rare enough to leave to msgpackr. */
const PLAIN_ARGS_MAX = 16;

/**
 * Encodes a result. Throws NotEncodableError when an `ok` value is not plain data (the object machine
 * turns that into a `ResultNotEncodable` error result).
 *
 * @example
 * ```ts
 * encodeResult({ ok: true, value: 3 });
 * ```
 */
export function encodeResult(result: CallResult): Uint8Array {
  // A caller may write to what it is given: constant results are copied, not shared.
  return result.ok && CONSTANT_RESULTS.has(result.value)
    ? encodeResultShared(result).slice()
    : encodeResultShared(result);
}

/**
 * {@link encodeResult}, except that the results every write returns — `undefined`, `null`, `true`,
 * `false` — are the same bytes every time, shared: for callers that never write to a result (the object
 * machine, whose results are only framed, cached and snapshotted). Copying them was an allocation per
 * call on every replica.
 *
 * @example
 * ```ts
 * encodeResultShared({ ok: true, value: undefined }) === encodeResultShared({ ok: true, value: undefined }); // true
 * ```
 */
export function encodeResultShared(result: CallResult): Uint8Array {
  if (result.ok) return CONSTANT_RESULTS.get(result.value) ?? packOk(result.value);
  return encodeValue({ ok: false, error: { name: result.error.name, message: result.error.message } });
}

/**
 * An `ok` result is `[value]` (a failed one is a map with `ok: false`): an array, because every replica
 * encodes every write's result and the client decodes it. The value is checked on its own so that error
 * paths start at the value (`$.handler`), not the envelope.
 */
function packOk(value: unknown): Uint8Array {
  return packWire([toWire(value, "$")]);
}

/** The encoded `ok` results of `undefined`, `null`, `true` and `false`, made once by the general path. */
const CONSTANT_RESULTS: ReadonlyMap<unknown, Uint8Array> = new Map(
  [undefined, null, true, false].map((value) => [value, packOk(value)]),
);

/**
 * Decodes a result, throwing {@link ObjectCallError} with code `BadResult` for bytes that are not one.
 *
 * @example
 * ```ts
 * const result = decodeResult(reply);
 * if (!result.ok) throw new Error(`${result.error.name}: ${result.error.message}`);
 * ```
 */
export function decodeResult(bytes: Uint8Array): CallResult {
  const plain = readPlainResult(bytes);
  if (plain !== null) return plain;
  const value = decodeOrThrow(bytes, "BadResult");
  // `[value]` is an ok result; the map form `{ ok: true, value }` is what older logs and snapshots hold.
  if (Array.isArray(value) && value.length === 1) return { ok: true, value: value[0] };
  if (!isPlainRecord(value) || typeof value.ok !== "boolean")
    throw new ObjectCallError("BadResult", "a result must be a map with a boolean ok");
  if (value.ok) return { ok: true, value: value.value };
  const error = value.error;
  if (!isPlainRecord(error) || typeof error.name !== "string" || typeof error.message !== "string")
    throw new ObjectCallError("BadResult", "a failed result must carry an error with a name and a message");
  return { ok: false, error: { name: error.name, message: error.message } };
}

/**
 * Reads the common result — `[value]` with a value that is undefined, null, a boolean, a number or an
 * ASCII string — field by field, or returns null for anything else, which msgpackr reads. A client
 * decodes the result of every call; a write's is nearly always one of these.
 */
function readPlainResult(bytes: Uint8Array): CallResult | null {
  // One byte tells a one-item array, before any reader is made.
  if (bytes[0] !== 0x91) return null;
  const r = new MsgpackReader(bytes);
  r.arrayLength();
  const value = r.scalar();
  return value !== NOT_SCALAR && r.atEnd() ? { ok: true, value } : null;
}

/**
 * An error result.
 *
 * @example
 * ```ts
 * errorResult("MethodNotFound", 'Counter has no method "foo"');
 * ```
 */
export function errorResult(name: string, message: string): CallResult {
  return { ok: false, error: { name, message } };
}

/**
 * The `name` and `message` of anything a method threw: an Error's own, or `Error` and `String(value)`
 * for other values. Never throws, even for hostile values (throwing getters, revoked proxies).
 *
 * @example
 * ```ts
 * describeThrown(new RangeError("too big")); // { name: "RangeError", message: "too big" }
 * describeThrown(42); // { name: "Error", message: "42" }
 * ```
 */
export function describeThrown(thrown: unknown): { name: string; message: string } {
  try {
    if (thrown instanceof Error || (typeof thrown === "object" && thrown !== null && "message" in thrown)) {
      const { name, message } = thrown as { name?: unknown; message?: unknown };
      return {
        name: typeof name === "string" && name !== "" ? name : "Error",
        message: typeof message === "string" ? message : safeString(message),
      };
    }
    return { name: "Error", message: safeString(thrown) };
  } catch {
    return { name: "Error", message: "(a value that cannot be described)" };
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "(a value that cannot be converted to a string)";
  }
}

function decodeOrThrow(bytes: Uint8Array, code: "BadCall" | "BadResult"): unknown {
  try {
    return decodeValue(bytes);
  } catch (error) {
    throw new ObjectCallError(code, `not msgpack: ${describeThrown(error).message}`);
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
