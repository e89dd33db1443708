import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ballot } from "../../src/core/ballot.ts";
import type { Batch, Command } from "../../src/core/command.ts";
import type { DurableState, PersistRecord } from "../../src/core/durable.ts";
import type { Snapshot } from "../../src/core/snapshot.ts";
import type { FileStorageOptions } from "../../src/storage/file-storage.ts";
import { FileStorage } from "../../src/storage/file-storage.ts";
import type { SyncEvent } from "../../src/storage/node-storage.ts";

/** The identity every test storage runs for, unless a test says otherwise. */
export const IDENTITY = "cluster-identity-0123456789abcdef";

/** Something that can register cleanup, like node:test's TestContext. */
interface HasAfter {
  after(fn: () => void | Promise<void>): void;
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: HasAfter): string {
  const dir = mkdtempSync(join(tmpdir(), "concoord-storage-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A FileStorage on `dir` that records its sync events and is closed when the test ends (closing twice
 * is harmless).
 */
export function fileStorage(
  t: HasAfter,
  dir: string,
  options: Partial<FileStorageOptions> = {},
): { storage: FileStorage; syncs: SyncEvent[] } {
  const syncs: SyncEvent[] = [];
  const storage = new FileStorage({
    dir,
    identity: IDENTITY,
    // These tests read and cut segment files byte by byte: no zeros ahead unless a test asks for them.
    preallocateBytes: 0,
    ...options,
    onSync: (e) => {
      syncs.push(e);
      options.onSync?.(e);
    },
  });
  t.after(() => storage.close().catch(() => undefined));
  return { storage, syncs };
}

/** Opens a storage on `dir`, appends `batches`, closes it. */
export async function writeBatches(
  t: HasAfter,
  dir: string,
  batches: readonly (readonly PersistRecord[])[],
  options: Partial<FileStorageOptions> = {},
): Promise<void> {
  const { storage } = fileStorage(t, dir, options);
  await storage.open();
  for (const batch of batches) await storage.append(batch);
  await storage.close();
}

/** Opens a storage on `dir`, returns what it recovered, closes it. */
export async function recover(
  t: HasAfter,
  dir: string,
  options: Partial<FileStorageOptions> = {},
): Promise<DurableState> {
  const { storage } = fileStorage(t, dir, options);
  const state = await storage.open();
  await storage.close();
  return state;
}

/** Segment file names in `<dir>/wal`, sorted. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, "wal"))
    .filter((n) => n.endsWith(".wal"))
    .sort();
}

/** Asserts two durable states are equal field by field (maps compared as sorted entries). */
export function assertSameState(actual: DurableState, expected: DurableState): void {
  assert.deepStrictEqual(actual.promised, expected.promised, "promised");
  assert.equal(actual.campaignRound, expected.campaignRound, "campaignRound");
  assert.deepStrictEqual(sortedEntries(actual.accepted), sortedEntries(expected.accepted), "accepted");
  assert.equal(actual.truncatedThrough, expected.truncatedThrough, "truncatedThrough");
  assert.deepStrictEqual(sortedEntries(actual.decided), sortedEntries(expected.decided), "decided");
  assert.equal(actual.committedThrough, expected.committedThrough, "committedThrough");
  assert.deepStrictEqual(actual.snapshot, expected.snapshot, "snapshot");
}

function sortedEntries<V>(map: ReadonlyMap<number, V>): [number, V][] {
  return [...map.entries()].sort((a, b) => a[0] - b[0]);
}

export function ballot(round: number, nodeId = 1): Ballot {
  return { round, nodeId };
}

export function opCommand(clientId: number, seq: number, op: Uint8Array): Command {
  return { clientId, seq, ackedThrough: seq - 1, body: { kind: "op", op } };
}

/** A batch of `n` small operations (n = 0 is a no-op slot). */
export function batchOf(slot: number, n = 1): Batch {
  const commands: Command[] = [];
  for (let i = 0; i < n; i++)
    commands.push(opCommand(7, slot * 100 + i, new Uint8Array([slot & 0xff, i & 0xff, 3])));
  return { timeMs: 1_000 + slot, seed: slot, commands };
}

export function accept(slot: number, round = 1): PersistRecord {
  return { kind: "accept", pvalue: { slot, ballot: ballot(round), value: batchOf(slot) } };
}

export function snapshotAt(slot: number, app: Uint8Array = new Uint8Array([1, 2, 3, slot & 0xff])): Snapshot {
  return {
    slot,
    app,
    sessions: [
      {
        id: 1,
        ackedThrough: 4,
        lastActiveMs: 99,
        ttlMs: 10_000,
        replies: [
          [5, { ok: true, result: new Uint8Array([9, 9]) }],
          [6, { ok: false, error: "Busy", message: "busy", leaderId: 2 }],
        ],
        parked: [[7, Number.POSITIVE_INFINITY]],
      },
    ],
    configs: [
      { fromSlot: 0, config: { members: [{ id: 1, replica: true, acceptor: true, address: "h:1" }] } },
    ],
    clockMs: 123_456,
    nextSessionId: 2,
  };
}

/** One record of every kind, in an order that leaves all of them visible in the folded state. */
export function everyKind(): PersistRecord[] {
  return [
    { kind: "promise", ballot: ballot(3, 2) },
    { kind: "campaign", round: 3 },
    { kind: "snapshot", snapshot: snapshotAt(10) },
    { kind: "truncate", throughSlot: 10 },
    accept(11, 3),
    accept(12, 3),
    {
      kind: "decide",
      slot: 13,
      value: {
        timeMs: 5,
        seed: 5,
        commands: [
          { clientId: 0, seq: 77, ackedThrough: 0, body: { kind: "open" } },
          {
            clientId: 3,
            seq: 1,
            ackedThrough: 0,
            body: {
              kind: "reconfig",
              change: { kind: "add", member: { id: 4, replica: false, acceptor: true } },
            },
          },
          {
            clientId: 3,
            seq: 2,
            ackedThrough: 1,
            body: { kind: "reconfig", change: { kind: "remove", id: 2 } },
          },
        ],
      },
    },
    { kind: "commit", throughSlot: 13 },
  ];
}
