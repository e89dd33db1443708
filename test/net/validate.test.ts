import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "../../src/core/command.ts";
import type { Frame } from "../../src/net/frames.ts";
import { ARRAY_LENGTH_MAX, BadFrameError, validateFrame } from "../../src/net/validate.ts";

// The exhaustive, property-based mutation tests live in frame-codec.test.ts (they need its arbitraries);
// these pin the exact messages and the edge values each field accepts or refuses.

const command: Command = {
  clientId: 7,
  seq: 12,
  ackedThrough: 11,
  body: { kind: "op", op: new Uint8Array([1, 2, 3]) },
};
const commandFrame: Frame = { t: "command", id: 1, command };
const ballot = { round: 3, nodeId: 1 };
const batch = { timeMs: 1_700_000_000_000, seed: 3, commands: [command] };
const status = {
  id: 1,
  role: "leader",
  ballot: "3.1",
  promised: "3.1",
  leaderId: 1,
  executed: 10,
  snapshotSlot: 5,
  snapshotsInstalled: 0,
  truncatedThrough: 5,
  config: "1ra",
  sessions: 1,
  clockMs: 1_700_000_000_000,
  address: "127.0.0.1:7000",
  dataDir: null,
  members: [{ id: 1, replica: true, acceptor: true }],
};

/** The BadFrameError message for `value`, failing the test if it is accepted. */
function refusal(value: unknown): string {
  try {
    validateFrame(value);
  } catch (error) {
    if (error instanceof BadFrameError) return error.message;
    throw error;
  }
  return assert.fail("accepted an invalid frame");
}

function accepts(value: unknown): void {
  assert.equal(validateFrame(value), value, "returns the same object");
}

function peer(m: Record<string, unknown>): unknown {
  return { t: "peer", m };
}

