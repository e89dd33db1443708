import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "../../src/core/messages.ts";
import { Outbox } from "../../src/core/ready.ts";
import { Harness, inc } from "./harness.ts";

const ballot = { round: 1, nodeId: 1 };

describe("the Ready contract", () => {
  it("only a leader's accepts and heartbeats to others may leave before the sync; votes, prepares and self-messages wait", () => {
    const outbox = new Outbox(1);
    const accept = { type: "accept", ballot, entries: [], commitThrough: 0, compactThrough: 0 } as Message;
    const heartbeat = { type: "heartbeat", ballot } as unknown as Message;
    const accepted = { type: "accepted", ballot, slots: [1] } as unknown as Message;
    const prepare = { type: "prepare", ballot, fromSlot: 1 } as Message;
    outbox.send(2, accept);
    outbox.send(3, heartbeat);
    outbox.send(1, accept);
    outbox.send(2, accepted);
    outbox.send(3, prepare);
    const ready = outbox.drain();
    assert.deepEqual(
      ready.early.map((e) => [e.to, e.message.type]),
      [
        [2, "accept"],
        [3, "heartbeat"],
      ],
    );
    assert.deepEqual(
      ready.messages.map((e) => [e.to, e.message.type]),
      [
        [1, "accept"],
        [2, "accepted"],
        [3, "prepare"],
      ],
    );
  });

  for (const { limit, lagMax } of [
    // Far from the limit, commit records ride along with each batch's accepted records: barely behind.
    { limit: 1000, lagMax: 2 },
    { limit: 4, lagMax: 4 },
  ]) {
    it(`commit records ride along with other records (commitRecordSlotsMax ${limit}: at most ${lagMax} behind)`, () => {
      // Every member gets each accept (see `freshAcceptSpares`), so that each has records to ride along.
      const h = new Harness({ members: 3, limits: { commitRecordSlotsMax: limit, freshAcceptSpares: 2 } });
      h.elect(1);
      const session = h.openSession(1);
      for (let seq = 1; seq <= 20; seq++) {
        h.propose(1, inc(session, seq));
        h.stabilize();
      }
      for (const id of [1, 2, 3]) {
        const executed = h.node(id).executed;
        const committed = h.disks.get(id)!.committedThrough;
        assert.ok(executed >= 20, `node ${id} executed ${executed}`);
        assert.ok(
          executed - committed <= lagMax,
          `node ${id}: executed ${executed}, durable commit ${committed}`,
        );
        assert.ok(committed > 0, `node ${id} wrote commit records`);
      }
    });
  }
});
