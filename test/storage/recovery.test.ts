import assert from "node:assert/strict";
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { PersistRecord } from "../../src/core/durable.ts";
import { foldRecords } from "../../src/core/durable.ts";
import { StorageError } from "../../src/storage/storage-error.ts";
import {
  accept,
  assertSameState,
  ballot,
  fileStorage,
  recover,
  snapshotAt,
  tempDir,
  writeBatches,
} from "./helpers.ts";

const REFUSAL = "refusing to start — restore this node from a peer or remove the data dir to rejoin empty";

/** Five batches of three records each. */
function fiveBatches(): PersistRecord[][] {
  const batches: PersistRecord[][] = [];
  for (let b = 1; b <= 5; b++) {
    batches.push([
      { kind: "promise", ballot: ballot(b) },
      accept(b, b),
      { kind: "commit", throughSlot: b - 1 },
    ]);
  }
  return batches;
}

/**
 * Writes the five batches to a new dir; returns the segment path and where each batch starts in it (the
 * segment's size before the batch).
 */
async function writeFive(
  t: Parameters<typeof tempDir>[0],
): Promise<{ dir: string; wal: string; starts: number[] }> {
  const dir = tempDir(t);
  const wal = join(dir, "wal", "00000001.wal");
  const starts: number[] = [];
  const { storage } = fileStorage(t, dir);
  await storage.open();
  for (const batch of fiveBatches()) {
    starts.push(statSync(wal).size);
    await storage.append(batch);
  }
  await storage.close();
  return { dir, wal, starts };
}

function firstBatches(n: number): PersistRecord[] {
  return fiveBatches().slice(0, n).flat();
}

async function assertRefuses(t: Parameters<typeof tempDir>[0], dir: string, message: RegExp | string) {
  const { storage } = fileStorage(t, dir);
  await assert.rejects(storage.open(), (err: unknown) => {
    assert.ok(err instanceof StorageError, String(err));
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    assert.ok(!err.message.includes("\n"), "one line");
    return true;
  });
  assert.ok(!existsSync(join(dir, "LOCK")), "a refused open releases the lock");
}

describe("recovery: torn tails", () => {
  it("a tail cut by a few bytes loses only the last, unacknowledged batch — and that cut is synced", async (t) => {
    for (const cut of [1, 3, 9]) {
      const { dir, wal, starts } = await writeFive(t);
      truncateSync(wal, statSync(wal).size - cut);
      const { storage, syncs } = fileStorage(t, dir);
      assertSameState(await storage.open(), foldRecords(firstBatches(4)));
      assert.deepStrictEqual(syncs[0], { kind: "truncate", path: wal });
      assert.equal(statSync(wal).size, starts[4], "cut back to the end of the last complete batch");
      // Appends continue after the cut, and recover.
      await storage.append([{ kind: "campaign", round: 42 }]);
      await storage.close();
      assertSameState(
        await recover(t, dir),
        foldRecords([...firstBatches(4), { kind: "campaign", round: 42 }]),
      );
    }
  });

  it("garbage appended after the last batch is cut off", async (t) => {
    const { dir, wal } = await writeFive(t);
    const size = statSync(wal).size;
    appendFileSync(wal, Buffer.from("this is not a frame, just some junk that a crash left behind"));
    assertSameState(await recover(t, dir), foldRecords(firstBatches(5)));
    assert.equal(statSync(wal).size, size);
  });

  it("a zero-filled tail (space written ahead, or an extension whose data never came) is kept as free space", async (t) => {
    const { dir, wal } = await writeFive(t);
    const size = statSync(wal).size;
    appendFileSync(wal, new Uint8Array(8192));
    assertSameState(await recover(t, dir), foldRecords(firstBatches(5)));
    assert.equal(statSync(wal).size, size + 8192, "nothing is cut");
    // The next batch goes where the log ends, not after the zeros.
    const sixth: PersistRecord[] = [{ kind: "promise", ballot: ballot(6) }];
    await writeBatches(t, dir, [sixth]);
    assert.equal(statSync(wal).size, size + 8192);
    assertSameState(await recover(t, dir), foldRecords([...firstBatches(5), ...sixth]));
  });

  it("an incomplete batch before zeros is torn: cut off with the zeros", async (t) => {
    const { dir, wal, starts } = await writeFive(t);
    const bytes = readFileSync(wal);
    // The last batch's first frame reached the disk, the rest (and the space ahead) reads as zeros.
    bytes.fill(0, starts[4]! + 30);
    writeFileSync(wal, Buffer.concat([bytes, new Uint8Array(4096)]));
    assertSameState(await recover(t, dir), foldRecords(firstBatches(4)));
    assert.equal(statSync(wal).size, starts[4]);
  });

  it("a hole inside the last batch is torn even when its later frames reached the disk", async (t) => {
    const { dir, wal, starts } = await writeFive(t);
    const bytes = readFileSync(wal);
    bytes.fill(0, starts[4]!, starts[4]! + 20);
    writeFileSync(wal, bytes);
    assertSameState(await recover(t, dir), foldRecords(firstBatches(4)));
  });

  it("a damaged last frame (checksum mismatch) is torn", async (t) => {
    const { dir, wal } = await writeFive(t);
    const bytes = readFileSync(wal);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
    writeFileSync(wal, bytes);
    assertSameState(await recover(t, dir), foldRecords(firstBatches(4)));
  });
});

