import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import type { CounterInput, CounterOutput, Operation } from "../../src/check/index.ts";
import { checkHistory, counterModel } from "../../src/check/index.ts";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { GrowingCluster } from "./growing-cluster.ts";
import { incrementLoad } from "./load.ts";
import { ROOT, runCli, spawnCli } from "./process-cluster.ts";

async function memberIds(bootstrap: string): Promise<Map<string, number>> {
  const r = await runCli(["member", "list", "-b", bootstrap, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const members = JSON.parse(r.stdout) as { id: number; address: string }[];
  return new Map(members.map((m) => [m.address, m.id]));
}

describe("membership changes with real processes", { timeout: 300_000 }, () => {
  const clusters: GrowingCluster[] = [];
  after(async () => {
    await Promise.all(clusters.map((c) => c.stop()));
  });

  it("grows 1 → 3 → 5 and shrinks 5 → 3 under continuous increments: exact and linearizable", async () => {
    const cluster = new GrowingCluster();
    clusters.push(cluster);
    const ports = await freeLoopbackPorts(5);
    const addr = (p: number) => `127.0.0.1:${p}`;
    assert.equal((await cluster.start(ports[0]!)).code, null);
    const first = addr(ports[0]!);
    const history: Operation<CounterInput, CounterOutput>[] = [];
    let stop = false;
    const all = ports.map(addr).join(",");
    const load = incrementLoad(all, { clients: 2, until: () => stop, history });
    await new Promise((r) => setTimeout(r, 500));
    for (const port of ports.slice(1)) {
      const started = await cluster.start(port, first);
      assert.equal(started.code, null, started.stderr);
      assert.match(started.stdout, /joined the cluster/);
      await new Promise((r) => setTimeout(r, 300));
    }
    const ids = await memberIds(first);
    assert.equal(ids.size, 5, "five members");
    for (const port of ports.slice(3)) {
      const r = await runCli(["member", "remove", "-b", first, String(ids.get(addr(port)))]);
      assert.equal(r.code, 0, r.stderr);
      await cluster.kill(port);
    }
    assert.equal((await memberIds(first)).size, 3);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    const { acked } = await load;
    const client = await connect(ports.slice(0, 3).map(addr).join(","), { timeoutMs: 10_000 });
    const final = await client.object<Counter>().getvalue();
    await client.close();
    history.push({
      id: 1e9,
      clientId: 99,
      input: { kind: "read", key: "c" },
      output: final,
      callTime: 1e12,
      returnTime: 1e12 + 1,
    });
    assert.ok(acked > 20, `load ran through the changes (${acked} acked)`);
    const result = checkHistory(counterModel, history);
    assert.equal(result.result, "ok", JSON.stringify(result));
  });

  it("a dead member is removed, a fresh node joins with -b, and health returns to healthy", async () => {
    const cluster = new GrowingCluster();
    clusters.push(cluster);
    const ports = await freeLoopbackPorts(4);
    const addr = (p: number) => `127.0.0.1:${p}`;
    await cluster.start(ports[0]!);
    for (const port of ports.slice(1, 3))
      assert.equal((await cluster.start(port, addr(ports[0]!))).code, null);
    const ids = await memberIds(addr(ports[0]!));
    await cluster.kill(ports[2]!);
    let health = await runCli(["health", "-b", addr(ports[0]!)]);
    assert.match(health.stdout, /cluster is degraded/);
    const removed = await runCli([
      "member",
      "remove",
      "-b",
      addr(ports[0]!),
      String(ids.get(addr(ports[2]!))),
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await cluster.start(ports[3]!, addr(ports[0]!))).code, null);
    for (let i = 0; i < 40; i++) {
      health = await runCli(["health", "-b", addr(ports[0]!)]);
      if (health.code === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(health.code, 0, health.stdout);
    assert.equal((health.stdout.match(/^member \d+ is healthy/gm) ?? []).length, 3);
  });

  it("an acceptor-only node joins with acceptor -b and counts in the quorum", async () => {
    const cluster = new GrowingCluster();
    clusters.push(cluster);
    const [a, b, c] = await freeLoopbackPorts(3);
    const bootstrap = `127.0.0.1:${a}`;
    await cluster.start(a!);
    assert.equal((await cluster.start(b!, bootstrap)).code, null);
    const acceptor = spawnCli([
      "acceptor",
      "-p",
      String(c),
      "-b",
      bootstrap,
      "--data-dir",
      `${cluster.dataRoot}/${c}`,
    ]);
    cluster.children.set(c!, acceptor);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: acceptor.stdout! }).on("line", (line) => {
        if (line.includes("joined the cluster")) resolve();
      });
      acceptor.once("exit", (code) => reject(new Error(`acceptor exited with ${code}`)));
    });
    const list = await runCli(["member", "list", "-b", bootstrap]);
    assert.match(list.stdout, new RegExp(`^3 127\\.0\\.0\\.1:${c} acceptor$`, "m"));
    // With three acceptors, losing the second replica still leaves a quorum: replica 1 and the acceptor.
    await cluster.kill(b!);
    const client = await connect(bootstrap, { timeoutMs: 10_000 });
    assert.equal(await client.object<Counter>().increment(), 1);
    await client.close();
  });

  it("refuses a node with other code, a taken address and an unknown member, changing nothing", async () => {
    const cluster = new GrowingCluster();
    clusters.push(cluster);
    const [a, b] = await freeLoopbackPorts(2);
    await cluster.start(a!);
    const bootstrap = `127.0.0.1:${a}`;
    const other = await cluster.start(b!, bootstrap, `${ROOT}test/e2e/fixtures/other-counter.ts`);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /different object code/);
    const taken = await runCli(["member", "add", "-b", bootstrap, bootstrap]);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /already member 1/);
    const unknown = await runCli(["member", "remove", "-b", bootstrap, "42"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /member 42 does not exist/);
    assert.equal((await memberIds(bootstrap)).size, 1, "nothing changed");
  });
});
