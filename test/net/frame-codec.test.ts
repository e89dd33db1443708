import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Packr } from "msgpackr";
import type { Ballot } from "../../src/core/ballot.ts";
import type { Batch, Command, ErrorCode, Reply } from "../../src/core/command.ts";
import type { ConfChange, Member } from "../../src/core/config.ts";
import type { Message, PValue, SlotValue } from "../../src/core/messages.ts";
import type { ConfigEpoch, SessionState, Snapshot } from "../../src/core/snapshot.ts";
import { encodedBatch } from "../../src/encoding/batch-bytes.ts";
import { decodeFrame, encodeFrame } from "../../src/net/frame-codec.ts";
import {
  FRAME_BYTES_MAX_DEFAULT,
  FrameReader,
  FrameTooLargeError,
  framesBytes,
} from "../../src/net/framer.ts";
import type { Frame, FrameErrorCode, ObjectInfo, StatusReplyFrame } from "../../src/net/frames.ts";
import { PROTOCOL_VERSION } from "../../src/net/frames.ts";
import { BadFrameError, validateFrame } from "../../src/net/validate.ts";
import { withPlainBatches } from "../encoding/plain-batches.ts";

// ---- realistic examples: every frame type, every message type, every variant --------------------------

const ballot: Ballot = { round: 3, nodeId: 2 };
const members: Member[] = [
  { id: 1, replica: true, acceptor: true, address: "10.0.0.1:7000" },
  { id: 2, replica: true, acceptor: true, address: "10.0.0.2:7000" },
  { id: 3, replica: false, acceptor: true },
];
const openCommand: Command = { clientId: 0, seq: 918_273_645, ackedThrough: 0, body: { kind: "open" } };
const opCommand: Command = {
  clientId: 7,
  seq: 12,
  ackedThrough: 11,
  body: { kind: "op", op: new Uint8Array([0x92, 0xa3, 0x61, 0x64, 0x64, 0x05]) },
};
const addCommand: Command = {
  clientId: 7,
  seq: 13,
  ackedThrough: 12,
  body: {
    kind: "reconfig",
    change: { kind: "add", member: { id: 4, replica: true, acceptor: false, address: "10.0.0.4:7000" } },
  },
};
const removeCommand: Command = {
  clientId: 7,
  seq: 14,
  ackedThrough: 13,
  body: { kind: "reconfig", change: { kind: "remove", id: 3 } },
};
const batch: Batch = {
  timeMs: 1_700_000_000_123,
  seed: 4_000_000_000,
  commands: [openCommand, opCommand, addCommand, removeCommand],
};
const noop: Batch = { timeMs: 1_700_000_000_500.25, seed: 0, commands: [] };
const snapshot: Snapshot = {
  slot: 40,
  app: new Uint8Array([0x81, 0xa1, 0x6b, 0x05]),
  sessions: [
    {
      id: 7,
      ackedThrough: 10,
      lastActiveMs: 1_700_000_000_000,
      ttlMs: 10_000,
      replies: [
        [11, { ok: true, result: new Uint8Array([1]) }],
        [12, { ok: false, error: "Busy", message: "leader queue full" }],
      ],
      parked: [
        [13, Number.POSITIVE_INFINITY],
        [14, 1_700_000_005_000],
      ],
    },
    { id: 9, ackedThrough: 0, lastActiveMs: 1_699_999_999_000, ttlMs: 60_000, replies: [], parked: [] },
  ],
  configs: [
    { fromSlot: 1, config: { members } },
    { fromSlot: 38, config: { members: members.slice(0, 2) } },
  ],
  clockMs: 1_700_000_000_123,
  nextSessionId: 10,
};

const messages: Record<string, Message> = {
  prepare: { type: "prepare", ballot, fromSlot: 41 },
  "promise (complete)": {
    type: "promise",
    ballot,
    accepted: [{ slot: 41, ballot: { round: 2, nodeId: 1 }, value: batch }],
    coveredThrough: Number.POSITIVE_INFINITY,
    truncatedThrough: 40,
  },
  "promise (partial)": { type: "promise", ballot, accepted: [], coveredThrough: 41, truncatedThrough: 0 },
  accept: {
    type: "accept",
    ballot,
    entries: [
      { slot: 42, value: batch },
      { slot: 43, value: noop },
    ],
    commitThrough: 41,
    compactThrough: 40,
  },
  accepted: { type: "accepted", ballot, slots: [42, 43] },
  nack: { type: "nack", ballot, promised: { round: 5, nodeId: 1 } },
  "nack (BALLOT_ZERO)": { type: "nack", ballot, promised: { round: 0, nodeId: 0 } },
  heartbeat: { type: "heartbeat", ballot, commitThrough: 43, compactThrough: 40, readRound: 17 },
  "heartbeat-ack": { type: "heartbeat-ack", ballot, readRound: 17, snapshotSlot: 40 },
  "heartbeat-ack (acceptor only)": { type: "heartbeat-ack", ballot, readRound: 17, snapshotSlot: -1 },
  "learn-request": { type: "learn-request", fromSlot: 42, wantSnapshot: false },
  "learn (entries)": { type: "learn", snapshot: null, entries: [{ slot: 42, value: batch }] },
  "learn (snapshot)": { type: "learn", snapshot, entries: [] },
};

