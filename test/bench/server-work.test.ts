import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { measureServerWork } from "../../bench/server-work.ts";

describe("server work", () => {
  it("decides every round on all three members and reports the CPU it took", async () => {
    const r = await measureServerWork({ batch: 8, rounds: 20 });
    // One slot for the session, then the warm-up rounds and the measured ones, each one slot; the
    // follower outside the accept quorum learns them from the heartbeats of the ticks.
    assert.deepEqual(r.executed, [41, 41, 41]);
    assert.ok(r.cpuUsPerCommand > 0 && r.wallUsPerCommand > 0, JSON.stringify(r));
  });

  it("refuses a batch or a number of rounds that is not a positive integer", async () => {
    await assert.rejects(measureServerWork({ batch: 0, rounds: 1 }), RangeError);
    await assert.rejects(measureServerWork({ batch: 4, rounds: 1.5 }), RangeError);
  });
});
