import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchBytes } from "../../src/core/command.ts";
import { resolveLimits, SNAPSHOT_DEFER_INTERVALS_MAX } from "../../src/core/limits.ts";
import type { AcceptMessage, PromiseMessage } from "../../src/core/messages.ts";
import { encodeJson } from "../../src/sim/kv-machine.ts";
import { Harness, inc, write } from "./harness.ts";

function bigWrite(clientId: number, seq: number, bytes: number) {
  const filler = "x".repeat(bytes);
  return {
    clientId,
    seq,
    ackedThrough: seq - 1,
    body: { kind: "op" as const, op: encodeJson({ t: "write", k: filler, v: seq }) },
  };
}

describe("limits", () => {
  it("resolveLimits refuses incoherent limits", () => {
    assert.throws(() => resolveLimits({ alpha: 0 }), /alpha must be a positive integer/);
    assert.throws(() => resolveLimits({ commandBytesMax: 10, batchBytesMax: 5 }), /commandBytesMax/);
    assert.throws(
      () => resolveLimits({ commandBytesMax: 1000, batchBytesMax: 3000, messageBytesMax: 4000 }),
      /half of messageBytesMax/,
    );
    assert.throws(() => resolveLimits({ heartbeatTicks: 10, electionTicks: 10 }), /heartbeatTicks/);
  });

  it("resolveLimits takes 0 for removeAfterTicks and freshAcceptSpares only, and nothing below it", () => {
    for (const name of ["removeAfterTicks", "freshAcceptSpares"] as const) {
      assert.equal(resolveLimits({ [name]: 0 })[name], 0);
      assert.throws(
        () => resolveLimits({ [name]: -1 }),
        new RegExp(`${name} must be a non-negative integer`),
      );
      assert.throws(
        () => resolveLimits({ [name]: 0.5 }),
        new RegExp(`${name} must be a non-negative integer`),
      );
    }
    assert.throws(() => resolveLimits({ retransmitTicks: 0 }), /retransmitTicks must be a positive integer/);
  });

  it("batchBytesMax: a slot never carries more than its byte budget", () => {
    const h = new Harness({
      members: 3,
      limits: { batchBytesMax: 1000, commandBytesMax: 400, batchCommandsMax: 100 },
    });
    h.elect(1);
    const s = h.openSession(1);
    for (let seq = 1; seq <= 10; seq++) h.node(1).propose(seq, bigWrite(s, seq, 300));
    h.flush();
    const entries = h
      .messages("accept", (m) => m.to === 2)
      .flatMap((m) => (m.message as AcceptMessage).entries);
    assert.ok(entries.length >= 4, `ten 300-byte commands need several slots, got ${entries.length}`);
    for (const e of entries)
      assert.ok(batchBytes(e.value) <= 1000, `slot ${e.slot} holds ${batchBytes(e.value)} bytes`);
    h.stabilize();
    for (let seq = 1; seq <= 10; seq++) assert.equal(h.result(seq), true);
  });

  it("commandBytesMax: an operation over it is refused with TooLarge and nothing is proposed", () => {
    const h = new Harness({ members: 3, limits: { commandBytesMax: 100 } });
    h.elect(1);
    const s = h.openSession(1);
    h.dropWhere(() => true);
    const id = h.propose(1, bigWrite(s, 1, 200));
    assert.equal(h.result(id), "TooLarge");
    assert.equal(h.messages("accept").length, 0);
  });

  it("uncommittedBytesMax: a leader without a quorum stops proposing and queues", () => {
    const h = new Harness({
      members: 3,
      limits: { uncommittedBytesMax: 1000, batchCommandsMax: 1, alpha: 100 },
    });
    h.elect(1);
    const s = h.openSession(1);
    for (let seq = 1; seq <= 20; seq++) h.node(1).propose(seq, bigWrite(s, seq, 200));
    h.flush();
    const proposed = h
      .messages("accept", (m) => m.to === 2)
      .flatMap((m) => (m.message as AcceptMessage).entries);
    const bytes = proposed.reduce((sum, e) => sum + batchBytes(e.value), 0);
    assert.ok(proposed.length < 20, "not everything went out");
    assert.ok(
      bytes - batchBytes(proposed.at(-1)!.value) < 1000,
      `in flight before the last slot: ${bytes} bytes`,
    );
    h.stabilize();
    for (let seq = 1; seq <= 20; seq++)
      assert.equal(h.result(seq), true, `command ${seq} completes once slots free up`);
  });

  it("pendingCommandsMax and pendingReadsMax: past them the leader answers Busy", () => {
    const h = new Harness({
      members: 3,
      limits: { pendingCommandsMax: 3, pendingReadsMax: 2, alpha: 1, batchCommandsMax: 1 },
    });
    h.elect(1);
    const s = h.openSession(1);
    h.dropWhere(() => true);
    const ids = [1, 2, 3, 4, 5].map((seq) => h.propose(1, inc(s, seq)));
    assert.deepEqual(
      ids.map((id) => h.result(id)),
      [undefined, undefined, undefined, undefined, "Busy"],
      "one proposed, three queued, the fifth refused",
    );
    const reads = [1, 2, 3].map(() => h.read(1, "c"));
    assert.equal(h.result(reads[2]!), "Busy");
  });

  it("sessionsMax: the least recently used session is evicted, and its next command is refused", () => {
    const h = new Harness({ members: 3, limits: { sessionsMax: 2 } });
    h.elect(1);
    const a = h.openSession(1, 1);
    const b = h.openSession(1, 2);
    const useB = h.propose(1, inc(b, 1));
    h.stabilize();
    assert.equal(h.result(useB), 1);
    const c = h.openSession(1, 3);
    assert.equal(h.node(1).status().sessions, 2);
    const late = h.propose(1, inc(a, 1));
    h.stabilize();
    assert.equal(h.result(late), "SessionExpired", "session a was the least recently used");
    const ok = h.propose(1, inc(c, 1));
    h.stabilize();
    assert.equal(h.result(ok), 2);
  });

  it("sessionRepliesMax: a client with too many unacknowledged calls is refused", () => {
    const h = new Harness({ members: 3, limits: { sessionRepliesMax: 3 } });
    h.elect(1);
    const s = h.openSession(1);
    const noAck = (seq: number) => ({ ...inc(s, seq), ackedThrough: 0 });
    const ids = [1, 2, 3, 4].map((seq) => h.propose(1, noAck(seq)));
    h.stabilize();
    assert.deepEqual(
      ids.map((id) => h.result(id)),
      [1, 2, 3, "TooManyInFlight"],
    );
    const acked = h.propose(1, inc(s, 5));
    h.stabilize();
    assert.equal(h.result(acked), 4, "acknowledging frees the session's reply slots");
  });

  it("sessionTimeoutMs: an idle session expires through the log at the same slot everywhere", () => {
    const h = new Harness({ members: 3, limits: { sessionTimeoutMs: 1000 } });
    h.elect(1);
    const idle = h.openSession(1, 1);
    const busy = h.openSession(1, 2);
    for (let t = 1; t <= 6; t++) {
      h.node(1).tick(t * 400);
      h.flush();
      h.propose(1, inc(busy, t));
      h.stabilize();
    }
    const late = h.propose(1, inc(idle, 1));
    h.stabilize();
    assert.equal(h.result(late), "SessionExpired");
    h.tickAll(4);
    for (const id of [2, 3]) assert.equal(h.node(id).status().sessions, h.node(1).status().sessions);
  });

  it("messageBytesMax: accepts are split and a promise reports in parts; the candidate asks for the rest", () => {
    const limits = {
      messageBytesMax: 4000,
      batchBytesMax: 1000,
      commandBytesMax: 900,
      batchCommandsMax: 1,
      alpha: 50,
      // Every acceptor gets each accept: the scenario picks which ones vote.
      freshAcceptSpares: 2,
    };
    const h = new Harness({ members: 3, limits });
    h.elect(1);
    const s = h.openSession(1);
    for (let seq = 1; seq <= 30; seq++) h.node(1).propose(seq, bigWrite(s, seq, 400));
    h.flush();
    const accepts = h.messages("accept", (m) => m.to === 2);
    assert.ok(accepts.length > 1, "thirty slots went out in several accept messages");
    // Only node 3 accepts them; then the leader dies and node 2 must recover every value from node 3.
    h.deliver((m) => m.message.type === "accept" && m.to === 3);
    h.crash(1);
    h.dropWhere(() => true);
    const partial: PromiseMessage[] = [];
    const watch = (): void => {
      for (const m of h.messages("promise", (x) => x.from === 3)) partial.push(m.message as PromiseMessage);
    };
    for (let i = 0; i < 40 && h.node(2).executed < 31; i++) {
      h.tick(2);
      h.tick(3);
      for (let j = 0; j < 50 && h.network.length > 0; j++) {
        watch();
        h.deliver();
      }
    }
    assert.ok(h.node(2).executed >= 31, `recovered through slot ${h.node(2).executed}`);
    assert.ok(
      partial.filter((p) => Number.isFinite(p.coveredThrough)).length >= 2,
      "node 3 reported in parts",
    );
    const read = h.read(2, "x".repeat(400));
    h.stabilize();
    assert.equal(h.result(read), 30, "the last write survived the leader change");
  });

  it("write helper keeps values apart per key", () => {
    const h = new Harness({ members: 3 });
    h.elect(1);
    const s = h.openSession(1);
    h.propose(1, write(s, 1, "r", 7));
    h.stabilize();
    const r = h.read(1, "r");
    h.stabilize();
    assert.equal(h.result(r), 7);
  });
});