const status: StatusReplyFrame["status"] = {
  id: 1,
  role: "leader",
  ballot: "3.1",
  promised: "3.1",
  leaderId: 1,
  executed: 43,
  snapshotsInstalled: 1,
  snapshotSlot: 40,
  truncatedThrough: 40,
  config: "1ra,2ra,3a",
  sessions: 2,
  clockMs: 1_700_000_000_123,
  address: "10.0.0.1:7000",
  dataDir: "/var/lib/concoord",
  members,
};

const frames: Record<string, Frame> = {
  "hello (peer)": {
    t: "hello",
    v: PROTOCOL_VERSION,
    role: "peer",
    from: 2,
    identity: "sha256:9f86d081884c7d65",
  },
  "hello (client)": { t: "hello", v: PROTOCOL_VERSION, role: "client" },
  welcome: {
    t: "welcome",
    v: PROTOCOL_VERSION,
    nodeId: 1,
    leaderId: 2,
    members,
    identity: "sha256:9f86d081884c7d65",
    objects: [{ name: "counter", methods: ["add", "get"], readOnlyMethods: ["get"] }],
  },
  "welcome (no leader)": {
    t: "welcome",
    v: PROTOCOL_VERSION,
    nodeId: 3,
    leaderId: null,
    members: [],
    identity: "",
    objects: [],
  },
  ...Object.fromEntries(
    Object.entries(messages).map(([name, m]) => [`peer ${name}`, { t: "peer", m } as Frame]),
  ),
  "command (open)": { t: "command", id: 1, command: openCommand },
  "command (op)": { t: "command", id: 2, command: opCommand },
  "command (reconfig add)": { t: "command", id: 3, command: addCommand },
  "command (reconfig remove)": { t: "command", id: 4, command: removeCommand },
  read: { t: "read", id: 5, query: new Uint8Array([0xa3, 0x67, 0x65, 0x74]) },
  "reply (result)": { t: "reply", id: 2, reply: { ok: true, result: new Uint8Array([6]) } },
  "reply (session)": { t: "reply", id: 1, reply: { ok: true, sessionId: 7 } },
  "reply (reconfigured)": { t: "reply", id: 3, reply: { ok: true, reconfigured: true } },
  "reply (error)": {
    t: "reply",
    id: 4,
    reply: { ok: false, error: "ReconfigRefused", message: "in progress" },
  },
  "reply (not leader)": {
    t: "reply",
    id: 5,
    reply: { ok: false, error: "NotLeader", message: "ask node 2", leaderId: 2 },
  },
  status: { t: "status", id: 6 },
  "status-reply": { t: "status-reply", id: 6, status },
  "status-reply (follower)": {
    t: "status-reply",
    id: 7,
    status: {
      ...status,
      id: 3,
      role: "follower",
      ballot: null,
      leaderId: null,
      dataDir: null,
      snapshotSlot: -1,
    },
  },
  "error (matched)": { t: "error", id: 8, code: "BadFrame", message: "command.command.seq: expected …" },
  "error (connection)": { t: "error", code: "IdentityMismatch", message: "another cluster" },
};

// ---- arbitraries -------------------------------------------------------------------------------------------

