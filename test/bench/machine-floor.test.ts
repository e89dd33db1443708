import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { measureMachineFloor } from "../../bench/machine-floor.ts";

/**
 * This process's echo partners, if any were left behind (other children, such as the TypeScript
 * loader's compiler service, are not the probe's).
 */
function children(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return parent === process.pid && args.includes("--machine-floor-echo");
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 100 && children().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
}

describe("machine floor", () => {
  it("measures a sync and loopback round trips, idle ones slower than none, and ends its partner", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "floor-"));
    try {
      const floor = await measureMachineFloor({ dataDir });
      for (const value of Object.values(floor)) assert.ok(Number.isFinite(value) && value > 0, `${value}`);
      assert.ok(floor.echoBusyP50Ms < 50 && floor.fdatasyncP50Ms < 1000, JSON.stringify(floor));
      assert.deepEqual(readdirSync(dataDir), [], "the probe file is removed");
      await settle();
      assert.deepEqual(children(), []);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("past its timeout the probe kills its partner and says so instead of hanging", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "floor-"));
    try {
      await assert.rejects(measureMachineFloor({ dataDir, probeTimeoutMs: 1 }), /took over 1 ms/);
      await settle();
      assert.deepEqual(children(), []);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
