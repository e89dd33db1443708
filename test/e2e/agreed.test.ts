import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import { connect } from "../../src/client/client.ts";
import { ProcessCluster, ROOT } from "./process-cluster.ts";

interface Stamp {
  now: number;
  date: string;
  random: number;
  uuid: string;
}

describe("agreed time and randomness", { timeout: 120_000 }, () => {
  it("Date.now, new Date, Math.random and crypto.randomUUID give every replica the same state", async () => {
    const cluster = await ProcessCluster.start({
      replicas: 3,
      file: `${ROOT}test/e2e/fixtures/stamps.ts`,
      className: "Stamps",
    });
    try {
      const clients = await Promise.all(
        [0, 1, 2].map(() => connect(cluster.connectString, { timeoutMs: 10_000 })),
      );
      await Promise.all(
        clients.map(async (c) => {
          for (let i = 0; i < 10; i++) await c.object<{ stamp(): number }>().stamp();
        }),
      );
      const stamps = (await clients[0]!.object<{ all(): Stamp[] }>().all()) as Stamp[];
      await Promise.all(clients.map((c) => c.close()));
      assert.equal(stamps.length, 30);
      assert.equal(new Set(stamps.map((s) => s.uuid)).size, 30, "randomness is random");
      assert.equal(new Set(stamps.map((s) => s.random)).size, 30);
      for (let i = 1; i < stamps.length; i++)
        assert.ok(stamps[i]!.now >= stamps[i - 1]!.now, "agreed time never goes back");
      for (const s of stamps)
        assert.equal(new Date(s.date).getTime(), s.now, "new Date() reads the same agreed time");
      assert.ok(Math.abs(stamps.at(-1)!.now - Date.now()) < 60_000, "agreed time is the leader's real time");

      // Every replica must hold byte-identical state once it applied the same slots.
      let statuses = await Promise.all([0, 1, 2].map((i) => fetchStatus(cluster.address(i))));
      for (let i = 0; i < 50 && new Set(statuses.map((s) => s.executed)).size > 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
        statuses = await Promise.all([0, 1, 2].map((i) => fetchStatus(cluster.address(i))));
      }
      assert.equal(new Set(statuses.map((s) => s.executed)).size, 1, "the replicas caught up");
      assert.ok(statuses[0]!.stateHash);
      assert.deepEqual(
        statuses.map((s) => s.stateHash),
        [statuses[0]!.stateHash, statuses[0]!.stateHash, statuses[0]!.stateHash],
        "the three snapshots are byte for byte the same",
      );
    } finally {
      await cluster.stop();
    }
  });
});