describe("recovery: a crash cuts the file anywhere", () => {
  it("property: recovery keeps exactly the batches that were wholly on disk", async (t) => {
    const dir = tempDir(t);
    const batches: PersistRecord[][] = [];
    for (let b = 1; b <= 12; b++) {
      const batch: PersistRecord[] = [];
      for (let i = 0; i < (b % 4) + 1; i++) batch.push(accept(b * 10 + i, b));
      batch.push({ kind: "commit", throughSlot: b * 10 });
      batches.push(batch);
    }
    const wal = join(dir, "wal", "00000001.wal");
    const ends: number[] = [];
    const { storage } = fileStorage(t, dir);
    await storage.open();
    const checkpointEnd = statSync(wal).size;
    for (const batch of batches) {
      await storage.append(batch);
      ends.push(statSync(wal).size);
    }
    await storage.close();
    const full = readFileSync(wal);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: checkpointEnd, max: full.length }), async (cut) => {
        writeFileSync(wal, full.subarray(0, cut));
        const whole = ends.filter((end) => end <= cut).length;
        assertSameState(await recover(t, dir), foldRecords(batches.slice(0, whole).flat()));
        assert.equal(statSync(wal).size, whole === 0 ? checkpointEnd : ends[whole - 1]);
      }),
      { numRuns: 60 },
    );
    // With zeros written ahead, what never reached the disk reads as zeros up to the file's size.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: checkpointEnd, max: full.length }), async (cut) => {
        const size = full.length + 512;
        writeFileSync(wal, Buffer.concat([full.subarray(0, cut), new Uint8Array(size - cut)]));
        const whole = ends.filter((end) => end <= cut).length;
        const logEnd = whole === 0 ? checkpointEnd : ends[whole - 1]!;
        assertSameState(await recover(t, dir), foldRecords(batches.slice(0, whole).flat()));
        // A cut at a batch's end leaves a clean log and its zeros; a cut inside a batch is torn and cut off.
        assert.equal(statSync(wal).size, cut === logEnd ? size : logEnd);
      }),
      { numRuns: 60 },
    );
  });
});

describe("recovery: a log with zeros written ahead (preallocateBytes)", () => {
  it("keeps the file's size between batches, and recovers every batch across restarts", async (t) => {
    const dir = tempDir(t);
    const wal = join(dir, "wal", "00000001.wal");
    const options = { preallocateBytes: 4096 };
    const { storage } = fileStorage(t, dir, options);
    await storage.open();
    const sizes = new Set<number>();
    for (const batch of fiveBatches()) {
      await storage.append(batch);
      sizes.add(statSync(wal).size);
    }
    await storage.close();
    assert.equal(sizes.size, 1, `one extension for five small batches, sizes ${[...sizes]}`);
    assertSameState(await recover(t, dir, options), foldRecords(firstBatches(5)));
    const sixth: PersistRecord[] = [{ kind: "promise", ballot: ballot(6) }];
    await writeBatches(t, dir, [sixth], options);
    assertSameState(await recover(t, dir, options), foldRecords([...firstBatches(5), ...sixth]));
  });

  it("still refuses corruption that later batches prove, with zeros after them", async (t) => {
    const dir = tempDir(t);
    await writeBatches(t, dir, fiveBatches(), { preallocateBytes: 4096 });
    const wal = join(dir, "wal", "00000001.wal");
    const bytes = readFileSync(wal);
    assert.ok(
      bytes.subarray(bytes.length - 100).every((b) => b === 0),
      "zeros were written ahead",
    );
    bytes[40] = bytes[40]! ^ 0x01;
    writeFileSync(wal, bytes);
    await assertRefuses(t, dir, /is corrupt at byte \d+ \(checksum mismatch\)/);
  });

  it("refuses a preallocation above segmentBytesMax or below 0", () => {
    const dir = "/nonexistent";
    assert.throws(() => fileStorage({ after: () => {} }, dir, { preallocateBytes: -1 }), /preallocateBytes/);
    assert.throws(
      () => fileStorage({ after: () => {} }, dir, { preallocateBytes: 2048, segmentBytesMax: 1024 }),
      /preallocateBytes must be an integer from 0 to segmentBytesMax \(1024\)/,
    );
  });
});

