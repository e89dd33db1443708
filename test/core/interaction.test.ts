import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LeaderState } from "../../src/core/leader.ts";
import type { AcceptMessage, PromiseMessage } from "../../src/core/messages.ts";
import { Harness, inc } from "./harness.ts";

describe("election", () => {
  it("a replica that hears no leader campaigns, gets promises and leads", () => {
    const h = new Harness({ members: 3 });
    h.tick(1, 9);
    assert.equal(h.network.length, 0, "no campaign before the election timeout");
    h.tick(1);
    const prepares = h.messages("prepare");
    assert.deepEqual(
      prepares.map((m) => m.to),
      [2, 3],
      "the others first; its own acceptor only once a quorum is in sight",
    );
    for (const p of prepares)
      assert.deepEqual(p.message, { type: "prepare", ballot: { round: 1, nodeId: 1 }, fromSlot: 1 });
    h.deliver((m) => m.message.type === "prepare");
    assert.equal(h.messages("promise").length, 2);
    h.deliver((m) => m.message.type === "promise" && m.from === 2);
    assert.deepEqual(
      h.messages("prepare").map((m) => m.to),
      [1],
      "one promise plus its own make a quorum: now it asks itself",
    );
    h.deliver((m) => m.message.type === "prepare");
    h.deliver((m) => m.message.type === "promise" && m.from === 1);
    assert.equal(h.node(1).role, "leader", "two promises of three are a quorum");
    assert.ok(h.messages("heartbeat").length >= 2, "a new leader announces itself at once");
  });

  it("a node that campaigned alone does not depose the leader when it returns", () => {
    const h = new Harness({ members: 3 });
    h.elect(1);
    const isolated = (m: { from: number; to: number }) => m.from === 3 || m.to === 3;
    for (let i = 0; i < 40; i++) {
      h.tick(1);
      h.tick(2);
      h.tick(3);
      h.dropWhere(isolated);
      h.stabilize();
    }
    assert.equal(h.node(3).role, "candidate", "node 3 kept trying on its own");
    assert.equal(h.node(3).status().promised, "1.1", "but never promised its own ballot");
    h.tickAll(10);
    assert.equal(h.node(1).role, "leader");
    assert.equal(h.node(1).status().ballot, "1.1", "the leader was not deposed");
    assert.equal(h.node(3).role, "follower");
  });

  it("no dueling: a replica that lost contact cannot depose a leader the others still hear", () => {
    const h = new Harness({ members: 3 });
    h.elect(1);
    // Node 2 stops hearing node 1 (its inbound link drops), but 1 and 3 stay in touch.
    for (let i = 0; i < 25; i++) {
      h.tick(1);
      h.tick(3);
      h.tick(2);
      h.dropWhere((m) => m.from === 1 && m.to === 2);
      h.stabilize();
    }
    assert.equal(h.node(1).role, "leader");
    assert.equal(h.node(1).status().ballot, "1.1", "the leader kept its ballot");
    assert.notEqual(h.node(2).role, "leader");
    assert.equal(h.node(3).status().promised, "1.1", "node 3 refused node 2's higher ballots");
  });

  it("a leader that loses a quorum steps down", () => {
    const h = new Harness({ members: 3 });
    h.elect(1);
    for (let i = 0; i < 12; i++) {
      h.tick(1);
      h.dropWhere((m) => m.to !== 1 || m.from !== 1);
      h.stabilize();
    }
    assert.equal(h.node(1).role, "follower");
  });

  it("a restarted node never reuses its ballot", () => {
    const h = new Harness({ members: 3 });
    h.tick(1, 10);
    assert.equal(h.disks.get(1)!.campaignRound, 1, "the round is durable before prepares leave");
    h.crash(1);
    h.start(1);
    h.tick(1, 10);
    const ballots = h
      .messages("prepare", (m) => m.from === 1)
      .map((m) => (m.message as { ballot: { round: number } }).ballot.round);
    assert.ok(ballots.length > 0 && ballots.every((r) => r >= 2));
  });
});

