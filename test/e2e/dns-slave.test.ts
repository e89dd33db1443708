import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import type { BindServer } from "../dns/fixtures/bind.ts";
import { startBind } from "../dns/fixtures/bind.ts";
import { digShort } from "../dns/fixtures/dig.ts";
import { GrowingCluster } from "./growing-cluster.ts";
import { runCli, spawnCli } from "./process-cluster.ts";

const DOMAIN = "counterdomain.test";

/** Polls `probe` every 100 ms until it returns true, for at most `limitMs`. */
async function eventually(limitMs: number, probe: () => Promise<boolean>): Promise<boolean> {
  const started = performance.now();
  while (performance.now() - started <= limitMs) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** `concoord nameserver -t 2` against the master, with the key in `config`. */
function slave(bootstrap: string, masterPort: number, config: string): ChildProcess {
  const args = ["nameserver", "-n", DOMAIN, "-b", bootstrap, "-t", "2", "-m", `127.0.0.1:${masterPort}`];
  return spawnCli([...args, "-o", config]);
}

describe("concoord nameserver -t 2 updates a real BIND master", { timeout: 120_000 }, () => {
  const cluster = new GrowingCluster();
  const dir = mkdtempSync(join(tmpdir(), "concoord-slave-"));
  const children: ChildProcess[] = [];
  let bind: BindServer | null = null;
  let bootstrap = "";
  after(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await cluster.stop();
    await bind?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("dig @bind shows the cluster's view before and after a membership change", async () => {
    const secret = randomBytes(32).toString("base64");
    bind = await startBind({ zone: DOMAIN, keyName: "concoord-key", secret });
    const [p1, p2, p3] = await freeLoopbackPorts(3);
    assert.equal((await cluster.start(p1!)).code, null);
    bootstrap = `127.0.0.1:${p1}`;
    assert.equal((await cluster.start(p2!, `127.0.0.1:${p1}`, undefined, ["-a", "127.0.0.2"])).code, null);
    const config = join(dir, "ns.yaml");
    writeFileSync(config, `tsig:\n  name: concoord-key\n  algorithm: hmac-sha256\n  secret: "${secret}"\n`);
    const ns = slave(bootstrap, bind.port, config);
    children.push(ns);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: ns.stdout! }).on("line", (line) => {
        if (line.includes("updates the master")) resolve();
      });
      ns.once("exit", (code) => reject(new Error(`nameserver exited ${code}`)));
    });
    const two = ["127.0.0.1", "127.0.0.2"];
    const port = bind.port;
    assert.ok(
      await eventually(
        5000,
        async () => JSON.stringify(await digShort(port, DOMAIN, "a")) === JSON.stringify(two),
      ),
      `BIND shows the two replicas: ${await digShort(port, DOMAIN, "a")}\n${bind.log()}`,
    );
    assert.deepEqual(
      await digShort(port, `_concoord._tcp.${DOMAIN}`, "srv"),
      [`0 100 ${p1} 127.0.0.1.ipaddr.${DOMAIN}.`, `0 100 ${p2} 127.0.0.2.ipaddr.${DOMAIN}.`].sort(),
    );
    assert.deepEqual(await digShort(port, DOMAIN, "txt"), [
      `"REPLICA 127.0.0.1:${p1};REPLICA 127.0.0.2:${p2}"`,
    ]);
    assert.deepEqual(await digShort(port, `127.0.0.2.ipaddr.${DOMAIN}`, "a"), ["127.0.0.2"]);

    // A third replica joins: the master hears of it.
    assert.equal((await cluster.start(p3!, `127.0.0.1:${p1}`, undefined, ["-a", "127.0.0.3"])).code, null);
    const three = [...two, "127.0.0.3"];
    assert.ok(
      await eventually(
        5000,
        async () => JSON.stringify(await digShort(port, DOMAIN, "a")) === JSON.stringify(three),
      ),
      `BIND shows the third replica: ${await digShort(port, DOMAIN, "a")}`,
    );
    assert.equal((await digShort(port, `_concoord._tcp.${DOMAIN}`, "srv")).length, 3);
  });

  it("a wrong key is refused by the master, logged clearly, and changes nothing", async () => {
    assert.ok(bind, "the master from the first test");
    // The slave with the right key stops, and the cluster shrinks: a slave whose update the master took
    // would now take 127.0.0.3 out of the answers.
    const good = children[0]!;
    const gone = new Promise((r) => good.once("exit", r));
    good.kill("SIGKILL");
    await gone;
    const before = await digShort(bind.port, DOMAIN, "a");
    assert.equal(before.length, 3);
    const list = await runCli(["member", "list", "-b", bootstrap, "--json"]);
    const third = (JSON.parse(list.stdout) as { id: number; address: string }[]).find((m) =>
      m.address.startsWith("127.0.0.3:"),
    )!;
    const removed = await runCli(["member", "remove", "-b", bootstrap, String(third.id)]);
    assert.equal(removed.code, 0, removed.stderr);
    const config = join(dir, "wrong.yaml");
    writeFileSync(config, `tsig: { name: concoord-key, secret: "${randomBytes(32).toString("base64")}" }\n`);
    const ns = slave(bootstrap, bind.port, config);
    children.push(ns);
    let stderr = "";
    ns.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const refused = await eventually(
      8000,
      async () => /refused/i.test(stderr) && /BADSIG|NOTAUTH|key/i.test(stderr),
    );
    assert.ok(refused, `the refusal is logged: ${stderr.slice(0, 2000)}`);
    assert.deepEqual(await digShort(bind.port, DOMAIN, "a"), before, "the master still shows the old view");
  });
});
