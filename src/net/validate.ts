/**
 * Validation of decoded frames. Everything arriving from the network is checked here, field by field,
 * before any of it reaches the consensus core: the core trusts its inputs (a negative slot or a string
 * ballot would corrupt its state rather than be refused), so the wire is where garbage must stop.
 *
 * The checkers are small functions that throw on the first problem. The path to the problem is built
 * only while the failure unwinds (each level adds its segment), so a valid frame costs no string
 * building at all: this runs on every frame.
 *
 * Objects are closed: a field the type does not declare is refused (except in `status-reply`'s status,
 * which is informational and may grow). A validated frame is thus exactly its TypeScript type, nothing
 * unchecked rides along into the log or onto disk, and nesting is bounded by the types themselves.
 * Peers of another protocol version are refused at `hello` anyway, so closed objects cost no
 * compatibility.
 */
import type { Ballot } from "../core/ballot.ts";
import type { Batch, Command, CommandBody, ErrorCode, Reply } from "../core/command.ts";
import type { ConfChange, Config, Member } from "../core/config.ts";
import type { Message, PValue, SlotValue } from "../core/messages.ts";
import type { ConfigEpoch, SessionState, Snapshot } from "../core/snapshot.ts";
import { isCheckedBatch } from "../encoding/batch-bytes.ts";
import { ARRAY_LENGTH_MAX } from "../encoding/msgpack-reader.ts";
import type { Frame, FrameErrorCode, ObjectInfo } from "./frames.ts";

/** Longest array accepted anywhere in a frame (the fast readers refuse longer ones as well). */
export { ARRAY_LENGTH_MAX };

/**
 * A frame that is not msgpack or not a valid {@link Frame}. `message` is `path: reason`, e.g.
 * `command.command.seq: expected a non-negative integer, got -1`. Safe to send back to the peer: it
 * quotes at most a few dozen characters of the offending value.
 *
 * @example
 * ```ts
 * try { validateFrame(value); } catch (e) { if (e instanceof BadFrameError) console.log(e.path, e.reason); }
 * ```
 */
export class BadFrameError extends Error {
  override readonly name = "BadFrameError";
  /** Where the problem is, e.g. `peer.m.entries[0].slot`; empty when it is the value as a whole. */
  readonly path: string;
  /** What is wrong there, e.g. `expected a non-negative integer, got -1`. */
  readonly reason: string;
  /** The refused frame's `id` when it had a usable one, so that the error can be matched to a request. */
  readonly requestId: number | undefined;

  constructor(path: string, reason: string, requestId?: number) {
    super(path === "" ? reason : `${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
    this.requestId = requestId;
  }
}

/**
 * Checks that `value` is a valid {@link Frame}, every field of every variant, recursively, and returns
 * it typed (the same object, not a copy). Throws {@link BadFrameError} naming the first bad field.
 *
 * @example
 * ```ts
 * const frame = validateFrame(unpack(bytes)); // Frame
 * validateFrame({ t: "status", id: -1 });    // throws BadFrameError "status.id: expected a non-negative integer, got -1"
 * ```
 */
export function validateFrame(value: unknown): Frame {
  try {
    return frame(value);
  } catch (error) {
    if (error instanceof Invalid) throw error.toBadFrameError(value);
    throw error;
  }
}

// ---- failures ------------------------------------------------------------------------------------------

/**
 * The internal failure: not an Error, so throwing it captures no stack trace (fuzzers and hostile peers
 * make failures common). Segments are pushed innermost first while the failure unwinds.
 */
class Invalid {
  readonly reason: string;
  readonly segments: Segment[] = [];

  constructor(reason: string) {
    this.reason = reason;
  }

  toBadFrameError(root: unknown): BadFrameError {
    let path = "";
    for (let i = this.segments.length - 1; i >= 0; i--) path += formatSegment(this.segments[i]!, path === "");
    return new BadFrameError(path, this.reason, requestIdOf(root));
  }
}

function formatSegment(segment: Segment, first: boolean): string {
  if (typeof segment === "number") return `[${segment}]`;
  if (segment.length <= 40 && /^[A-Za-z_$][\w$-]*$/.test(segment)) return first ? segment : `.${segment}`;
  return `[${JSON.stringify(segment.slice(0, 40))}]`;
}

/** The frame's `id`, when it has a usable one, for matching an error to its request. */
function requestIdOf(value: unknown): number | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const id = (value as Record<string, unknown>).id;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** Short, safe description of a bad value for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${String(value).slice(0, 40)}n`;
    case "object": {
      // `[object Date]` → "a Date": names the class from its tag, without calling its methods.
      const tag = Object.prototype.toString.call(value).slice(8, -1);
      if (tag === "Object") return isPlainObject(value) ? "an object" : "a class instance";
      return `${/^[AEIO]/.test(tag) ? "an" : "a"} ${tag}`;
    }
    default:
      return typeof value;
  }
}

/** Where a value sits in its parent: a field name or an array index. */
type Segment = string | number;

/** Fails at `key` with `expected …, got …` (or `missing field` when there is nothing there). */
function fail(key: Segment, expected: string, value: unknown): never {
  const reason = value === undefined ? "missing field" : `expected ${expected}, got ${describe(value)}`;
  throw within(new Invalid(reason), key);
}

/** Adds `segment` to the path of an unwinding failure. */
function within(error: unknown, segment: Segment): unknown {
  if (error instanceof Invalid) error.segments.push(segment);
  return error;
}

// ---- primitives ----------------------------------------------------------------------------------------
//
// Every checker takes the value and its name in the parent (`key`), returns the value typed, or throws an
// Invalid whose path starts at `key`. Callers read fields with literal names (`o.seq`) and call checkers
// directly: property loads and calls stay monomorphic, which is most of what makes this fast.

/** A checker: `value` typed, or a throw naming `key`. */
type Check<T> = (value: unknown, key: Segment) => T;

/** A decoded msgpack map. */
type Obj = Readonly<Record<string, unknown>>;

/**
 * A safe integer ≥ 0: slots, seqs, request ids, rounds. Safe, because msgpack's 64-bit integers decode
 * to numbers that lose precision (or to bigints) beyond 2^53, and two different slots must not compare
 * equal.
 */
function natural(value: unknown, key: Segment): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    fail(key, "a non-negative integer", value);
  return value;
}

