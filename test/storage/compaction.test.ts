import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Batch } from "../../src/core/command.ts";
import type { PersistRecord } from "../../src/core/durable.ts";
import { foldRecords } from "../../src/core/durable.ts";
import type { SyncEvent } from "../../src/storage/node-storage.ts";
import {
  accept,
  assertSameState,
  ballot,
  fileStorage,
  opCommand,
  recover,
  segmentFiles,
  snapshotAt,
  tempDir,
} from "./helpers.ts";

/** What a busy node writes: accepts, commits, and every `snapshotEvery` slots a snapshot and a truncate. */
function workload(slots: number, snapshotEvery: number): PersistRecord[][] {
  const batches: PersistRecord[][] = [];
  for (let slot = 1; slot <= slots; slot++) {
    const batch: PersistRecord[] = [accept(slot, 2), { kind: "commit", throughSlot: slot - 1 }];
    if (slot % snapshotEvery === 0) {
      batch.push(
        { kind: "snapshot", snapshot: snapshotAt(slot - 2) },
        { kind: "truncate", throughSlot: slot - 2 },
      );
    }
    batches.push(batch);
  }
  return batches;
}

describe("compaction", () => {
  it("keeps one bounded segment however much is appended, and recovers the same state", async (t) => {
    const dir = tempDir(t);
    let checkpointBytesMax = 0;
    const { storage, syncs } = fileStorage(t, dir, {
      segmentBytesMax: 2048,
      onSync: (e) => {
        if (e.kind === "segment") checkpointBytesMax = Math.max(checkpointBytesMax, statSync(e.path).size);
      },
    });
    await storage.open();
    const batches = workload(400, 20);
    let walBytesMax = 0;
    for (const batch of batches) {
      await storage.append(batch);
      const files = segmentFiles(dir);
      assert.equal(files.length, 1, `after a completed append one segment is left, got ${files}`);
      walBytesMax = Math.max(walBytesMax, statSync(join(dir, "wal", files[0]!)).size);
    }
    await storage.close();
    // A roll waits until the segment holds at least as many new bytes as its checkpoint, so that a
    // large image is not rewritten on every append: the bound is twice the larger of the two, plus a batch.
    const bound = 2 * Math.max(2048, checkpointBytesMax) + 1024;
    assert.ok(walBytesMax <= bound, `segment peaked at ${walBytesMax} bytes, bound ${bound}`);
    assert.ok(
      checkpointBytesMax < 4096,
      `checkpoints stay small (truncate and snapshots shrink the image): ${checkpointBytesMax}`,
    );
    const rolls = syncs.filter((s) => s.kind === "segment").length;
    assert.ok(rolls > 20, `rolled ${rolls} times`);
    assert.ok(Number.parseInt(segmentFiles(dir)[0]!, 10) > 20);
    assertSameState(await recover(t, dir), foldRecords(batches.flat()));
  });

  it("property: any records, any batching, any segment size, restarts anywhere → recovery equals foldRecords", async (t) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(recordArb(), { minLength: 0, maxLength: 6 }), { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 40, max: 3000 }),
        fc.nat(14),
        async (batches, segmentBytesMax, restartAt) => {
          const dir = tempDir(t);
          let { storage } = fileStorage(t, dir, { segmentBytesMax });
          await storage.open();
          for (const [i, batch] of batches.entries()) {
            if (i === restartAt) {
              await storage.close();
              ({ storage } = fileStorage(t, dir, { segmentBytesMax }));
              await storage.open();
            }
            await storage.append(batch);
          }
          await storage.close();
          assert.ok(segmentFiles(dir).length <= 1);
          assertSameState(await recover(t, dir, { segmentBytesMax }), foldRecords(batches.flat()));
          rmSync(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("compaction: a crash during a roll recovers", () => {
  /**
   * Appends the workload until the first roll, capturing the files as they were when the new segment
   * had been written and synced under its temporary name: the old segment (still complete) and the new
   * one. Returns the records appended.
   */
  async function rollOnce(t: Parameters<typeof tempDir>[0], dir: string) {
    let captured: { old: Map<string, Buffer>; newName: string; newBytes: Buffer } | null = null;
    const capture = (e: SyncEvent) => {
      if (captured !== null || e.kind !== "segment" || basename(e.path) === "00000001.wal.tmp") return;
      const old = new Map<string, Buffer>();
      for (const name of segmentFiles(dir)) old.set(name, readFileSync(join(dir, "wal", name)));
      captured = { old, newName: basename(e.path, ".tmp"), newBytes: readFileSync(e.path) };
    };
    const { storage } = fileStorage(t, dir, { segmentBytesMax: 1500, onSync: capture });
    await storage.open();
    const records: PersistRecord[] = [];
    for (const batch of workload(200, 15)) {
      await storage.append(batch);
      records.push(...batch);
      if (captured !== null) break;
    }
    await storage.close();
    assert.ok(captured !== null, "a roll happened");
    const c = captured as { old: Map<string, Buffer>; newName: string; newBytes: Buffer };
    assert.deepStrictEqual([...c.old.keys()], ["00000001.wal"]);
    assert.deepStrictEqual(segmentFiles(dir), [c.newName]);
    return { records, ...c };
  }

  function restoreOld(dir: string, old: Map<string, Buffer>) {
    for (const [name, bytes] of old) writeFileSync(join(dir, "wal", name), bytes);
  }

  it("after the rename, before the old segment was deleted: both present", async (t) => {
    const dir = tempDir(t);
    const { records, old, newName } = await rollOnce(t, dir);
    restoreOld(dir, old);
    assert.equal(segmentFiles(dir).length, 2);
    assertSameState(await recover(t, dir), foldRecords(records));
    assert.deepStrictEqual(segmentFiles(dir), [newName], "the redundant old segment is deleted");
  });

  it("before the rename: a leftover .wal.tmp is ignored and removed", async (t) => {
    const dir = tempDir(t);
    const { records, old, newName, newBytes } = await rollOnce(t, dir);
    rmSync(join(dir, "wal", newName));
    restoreOld(dir, old);
    writeFileSync(join(dir, "wal", `${newName}.tmp`), newBytes.subarray(0, newBytes.length >> 1));
    assertSameState(await recover(t, dir), foldRecords(records));
    assert.deepStrictEqual(readdirSync(join(dir, "wal")), ["00000001.wal"]);
  });

  it("a half-written new segment next to the old one: the old one is the base, the torn part is cut", async (t) => {
    const dir = tempDir(t);
    const { records, old, newName, newBytes } = await rollOnce(t, dir);
    restoreOld(dir, old);
    writeFileSync(join(dir, "wal", newName), newBytes.subarray(0, (newBytes.length >> 1) + 3));
    const { storage } = fileStorage(t, dir, { segmentBytesMax: 1500 });
    assertSameState(await storage.open(), foldRecords(records));
    // Keep going: later appends and rolls build on the repaired log.
    const more = workload(260, 15).slice(200);
    for (const batch of more) await storage.append(batch);
    await storage.close();
    assertSameState(await recover(t, dir), foldRecords([...records, ...more.flat()]));
    assert.equal(segmentFiles(dir).length, 1);
  });

  it("corruption in the older of two segments refuses to start", async (t) => {
    const dir = tempDir(t);
    const { old } = await rollOnce(t, dir);
    const bytes = old.get("00000001.wal")!;
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x80;
    restoreOld(dir, old);
    const { storage } = fileStorage(t, dir);
    await assert.rejects(
      storage.open(),
      /WAL segment 00000001\.wal is corrupt at byte \d+ \(.*\); refusing to start/,
    );
  });
});

function batchArb(): fc.Arbitrary<Batch> {
  const command = fc
    .tuple(fc.nat(50), fc.nat(1000), fc.uint8Array({ maxLength: 40 }))
    .map(([c, s, op]) => opCommand(c, s, op));
  return fc
    .tuple(fc.nat(1_000_000), fc.array(command, { maxLength: 3 }))
    .map(([timeMs, commands]) => ({ timeMs, seed: 0, commands }));
}

/** Records of every kind over a small slot range, so that they interact (overwrite, truncate, snapshot). */
function recordArb(): fc.Arbitrary<PersistRecord> {
  const slot = fc.integer({ min: 0, max: 60 });
  const ballotArb = fc.tuple(fc.nat(20), fc.nat(5)).map(([r, n]) => ballot(r, n));
  return fc.oneof(
    ballotArb.map((b): PersistRecord => ({ kind: "promise", ballot: b })),
    fc.nat(20).map((round): PersistRecord => ({ kind: "campaign", round })),
    fc
      .tuple(slot, ballotArb, batchArb())
      .map(([s, b, value]): PersistRecord => ({ kind: "accept", pvalue: { slot: s, ballot: b, value } })),
    slot.map((throughSlot): PersistRecord => ({ kind: "truncate", throughSlot })),
    fc.tuple(slot, batchArb()).map(([s, value]): PersistRecord => ({ kind: "decide", slot: s, value })),
    slot.map((throughSlot): PersistRecord => ({ kind: "commit", throughSlot })),
    fc
      .tuple(slot, fc.uint8Array({ maxLength: 200 }))
      .map(([s, app]): PersistRecord => ({ kind: "snapshot", snapshot: snapshotAt(s, app) })),
  );
}
