import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import { digShort } from "../dns/fixtures/dig.ts";
import { GrowingCluster } from "./growing-cluster.ts";
import { CLI, ROOT, runCli, spawnCli } from "./process-cluster.ts";

const DOMAIN = "counterdomain.test";
/** The promise: answers follow a committed membership change within a second. */
const FOLLOW_MS_MAX = 1000;

/** Polls `probe` every 50 ms until it returns true; resolves with the time it took, or -1 past `limitMs`. */
async function within(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started <= limitMs) {
    if (await probe()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  return -1;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

describe("DNS with real processes and the real dig", { timeout: 240_000 }, () => {
  const cluster = new GrowingCluster();
  const extraChildren: ChildProcess[] = [];
  after(async () => {
    for (const child of extraChildren)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await cluster.stop();
  });

  it("a replica with -n serves the view; answers follow joins and removals within a second; -b DOMAIN joins", async () => {
    const [p1, p2, p3, p4, dnsPort] = await freeLoopbackPorts(5);
    const dns = ["-n", DOMAIN, "--dns-port", String(dnsPort)];
    const first = await cluster.start(p1!, undefined, undefined, ["-a", "127.0.0.1", ...dns]);
    assert.equal(first.code, null, first.stderr);
    for (const [port, host] of [
      [p2!, "127.0.0.2"],
      [p3!, "127.0.0.3"],
    ] as const) {
      const started = await cluster.start(port, `127.0.0.1:${p1}`, undefined, ["-a", host]);
      assert.equal(started.code, null, started.stderr);
    }
    const three = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    const followed = await within(FOLLOW_MS_MAX, async () =>
      sameList(await digShort(dnsPort!, DOMAIN, "a"), three),
    );
    assert.ok(followed >= 0, "dig -t a shows the three replicas within a second of the last join");

    // The seeds' four dig commands.
    assert.deepEqual(
      await digShort(dnsPort!, `_concoord._tcp.${DOMAIN}`, "srv"),
      [
        `0 100 ${p1} 127.0.0.1.ipaddr.${DOMAIN}.`,
        `0 100 ${p2} 127.0.0.2.ipaddr.${DOMAIN}.`,
        `0 100 ${p3} 127.0.0.3.ipaddr.${DOMAIN}.`,
      ].sort(),
    );
    assert.deepEqual(await digShort(dnsPort!, DOMAIN, "txt"), [
      `"REPLICA 127.0.0.1:${p1};REPLICA 127.0.0.2:${p2};REPLICA 127.0.0.3:${p3};NAMESERVER 127.0.0.1:${dnsPort}"`,
    ]);
    assert.deepEqual(await digShort(dnsPort!, DOMAIN, "ns"), [`127.0.0.1.ipaddr.${DOMAIN}.`]);
    const serial = async (): Promise<number> =>
      Number((await digShort(dnsPort!, DOMAIN, "soa"))[0]!.split(" ")[2]);
    const serialBefore = await serial();

    // A fourth replica finds the cluster by its domain alone.
    const joined = await cluster.start(p4!, DOMAIN, undefined, [
      "-a",
      "127.0.0.4",
      "--dns-server",
      `127.0.0.1:${dnsPort}`,
    ]);
    assert.equal(joined.code, null, joined.stderr);
    assert.match(joined.stdout, /joined the cluster at counterdomain\.test/);
    const four = [...three, "127.0.0.4"];
    assert.ok(
      (await within(FOLLOW_MS_MAX, async () => sameList(await digShort(dnsPort!, DOMAIN, "a"), four))) >= 0,
      "the added replica appears within a second",
    );
    assert.ok((await serial()) > serialBefore, "the SOA serial grew");

    // Removing it through the log takes it out of the answers.
    const list = await runCli(["member", "list", "-b", `127.0.0.1:${p1}`, "--json"]);
    const id = (JSON.parse(list.stdout) as { id: number; address: string }[]).find(
      (m) => m.address === `127.0.0.4:${p4}`,
    )!.id;
    const removed = await runCli(["member", "remove", "-b", `127.0.0.1:${p1}`, String(id)]);
    assert.equal(removed.code, 0, removed.stderr);
    await cluster.kill(p4!);
    assert.ok(
      (await within(FOLLOW_MS_MAX, async () => sameList(await digShort(dnsPort!, DOMAIN, "a"), three))) >= 0,
      "the removed replica leaves the answers within a second",
    );
    assert.deepEqual(await digShort(dnsPort!, `_concoord._tcp.${DOMAIN}`, "srv").then((r) => r.length), 3);
  });

  it("a client that knows only the domain keeps working through a leader kill (standalone name server)", async () => {
    const [p1, p2, p3, dnsPort] = await freeLoopbackPorts(4);
    const local = new GrowingCluster();
    try {
      assert.equal((await local.start(p1!)).code, null);
      assert.equal((await local.start(p2!, `127.0.0.1:${p1}`)).code, null);
      assert.equal((await local.start(p3!, `127.0.0.1:${p1}`)).code, null);
      const ns = spawnCli([
        "nameserver",
        "-n",
        DOMAIN,
        "-b",
        `127.0.0.1:${p1},127.0.0.1:${p2}`,
        "-p",
        String(dnsPort),
      ]);
      extraChildren.push(ns);
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: ns.stdout! }).on("line", (line) => {
          if (line.includes("serves on")) resolve();
        });
        ns.once("exit", (code) => reject(new Error(`nameserver exited ${code}`)));
      });
      assert.ok(
        (await within(
          3000,
          async () => (await digShort(dnsPort!, `_concoord._tcp.${DOMAIN}`, "srv")).length === 3,
        )) >= 0,
      );
      const client = await connect(DOMAIN, { dnsServer: `127.0.0.1:${dnsPort}`, timeoutMs: 15_000 });
      const counter = client.object<Counter>();
      for (let i = 0; i < 20; i++) await counter.increment();
      const status = await runCli(["status", "-b", `127.0.0.1:${p1}`]);
      const leaderId = (JSON.parse(status.stdout) as { leaderId: number }).leaderId;
      const members = (JSON.parse(status.stdout) as { members: { id: number; address: string }[] }).members;
      const leaderPort = Number(members.find((m) => m.id === leaderId)!.address.split(":")[1]);
      await local.kill(leaderPort);
      for (let i = 0; i < 20; i++) await counter.increment();
      assert.equal(await counter.getvalue(), 40, "every increment counted once, across the leader's death");
      await client.close();
    } finally {
      await local.stop();
    }
  });

  it("bad input: port 53 without privileges, a bad domain, a bad -t, a missing master — one line each", async () => {
    const [p] = await freeLoopbackPorts(1);
    const replica = (domain: string): string[] => [
      "replica",
      "-f",
      "src/objects/counter.ts",
      "-c",
      "Counter",
      "-p",
      String(p),
      "--in-memory",
      "-n",
      domain,
    ];
    const badDomain = await runCli([...replica("bad..domain"), "--dns-port", "5399"]);
    assert.notEqual(badDomain.code, 0);
    assert.match(badDomain.stderr, /-n: "bad\.\.domain" is not a domain name/);
    const badType = await runCli(["nameserver", "-n", DOMAIN, "-b", "127.0.0.1:1", "-t", "7"]);
    assert.match(badType.stderr, /-t: "7" is not a name server type/);
    const noMaster = await runCli(["nameserver", "-n", DOMAIN, "-b", "127.0.0.1:1", "-m", "127.0.0.1"]);
    assert.match(noMaster.stderr, /-m is for -t 2/);
    // Port 53 without privileges: as root (CI), the command runs as `nobody` to see what users see.
    const args = replica(DOMAIN);
    const privileged =
      process.getuid?.() === 0
        ? await new Promise<{ stderr: string; code: number | null }>((resolve) => {
            const child = spawn(
              "runuser",
              ["-u", "nobody", "--", process.execPath, "--import", "tsx", CLI, ...args],
              {
                cwd: ROOT,
                stdio: ["ignore", "ignore", "pipe"],
              },
            );
            let stderr = "";
            child.stderr!.on("data", (d: Buffer) => {
              stderr += d.toString();
            });
            child.once("exit", (code) => resolve({ stderr, code }));
          })
        : await runCli(args);
    assert.notEqual(privileged.code, 0);
    assert.match(privileged.stderr, /ports below 1024 need privileges/);
  });
});