const natArb = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const positiveArb = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);
// -0 decodes as 0 (msgpack has no negative integer zero), which deepStrictEqual tells apart: avoid it.
const finiteArb = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
const bytesArb = fc.uint8Array({ maxLength: 12 });
// Well-formed Unicode only: a lone surrogate cannot survive UTF-8, on any wire.
const stringArb = fc.string({ unit: "grapheme", maxLength: 8 });
const ballotArb: fc.Arbitrary<Ballot> = fc.record({ round: natArb, nodeId: natArb });
const memberArb: fc.Arbitrary<Member> = fc.record(
  { id: positiveArb, replica: fc.boolean(), acceptor: fc.boolean(), address: stringArb },
  { requiredKeys: ["id", "replica", "acceptor"] },
);
const confChangeArb: fc.Arbitrary<ConfChange> = fc.oneof(
  fc.record({ kind: fc.constant("add" as const), member: memberArb }),
  fc.record({ kind: fc.constant("remove" as const), id: positiveArb }),
);
const commandArb: fc.Arbitrary<Command> = fc.record({
  clientId: natArb,
  seq: natArb,
  ackedThrough: natArb,
  body: fc.oneof(
    fc.constant({ kind: "open" as const }),
    fc.record({ kind: fc.constant("open" as const), ttlMs: positiveArb }),
    fc.record({ kind: fc.constant("keepalive" as const), sessions: fc.array(positiveArb, { maxLength: 3 }) }),
    fc.record({ kind: fc.constant("op" as const), op: bytesArb }),
    fc.record({ kind: fc.constant("reconfig" as const), change: confChangeArb }),
  ),
});
const batchArb: fc.Arbitrary<Batch> = fc.record({
  timeMs: finiteArb,
  seed: fc.nat(),
  commands: fc.array(commandArb, { maxLength: 3 }),
});
const slotValueArb: fc.Arbitrary<SlotValue> = fc.record({ slot: natArb, value: batchArb });
const pvalueArb: fc.Arbitrary<PValue> = fc.record({ slot: natArb, ballot: ballotArb, value: batchArb });
const errorCodeArb = fc.constantFrom<ErrorCode>(
  "NotLeader",
  "Busy",
  "TooLarge",
  "SessionExpired",
  "TooManyInFlight",
  "ReconfigRefused",
  "Timeout",
  "BadCommand",
);
const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({ ok: fc.constant(true as const), result: bytesArb }),
  fc.record({ ok: fc.constant(true as const), sessionId: positiveArb }),
  fc.constant({ ok: true as const, reconfigured: true as const }),
  fc.record(
    { ok: fc.constant(false as const), error: errorCodeArb, message: stringArb, leaderId: positiveArb },
    { requiredKeys: ["ok", "error", "message"] },
  ),
);
const sessionArb: fc.Arbitrary<SessionState> = fc.record({
  id: positiveArb,
  ackedThrough: natArb,
  lastActiveMs: finiteArb,
  ttlMs: positiveArb,
  replies: fc.array(fc.tuple(natArb, replyArb), { maxLength: 2 }),
  parked: fc.array(fc.tuple(natArb, fc.oneof(finiteArb, fc.constant(Number.POSITIVE_INFINITY))), {
    maxLength: 2,
  }),
});
const configEpochArb: fc.Arbitrary<ConfigEpoch> = fc.record({
  fromSlot: natArb,
  config: fc.record({ members: fc.array(memberArb, { maxLength: 3 }) }),
});
const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({
  slot: natArb,
  app: bytesArb,
  sessions: fc.array(sessionArb, { maxLength: 2 }),
  configs: fc.array(configEpochArb, { maxLength: 2 }),
  clockMs: finiteArb,
  nextSessionId: positiveArb,
});
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant("prepare" as const), ballot: ballotArb, fromSlot: natArb }),
  fc.record({
    type: fc.constant("promise" as const),
    ballot: ballotArb,
    accepted: fc.array(pvalueArb, { maxLength: 2 }),
    coveredThrough: fc.oneof(natArb, fc.constant(Number.POSITIVE_INFINITY)),
    truncatedThrough: natArb,
  }),
  fc.record({
    type: fc.constant("accept" as const),
    ballot: ballotArb,
    entries: fc.array(slotValueArb, { maxLength: 2 }),
    commitThrough: natArb,
    compactThrough: natArb,
  }),
  fc.record({
    type: fc.constant("accepted" as const),
    ballot: ballotArb,
    slots: fc.array(natArb, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant("nack" as const), ballot: ballotArb, promised: ballotArb }),
  fc.record({
    type: fc.constant("heartbeat" as const),
    ballot: ballotArb,
    commitThrough: natArb,
    compactThrough: natArb,
    readRound: natArb,
  }),
  fc.record({
    type: fc.constant("heartbeat-ack" as const),
    ballot: ballotArb,
    readRound: natArb,
    snapshotSlot: fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
  }),
  fc.record({ type: fc.constant("learn-request" as const), fromSlot: natArb, wantSnapshot: fc.boolean() }),
  fc.record({
    type: fc.constant("learn" as const),
    snapshot: fc.option(snapshotArb, { nil: null }),
    entries: fc.array(slotValueArb, { maxLength: 2 }),
  }),
);
const objectInfoArb: fc.Arbitrary<ObjectInfo> = fc.record({
  name: stringArb,
  methods: fc.array(stringArb, { maxLength: 3 }),
  readOnlyMethods: fc.array(stringArb, { maxLength: 3 }),
});
const statusArb: fc.Arbitrary<StatusReplyFrame["status"]> = fc.record({
  id: positiveArb,
  role: fc.constantFrom("follower" as const, "candidate" as const, "leader" as const),
  ballot: fc.option(stringArb, { nil: null }),
  promised: stringArb,
  leaderId: fc.option(positiveArb, { nil: null }),
  executed: natArb,
  snapshotSlot: fc.integer({ min: -1, max: 1000 }),
  snapshotsInstalled: natArb,
  truncatedThrough: natArb,
  config: stringArb,
  sessions: natArb,
  clockMs: finiteArb,
  address: stringArb,
  dataDir: fc.option(stringArb, { nil: null }),
  members: fc.array(memberArb, { maxLength: 3 }),
});
const frameErrorCodeArb = fc.constantFrom<FrameErrorCode>(
  "BadFrame",
  "TooLarge",
  "BadVersion",
  "IdentityMismatch",
  "UnknownPeer",
  "NotReady",
);