describe("recovery: corruption refuses to start", () => {
  it("a checksum mismatch followed by later batches names the segment and byte, and changes nothing", async (t) => {
    const { dir, wal, starts } = await writeFive(t);
    const bytes = readFileSync(wal);
    bytes[starts[1]! + 12] = bytes[starts[1]! + 12]! ^ 0x01;
    writeFileSync(wal, bytes);
    await assertRefuses(
      t,
      dir,
      `data dir ${dir}: WAL segment 00000001.wal is corrupt at byte ${starts[1]} (checksum mismatch); ${REFUSAL}`,
    );
    assert.deepStrictEqual(readFileSync(wal), bytes, "a corrupt log is never truncated");
    await assertRefuses(t, dir, /is corrupt at byte/);
  });

  it("a garbage frame length before the tail is corruption, not an allocation", async (t) => {
    const { dir, wal, starts } = await writeFive(t);
    const bytes = readFileSync(wal);
    bytes.writeUInt32LE(0xfffffff0, starts[2]!);
    writeFileSync(wal, bytes);
    await assertRefuses(
      t,
      dir,
      `data dir ${dir}: WAL segment 00000001.wal is corrupt at byte ${starts[2]} (frame length 4294967280 exceeds recordBytesMax 67108864); ${REFUSAL}`,
    );
  });

  it("zeros in the middle of the log are corruption", async (t) => {
    const { dir, wal, starts } = await writeFive(t);
    const bytes = readFileSync(wal);
    bytes.fill(0, starts[3]!, starts[4]!);
    writeFileSync(wal, bytes);
    await assertRefuses(t, dir, /corrupt at byte \d+ \(zero frame length\)/);
  });

  it("a WAL emptied behind meta.json, or a WAL without meta.json, is refused — never started empty", async (t) => {
    const { dir } = await writeFive(t);
    const meta = readFileSync(join(dir, "meta.json"));
    rmSync(join(dir, "wal"), { recursive: true });
    await assertRefuses(t, dir, `data dir ${dir}: meta.json exists but wal/ holds no segment; ${REFUSAL}`);

    const other = (await writeFive(t)).dir;
    rmSync(join(other, "meta.json"));
    await assertRefuses(t, other, `data dir ${other}: holds a WAL but no meta.json; ${REFUSAL}`);
    writeFileSync(join(other, "meta.json"), "{ not json");
    await assertRefuses(t, other, /meta\.json is not valid/);
    writeFileSync(join(other, "meta.json"), meta);
    assertSameState(await recover(t, other), foldRecords(firstBatches(5)));
  });
});

describe("recovery: snapshot files", () => {
  it("a leftover snapshot.tmp and an unreferenced newer snapshot file are ignored and removed", async (t) => {
    const dir = tempDir(t);
    const records: PersistRecord[] = [{ kind: "snapshot", snapshot: snapshotAt(5) }, accept(6)];
    await writeBatches(t, dir, [records]);
    writeFileSync(join(dir, "snapshot.tmp"), "half a snapshot");
    // Renamed into place but its WAL reference never became durable.
    writeFileSync(join(dir, "snapshot-8.bin"), readFileSync(join(dir, "snapshot-5.bin")));
    assertSameState(await recover(t, dir), foldRecords(records));
    assert.deepStrictEqual(readdirSync(dir).sort(), ["meta.json", "snapshot-5.bin", "wal"]);
  });

  it("a missing or damaged referenced snapshot is corruption", async (t) => {
    const dir = tempDir(t);
    await writeBatches(t, dir, [[{ kind: "snapshot", snapshot: snapshotAt(5) }]]);
    const file = join(dir, "snapshot-5.bin");
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x10;
    writeFileSync(file, bytes);
    await assertRefuses(
      t,
      dir,
      `data dir ${dir}: snapshot file snapshot-5.bin is corrupt (checksum mismatch); ${REFUSAL}`,
    );
    rmSync(file);
    await assertRefuses(t, dir, /snapshot file snapshot-5\.bin is corrupt \(missing\)/);
  });
});