describe("snapshotLogBytesMax", () => {
  /** Each increment is one slot of `batchBytes` 16 + 32 + its op's length. */
  const slotBytes = batchBytes({ timeMs: 0, seed: 0, commands: [inc(1, 1)] });

  for (const logBytesMax of [slotBytes * 3, slotBytes * 7]) {
    it(`snapshots once the executed slots hold ${logBytesMax} bytes, whatever the slot interval`, () => {
      const h = new Harness({
        members: 3,
        limits: { snapshotIntervalSlots: 4096, snapshotLogBytesMax: logBytesMax, batchCommandsMax: 1 },
      });
      h.elect(1);
      const s = h.openSession(1);
      const snapshotSlots = new Set<number>();
      for (let seq = 1; seq <= 30; seq++) {
        h.propose(1, inc(s, seq));
        h.stabilize();
        snapshotSlots.add(h.node(1).status().snapshotSlot);
      }
      snapshotSlots.delete(0);
      const slots = [...snapshotSlots].sort((a, b) => a - b);
      // Thirty increments of slotBytes each, plus the smaller election and session slots before them.
      const expected = Math.floor((30 * slotBytes) / logBytesMax);
      assert.ok(
        slots.length >= expected,
        `${slots.length} snapshots at slots ${slots}, expected ${expected}`,
      );
      // Consecutive snapshots are as far apart as the byte bound allows, never further: no slot limit hit.
      const gaps = slots.slice(1).map((slot, i) => slot - slots[i]!);
      assert.ok(
        gaps.every((gap) => gap === logBytesMax / slotBytes),
        `gaps ${gaps}`,
      );
    });
  }

  it("with the default bound a short run takes no snapshot (the slot interval is 4096)", () => {
    const h = new Harness({ members: 3, limits: { batchCommandsMax: 1 } });
    h.elect(1);
    const s = h.openSession(1);
    for (let seq = 1; seq <= 30; seq++) {
      h.propose(1, inc(s, seq));
      h.stabilize();
    }
    assert.equal(h.node(1).status().snapshotSlot, 0);
  });
});