/** A safe integer ≥ 1: node ids and session ids (0 means "none" for both). */
function positive(value: unknown, key: Segment): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    fail(key, "a positive integer", value);
  return value;
}

/** Any safe integer (status counters, where we are lenient). */
function integer(value: unknown, key: Segment): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) fail(key, "an integer", value);
  return value;
}

/** A slot, or -1 for "none" (a heartbeat-ack from a node without a replica). */
function slotOrNone(value: unknown, key: Segment): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < -1)
    fail(key, "an integer ≥ -1", value);
  return value;
}

/** A slot, or `Infinity` (a promise that covers everything from its `fromSlot`). */
function slotOrInfinity(value: unknown, key: Segment): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    fail(key, "a non-negative integer or Infinity", value);
  return value;
}

/** A finite number: times and clocks (NaN would poison every comparison with the agreed clock). */
function finite(value: unknown, key: Segment): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(key, "a finite number", value);
  return value;
}

function string(value: unknown, key: Segment): string {
  if (typeof value !== "string") fail(key, "a string", value);
  return value;
}

function boolean(value: unknown, key: Segment): boolean {
  if (typeof value !== "boolean") fail(key, "a boolean", value);
  return value;
}

/** Binary data; a `Buffer` is accepted too, since it is a `Uint8Array`. */
function bytes(value: unknown, key: Segment): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(key, "bytes", value);
  return value;
}

/** A checker for one of a few strings. */
function oneOf<T extends string>(values: readonly T[]): Check<T> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  return (value, key) => {
    if (!values.includes(value as T)) fail(key, expected, value);
    return value as T;
  };
}

/**
 * A plain object (a msgpack map). Class instances are refused: msgpackr decodes some extensions to
 * `Date`, `Set` or `Error`, none of which is ever a frame field. Checking the prototype also rules out
 * arrays and typed arrays in one test.
 */