/**
 * Random valid frames of every type, as plain trees: fc.record builds null-prototype objects and
 * fc.constant shares one instance between places, neither of which a decoded frame ever has.
 */
const frameArb: fc.Arbitrary<Frame> = fc
  .oneof(
    fc.record(
      {
        t: fc.constant("hello" as const),
        v: natArb,
        role: fc.constantFrom("peer" as const, "client" as const),
        from: positiveArb,
        identity: stringArb,
      },
      { requiredKeys: ["t", "v", "role"] },
    ),
    fc.record({
      t: fc.constant("welcome" as const),
      v: natArb,
      nodeId: positiveArb,
      leaderId: fc.option(positiveArb, { nil: null }),
      members: fc.array(memberArb, { maxLength: 3 }),
      identity: stringArb,
      objects: fc.array(objectInfoArb, { maxLength: 2 }),
    }),
    fc.record({ t: fc.constant("peer" as const), m: messageArb }),
    fc.record({ t: fc.constant("command" as const), id: natArb, command: commandArb }),
    fc.record({ t: fc.constant("read" as const), id: natArb, query: bytesArb }),
    fc.record({ t: fc.constant("reply" as const), id: natArb, reply: replyArb }),
    fc.record({ t: fc.constant("status" as const), id: natArb }),
    fc.record({ t: fc.constant("status-reply" as const), id: natArb, status: statusArb }),
    fc.record(
      { t: fc.constant("error" as const), id: natArb, code: frameErrorCodeArb, message: stringArb },
      { requiredKeys: ["t", "code", "message"] },
    ),
  )
  .map((frame) => deepCopy(frame) as Frame);

/** A copy of a tree of plain objects, arrays and leaves, with Object.prototype and no shared nodes. */
function deepCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepCopy);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = deepCopy(v);
  return out;
}

// ---- helpers -------------------------------------------------------------------------------------------

/** Packs anything, valid or not, the way a peer would. */
const rawPackr = new Packr({ useRecords: false, variableMapSize: true });

/**
 * Packs a frame, valid or not, as a peer puts it on the wire: the batches of its accepts, learns and
 * promises as their own msgpack bytes (whatever they hold), everything else as it is.
 */
function packAsPeer(frame: unknown): Uint8Array {
  const f = frame as { t?: unknown; m?: Record<string, unknown> };
  const field = f.m?.type === "promise" ? "accepted" : "entries";
  const items = f.t === "peer" ? f.m?.[field] : undefined;
  if (!Array.isArray(items)) return rawPackr.pack(frame);
  const withBytes = items.map((item) =>
    typeof item === "object" && item !== null && "value" in item
      ? { ...item, value: new Uint8Array(rawPackr.pack(item.value)) }
      : item,
  );
  return rawPackr.pack({ ...f, m: { ...f.m, [field]: withBytes } });
}

/** Only BadFrameError may come out of decoding. */
function decodeOrBadFrame(bytes: Uint8Array): Frame | BadFrameError {
  try {
    return decodeFrame(bytes);
  } catch (error) {
    if (error instanceof BadFrameError) return error;
    throw new Error(`decodeFrame threw something other than BadFrameError: ${String(error)}`);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

type PathSegment = string | number;
type Leaf = { path: PathSegment[]; kind: "leaf" | "key" | "object"; parent: unknown };

/** Every leaf value, every object key and every object of a frame, with their paths. */
function walk(
  value: unknown,
  path: PathSegment[] = [],
  parent: unknown = undefined,
  out: Leaf[] = [],
): Leaf[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      walk(v, [...path, i], value, out);
    });
  } else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    out.push({ path, kind: "object", parent });
    for (const [key, v] of Object.entries(value)) {
      out.push({ path: [...path, key], kind: "key", parent: value });
      walk(v, [...path, key], value, out);
    }
  } else {
    out.push({ path, kind: "leaf", parent });
  }
  return out;
}