describe("snapshots of a state larger than the log", () => {
  const interval = 5;
  const cap = interval * SNAPSHOT_DEFER_INTERVALS_MAX;

  /** A cluster whose state holds `keys` values of 3,000 bytes, snapshotted right after they were written. */
  function bigState(keys: number) {
    const h = new Harness({ members: 3, limits: { snapshotIntervalSlots: interval, batchCommandsMax: 1 } });
    h.elect(1);
    const s = h.openSession(1);
    let seq = 1;
    for (; seq <= keys; seq++) {
      h.propose(1, bigWrite(s, seq, 3000 + seq));
      h.stabilize();
    }
    return { h, s, seq };
  }

  /** Proposes `count` commands made by `make`, one slot each, and returns the slots snapshotted meanwhile. */
  function snapshotsDuring(h: Harness, count: number, make: (i: number) => ReturnType<typeof inc>) {
    const before = h.node(1).status().snapshotSlot;
    const slots = new Set<number>();
    for (let i = 0; i < count; i++) {
      h.propose(1, make(i));
      h.stabilize();
      slots.add(h.node(1).status().snapshotSlot);
    }
    slots.delete(before);
    return [...slots].sort((a, b) => a - b);
  }

  it(`puts a snapshot off until the log outweighs it, for at most ${SNAPSHOT_DEFER_INTERVALS_MAX} intervals`, () => {
    const { h, s, seq } = bigState(interval * 2);
    const last = h.node(1).status().snapshotSlot;
    assert.ok(last > 0, "the big writes were snapshotted at the interval");
    const stateBytes = h.node(1).snapshotNow().app.byteLength;
    const incBytes = batchBytes({ timeMs: 0, seed: 0, commands: [inc(s, seq)] });
    assert.ok(stateBytes > incBytes * cap, `a state of ${stateBytes} bytes outweighs ${cap} increments`);
    const slots = snapshotsDuring(h, cap * 2, (i) => inc(s, seq + i));
    // Small slots never catch up with the state: only the cap snapshots, every `cap` slots.
    assert.deepEqual(
      slots.map((slot, i) => slot - (i === 0 ? last : slots[i - 1]!)),
      [cap, cap],
      `snapshots at ${slots} after ${last}`,
    );
  });

  it("while the state grows with the log, spaces them so that their bytes stay within the log's", () => {
    const { h, s, seq } = bigState(2);
    const writes = 80;
    const sizes: number[] = [];
    let logBytes = 0;
    let last = h.node(1).status().snapshotSlot;
    const slots: number[] = [];
    for (let i = 0; i < writes; i++) {
      const command = bigWrite(s, seq + i, 3000 + seq + i);
      logBytes += batchBytes({ timeMs: 0, seed: 0, commands: [command] });
      h.propose(1, command);
      h.stabilize();
      const slot = h.node(1).status().snapshotSlot;
      if (slot === last) continue;
      slots.push(slot);
      sizes.push(h.node(1).snapshotNow().app.byteLength);
      last = slot;
    }
    const gaps = slots.slice(1).map((slot, i) => slot - slots[i]!);
    // Every value written stays in the state: each snapshot waits for the log to match the last one, so
    // the spans double instead of repeating every interval (16 snapshots).
    assert.ok(slots.length >= 3 && slots.length <= 6, `snapshots at ${slots}`);
    assert.ok(
      gaps.every((gap, i) => gap >= interval && (i === 0 || gap >= gaps[i - 1]!)),
      `gaps ${gaps}`,
    );
    const snapshotBytes = sizes.reduce((a, b) => a + b, 0);
    assert.ok(
      snapshotBytes <= 2 * logBytes,
      `snapshots encoded ${snapshotBytes} bytes for a log of ${logBytes}`,
    );
  });
});