describe("phase 1 recovery", () => {
  it("a new leader re-proposes a value one acceptor accepted, and a retry is answered from the session", () => {
    // Every acceptor gets each accept (see `freshAcceptSpares`): the scenario picks which ones vote.
    const h = new Harness({ members: 3, limits: { freshAcceptSpares: 2 } });
    h.elect(1);
    const session = h.openSession(1);
    const first = h.propose(1, inc(session, 1));
    assert.equal(h.messages("accept", (m) => m.to === 3).length, 1);
    h.deliver((m) => m.message.type === "accept" && m.to === 3);
    h.crash(1);
    h.dropWhere(() => true);
    assert.equal(h.replies.get(first), undefined, "no quorum yet, no reply");

    // Node 2 never saw the increment; it learns it from node 3's promise and proposes it again.
    h.elect(2);
    const recovered = h.applied.get(2)!.at(-1)!;
    assert.equal(recovered.batch.commands.length, 1);
    assert.equal(recovered.batch.commands[0]!.seq, 1, "the accepted value was chosen again, not replaced");
    // The client's retry with the same (clientId, seq) gets the original result, applied once.
    const retry = h.propose(2, inc(session, 1));
    h.stabilize();
    assert.equal(h.result(retry), 1);
    const read = h.read(2, "c");
    h.stabilize();
    assert.equal(h.result(read), 1, "the increment was applied exactly once");
  });

  it("keeps the highest-ballot value reported for a slot", () => {
    const leader = new LeaderState({ ballot: { round: 5, nodeId: 1 }, fromSlot: 3 });
    const batch = (timeMs: number) => ({ timeMs, seed: 0, commands: [] });
    const promise = (accepted: PromiseMessage["accepted"]): PromiseMessage => ({
      type: "promise",
      ballot: leader.ballot,
      accepted,
      coveredThrough: Number.POSITIVE_INFINITY,
      truncatedThrough: 0,
    });
    leader.recordPromise(2, promise([{ slot: 3, ballot: { round: 4, nodeId: 3 }, value: batch(43) }]), 0);
    leader.recordPromise(3, promise([{ slot: 3, ballot: { round: 2, nodeId: 2 }, value: batch(22) }]), 0);
    leader.recordPromise(1, promise([{ slot: 2, ballot: { round: 4, nodeId: 3 }, value: batch(1) }]), 0);
    assert.equal(leader.reported.get(3)!.value.timeMs, 43);
    assert.equal(leader.reported.has(2), false, "slots before the candidate's start are not its business");
    assert.equal(leader.maxReportedSlot, 3);
  });
});

describe("pipelining and batching", () => {
  it("keeps at most alpha slots in flight and batches what waits", () => {
    const h = new Harness({ members: 3, limits: { alpha: 4, batchCommandsMax: 1 } });
    h.elect(1);
    const s = h.openSession(1);
    const executed = h.node(1).executed;
    for (let seq = 1; seq <= 10; seq++) h.node(1).propose(100 + seq, inc(s, seq));
    h.flush();
    const slots = new Set(
      h
        .messages("accept", (m) => m.to === 2)
        .flatMap((m) => (m.message as AcceptMessage).entries.map((e) => e.slot)),
    );
    assert.deepEqual(
      [...slots].sort((a, b) => a - b),
      [executed + 1, executed + 2, executed + 3, executed + 4],
    );
    h.stabilize();
    assert.equal(h.node(1).executed, executed + 10, "the queue drains as the window moves");
  });

  it("puts the commands handed over in one turn into one slot", () => {
    const h = new Harness({ members: 3, limits: { batchCommandsMax: 64 } });
    h.elect(1);
    const s = h.openSession(1);
    const before = h.node(1).executed;
    for (let seq = 1; seq <= 20; seq++) h.node(1).propose(200 + seq, inc(s, seq));
    h.flush();
    h.stabilize();
    assert.equal(h.node(1).executed, before + 1, "twenty commands, one slot");
    assert.equal(h.result(220), 20);
  });
});

