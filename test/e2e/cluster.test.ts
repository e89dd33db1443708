import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { CounterInput, CounterOutput, Operation } from "../../src/check/index.ts";
import { checkHistory, counterModel } from "../../src/check/index.ts";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import type { Remote } from "../../src/client/client.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { incrementLoad, leaderIndex } from "./load.ts";
import { ProcessCluster } from "./process-cluster.ts";

describe("a three-replica cluster of real processes", { timeout: 240_000 }, () => {
  let cluster: ProcessCluster;
  after(async () => {
    await cluster?.stop();
  });

  it("8 clients × 500 increments at once: the final value is exact", async () => {
    cluster = await ProcessCluster.start({ replicas: 3 });
    const clients = await Promise.all(
      Array.from({ length: 8 }, () => connect(cluster.connectString, { timeoutMs: 10_000 })),
    );
    await Promise.all(
      clients.map(async (client) => {
        const counter: Remote<Counter> = client.object<Counter>();
        // Pipelined in waves of 50 over one connection per client.
        for (let wave = 0; wave < 10; wave++)
          await Promise.all(Array.from({ length: 50 }, () => counter.increment()));
      }),
    );
    const value = await clients[0]!.object<Counter>().getvalue();
    assert.equal(value, 4000);
    await Promise.all(clients.map((c) => c.close()));
  });

  it("kill -9 of the leader under load: the others keep serving, the history is linearizable, the node catches up", async () => {
    const history: Operation<CounterInput, CounterOutput>[] = [];
    const before = await (async () => {
      const c = await connect(cluster.connectString);
      const v = await c.object<Counter>().getvalue();
      await c.close();
      return v;
    })();
    const leader = await leaderIndex(cluster);
    let phase: "before" | "after" | "done" = "before";
    let ackedAfterKill = 0;
    const load = incrementLoad(cluster.connectString, { clients: 4, until: () => phase === "done", history });
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.kill(leader);
    const killedAt = history.length;
    phase = "after";
    await new Promise((r) => setTimeout(r, 3000));
    phase = "done";
    const { acked, unknown } = await load;
    ackedAfterKill = history.slice(killedAt).filter((op) => op.output !== undefined).length;
    assert.ok(ackedAfterKill > 0, "the surviving replicas kept serving after the leader died");
    assert.ok(acked > 50, `load ran (${acked} acked, ${unknown} unknown)`);

    await cluster.startNode(leader);
    const client = await connect(cluster.connectString);
    const final = await client.object<Counter>().getvalue();
    await client.close();
    history.push({
      id: 1e9,
      clientId: 98,
      input: { kind: "read", key: "c" },
      output: final,
      callTime: 1e12,
      returnTime: 1e12 + 1,
    });
    // The counter started this test at `before`: shift the values so the model starts from zero.
    const shifted = history.map((op) => ({
      ...op,
      output: op.output === undefined ? undefined : op.output - before,
    }));
    const result = checkHistory(counterModel, shifted);
    assert.equal(result.result, "ok", JSON.stringify(result));
    assert.ok(
      final >= before + acked && final <= before + acked + unknown,
      `final ${final} vs acked ${acked}`,
    );

    let caughtUp = false;
    for (let i = 0; i < 100 && !caughtUp; i++) {
      const statuses = await Promise.all([0, 1, 2].map((n) => fetchStatus(cluster.address(n))));
      caughtUp = statuses.every((s) => s.executed === statuses[0]!.executed);
      if (!caughtUp) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(caughtUp, "the restarted node applied everything the others applied");
  });

  it("kill -9 of all three under load, then restart: no acknowledged increment is lost", async () => {
    const history: Operation<CounterInput, CounterOutput>[] = [];
    let stop = false;
    const load = incrementLoad(cluster.connectString, { clients: 4, until: () => stop, history });
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all([0, 1, 2].map((i) => cluster.kill(i)));
    stop = true;
    const { acked } = await load;
    const highestAcked = Math.max(
      ...history.filter((op) => op.output !== undefined).map((op) => op.output as number),
    );
    await Promise.all([0, 1, 2].map((i) => cluster.startNode(i)));
    const client = await connect(cluster.connectString, { timeoutMs: 10_000 });
    const final = await client.object<Counter>().getvalue();
    await client.close();
    assert.ok(acked > 10, `load ran (${acked} acked)`);
    assert.ok(
      final >= highestAcked,
      `every acknowledged increment survived: final ${final}, highest acknowledged ${highestAcked}`,
    );
  });
});