/** The members the accepts now in flight go to, in order. */
function acceptTargets(h: Harness): number[] {
  return h
    .messages("accept")
    .map((m) => m.to)
    .sort((a, b) => a - b);
}

describe("fresh accepts to a quorum (freshAcceptSpares 0, the default)", () => {
  for (const members of [3, 5]) {
    it(`${members} members: a fresh slot goes to a quorum that answered last; the others learn it from a heartbeat`, () => {
      const h = new Harness({ members });
      h.elect(1);
      const s = h.openSession(1);
      const w = h.propose(1, inc(s, 1));
      const quorum = Math.floor(members / 2) + 1;
      // Every follower answered the session's slot in the same tick: the lowest ids are chosen.
      const expected = Array.from({ length: quorum }, (_, i) => i + 1);
      assert.deepEqual(acceptTargets(h), expected);
      h.stabilize();
      assert.equal(h.result(w), 1);
      const executed = h.node(1).executed;
      for (let id = quorum + 1; id <= members; id++)
        assert.ok(h.node(id).executed < executed, `node ${id} has not heard of the slot yet`);
      h.tickAll(h.limits.heartbeatTicks! + 1);
      for (let id = 1; id <= members; id++)
        assert.equal(h.node(id).executed, h.node(1).executed, `node ${id}`);
    });
  }

  it("a chosen follower that stops answering costs one retransmit: the slot is decided through another, chosen next", () => {
    const h = new Harness({ members: 3 });
    h.elect(1);
    const s = h.openSession(1);
    const silent = (m: { from: number; to: number }) => m.from === 2 || m.to === 2;
    const first = h.propose(1, inc(s, 1));
    assert.deepEqual(acceptTargets(h), [1, 2]);
    h.dropWhere(silent);
    h.stabilize();
    assert.equal(h.result(first), undefined, "no quorum without node 2's answer");
    let ticks = 0;
    for (; ticks < 20 && h.result(first) === undefined; ticks++) {
      h.tick(1);
      h.dropWhere(silent);
      h.stabilize();
    }
    assert.equal(h.result(first), 1);
    assert.ok(ticks <= h.limits.retransmitTicks! + 1, `decided after ${ticks} ticks`);
    const second = h.propose(1, inc(s, 2));
    assert.deepEqual(acceptTargets(h), [1, 3], "node 3 answered last");
    h.dropWhere(silent);
    h.stabilize();
    assert.equal(h.result(second), 2, "decided at once");
  });

  it("freshAcceptSpares as many as the other acceptors sends every fresh slot to all of them", () => {
    const h = new Harness({ members: 3, limits: { freshAcceptSpares: 1 } });
    h.elect(1);
    const s = h.openSession(1);
    h.propose(1, inc(s, 1));
    assert.deepEqual(acceptTargets(h), [1, 2, 3]);
  });
});
