import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { leaderIndex } from "./load.ts";
import { ProcessCluster, runCli, spawnCli } from "./process-cluster.ts";

describe("concoord proxy", { timeout: 120_000 }, () => {
  it("a client whose only bootstrap is a proxy survives a leader kill", async () => {
    const cluster = await ProcessCluster.start({ replicas: 3 });
    const [port] = await freeLoopbackPorts(1);
    const proxy = spawnCli(["proxy", "-b", cluster.connectString, "-p", String(port)]);
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: proxy.stdout! }).on("line", (line) => {
          if (line.includes("listening on")) resolve();
        });
        proxy.once("exit", (code) => reject(new Error(`proxy exited with ${code}`)));
      });
      const client = await connect(`127.0.0.1:${port}`, { timeoutMs: 10_000 });
      const counter = client.object<Counter>();
      for (let i = 0; i < 20; i++) await counter.increment();
      await cluster.kill(await leaderIndex(cluster));
      for (let i = 0; i < 20; i++) await counter.increment();
      assert.equal(await counter.getvalue(), 40, "every call went through, once");
      await client.close();
      const members = await runCli(["member", "list", "-b", cluster.connectString, "--json"]);
      assert.equal((JSON.parse(members.stdout) as unknown[]).length, 3, "the proxy is not a member");
    } finally {
      proxy.kill("SIGKILL");
      await cluster.stop();
    }
  });
});