describe("reconfiguration", () => {
  it("a change decided at slot s governs slots from s + alpha, and nothing is proposed beyond executed + alpha", () => {
    const alpha = 3;
    const h = new Harness({ members: 3, limits: { alpha, batchCommandsMax: 1 } });
    h.elect(1);
    const s = h.openSession(1);
    h.start(4, { members: [] });
    const change = h.propose(1, {
      clientId: s,
      seq: 1,
      ackedThrough: 0,
      body: { kind: "reconfig", change: { kind: "add", member: { id: 4, replica: true, acceptor: true } } },
    });
    h.stabilize();
    const decidedAt = h.node(1).executed;
    assert.equal(h.node(1).status().config, "1ra,2ra,3ra,4ra");
    assert.equal(h.replies.get(change), undefined, "the requester hears back when the change is in effect");
    // With no traffic the leader fills the window with no-ops, so the change takes effect promptly.
    for (let i = 0; i < 40 && h.replies.get(change) === undefined; i++) h.tickAll(1);
    assert.deepEqual(h.replies.get(change), { ok: true, reconfigured: true });
    assert.ok(h.node(1).executed >= decidedAt + alpha - 1, "answered once slot s + alpha - 1 was applied");
    const start = h.node(1).executed;
    for (let seq = 2; seq <= 12; seq++) {
      h.node(1).propose(300 + seq, inc(s, seq));
      h.flush();
      const executed = h.node(1).executed;
      for (const m of h.messages("accept", (x) => x.from === 1)) {
        for (const e of (m.message as AcceptMessage).entries) {
          assert.ok(
            e.slot <= executed + alpha,
            `slot ${e.slot} proposed beyond executed ${executed} + alpha`,
          );
          if (e.slot < decidedAt + alpha) continue;
        }
      }
      h.stabilize();
    }
    assert.equal(h.node(1).executed, start + 11);
    // Node 4 votes now: with nodes 2 and 3 silent, 1 and 4 are not a quorum of four.
    const before = h.node(1).executed;
    h.node(1).propose(999, inc(s, 13));
    h.flush();
    h.stabilize((m) => m.to === 1 || m.to === 4);
    h.dropWhere((m) => m.to === 2 || m.to === 3);
    assert.equal(h.node(1).executed, before, "two of four acceptors cannot decide");
    h.node(1).tick(0);
    h.flush();
    h.stabilize();
    h.tickAll(6);
    assert.equal(h.node(1).executed, before + 1, "with a third acceptor the slot is decided");
    assert.equal(h.node(4).executed, before + 1, "the new replica caught up and applies");
  });

  it("a leader that is removed hands leadership over instead of leaving an election timeout of silence", () => {
    const h = new Harness({ members: 3, limits: { alpha: 3 } });
    h.elect(1);
    const s = h.openSession(1);
    const change = h.propose(1, {
      clientId: s,
      seq: 1,
      ackedThrough: 0,
      body: { kind: "reconfig", change: { kind: "remove", id: 1 } },
    });
    h.stabilize();
    let ticks = 0;
    for (; ticks < 40 && h.node(1).role === "leader"; ticks++) h.tickAll(1);
    assert.deepEqual(h.replies.get(change), { ok: true, reconfigured: true });
    assert.equal(h.node(1).role, "follower", "the removed leader stepped down when the change took effect");
    const handedOverAt = ticks;
    for (; ticks < 80 && h.node(2).role !== "leader" && h.node(3).role !== "leader"; ticks++) h.tickAll(1);
    assert.ok(
      ticks - handedOverAt <= 2,
      `a new leader within ${ticks - handedOverAt} ticks, not an election timeout`,
    );
    assert.equal(h.node(2).role, "leader", "the lowest remaining replica took over");
    const after = h.propose(2, inc(s, 2));
    h.stabilize();
    assert.equal(h.result(after), 1);
  });

  it("removeAfterTicks: the leader removes a member it has not heard from, and only then", () => {
    const h = new Harness({ members: 3, limits: { alpha: 2, removeAfterTicks: 20 } });
    h.elect(1);
    const s = h.openSession(1);
    h.crash(3);
    for (let i = 0; i < 15; i++) h.tickAll(1);
    assert.equal(h.node(1).status().config, "1ra,2ra,3ra", "not before removeAfterTicks");
    const removed = () => h.node(1).status().config === "1ra,2ra" && h.node(2).status().config === "1ra,2ra";
    for (let i = 0; i < 30 && !removed(); i++) h.tickAll(1);
    assert.equal(h.node(1).status().config, "1ra,2ra", "the silent member was removed through the log");
    assert.equal(h.node(2).status().config, "1ra,2ra");
    const after = h.propose(1, inc(s, 1));
    h.stabilize();
    assert.equal(h.result(after), 1, "the smaller cluster still decides");
    assert.equal(
      h.result(
        h.propose(1, {
          clientId: 0,
          seq: 0,
          ackedThrough: 0,
          body: { kind: "reconfig", change: { kind: "remove", id: 2 } },
        }),
      ),
      "BadCommand",
      "clients cannot pose as the leader",
    );
  });

  it("refuses a second change while one is in flight", () => {
    const h = new Harness({ members: 3, limits: { alpha: 5 } });
    h.elect(1);
    const s = h.openSession(1);
    const add = (seq: number, id: number) => ({
      clientId: s,
      seq,
      ackedThrough: 0,
      body: {
        kind: "reconfig" as const,
        change: { kind: "add" as const, member: { id, replica: false, acceptor: true } },
      },
    });
    const a = h.propose(1, add(1, 4));
    const b = h.propose(1, add(2, 5));
    h.stabilize();
    assert.equal(h.result(b), "ReconfigRefused");
    for (let i = 0; i < 40 && h.replies.get(a) === undefined; i++) h.tickAll(1);
    assert.deepEqual(h.replies.get(a), { ok: true, reconfigured: true });
  });
});

