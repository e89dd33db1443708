import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { canBind, freeLoopbackPorts } from "../../src/cli/ports.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { spawnCli } from "./process-cluster.ts";

describe("concoord dev (the README's first command)", { timeout: 120_000 }, () => {
  it("starts a local cluster the README's client talks to, and stops every child on Ctrl-C", async () => {
    const [base] = await freeLoopbackPorts(1);
    const ports = [base!, base! + 1, base! + 2];
    for (const p of ports) assert.ok(await canBind("127.0.0.1", p), `port ${p} free before the test`);
    const dataDir = mkdtempSync(join(tmpdir(), "concoord-dev-"));
    const dev = spawnCli(["dev", "--base-port", String(base), "--data-dir", dataDir]);
    try {
      const connectString = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("dev did not print its connect string")), 60_000);
        createInterface({ input: dev.stdout! }).on("line", (line) => {
          const match = /connect string: (\S+)/.exec(line);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      assert.equal(connectString, ports.map((p) => `127.0.0.1:${p}`).join(","));

      // The README's example, verbatim in spirit.
      const client = await connect(connectString, { timeoutMs: 5000 });
      const counter = client.object<Counter>();
      await counter.increment();
      assert.equal(await counter.getvalue(), 1);
      // The tutorial: increment, re-run the constructor, increment → 1.
      await counter.__concoordinit__();
      await counter.increment();
      assert.equal(await counter.getvalue(), 1);
      await client.close();

      const exited = new Promise<number | null>((r) => dev.once("exit", (code) => r(code)));
      dev.kill("SIGINT");
      assert.equal(await exited, 0);
      for (const p of ports) assert.ok(await canBind("127.0.0.1", p), `replica on ${p} stopped with dev`);
    } finally {
      if (dev.exitCode === null) dev.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
