import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { measureBarePipeline } from "../../bench/bare-pipeline.ts";
import { childrenWithFlag, settleChildren } from "./child-processes.ts";

const FLAG = "--bare-pipeline-role";

describe("bare pipeline", () => {
  it("measures each concurrency with a real leader and followers, then ends them and removes its logs", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "bare-"));
    try {
      const figures = await measureBarePipeline({ dataDir, concurrencies: [1, 16], durationMs: 400 });
      assert.deepEqual(
        figures.map((f) => f.concurrency),
        [1, 16],
      );
      for (const f of figures) {
        assert.ok(f.opsPerSec > 0 && f.p50Ms > 0 && f.p99Ms >= f.p50Ms, JSON.stringify(f));
        // Three processes each wrote and synced every batch: that costs CPU.
        assert.ok(f.serverCpuUsPerOp > 0, JSON.stringify(f));
      }
      // Sixteen callers share batches: more requests per second than one caller alone.
      assert.ok(figures[1]!.opsPerSec > figures[0]!.opsPerSec, JSON.stringify(figures));
      assert.deepEqual(readdirSync(dataDir), [], "the logs are removed");
      await settleChildren(FLAG);
      assert.deepEqual(childrenWithFlag(FLAG), []);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("past its timeout it kills the pipeline and says so instead of hanging", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "bare-"));
    try {
      await assert.rejects(
        measureBarePipeline({ dataDir, concurrencies: [1], durationMs: 5000, timeoutMs: 1500 }),
        /took over 1500 ms/,
      );
      await settleChildren(FLAG);
      assert.deepEqual(childrenWithFlag(FLAG), []);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a concurrency outside its bound", async () => {
    await assert.rejects(
      measureBarePipeline({ dataDir: tmpdir(), concurrencies: [0], durationMs: 100 }),
      RangeError,
    );
    await assert.rejects(
      measureBarePipeline({ dataDir: tmpdir(), concurrencies: [5000], durationMs: 100 }),
      /1\.\.4096/,
    );
  });
});