describe("snapshots and catch-up", () => {
  it("a replica that missed compacted slots catches up from a snapshot", () => {
    const h = new Harness({
      members: 3,
      limits: { snapshotIntervalSlots: 5, batchCommandsMax: 1, alpha: 2 },
    });
    h.elect(1);
    const s = h.openSession(1);
    for (let seq = 1; seq <= 20; seq++) {
      h.propose(1, inc(s, seq));
      h.stabilize((m) => m.to !== 3 && m.from !== 3);
      h.dropWhere((m) => m.to === 3 || m.from === 3);
    }
    assert.ok(h.node(1).status().snapshotSlot >= 20, "the leader snapshotted and trimmed its log");
    assert.ok(h.node(3).executed <= 1, "node 3 saw nothing of the twenty increments");
    h.tickAll(4);
    const status3 = h.node(3).status();
    assert.equal(h.node(3).executed, h.node(1).executed);
    assert.ok(status3.snapshotSlot >= 20, "node 3 installed a snapshot");
    assert.deepEqual(h.node(3).snapshotNow().app, h.node(1).snapshotNow().app);
    // Now every replica has a durable snapshot, so acceptors may drop what it covers.
    h.tickAll(12);
    assert.ok(h.node(2).status().truncatedThrough >= 20, "acceptors compacted behind the snapshots");
  });
});

describe("snapshot transfer in parts", () => {
  it("a lagging replica receives the snapshot in parts no larger than snapshotChunkBytes", () => {
    const h = new Harness({
      members: 3,
      limits: { snapshotIntervalSlots: 5, batchCommandsMax: 1, alpha: 2, snapshotChunkBytes: 8 },
    });
    h.elect(1);
    const s = h.openSession(1);
    for (let seq = 1; seq <= 20; seq++) {
      h.propose(1, inc(s, seq, `key-${seq}`));
      h.stabilize((m) => m.to !== 3 && m.from !== 3);
      h.dropWhere((m) => m.to === 3 || m.from === 3);
    }
    const parts: number[] = [];
    for (let round = 0; round < 200 && h.node(3).executed < h.node(1).executed; round++) {
      h.tick(1);
      h.tick(2);
      h.tick(3);
      for (let i = 0; i < 100 && h.network.length > 0; i++) {
        for (const m of h.messages("learn", (x) => x.to === 3)) {
          const learn = m.message as {
            snapshot: { app: Uint8Array } | null;
            snapshotPart?: { total: number };
          };
          if (learn.snapshot && learn.snapshotPart) parts.push(learn.snapshot.app.byteLength);
        }
        h.deliver();
      }
    }
    assert.equal(h.node(3).executed, h.node(1).executed, "caught up");
    assert.ok(parts.length > 5, `the snapshot came in ${parts.length} parts`);
    assert.ok(
      parts.every((n) => n <= 8),
      "no part over snapshotChunkBytes",
    );
    assert.ok(h.node(3).status().snapshotsInstalled >= 1);
    assert.deepEqual(h.node(3).snapshotNow().app, h.node(1).snapshotNow().app);
  });
});

describe("linearizable reads", () => {
  it("answers only after a quorum confirmed the ballot in a round that started after the read", () => {
    const h = new Harness({ members: 3 });
    h.elect(1);
    const s = h.openSession(1);
    h.propose(1, inc(s, 1));
    h.stabilize();
    h.dropWhere(() => true);
    const read = h.read(1, "c");
    assert.equal(h.replies.get(read), undefined);
    const round = h.messages("heartbeat", (m) => m.to === 2);
    assert.equal(round.length, 1, "the read started a confirmation round at once");
    h.deliver((m) => m.message.type === "heartbeat" && m.to === 2);
    h.deliver((m) => m.message.type === "heartbeat-ack" && m.from === 2);
    assert.equal(h.replies.get(read), undefined, "one ack is not a quorum with the leader's own");
    h.stabilize();
    assert.equal(h.result(read), 1);
  });

  it("a deposed leader cannot serve reads", () => {
    // Every acceptor gets each accept (see `freshAcceptSpares`): node 2 must not pick the cut-off node 1.
    const h = new Harness({ members: 3, limits: { freshAcceptSpares: 2 } });
    h.elect(1);
    const s = h.openSession(1);
    h.propose(1, inc(s, 1));
    h.stabilize();
    // Node 1 is cut off; 2 and 3 elect node 2 and increment again.
    const cut = (m: { from: number; to: number }) => (m.from === 1) !== (m.to === 1);
    for (let i = 0; i < 30 && h.node(2).role !== "leader"; i++) {
      h.tick(2);
      h.tick(3);
      h.dropWhere(cut);
      h.stabilize();
    }
    assert.equal(h.node(2).role, "leader");
    h.propose(2, inc(s, 2));
    h.stabilize((m) => !cut(m));
    h.dropWhere(cut);
    const stale = h.read(1, "c");
    h.stabilize((m) => !cut(m));
    h.dropWhere(cut);
    assert.ok(
      h.replies.get(stale) === undefined || !h.replies.get(stale)!.ok,
      "no stale value from the old leader",
    );
    const fresh = h.read(2, "c");
    h.stabilize((m) => !cut(m));
    assert.equal(h.result(fresh), 2);
  });
});