/** The path as BadFrameError spells it: the frame's `t` first, then `.key` and `[index]`. */
function pathText(frame: Frame, path: readonly PathSegment[]): string {
  if (path.length === 0) return "";
  if (path.length === 1 && path[0] === "t") return "t";
  let text = frame.t;
  for (const s of path) text += typeof s === "number" ? `[${s}]` : `.${s}`;
  return text;
}

/** A deep copy with `edit` applied to the container of `path`'s last segment. */
function mutate(
  frame: Frame,
  path: readonly PathSegment[],
  edit: (container: Record<PathSegment, unknown>, key: PathSegment) => void,
): unknown {
  const copy = deepCopy(frame);
  let container = copy as Record<PathSegment, unknown>;
  for (const s of path.slice(0, -1)) container = container[s] as Record<PathSegment, unknown>;
  edit(container, path[path.length - 1]!);
  return copy;
}

function rejection(value: unknown): BadFrameError {
  try {
    validateFrame(value);
  } catch (error) {
    if (error instanceof BadFrameError) return error;
    throw error;
  }
  assert.fail(
    `accepted an invalid frame: ${JSON.stringify(value, (_, v) => (v instanceof Uint8Array ? [...v] : v))}`,
  );
}

/** Fields whose absence is valid. */
function isOptional(key: PathSegment, parent: unknown): boolean {
  const p = parent as Record<string, unknown>;
  if (key === "address") return "replica" in p; // a Member's; the status's address is required
  if (key === "from" || key === "identity") return p.t === "hello";
  if (key === "leaderId") return "ok" in p;
  if (key === "id") return p.t === "error";
  if (key === "ttlMs") return p.kind === "open";
  if (key === "timeoutMs") return "seq" in p; // a Command's
  return false;
}

// ---- codec ---------------------------------------------------------------------------------------------

