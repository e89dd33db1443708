import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { ProcessCluster } from "./process-cluster.ts";

describe("catch-up", { timeout: 240_000 }, () => {
  it("a replica down while 10,000 commands were decided rejoins through a snapshot plus the suffix", async () => {
    const extra = ["--snapshot-interval", "20"];
    const cluster = await ProcessCluster.start({
      replicas: 3,
      override: { 0: { extra }, 1: { extra }, 2: { extra } },
    });
    try {
      await cluster.kill(2);
      const clients = await Promise.all(
        Array.from({ length: 8 }, () => connect(cluster.connectString, { timeoutMs: 30_000 })),
      );
      await Promise.all(
        clients.map(async (client) => {
          const counter = client.object<Counter>();
          for (let wave = 0; wave < 25; wave++)
            await Promise.all(Array.from({ length: 50 }, () => counter.increment()));
        }),
      );
      assert.equal(await clients[0]!.object<Counter>().getvalue(), 10_000);
      await Promise.all(clients.map((c) => c.close()));
      const leader = await fetchStatus(cluster.address(0));
      assert.ok(leader.snapshotSlot > 0, "the others snapshotted and trimmed their logs meanwhile");

      await cluster.startNode(2);
      let back = await fetchStatus(cluster.address(2));
      for (let i = 0; i < 100 && back.executed < leader.executed; i++) {
        await new Promise((r) => setTimeout(r, 100));
        back = await fetchStatus(cluster.address(2));
      }
      assert.ok(back.executed >= leader.executed, `caught up to ${back.executed} of ${leader.executed}`);
      assert.ok(back.snapshotsInstalled >= 1, "status shows the snapshot path was used");
      const now = await fetchStatus(cluster.address(0));
      if (now.executed === back.executed)
        assert.equal(back.stateHash, now.stateHash, "same state as the leader");
    } finally {
      await cluster.stop();
    }
  });
});