describe("validateFrame", () => {
  it("names the path and the problem", () => {
    assert.equal(
      refusal({ ...commandFrame, command: { ...command, seq: 1.5 } }),
      "command.command.seq: expected a non-negative integer, got 1.5",
    );
    assert.equal(refusal({ t: "status", id: "1" }), 'status.id: expected a non-negative integer, got "1"');
    assert.equal(
      refusal(
        peer({
          type: "accept",
          ballot,
          entries: [{ slot: -1, value: batch }],
          commitThrough: 0,
          compactThrough: 0,
        }),
      ),
      "peer.m.entries[0].slot: expected a non-negative integer, got -1",
    );
    const { ackedThrough: _, ...noAcked } = command;
    assert.equal(
      refusal({ ...commandFrame, command: noAcked }),
      "command.command.ackedThrough: missing field",
    );
    assert.equal(refusal({ t: "bogus", id: 1 }), 't: unknown frame type "bogus"');
    assert.equal(refusal({ id: 1 }), "t: missing field");
    assert.equal(refusal(peer({ type: "elect", ballot })), 'peer.m.type: unknown type "elect"');
    assert.equal(
      refusal({ ...commandFrame, command: { ...command, body: { kind: "op", op: "AQID" } } }),
      'command.command.body.op: expected bytes, got "AQID"',
    );
    assert.equal(refusal({ ...commandFrame, extra: 1 }), "command.extra: unexpected field");
  });

  it("exposes path, reason and the request id on the error", () => {
    try {
      validateFrame({ t: "read", id: 9, query: [1, 2] });
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof BadFrameError);
      assert.equal(error.path, "read.query");
      assert.equal(error.reason, "expected bytes, got an array");
      assert.equal(error.requestId, 9);
    }
  });

  it("refuses values that are not frames at all", () => {
    assert.equal(refusal(5), "expected an object, got 5");
    assert.equal(refusal(null), "expected an object, got null");
    assert.equal(refusal([{ t: "status", id: 1 }]), "expected an object, got an array");
    assert.equal(refusal(new Uint8Array(3)), "expected an object, got bytes");
    class Status {
      t = "status";
      id = 1;
    }
    assert.equal(refusal(new Status()), "expected an object, got a class instance");
    // A null-prototype object is a plain map: fine.
    accepts(Object.assign(Object.create(null) as object, { t: "status", id: 1 }));
  });

  it("integers: non-negative where counted, positive for node and session ids, safe everywhere", () => {
    accepts({ t: "status", id: 0 });
    accepts({ t: "status", id: Number.MAX_SAFE_INTEGER });
    assert.match(
      refusal({ t: "status", id: Number.MAX_SAFE_INTEGER + 1 }),
      /expected a non-negative integer/,
    );
    assert.match(refusal({ t: "status", id: Number.NaN }), /expected a non-negative integer, got NaN/);
    assert.match(refusal({ t: "status", id: 1n }), /got 1n/);
    accepts({ t: "hello", v: 1, role: "peer", from: 1 });
    assert.equal(
      refusal({ t: "hello", v: 1, role: "peer", from: 0 }),
      "hello.from: expected a positive integer, got 0",
    );
    assert.equal(
      refusal({ t: "reply", id: 1, reply: { ok: true, sessionId: 0 } }),
      "reply.reply.sessionId: expected a positive integer, got 0",
    );
    const member = { id: 0, replica: true, acceptor: true };
    assert.match(
      refusal({
        ...commandFrame,
        command: { ...command, body: { kind: "reconfig", change: { kind: "add", member } } },
      }),
      /change\.member\.id: expected a positive integer/,
    );
    // BALLOT_ZERO (0.0) is what an untouched acceptor has promised: a nack may carry it.
    accepts(peer({ type: "nack", ballot, promised: { round: 0, nodeId: 0 } }));
    assert.match(
      refusal(peer({ type: "nack", ballot, promised: { round: -1, nodeId: 0 } })),
      /^peer\.m\.promised\.round/,
    );
  });

  it("special slots: Infinity only for coveredThrough, -1 only for snapshotSlot", () => {
    const promise = {
      type: "promise",
      ballot,
      accepted: [],
      coveredThrough: Number.POSITIVE_INFINITY,
      truncatedThrough: 0,
    };
    accepts(peer(promise));
    assert.match(
      refusal(peer({ ...promise, coveredThrough: Number.NEGATIVE_INFINITY })),
      /coveredThrough: expected a non-negative integer or Infinity/,
    );
    assert.match(refusal(peer({ ...promise, coveredThrough: Number.NaN })), /coveredThrough/);
    assert.match(
      refusal(peer({ ...promise, truncatedThrough: Number.POSITIVE_INFINITY })),
      /truncatedThrough/,
    );
    const ack = { type: "heartbeat-ack", ballot, readRound: 0, snapshotSlot: -1 };
    accepts(peer(ack));
    assert.equal(
      refusal(peer({ ...ack, snapshotSlot: -2 })),
      "peer.m.snapshotSlot: expected an integer ≥ -1, got -2",
    );
  });

  it("times are finite numbers", () => {
    const accept = {
      type: "accept",
      ballot,
      entries: [{ slot: 1, value: batch }],
      commitThrough: 0,
      compactThrough: 0,
    };
    accepts(peer({ ...accept, entries: [{ slot: 1, value: { ...batch, timeMs: 1.5 } }] }));
    for (const timeMs of [Number.NaN, Number.POSITIVE_INFINITY, "0", null]) {
      assert.match(
        refusal(peer({ ...accept, entries: [{ slot: 1, value: { ...batch, timeMs } }] })),
        /^peer\.m\.entries\[0\]\.value\.timeMs: expected a finite number/,
      );
    }
  });

  it("replies: exactly one variant", () => {
    accepts({ t: "reply", id: 1, reply: { ok: false, error: "NotLeader", message: "", leaderId: 2 } });
    accepts({ t: "reply", id: 1, reply: { ok: false, error: "NotLeader", message: "" } });
    assert.equal(
      refusal({ t: "reply", id: 1, reply: { ok: true, result: new Uint8Array(0), sessionId: 1 } }),
      "reply.reply.sessionId: unexpected field",
    );
    assert.equal(
      refusal({ t: "reply", id: 1, reply: { ok: true } }),
      "reply.reply: expected result, sessionId or reconfigured with ok: true",
    );
    assert.equal(
      refusal({ t: "reply", id: 1, reply: { ok: true, reconfigured: false } }),
      "reply.reply.reconfigured: expected true, got false",
    );
    assert.match(
      refusal({ t: "reply", id: 1, reply: { ok: false, error: "Oops", message: "" } }),
      /^reply\.reply\.error: expected one of "NotLeader"/,
    );
    assert.equal(
      refusal({ t: "reply", id: 1, reply: { ok: 1 } }),
      "reply.reply.ok: expected a boolean, got 1",
    );
  });

  it("snapshots: sessions with [seq, reply] pairs, configs, clock", () => {
    const snapshot = {
      slot: 5,
      app: new Uint8Array(0),
      sessions: [
        {
          id: 7,
          ackedThrough: 1,
          lastActiveMs: 0,
          ttlMs: 1000,
          replies: [[2, { ok: true, sessionId: 7 }]],
          parked: [],
        },
      ],
      configs: [{ fromSlot: 1, config: { members: status.members } }],
      clockMs: 0,
      nextSessionId: 8,
    };
    const learn = { type: "learn", snapshot, entries: [] };
    accepts(peer(learn));
    accepts(peer({ ...learn, snapshot: null }));
    assert.equal(refusal(peer({ type: "learn", entries: [] })), "peer.m.snapshot: missing field");
    const badPair = { ...snapshot, sessions: [{ ...snapshot.sessions[0], replies: [[2]] }] };
    assert.equal(
      refusal(peer({ ...learn, snapshot: badPair })),
      "peer.m.snapshot.sessions[0].replies[0]: expected a [seq, reply] pair, got an array",
    );
    const badSeq = {
      ...snapshot,
      sessions: [{ ...snapshot.sessions[0], replies: [[-2, { ok: true, sessionId: 7 }]] }],
    };
    assert.match(
      refusal(peer({ ...learn, snapshot: badSeq })),
      /^peer\.m\.snapshot\.sessions\[0\]\.replies\[0\]\[0\]: /,
    );
    assert.match(refusal(peer({ ...learn, snapshot: { ...snapshot, nextSessionId: 0 } })), /nextSessionId/);
  });

  it("accepts Buffers as bytes (a Buffer is a Uint8Array) but no other binary view", () => {
    accepts({ t: "read", id: 1, query: Buffer.from([1, 2]) });
    assert.match(
      refusal({ t: "read", id: 1, query: new Uint16Array(2) }),
      /read\.query: expected bytes, got a Uint16Array/,
    );
    assert.match(refusal({ t: "read", id: 1, query: new Uint8Array(2).buffer }), /got an ArrayBuffer/);
  });

  it("status is lenient about extra fields but not about the listed ones", () => {
    accepts({ t: "status-reply", id: 1, status });
    accepts({ t: "status-reply", id: 1, status: { ...status, uptimeMs: 12, future: { anything: [1] } } });
    const { dataDir: _, ...noDataDir } = status;
    assert.equal(
      refusal({ t: "status-reply", id: 1, status: noDataDir }),
      "status-reply.status.dataDir: missing field",
    );
    assert.match(
      refusal({ t: "status-reply", id: 1, status: { ...status, role: "boss" } }),
      /status\.role: expected one of/,
    );
    assert.match(
      refusal({ t: "status-reply", id: 1, status: { ...status, members: [{ id: 1 }] } }),
      /status\.members\[0\]\.replica: missing field/,
    );
  });

  it("error frames: known codes, optional id", () => {
    accepts({ t: "error", code: "NotReady", message: "starting" });
    accepts({ t: "error", id: 3, code: "BadFrame", message: "" });
    assert.match(
      refusal({ t: "error", code: "Nope", message: "" }),
      /^error\.code: expected one of "BadFrame"/,
    );
  });

  it("bounds arrays and never descends into nesting it does not expect", () => {
    const slots = new Array<number>(ARRAY_LENGTH_MAX + 1).fill(1);
    assert.equal(
      refusal(peer({ type: "accepted", ballot, slots })),
      `peer.m.slots: array of ${ARRAY_LENGTH_MAX + 1} elements exceeds ${ARRAY_LENGTH_MAX}`,
    );
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(
      refusal({ ...commandFrame, command: { ...command, body: { kind: "op", op: deep } } }),
      "command.command.body.op: expected bytes, got an array",
    );
    assert.equal(refusal({ ...commandFrame, nested: deep }), "command.nested: unexpected field");
  });

  it("quotes at most a few dozen characters of a bad value", () => {
    const message = refusal({ t: "x".repeat(10_000) });
    assert.ok(message.length < 80, message);
  });

  it("is fast (sanity check, not a benchmark)", (t) => {
    const accept = peer({
      type: "accept",
      ballot,
      entries: [{ slot: 1, value: batch }],
      commitThrough: 0,
      compactThrough: 0,
    });
    const rounds = 100_000;
    for (let i = 0; i < 20_000; i++) {
      // Warm up: the first calls run in the interpreter.
      validateFrame(commandFrame);
      validateFrame(accept);
    }
    let start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) validateFrame(commandFrame);
    const commandNs = Number(process.hrtime.bigint() - start) / rounds;
    start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) validateFrame(accept);
    const acceptNs = Number(process.hrtime.bigint() - start) / rounds;
    t.diagnostic(
      `validateFrame: command ${commandNs.toFixed(0)} ns, one-command accept ${acceptNs.toFixed(0)} ns`,
    );
    // Generous bounds, so that a slow CI machine never flakes: this catches gross regressions only.
    assert.ok(commandNs < 20_000 && acceptNs < 20_000);
  });
});
