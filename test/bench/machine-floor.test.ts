import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { measureMachineFloor } from "../../bench/machine-floor.ts";
import { childrenWithFlag, settleChildren } from "./child-processes.ts";

const FLAG = "--machine-floor-echo";
const children = () => childrenWithFlag(FLAG);
const settle = () => settleChildren(FLAG);

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
