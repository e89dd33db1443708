import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import { connect } from "../../src/client/client.ts";
import { TimeoutError } from "../../src/client/errors.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { ProcessCluster, ROOT } from "./process-cluster.ts";

async function waitFor(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function leaderOf(cluster: ProcessCluster, nodes: number[]): Promise<number> {
  let leader = -1;
  await waitFor(
    async () => {
      for (const i of nodes) {
        const s = await fetchStatus(cluster.address(i), 500).catch(() => null);
        if (s?.role === "leader") leader = i;
      }
      return leader >= 0;
    },
    10_000,
    "a leader",
  );
  return leader;
}

describe("topologies and failures", { timeout: 180_000 }, () => {
  it("two replicas and an acceptor-only node survive the loss of the leading replica", async () => {
    const cluster = await ProcessCluster.start({ replicas: 2, acceptors: 1 });
    try {
      const client = await connect(cluster.connectString, { timeoutMs: 10_000 });
      const counter = client.object<Counter>();
      for (let i = 0; i < 20; i++) await counter.increment();
      const acceptor = await fetchStatus(cluster.address(2));
      assert.equal(
        acceptor.members.find((m) => m.id === acceptor.id)?.replica,
        false,
        "node 3 is acceptor-only",
      );
      await cluster.kill(await leaderOf(cluster, [0, 1]));
      for (let i = 0; i < 20; i++) await counter.increment();
      assert.equal(await counter.getvalue(), 40, "the other replica and the acceptor form a quorum");
      await client.close();
    } finally {
      await cluster.stop();
    }
  });

  it("a replica that hosts different code is refused, with a message that says so", async () => {
    const other = `${ROOT}test/e2e/fixtures/other-counter.ts`;
    const cluster = await ProcessCluster.start({ replicas: 3, override: { 2: { file: other } } });
    try {
      const refused = (i: number) => cluster.logs.get(i)!.some((l) => /hosts a different object/.test(l));
      await waitFor(() => refused(2) || refused(0) || refused(1), 10_000, "the refusal in the logs");
      const client = await connect(`${cluster.address(0)},${cluster.address(1)}`, { timeoutMs: 10_000 });
      assert.equal(
        await client.object<Counter>().increment(),
        1,
        "the two matching replicas serve the tutorial's code",
      );
      await client.close();
      const odd = await fetchStatus(cluster.address(2));
      assert.equal(odd.executed, 0, "the odd replica applied nothing");
    } finally {
      await cluster.stop();
    }
  });

  it("a call that cannot complete rejects with a Timeout that says the outcome is unknown", async () => {
    const cluster = await ProcessCluster.start({ replicas: 3 });
    try {
      const client = await connect(cluster.connectString, { timeoutMs: 1500 });
      const counter = client.object<Counter>();
      await counter.increment();
      await cluster.kill(1);
      await cluster.kill(2);
      // Two calls started 600 ms apart each time out after their own 1500 ms, not together.
      const startMs = performance.now();
      const timedOut = (call: Promise<unknown>) =>
        call.then(
          () => assert.fail("the call completed without a quorum"),
          (e: unknown) => {
            assert.ok(e instanceof TimeoutError && /outcome is unknown/.test(e.message), String(e));
            return performance.now() - startMs;
          },
        );
      const first = timedOut(counter.increment());
      await new Promise((r) => setTimeout(r, 600));
      const second = timedOut(counter.increment());
      const [firstMs, secondMs] = await Promise.all([first, second]);
      assert.ok(firstMs >= 1450 && firstMs < 2000, `the first call timed out after ${firstMs} ms`);
      assert.ok(secondMs >= 2050 && secondMs < 2600, `the second call timed out after ${secondMs} ms`);
      await client.close();
    } finally {
      await cluster.stop();
    }
  });

  it("-l copies log lines to a TCP sink and -d adds debug lines", async () => {
    const lines: string[] = [];
    const sink = createServer((socket) => {
      let buffer = "";
      socket.on("data", (d: Buffer) => {
        buffer += d.toString();
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        lines.push(...parts);
      });
    });
    const port = await new Promise<number>((r) =>
      sink.listen(0, "127.0.0.1", () => r((sink.address() as { port: number }).port)),
    );
    const cluster = await ProcessCluster.start({
      replicas: 1,
      override: { 0: { extra: ["-l", `127.0.0.1:${port}`, "-d"] } },
    });
    try {
      const client = await connect(cluster.connectString, { timeoutMs: 5000 });
      await client.object<Counter>().increment();
      await client.close();
      await waitFor(
        () => lines.some((l) => /"level":20/.test(l) && /client connected/.test(l)),
        10_000,
        "a debug line at the sink",
      );
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), "the sink gets pino JSON lines");
    } finally {
      await cluster.stop();
      sink.close();
    }
  });
});
