import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { PersistRecord } from "../../src/core/durable.ts";
import { emptyDurableState, foldRecords } from "../../src/core/durable.ts";
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { StorageError } from "../../src/storage/storage-error.ts";
import {
  accept,
  assertSameState,
  ballot,
  everyKind,
  fileStorage,
  opCommand,
  recover,
  segmentFiles,
  snapshotAt,
  tempDir,
} from "./helpers.ts";

describe("FileStorage", () => {
  it("opens a new dir empty, with meta.json, a first segment and a lock", async (t) => {
    const dir = tempDir(t);
    const { storage } = fileStorage(t, dir);
    assertSameState(await storage.open(), emptyDurableState());
    assert.deepStrictEqual(readdirSync(dir).sort(), ["LOCK", "meta.json", "wal"]);
    assert.deepStrictEqual(segmentFiles(dir), ["00000001.wal"]);
    await storage.close();
    assert.ok(!existsSync(join(dir, "LOCK")), "close removes the lock");
  });

  it("round-trips every record kind, including a snapshot with app bytes and sessions", async (t) => {
    const dir = tempDir(t);
    const records = everyKind();
    const { storage } = fileStorage(t, dir);
    await storage.open();
    await storage.append(records.slice(0, 3));
    await storage.append(records.slice(3));
    await storage.close();
    const back = await recover(t, dir);
    assertSameState(back, foldRecords(records));
    assert.equal(back.snapshot?.app.constructor, Uint8Array);
    assert.deepStrictEqual(readdirSync(dir).sort(), ["meta.json", "snapshot-10.bin", "wal"]);
  });

  it("group commit: a batch of 1,000 records is one write and one datasync, nothing else", async (t) => {
    const dir = tempDir(t);
    const { storage, syncs } = fileStorage(t, dir);
    await storage.open();
    const batch: PersistRecord[] = [];
    for (let slot = 1; slot <= 1000; slot++) batch.push(accept(slot));
    const sizeBefore = statSync(join(dir, "wal", "00000001.wal")).size;
    syncs.length = 0;
    await storage.append(batch);
    assert.deepStrictEqual(
      syncs.map((s) => s.kind),
      ["wal"],
    );
    assert.ok(statSync(join(dir, "wal", "00000001.wal")).size > sizeBefore + 1000 * 20);
    await storage.append([{ kind: "commit", throughSlot: 1000 }]);
    assert.deepStrictEqual(
      syncs.map((s) => s.kind),
      ["wal", "wal"],
    );
    await storage.close();
    assert.equal((await recover(t, dir)).accepted.size, 1000);
  });

  it("serializes concurrent appends in call order, one sync each; an empty batch touches nothing", async (t) => {
    const dir = tempDir(t);
    const { storage, syncs } = fileStorage(t, dir);
    await storage.open();
    syncs.length = 0;
    const order: number[] = [];
    const calls = [1, 2, 3, 4, 5].map((round) =>
      storage.append([{ kind: "campaign", round }]).then(() => order.push(round)),
    );
    await storage.append([]);
    assert.equal(order.length, 0, "the empty append resolved at once, before the pending ones");
    await Promise.all(calls);
    assert.deepStrictEqual(order, [1, 2, 3, 4, 5]);
    assert.equal(syncs.length, 5);
    await storage.close();
    assert.equal((await recover(t, dir)).campaignRound, 5);
  });

  it("refuses a record over recordBytesMax before writing anything, and stays usable", async (t) => {
    const dir = tempDir(t);
    const { storage, syncs } = fileStorage(t, dir, { recordBytesMax: 200 });
    await storage.open();
    syncs.length = 0;
    const big: PersistRecord = {
      kind: "decide",
      slot: 1,
      value: {
        timeMs: 0,
        seed: 1,
        commands: [{ clientId: 1, seq: 1, ackedThrough: 0, body: { kind: "op", op: new Uint8Array(500) } }],
      },
    };
    await assert.rejects(storage.append([{ kind: "commit", throughSlot: 1 }, big]), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(
        err.message,
        /a decide record of \d+ bytes exceeds recordBytesMax 200; the batch was not written/,
      );
      return true;
    });
    assert.equal(syncs.length, 0);
    await storage.append([{ kind: "commit", throughSlot: 2 }]);
    await storage.close();
    assert.equal((await recover(t, dir)).committedThrough, 2);
  });

  it("writes a snapshot to its own file atomically and keeps only the newest one", async (t) => {
    const dir = tempDir(t);
    const { storage, syncs } = fileStorage(t, dir);
    await storage.open();
    syncs.length = 0;
    await storage.append([
      { kind: "snapshot", snapshot: snapshotAt(5) },
      { kind: "commit", throughSlot: 5 },
    ]);
    assert.deepStrictEqual(
      syncs.map((s) => s.kind),
      ["snapshot", "dir", "wal"],
    );
    assert.ok(existsSync(join(dir, "snapshot-5.bin")));
    syncs.length = 0;
    await storage.append([{ kind: "snapshot", snapshot: snapshotAt(9, new Uint8Array(10_000).fill(7)) }]);
    assert.deepStrictEqual(
      syncs.map((s) => s.kind),
      ["snapshot", "dir", "wal", "dir"],
      "the old file is deleted only after the new reference is durable",
    );
    // An older snapshot is ignored by applyRecord, so it is not written at all.
    syncs.length = 0;
    await storage.append([{ kind: "snapshot", snapshot: snapshotAt(7) }]);
    assert.equal(syncs.length, 0);
    await storage.close();
    assert.deepStrictEqual(
      readdirSync(dir).filter((n) => n.startsWith("snapshot")),
      ["snapshot-9.bin"],
    );
    const back = await recover(t, dir);
    assert.deepStrictEqual(back.snapshot, snapshotAt(9, new Uint8Array(10_000).fill(7)));
    assert.equal(back.committedThrough, 9);
  });

  it("returns a state the caller may mutate without changing what is durable", async (t) => {
    const dir = tempDir(t);
    const { storage } = fileStorage(t, dir, { segmentBytesMax: 1 });
    const state = await storage.open();
    await storage.append([accept(1)]);
    state.accepted.set(99, { slot: 99, ballot: ballot(1), value: { timeMs: 0, seed: 0, commands: [] } });
    await storage.append([accept(2)]); // rolls: the checkpoint is written from the storage's own image
    await storage.close();
    assert.deepStrictEqual([...(await recover(t, dir)).accepted.keys()].sort(), [1, 2]);
  });

  it("an I/O failure stops the storage (fail-stop); reopening recovers what was durable", async (t) => {
    const dir = tempDir(t);
    const { storage } = fileStorage(t, dir, { segmentBytesMax: 1 });
    await storage.open();
    // The next roll cannot create its segment: a directory sits where its temporary file goes.
    const blocker = join(dir, "wal", "00000002.wal.tmp");
    mkdirSync(blocker);
    await assert.rejects(storage.append([accept(1)]), /^StorageError: data dir .*: write failed \(EISDIR/);
    await assert.rejects(storage.append([accept(2)]), /write failed \(EISDIR/, "no retry after a failure");
    await storage.close();
    rmdirSync(blocker);
    const back = await recover(t, dir);
    assert.deepStrictEqual([...back.accepted.keys()], [1], "the batch was durable before the roll failed");
  });

  it("refuses to append when not open, to open twice, and after close", async (t) => {
    const dir = tempDir(t);
    const { storage } = fileStorage(t, dir);
    await assert.rejects(storage.append([{ kind: "campaign", round: 1 }]), /not open/);
    await storage.open();
    await assert.rejects(storage.open(), /already open/);
    await storage.close();
    await storage.close();
    await assert.rejects(storage.append([{ kind: "campaign", round: 1 }]), StorageError);
  });
});

describe("MemoryStorage", () => {
  it("has the file storage's semantics: survives close/open, copies values, bounds records", async () => {
    const storage = new MemoryStorage({ recordBytesMax: 300 });
    assert.equal(storage.dir, null);
    assertSameState(await storage.open(), emptyDurableState());
    const records = everyKind();
    await storage.append(records);
    await storage.append([]);
    const big = { kind: "snapshot", snapshot: snapshotAt(11, new Uint8Array(1000)) } as const;
    await storage.append([big]); // snapshots are not WAL records: no bound
    await assert.rejects(
      storage.append([
        {
          kind: "decide",
          slot: 20,
          value: { timeMs: 0, seed: 0, commands: [opCommand(1, 1, new Uint8Array(400))] },
        },
      ]),
      /exceeds recordBytesMax 300/,
    );
    await storage.close();
    const back = await storage.open();
    assertSameState(back, foldRecords([...records, big]));
    assert.notEqual(back.snapshot, big.snapshot, "values come back as copies, as from a disk");
    await assert.rejects(storage.open(), /already open/);
    await storage.close();
  });
});