describe("frame codec", () => {
  for (const [name, frame] of Object.entries(frames)) {
    it(`round-trips ${name}`, () => {
      assert.deepStrictEqual(withPlainBatches(decodeFrame(encodeFrame(frame))), frame);
    });
  }

  it("random valid frames round-trip", () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        assert.deepStrictEqual(withPlainBatches(decodeFrame(encodeFrame(frame))), frame);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes bytes as plain Uint8Arrays that own their memory, and leaves the input alone", () => {
    const encoded = encodeFrame(frames["command (op)"]!);
    // A Buffer source (what sockets deliver) must still yield plain Uint8Arrays.
    const source = Buffer.from(encoded);
    const frame = decodeFrame(source);
    assert.equal(frame.t, "command");
    if (frame.t !== "command" || frame.command.body.kind !== "op") assert.fail("wrong frame");
    const op = frame.command.body.op;
    assert.equal(Object.getPrototypeOf(op), Uint8Array.prototype);
    assert.notEqual(op.buffer, source.buffer, "a copy: a small op must not pin the socket chunk");
    assert.equal(
      Object.hasOwn(source, "dataView"),
      false,
      "msgpackr must not cache its DataView on our input",
    );
  });

  it("sends a peer's batches as their bytes; the receiver keeps those bytes for its log", () => {
    for (const name of ["peer accept", "peer learn (entries)", "peer promise (complete)"]) {
      const frame = frames[name]!;
      const wire = rawPackr.unpack(encodeFrame(frame)) as { m: Record<string, { value: Uint8Array }[]> };
      const decoded = decodeFrame(encodeFrame(frame));
      assert.deepStrictEqual(withPlainBatches(decoded), frame, name);
      if (decoded.t !== "peer" || frame.t !== "peer") assert.fail(name);
      const field = decoded.m.type === "promise" ? "accepted" : "entries";
      const sent = (frame.m as unknown as Record<string, { value: Batch }[]>)[field]!;
      const received = (decoded.m as unknown as Record<string, { value: Batch }[]>)[field]!;
      received.forEach(({ value }, i) => {
        const raw = wire.m[field]![i]!.value;
        assert.ok(raw instanceof Uint8Array, `${name}: batch ${i} travels as bytes`);
        const onWire = new Uint8Array(raw);
        assert.deepEqual(onWire, encodedBatch(sent[i]!.value), `${name}: the sender encoded it once`);
        assert.deepEqual(encodedBatch(value), onWire, `${name}: the receiver remembers the bytes`);
        assert.equal(encodedBatch(value), encodedBatch(value), `${name}: and does not encode again`);
      });
    }
  });

  it("sends commands, reads and replies with a result as arrays, and still takes their map form", () => {
    for (const [name, length] of [
      ["command (op)", 7],
      ["read", 3],
      ["reply (result)", 3],
    ] as const) {
      const frame = frames[name]!;
      const wire = rawPackr.unpack(encodeFrame(frame)) as unknown[];
      assert.ok(Array.isArray(wire) && wire.length === length, `${name} travels as an array of ${length}`);
      assert.deepStrictEqual(decodeFrame(encodeFrame(frame)), frame);
      assert.deepStrictEqual(decodeFrame(rawPackr.pack(frame)), frame, `${name} as a map`);
    }
    const withTimeout: Frame = { t: "command", id: 3, command: { ...opCommand, timeoutMs: 4000 } };
    assert.deepStrictEqual(decodeFrame(encodeFrame(withTimeout)), withTimeout);
  });

  it("refuses an array that is no compact frame, and checks a compact frame's fields", () => {
    for (const value of [[], ["c", 1], ["x", 1, 2], [1, 2, 3]]) {
      const error = decodeOrBadFrame(rawPackr.pack(value));
      assert.ok(error instanceof BadFrameError, JSON.stringify(value));
      assert.match(error.message, /is not a compact frame/);
    }
    const badSeq = decodeOrBadFrame(rawPackr.pack(["c", 5, 1, -1, 0, new Uint8Array([1]), null]));
    assert.ok(badSeq instanceof BadFrameError);
    assert.equal(badSeq.path, "command.command.seq");
    assert.equal(badSeq.requestId, 5, "the error can still be matched to its request");
  });

  it("refuses a peer batch that is not bytes, or not msgpack, naming where", () => {
    const entry = (value: unknown) =>
      rawPackr.pack({
        t: "peer",
        m: { type: "accept", ballot, entries: [{ slot: 1, value }], commitThrough: 0, compactThrough: 0 },
      });
    const asObject = decodeOrBadFrame(entry(batch));
    assert.ok(asObject instanceof BadFrameError);
    assert.equal(asObject.path, "peer.m.entries[0].value");
    assert.match(asObject.reason, /msgpack bytes/);
    const garbage = decodeOrBadFrame(entry(Uint8Array.of(0xd9, 0x05, 0x61)));
    assert.ok(garbage instanceof BadFrameError);
    assert.equal(garbage.path, "peer.m.entries[0].value");
    assert.match(garbage.reason, /not a msgpack value/);
    const badBatch = decodeOrBadFrame(entry(rawPackr.pack({ timeMs: 1, seed: -1, commands: [] })));
    assert.ok(badBatch instanceof BadFrameError);
    assert.equal(badBatch.path, "peer.m.entries[0].value.seed");
  });

  it("keeps Infinity, null and optional fields set to undefined", () => {
    const promise = frames["peer promise (complete)"]!;
    const decoded = decodeFrame(encodeFrame(promise));
    assert.equal(decoded.t === "peer" && decoded.m.type === "promise" && decoded.m.coveredThrough, Infinity);
    const learn = decodeFrame(encodeFrame(frames["peer learn (entries)"]!));
    assert.equal(learn.t === "peer" && learn.m.type === "learn" && learn.m.snapshot, null);
    const hello: Frame = { t: "hello", v: 1, role: "client", from: undefined, identity: undefined };
    const back = decodeFrame(encodeFrame(hello));
    assert.deepStrictEqual(back, hello);
    assert.ok("from" in back && back.from === undefined);
  });

  it("refuses non-msgpack, trailing bytes and empty payloads with BadFrameError", () => {
    const good = encodeFrame({ t: "status", id: 1 });
    for (const bytes of [
      new Uint8Array(0),
      new Uint8Array([0xc1]), // never used in msgpack
      good.subarray(0, good.byteLength - 1),
      concat([good, new Uint8Array([0])]),
      new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 announcing 4 billion elements
      new Uint8Array([0xc6, 0xff, 0xff, 0xff, 0xff]), // bin32 announcing 4 GiB
      new Uint8Array([0x81, 0x91, 0x01, 0x02]), // map with an array key
    ]) {
      const result = decodeOrBadFrame(bytes);
      assert.ok(result instanceof BadFrameError, `accepted ${[...bytes]}`);
    }
  });

  it("refuses nesting too deep to decode, and decodes fine afterwards", () => {
    const deep = new Uint8Array(200_000).fill(0x91); // [[[[…]]]]
    deep[deep.length - 1] = 0x00;
    const error = decodeOrBadFrame(deep);
    assert.ok(error instanceof BadFrameError);
    assert.match(error.message, /not a msgpack value/);
    assert.deepStrictEqual(decodeFrame(encodeFrame(frames.status!)), frames.status);
  });

  it("refuses msgpack values of types frames never use (64-bit ints, dates, sets, prototype keys)", () => {
    const cases: [unknown, RegExp][] = [
      [{ t: "status", id: 2 ** 60 }, /^status\.id: expected a non-negative integer/],
      [{ t: "status", id: 2n ** 64n - 1n }, /^status\.id: expected a non-negative integer/],
      [{ t: "read", id: 1, query: new Date(0) }, /^read\.query: expected bytes, got a Date$/],
      [
        {
          t: "welcome",
          v: 1,
          nodeId: 1,
          leaderId: null,
          members: new Map([[1, 2]]),
          identity: "",
          objects: [],
        },
        /^welcome\.members: expected an array, got an object$/,
      ],
    ];
    for (const [value, expected] of cases) {
      const error = decodeOrBadFrame(rawPackr.pack(value));
      assert.ok(error instanceof BadFrameError, `accepted ${String(value)}`);
      assert.match(error.message, expected);
    }
    const proto = concat([
      new Uint8Array([0x83, 0xa1, 0x74, 0xa6]),
      new TextEncoder().encode("status"),
      new Uint8Array([0xa2, 0x69, 0x64, 0x01, 0xa9]),
      new TextEncoder().encode("__proto__"),
      new Uint8Array([0x80]),
    ]);
    assert.ok(decodeOrBadFrame(proto) instanceof BadFrameError);
  });

  it("reports the request id of a refused frame when it has one", () => {
    const error = decodeOrBadFrame(
      rawPackr.pack({ t: "command", id: 42, command: { ...opCommand, seq: 1.5 } }),
    );
    assert.ok(error instanceof BadFrameError);
    assert.equal(error.message, "command.command.seq: expected a non-negative integer, got 1.5");
    assert.equal(error.requestId, 42);
  });

  it("random bytes: only BadFrameError, never another exception or a hang", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodeOrBadFrame(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("corrupted encodings of valid frames: only BadFrameError, and anything accepted is valid", () => {
    fc.assert(
      fc.property(
        frameArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (frame, flips, cut) => {
          const bytes = Uint8Array.from(encodeFrame(frame));
          for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
          for (const candidate of [bytes, bytes.subarray(0, cut % (bytes.length + 1))]) {
            const result = decodeOrBadFrame(candidate);
            if (!(result instanceof BadFrameError)) validateFrame(result);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---- validation of every field of random frames ---------------------------------------------------------

describe("mutations of valid frames are refused, naming the path", () => {
  it("a leaf replaced by a value of the wrong type", () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        for (const { path, kind } of walk(frame)) {
          if (kind !== "leaf" || path.length === 0) continue;
          // A Date is never valid anywhere, and msgpack carries it (as a timestamp): test the wire path too.
          const bad = mutate(frame, path, (c, k) => {
            c[k] = new Date(0);
          });
          assert.equal(rejection(bad).path, pathText(frame, path));
          const viaWire = decodeOrBadFrame(packAsPeer(bad));
          assert.ok(viaWire instanceof BadFrameError);
          assert.equal(viaWire.path, pathText(frame, path));
        }
      }),
      { numRuns: 100 },
    );
  });

  it("a required field dropped", () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        for (const { path, kind, parent } of walk(frame)) {
          if (kind !== "key") continue;
          const key = path[path.length - 1]!;
          const dropped = mutate(frame, path, (c, k) => {
            delete c[k];
          });
          if (isOptional(key, parent)) {
            validateFrame(dropped);
            continue;
          }
          const error = rejection(dropped);
          // The missing field itself, or (for `ok: true` replies, told apart by their field) its object.
          assert.ok(
            error.path === pathText(frame, path) || error.path === pathText(frame, path.slice(0, -1)),
            `${error.message} for ${pathText(frame, path)}`,
          );
        }
      }),
      { numRuns: 100 },
    );
  });

  it("an unknown field added (except to the informational status)", () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        for (const { path, kind } of walk(frame)) {
          if (kind !== "object") continue;
          const added = mutate(frame, [...path, "zz"], (c, k) => {
            c[k] = 1;
          });
          if (frame.t === "status-reply" && path.length === 1 && path[0] === "status") {
            validateFrame(added);
            continue;
          }
          const error = rejection(added);
          assert.equal(error.message, `${pathText(frame, [...path, "zz"])}: unexpected field`);
        }
      }),
      { numRuns: 100 },
    );
  });
});