function isPlainObject(value: unknown): value is Obj {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function object(value: unknown, key: Segment): Obj {
  if (!isPlainObject(value)) fail(key, "an object", value);
  return value;
}

/**
 * Refuses fields outside `allowed`. Called after the fields were checked, when the caller knows that
 * `present` of the allowed keys are there (every required one, plus the optional ones it saw). If the
 * object has exactly that many keys there is nothing else: counting is three times cheaper than looking
 * every key up, and this runs for every object of every frame. Otherwise find the stranger (or find none:
 * an optional key present with `undefined`). `for…in` also walks inherited enumerable keys, so a tampered
 * prototype is caught too.
 */
function closed(o: Obj, allowed: readonly string[], present: number = allowed.length): void {
  let count = 0;
  for (const _ in o) count++;
  if (count === present) return;
  for (const key in o) {
    if (!allowed.includes(key)) throw within(new Invalid("unexpected field"), key);
  }
}

/** An array of at most {@link ARRAY_LENGTH_MAX} elements, each accepted by `each`. */
function arrayOf<T>(value: unknown, key: Segment, each: Check<T>): readonly T[] {
  if (!Array.isArray(value)) fail(key, "an array", value);
  if (value.length > ARRAY_LENGTH_MAX)
    throw within(new Invalid(`array of ${value.length} elements exceeds ${ARRAY_LENGTH_MAX}`), key);
  try {
    for (let i = 0; i < value.length; i++) each(value[i], i);
  } catch (error) {
    throw within(error, key);
  }
  return value as T[];
}

/** Fails on the discriminant field `key` when no variant matches. */
function unknownVariant(key: string, value: unknown): never {
  if (value === undefined) throw within(new Invalid("missing field"), key);
  throw within(new Invalid(`unknown ${key} ${describe(value)}`), key);
}

// ---- core types ----------------------------------------------------------------------------------------
//
// Composite checkers run their fields inside one try, so that a failure below gets `key` added once, and
// close the object (`closed`) last, once they know which of its keys are there.

const BALLOT_KEYS = ["round", "nodeId"];

/** Node id 0 is allowed: `BALLOT_ZERO` (0.0) is what an untouched acceptor reports as promised. */
function ballot(value: unknown, key: Segment): Ballot {
  const o = object(value, key);
  try {
    natural(o.round, "round");
    natural(o.nodeId, "nodeId");
    closed(o, BALLOT_KEYS);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Ballot;
}

const MEMBER_KEYS = ["id", "replica", "acceptor", "address", "dns"];

/** A member's shape only; whether it has a role is for the core to judge (it answers ReconfigRefused). */
function member(value: unknown, key: Segment): Member {
  const o = object(value, key);
  try {
    positive(o.id, "id");
    boolean(o.replica, "replica");
    boolean(o.acceptor, "acceptor");
    if (o.address !== undefined) string(o.address, "address");
    if (o.dns !== undefined) string(o.dns, "dns");
    closed(o, MEMBER_KEYS, 3 + (o.address === undefined ? 0 : 1) + (o.dns === undefined ? 0 : 1));
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Member;
}

function config(value: unknown, key: Segment): Config {
  const o = object(value, key);
  try {
    arrayOf(o.members, "members", member);
    closed(o, ["members"]);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Config;
}

function confChange(value: unknown, key: Segment): ConfChange {
  const o = object(value, key);
  try {
    switch (o.kind) {
      case "add":
        member(o.member, "member");
        closed(o, ["kind", "member"]);
        break;
      case "remove":
        positive(o.id, "id");
        closed(o, ["kind", "id"]);
        break;
      default:
        unknownVariant("kind", o.kind);
    }
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as ConfChange;
}

function commandBody(value: unknown, key: Segment): CommandBody {
  const o = object(value, key);
  try {
    switch (o.kind) {
      case "open":
        if (o.ttlMs !== undefined) positive(o.ttlMs, "ttlMs");
        closed(o, ["kind", "ttlMs"], o.ttlMs === undefined ? 1 : 2);
        break;
      case "keepalive":
        arrayOf(o.sessions, "sessions", positive);
        closed(o, ["kind", "sessions"]);
        break;
      case "op":
        bytes(o.op, "op");
        closed(o, ["kind", "op"]);
        break;
      case "reconfig":
        confChange(o.change, "change");
        closed(o, ["kind", "change"]);
        break;
      default:
        unknownVariant("kind", o.kind);
    }
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as CommandBody;
}

const COMMAND_KEYS = ["clientId", "seq", "ackedThrough", "body", "timeoutMs"];

/** `clientId` 0 is an `open` (no session yet); `seq` of an open is a nonce, so any natural number. */
function command(value: unknown, key: Segment): Command {
  const o = object(value, key);
  try {
    natural(o.clientId, "clientId");
    natural(o.seq, "seq");
    natural(o.ackedThrough, "ackedThrough");
    commandBody(o.body, "body");
    if (o.timeoutMs !== undefined) natural(o.timeoutMs, "timeoutMs");
    closed(o, COMMAND_KEYS, o.timeoutMs === undefined ? 4 : 5);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Command;
}

function batch(value: unknown, key: Segment): Batch {
  // A batch read field by field from its bytes was checked field by field as it was read.
  if (isCheckedBatch(value)) return value as Batch;
  const o = object(value, key);
  try {
    finite(o.timeMs, "timeMs");
    natural(o.seed, "seed");
    arrayOf(o.commands, "commands", command);
    closed(o, ["timeMs", "seed", "commands"]);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Batch;
}

function slotValue(value: unknown, key: Segment): SlotValue {
  const o = object(value, key);
  try {
    natural(o.slot, "slot");
    batch(o.value, "value");
    closed(o, ["slot", "value"]);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as SlotValue;
}

function pvalue(value: unknown, key: Segment): PValue {
  const o = object(value, key);
  try {
    natural(o.slot, "slot");
    ballot(o.ballot, "ballot");
    batch(o.value, "value");
    closed(o, ["slot", "ballot", "value"]);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as PValue;
}

const errorCode = oneOf<ErrorCode>([
  "NotLeader",
  "Busy",
  "TooLarge",
  "SessionExpired",
  "TooManyInFlight",
  "ReconfigRefused",
  "Timeout",
  "BadCommand",
]);

/** The `ok: true` variants are told apart by which field they carry; exactly one must be there. */
function reply(value: unknown, key: Segment): Reply {
  const o = object(value, key);
  try {
    switch (o.ok) {
      case true:
        if (o.result !== undefined) {
          bytes(o.result, "result");
          closed(o, ["ok", "result"]);
        } else if (o.sessionId !== undefined) {
          positive(o.sessionId, "sessionId");
          closed(o, ["ok", "sessionId"]);
        } else if (o.reconfigured !== undefined) {
          if (o.reconfigured !== true) fail("reconfigured", "true", o.reconfigured);
          closed(o, ["ok", "reconfigured"]);
        } else {
          throw new Invalid("expected result, sessionId or reconfigured with ok: true");
        }
        break;
      case false:
        errorCode(o.error, "error");
        string(o.message, "message");
        if (o.leaderId !== undefined) positive(o.leaderId, "leaderId");
        closed(o, ["ok", "error", "message", "leaderId"], o.leaderId === undefined ? 3 : 4);
        break;
      default:
        fail("ok", "a boolean", o.ok);
    }
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Reply;
}

/** A session's cached reply: a `[seq, reply]` pair. */
function seqReply(value: unknown, key: Segment): readonly [number, Reply] {
  if (!Array.isArray(value) || value.length !== 2) fail(key, "a [seq, reply] pair", value);
  try {
    natural(value[0], 0);
    reply(value[1], 1);
  } catch (error) {
    throw within(error, key);
  }
  return value as [number, Reply];
}

const SESSION_KEYS = ["id", "ackedThrough", "lastActiveMs", "ttlMs", "replies", "parked"];

/** A parked call: `[seq, deadline]`, the deadline a number of agreed ms or Infinity. */
function seqDeadline(value: unknown, key: Segment): readonly [number, number] {
  if (!Array.isArray(value) || value.length !== 2) fail(key, "a [seq, deadline] pair", value);
  try {
    natural(value[0], 0);
    if (typeof value[1] !== "number" || Number.isNaN(value[1])) fail(1, "a number", value[1]);
  } catch (error) {
    throw within(error, key);
  }
  return value as [number, number];
}

function session(value: unknown, key: Segment): SessionState {
  const o = object(value, key);
  try {
    positive(o.id, "id");
    natural(o.ackedThrough, "ackedThrough");
    finite(o.lastActiveMs, "lastActiveMs");
    positive(o.ttlMs, "ttlMs");
    arrayOf(o.replies, "replies", seqReply);
    arrayOf(o.parked, "parked", seqDeadline);
    closed(o, SESSION_KEYS);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as SessionState;
}

function configEpoch(value: unknown, key: Segment): ConfigEpoch {
  const o = object(value, key);
  try {
    natural(o.fromSlot, "fromSlot");
    config(o.config, "config");
    if (o.requester !== undefined) {
      const r = object(o.requester, "requester");
      try {
        natural(r.clientId, "clientId");
        natural(r.seq, "seq");
        closed(r, ["clientId", "seq"]);
      } catch (error) {
        throw within(error, "requester");
      }
    }
    closed(o, ["fromSlot", "config", "requester"], o.requester === undefined ? 2 : 3);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as ConfigEpoch;
}

const SNAPSHOT_KEYS = ["slot", "app", "sessions", "configs", "clockMs", "nextSessionId"];

function snapshot(value: unknown, key: Segment): Snapshot {
  const o = object(value, key);
  try {
    natural(o.slot, "slot");
    bytes(o.app, "app");
    arrayOf(o.sessions, "sessions", session);
    arrayOf(o.configs, "configs", configEpoch);
    finite(o.clockMs, "clockMs");
    positive(o.nextSessionId, "nextSessionId");
    closed(o, SNAPSHOT_KEYS);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Snapshot;
}

// ---- messages ------------------------------------------------------------------------------------------

/** Every consensus message variant, by its `type`. */
function message(value: unknown, key: Segment): Message {
  const o = object(value, key);
  try {
    switch (o.type) {
      case "prepare":
        ballot(o.ballot, "ballot");
        natural(o.fromSlot, "fromSlot");
        if (o.handover !== undefined && o.handover !== true) fail("handover", "true", o.handover);
        closed(o, ["type", "ballot", "fromSlot", "handover"], o.handover === undefined ? 3 : 4);
        break;
      case "take-over":
        closed(o, ["type"]);
        break;
      case "promise":
        ballot(o.ballot, "ballot");
        arrayOf(o.accepted, "accepted", pvalue);
        slotOrInfinity(o.coveredThrough, "coveredThrough");
        natural(o.truncatedThrough, "truncatedThrough");
        closed(o, ["type", "ballot", "accepted", "coveredThrough", "truncatedThrough"]);
        break;
      case "accept":
        ballot(o.ballot, "ballot");
        arrayOf(o.entries, "entries", slotValue);
        natural(o.commitThrough, "commitThrough");
        natural(o.compactThrough, "compactThrough");
        closed(o, ["type", "ballot", "entries", "commitThrough", "compactThrough"]);
        break;
      case "accepted":
        ballot(o.ballot, "ballot");
        arrayOf(o.slots, "slots", natural);
        closed(o, ["type", "ballot", "slots"]);
        break;
      case "nack":
        ballot(o.ballot, "ballot");
        ballot(o.promised, "promised");
        closed(o, ["type", "ballot", "promised"]);
        break;
      case "heartbeat":
        ballot(o.ballot, "ballot");
        natural(o.commitThrough, "commitThrough");
        natural(o.compactThrough, "compactThrough");
        natural(o.readRound, "readRound");
        closed(o, ["type", "ballot", "commitThrough", "compactThrough", "readRound"]);
        break;
      case "heartbeat-ack":
        ballot(o.ballot, "ballot");
        natural(o.readRound, "readRound");
        slotOrNone(o.snapshotSlot, "snapshotSlot");
        closed(o, ["type", "ballot", "readRound", "snapshotSlot"]);
        break;
      case "learn-request":
        natural(o.fromSlot, "fromSlot");
        boolean(o.wantSnapshot, "wantSnapshot");
        if (o.snapshotSlot !== undefined) natural(o.snapshotSlot, "snapshotSlot");
        if (o.snapshotOffset !== undefined) natural(o.snapshotOffset, "snapshotOffset");
        closed(
          o,
          ["type", "fromSlot", "wantSnapshot", "snapshotSlot", "snapshotOffset"],
          3 + +(o.snapshotSlot !== undefined) + +(o.snapshotOffset !== undefined),
        );
        break;
      case "learn":
        // `null` (no snapshot) must be said: a missing field is refused like any other.
        if (o.snapshot !== null) snapshot(o.snapshot, "snapshot");
        arrayOf(o.entries, "entries", slotValue);
        if (o.snapshotPart !== undefined) {
          const part = object(o.snapshotPart, "snapshotPart");
          try {
            natural(part.offset, "offset");
            natural(part.total, "total");
            closed(part, ["offset", "total"]);
          } catch (error) {
            throw within(error, "snapshotPart");
          }
        }
        closed(o, ["type", "snapshot", "entries", "snapshotPart"], o.snapshotPart === undefined ? 3 : 4);
        break;
      default:
        unknownVariant("type", o.type);
    }
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as Message;
}

// ---- frames --------------------------------------------------------------------------------------------

const role = oneOf(["peer", "client"]);
const nodeRole = oneOf(["follower", "candidate", "leader"]);
const frameErrorCode = oneOf<FrameErrorCode>([
  "BadFrame",
  "TooLarge",
  "BadVersion",
  "IdentityMismatch",
  "UnknownPeer",
  "NotReady",
]);

function objectInfo(value: unknown, key: Segment): ObjectInfo {
  const o = object(value, key);
  try {
    string(o.name, "name");
    arrayOf(o.methods, "methods", string);
    arrayOf(o.readOnlyMethods, "readOnlyMethods", string);
    closed(o, ["name", "methods", "readOnlyMethods"]);
  } catch (error) {
    throw within(error, key);
  }
  return o as unknown as ObjectInfo;
}

/**
 * A node's status. Lenient on purpose: it is informational (printed, never acted on), so extra fields are
 * allowed and counters need only be integers, but the listed fields must be there with the right types.
 */
function status(value: unknown, key: Segment): Obj {
  const o = object(value, key);
  try {
    positive(o.id, "id");
    nodeRole(o.role, "role");
    if (o.ballot !== null) string(o.ballot, "ballot");
    string(o.promised, "promised");
    if (o.leaderId !== null) positive(o.leaderId, "leaderId");
    integer(o.executed, "executed");
    integer(o.snapshotSlot, "snapshotSlot");
    integer(o.snapshotsInstalled, "snapshotsInstalled");
    integer(o.truncatedThrough, "truncatedThrough");
    string(o.config, "config");
    integer(o.sessions, "sessions");
    finite(o.clockMs, "clockMs");
    string(o.address, "address");
    if (o.dataDir !== null) string(o.dataDir, "dataDir");
    arrayOf(o.members, "members", member);
  } catch (error) {
    throw within(error, key);
  }
  return o;
}

/** The whole frame; failures below the root get the frame's `t` as the first path segment. */
function frame(value: unknown): Frame {
  if (!isPlainObject(value)) throw new Invalid(`expected an object, got ${describe(value)}`);
  const o = value;
  const t = o.t;
  try {
    switch (t) {
      case "hello":
        natural(o.v, "v");
        role(o.role, "role");
        if (o.from !== undefined) positive(o.from, "from");
        if (o.identity !== undefined) string(o.identity, "identity");
        closed(
          o,
          ["t", "v", "role", "from", "identity"],
          3 + +(o.from !== undefined) + +(o.identity !== undefined),
        );
        break;
      case "welcome":
        natural(o.v, "v");
        positive(o.nodeId, "nodeId");
        if (o.leaderId !== null) positive(o.leaderId, "leaderId");
        arrayOf(o.members, "members", member);
        string(o.identity, "identity");
        arrayOf(o.objects, "objects", objectInfo);
        closed(o, ["t", "v", "nodeId", "leaderId", "members", "identity", "objects"]);
        break;
      case "peer":
        message(o.m, "m");
        closed(o, ["t", "m"]);
        break;
      case "command":
        natural(o.id, "id");
        command(o.command, "command");
        closed(o, ["t", "id", "command"]);
        break;
      case "read":
        natural(o.id, "id");
        bytes(o.query, "query");
        closed(o, ["t", "id", "query"]);
        break;
      case "reply":
        natural(o.id, "id");
        reply(o.reply, "reply");
        closed(o, ["t", "id", "reply"]);
        break;
      case "status":
        natural(o.id, "id");
        closed(o, ["t", "id"]);
        break;
      case "keepalive":
        positive(o.sessionId, "sessionId");
        closed(o, ["t", "sessionId"]);
        break;
      case "keepalive-ack":
        if (o.leaderId !== null) positive(o.leaderId, "leaderId");
        closed(o, ["t", "leaderId"]);
        break;
      case "status-reply":
        natural(o.id, "id");
        status(o.status, "status");
        closed(o, ["t", "id", "status"]);
        break;
      case "error":
        if (o.id !== undefined) natural(o.id, "id");
        frameErrorCode(o.code, "code");
        string(o.message, "message");
        closed(o, ["t", "id", "code", "message"], o.id === undefined ? 3 : 4);
        break;
      default:
        if (t === undefined) throw within(new Invalid("missing field"), "t");
        throw within(new Invalid(`unknown frame type ${describe(t)}`), "t");
    }
  } catch (error) {
    // The root's name is its type: `command.command.seq` reads better than `command.seq`.
    if (error instanceof Invalid && !isAboutT(error)) error.segments.push(t as string);
    throw error;
  }
  return o as unknown as Frame;
}

function isAboutT(error: Invalid): boolean {
  return error.segments.length === 1 && error.segments[0] === "t";
}
