import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConcoordSystem } from "../../bench/systems/concoord.ts";
import { runWorkload } from "../../bench/workloads.ts";

/**
 * The most writes per slot `inFlight` writes can make, counted as the benchmark counts them: the slots
 * are read by a status call at each end of the window while writes go on, so up to two slots at the
 * edges can fall outside the count while their writes fall inside.
 */
function perSlotMax(result: { ops: number }, inFlight: number): number {
  return (inFlight * result.ops) / Math.max(1, result.ops - 2 * inFlight);
}

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
      assert.ok(one.commandsPerSlot > 0.5 && one.commandsPerSlot <= perSlotMax(one, 1), JSON.stringify(one));
      const many = await runWorkload(system, "put", 16, shape);
      // Sixteen in flight share slots, and no slot can hold more than there are in flight.
      assert.ok(many.commandsPerSlot !== undefined, JSON.stringify(many));
      assert.ok(
        many.commandsPerSlot > 1 && many.commandsPerSlot <= perSlotMax(many, 16),
        JSON.stringify(many),
      );
      // Four clients, each with sixteen writes in flight, answered together: the leader holds the first
      // to send again for the others (see ReplyGroupHold), so their writes keep sharing slots. Without
      // the hold a slot carries one client's writes or three's: 28–31 on average here. With it ~50 (48
      // with an end-to-end test running beside; 45–50 with whole end-to-end suites beside, a load that
      // also merges some slots without the hold), so the bound sits between the two.
      const four = await runWorkload(system, "put", 64, { ...shape, durationMs: 1500 });
      assert.ok(four.commandsPerSlot !== undefined, JSON.stringify(four));
      assert.ok(four.commandsPerSlot <= perSlotMax(four, 64), JSON.stringify(four));
      assert.ok(four.commandsPerSlot > 36, `${four.commandsPerSlot} writes per slot`);
      const reads = await runWorkload(system, "get", 4, shape);
      assert.ok(reads.ops > 0, JSON.stringify(reads));
      assert.equal(reads.commandsPerSlot, undefined, "a read takes no slot");
    } finally {
      await system.stop();
      await rm(dataRoot, { recursive: true, force: true });
    }
  });
});