// ---- framing -------------------------------------------------------------------------------------------

describe("framer", () => {
  const payloads = [
    new Uint8Array([1, 2, 3]),
    new Uint8Array(0),
    new Uint8Array(300).fill(7),
    new Uint8Array([9]),
  ];
  const stream = concat(payloads.map((p) => framesBytes([p])));

  it("a frame is a 4-byte big-endian length, then the payload", () => {
    assert.deepStrictEqual([...framesBytes([new Uint8Array([7])])], [0, 0, 0, 1, 7]);
    assert.deepStrictEqual([...framesBytes([new Uint8Array(258)]).subarray(0, 4)], [0, 0, 1, 2]);
    assert.throws(() => framesBytes([new Uint8Array(11)], 10), FrameTooLargeError);
  });

  it("framesBytes writes the frames one after the other, and refuses an oversized one", () => {
    assert.deepStrictEqual([...framesBytes(payloads)], [...stream]);
    assert.deepStrictEqual([...framesBytes([])], []);
    assert.throws(() => framesBytes([new Uint8Array(1), new Uint8Array(11)], 10), FrameTooLargeError);
  });

  it("frames split at every byte boundary", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new FrameReader({ frameBytesMax: 1000 });
      const got = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      assert.deepStrictEqual(got, payloads, `cut at ${cut}`);
      assert.equal(reader.pendingBytes, 0);
    }
  });

  it("frames fed one byte at a time", () => {
    const reader = new FrameReader({ frameBytesMax: 1000 });
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...reader.push(stream.subarray(i, i + 1)));
    assert.deepStrictEqual(got, payloads);
  });

  it("random chunkings of random frames", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (parts, cuts) => {
          const bytes = concat(parts.map((p) => framesBytes([p])));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const reader = new FrameReader({ frameBytesMax: 40 });
          const got: Uint8Array[] = [];
          let from = 0;
          for (const to of [...points, bytes.length]) {
            got.push(...reader.push(bytes.subarray(from, to)));
            from = to;
          }
          assert.deepStrictEqual(got, parts);
          assert.equal(reader.pendingBytes, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("many frames in one chunk", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => encodeFrame({ t: "status", id: i }));
    const reader = new FrameReader({ frameBytesMax: FRAME_BYTES_MAX_DEFAULT });
    const got = reader.push(concat(many.map((p) => framesBytes([p]))));
    assert.equal(got.length, many.length);
    assert.deepStrictEqual(decodeFrame(got[9_999]!), { t: "status", id: 9_999 });
    assert.equal(reader.pendingBytes, 0);
  });

  it("a large frame in many small chunks is joined once", () => {
    const payload = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    const bytes = framesBytes([payload]);
    const reader = new FrameReader({ frameBytesMax: FRAME_BYTES_MAX_DEFAULT });
    const got: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 100) got.push(...reader.push(bytes.subarray(at, at + 100)));
    assert.equal(got.length, 1);
    assert.deepStrictEqual(got[0], payload);
  });

  it("a header announcing frameBytesMax + 1 throws before the body arrives, and the reader stays failed", () => {
    const reader = new FrameReader({ frameBytesMax: 100 });
    assert.deepStrictEqual(reader.push(new Uint8Array([0, 0, 0])), []);
    assert.throws(() => reader.push(new Uint8Array([101])), FrameTooLargeError);
    assert.equal(reader.pendingBytes, 0);
    assert.throws(() => reader.push(new Uint8Array([1])), FrameTooLargeError);
    // A 4 GiB garbage length is refused the same way, without allocating.
    assert.throws(
      () => new FrameReader({ frameBytesMax: 100 }).push(new Uint8Array([0xff, 0xff, 0xff, 0xff])),
      FrameTooLargeError,
    );
    // Exactly frameBytesMax is fine.
    const ok = new FrameReader({ frameBytesMax: 100 });
    assert.equal(ok.push(framesBytes([new Uint8Array(100)]))[0]!.byteLength, 100);
  });

  it("holds at most one partial frame", () => {
    const reader = new FrameReader({ frameBytesMax: 100 });
    const bytes = framesBytes([new Uint8Array(100)]);
    reader.push(bytes.subarray(0, 103));
    assert.equal(reader.pendingBytes, 99);
    assert.equal(reader.push(bytes.subarray(103)).length, 1);
    assert.equal(reader.pendingBytes, 0);
  });

  it("random bytes: only FrameTooLargeError from push, only BadFrameError from decoding, memory bounded", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 8 }), (chunks) => {
        const reader = new FrameReader({ frameBytesMax: 64 });
        for (const chunk of chunks) {
          let got: Uint8Array[];
          try {
            got = reader.push(chunk);
          } catch (error) {
            if (error instanceof FrameTooLargeError) return;
            throw error;
          }
          assert.ok(reader.pendingBytes <= 64 + 4);
          for (const payload of got) decodeOrBadFrame(payload);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
