import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConcoordSystem } from "../../bench/systems/concoord.ts";
import { runWorkload } from "../../bench/workloads.ts";

describe("workloads against a real concoord cluster", () => {
  it("count the writes per log slot of a write workload, and leave the figure out of reads", async () => {
    const dataRoot = await mkdtemp(join(tmpdir(), "workloads-"));
    const system = new ConcoordSystem({ dataRoot });
    try {
      await system.start();
      const shape = { warmupMs: 200, durationMs: 600, harnessPids: () => system.pids() };
      const one = await runWorkload(system, "put", 1, shape);
      // One write in flight: every slot holds exactly one (the leader's own housekeeping slots, a few
      // keepalive records at most, are counted too, so a little under one).
      assert.ok(one.ops > 0 && one.commandsPerSlot !== undefined, JSON.stringify(one));
      assert.ok(one.commandsPerSlot > 0.5 && one.commandsPerSlot <= 1, JSON.stringify(one));
      const many = await runWorkload(system, "put", 16, shape);
      // Sixteen in flight share slots, and no slot can hold more than there are in flight.
      assert.ok(many.commandsPerSlot !== undefined, JSON.stringify(many));
      assert.ok(many.commandsPerSlot > 1 && many.commandsPerSlot <= 16, JSON.stringify(many));
      const reads = await runWorkload(system, "get", 4, shape);
      assert.ok(reads.ops > 0, JSON.stringify(reads));
      assert.equal(reads.commandsPerSlot, undefined, "a read takes no slot");
    } finally {
      await system.stop();
      await rm(dataRoot, { recursive: true, force: true });
    }
  });
});
