import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProcessCluster, runCli } from "./process-cluster.ts";

async function health(bootstrap: string, json = false) {
  return runCli(["health", "-b", bootstrap, ...(json ? ["--json"] : [])]);
}

describe("concoord health", { timeout: 120_000 }, () => {
  it("reports healthy, degraded and unavailable, one line per member, exit 0 only when healthy", async () => {
    const cluster = await ProcessCluster.start({ replicas: 3 });
    try {
      let r = await health(cluster.connectString);
      for (let i = 0; i < 20 && r.code !== 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        r = await health(cluster.connectString);
      }
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, 4);
      const ports = lines.slice(0, 3).map((line, i) => {
        const match = new RegExp(
          `^member ${i + 1} is healthy: got healthy result from tcp://127\\.0\\.0\\.1:(\\d+)$`,
        ).exec(line);
        assert.ok(match, line);
        return Number(match[1]);
      });
      assert.deepEqual(ports.sort(), [...cluster.ports].sort());
      assert.equal(lines[3], "cluster is healthy");

      await cluster.kill(2);
      r = await health(cluster.connectString);
      for (let i = 0; i < 20 && !r.stdout.includes("cluster is degraded"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        r = await health(cluster.connectString);
      }
      assert.equal(r.code, 1);
      assert.match(r.stdout, new RegExp(`^member \\d is unreachable: .*${cluster.ports[2]}.*$`, "m"));
      assert.match(r.stdout, /^cluster is degraded$/m);

      const json = JSON.parse((await health(cluster.connectString, true)).stdout) as {
        cluster: string;
        members: unknown[];
      };
      assert.equal(json.members.length, 3);

      await cluster.kill(1);
      r = await health(cluster.connectString);
      for (let i = 0; i < 20 && !r.stdout.includes("cluster is unavailable"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        r = await health(cluster.connectString);
      }
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^cluster is unavailable$/m);
    } finally {
      await cluster.stop();
    }
  });
});
