import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import type { Client } from "../../src/client/client.ts";
import { connect } from "../../src/client/client.ts";
import { RemoteError, TimeoutError } from "../../src/client/errors.ts";
import { ProcessCluster, ROOT } from "./process-cluster.ts";

const OBJECTS = [
  "lock=Lock",
  "rlock=RLock",
  "sem=Semaphore",
  "bsem=BoundedSemaphore",
  "cond=Condition",
  "barrier=Barrier",
  "queue=Queue",
  "stack=Stack",
  "log=Log",
  "members=Membership",
  "map=Map",
  "bank=Bank",
  "tree=BinaryTree",
  "jobs=JobManager",
  "ns=NameserverCoord",
  "counter=Counter",
];

async function leaderIndex(cluster: ProcessCluster, alive: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const i of alive) {
      const status = await fetchStatus(cluster.address(i), 500).catch(() => null);
      if (status?.role === "leader") return i;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no leader");
}

/** A child process holding a lock or a job until the test kills it. */
async function holder(
  bootstrap: string,
  what: "lock" | "job",
): Promise<{ line: string; kill: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${ROOT}test/e2e/fixtures/hold-lock.ts`, bootstrap, what],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return {
    line,
    kill: async () => {
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGKILL");
      await gone;
    },
  };
}

describe("the object library on a real three-replica cluster", { timeout: 300_000 }, () => {
  let cluster: ProcessCluster;
  const clients: Client[] = [];
  const client = async (): Promise<Client> => {
    const c = await connect(cluster.connectString, { timeoutMs: 15_000 });
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await ProcessCluster.start({ replicas: 3, objects: OBJECTS });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
  });

  it("a Lock: 5 clients exclude each other, tokens only grow, and a leader kill in the middle loses nothing", async () => {
    const workers = await Promise.all([1, 2, 3, 4, 5].map(() => client()));
    const setup = workers[0]!;
    await setup.call("map", "set", ["x", 0]);
    const tokens: number[] = [];
    let inside = 0;
    let acquisitions = 0;
    let killed = false;
    await Promise.all(
      workers.map(async (c) => {
        for (let round = 0; round < 4; round++) {
          const token = (await c.call("lock", "acquire", [])) as number;
          inside++;
          assert.equal(inside, 1, "one holder at a time");
          tokens.push(token);
          const x = (await c.call("map", "get", ["x"])) as number;
          await c.call("map", "set", ["x", x + 1]);
          acquisitions++;
          if (acquisitions === 8 && !killed) {
            killed = true;
            await cluster.kill(await leaderIndex(cluster, [0, 1, 2]));
          }
          inside--;
          await c.call("lock", "release", []);
        }
      }),
    );
    assert.ok(killed);
    assert.equal(
      await setup.call("map", "get", ["x"]),
      20,
      "read-modify-write under the lock lost no update",
    );
    for (let i = 1; i < tokens.length; i++)
      assert.ok(tokens[i]! > tokens[i - 1]!, `fencing tokens grow: ${tokens}`);
  });

  it("a client killed while holding the Lock loses it within its session TTL; the next waiter gets a larger token", async () => {
    await cluster.restartStopped();
    const held = await holder(cluster.connectString, "lock");
    const heldToken = Number(held.line.split(" ")[1]);
    const waiter = await client();
    const started = performance.now();
    const next = waiter.call("lock", "acquire", []);
    await new Promise((r) => setTimeout(r, 300));
    await held.kill();
    const token = (await next) as number;
    const waitedMs = performance.now() - started;
    assert.ok(token > heldToken, `token ${token} after ${heldToken}`);
    assert.ok(waitedMs < 1500 + 300 + 3000, `the lock came back within the TTL (${Math.round(waitedMs)} ms)`);
    await waiter.call("lock", "release", []);
  });

  it("a Barrier of 3 with 6 clients over two rounds releases everybody exactly once per round", async () => {
    const workers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client()));
    await workers[0]!.call("barrier", "__concoordinit__", [3]);
    const indexes: number[] = [];
    await Promise.all(
      workers.map(async (c) => {
        for (let round = 0; round < 2; round++) indexes.push((await c.call("barrier", "wait", [])) as number);
      }),
    );
    assert.equal(indexes.length, 12);
    for (const index of [0, 1, 2])
      assert.equal(indexes.filter((i) => i === index).length, 4, `index ${index}`);
    assert.equal(await workers[0]!.call("barrier", "waiting", []), 0);
  });

  it("a Condition: wait, notify and notifyAll wake each waiter once, after it re-acquires the lock", async () => {
    const [a, b, c, notifier] = await Promise.all([1, 2, 3, 4].map(() => client()));
    const woken: string[] = [];
    const waitOn = async (name: string, cl: Client): Promise<void> => {
      await cl.call("cond", "acquire", []);
      assert.equal(await cl.call("cond", "wait", []), true);
      woken.push(name);
      await cl.call("cond", "release", []);
    };
    const waits = [waitOn("a", a!), waitOn("b", b!), waitOn("c", c!)];
    for (let i = 0; i < 100 && (await notifier!.call("cond", "waiting", [])) !== 3; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await notifier!.call("cond", "waiting", []), 3);
    await notifier!.call("cond", "acquire", []);
    assert.equal(await notifier!.call("cond", "notify", []), 1);
    await notifier!.call("cond", "release", []);
    for (let i = 0; i < 100 && woken.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(woken, ["a"], "notify wakes the oldest waiter only");
    await notifier!.call("cond", "acquire", []);
    assert.equal(await notifier!.call("cond", "notifyAll", []), 2);
    await notifier!.call("cond", "release", []);
    await Promise.all(waits);
    assert.deepEqual([...woken].sort(), ["a", "b", "c"], "notifyAll wakes the rest, none lost");
  });

  it("a Semaphore(2) with 6 clients: never more than two inside", async () => {
    const workers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client()));
    await workers[0]!.call("sem", "__concoordinit__", [2]);
    let inside = 0;
    let most = 0;
    const tokens = new Set<number>();
    await Promise.all(
      workers.map(async (c) => {
        tokens.add((await c.call("sem", "acquire", [])) as number);
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 100));
        inside--;
        await c.call("sem", "release", []);
      }),
    );
    assert.equal(most, 2);
    assert.equal(tokens.size, 6);
    assert.equal(await workers[0]!.call("sem", "available", []), 2);
  });

  it("a BoundedSemaphore raises on over-release", async () => {
    const c = await client();
    await c.call("bsem", "acquire", []);
    await c.call("bsem", "release", []);
    await assert.rejects(c.call("bsem", "release", []), (e: unknown) => e instanceof RemoteError);
  });

  it("a Queue: get waits for put, even across a leader change; a get with a short timeout fails with Timeout", async () => {
    await cluster.restartStopped();
    const alive = [0, 1, 2];
    const [getter, putter] = await Promise.all([client(), client()]);
    const got = getter!.call("queue", "get", []);
    await new Promise((r) => setTimeout(r, 300));
    const leader = await leaderIndex(cluster, alive);
    await cluster.kill(leader);
    await putter!.call("queue", "put", [{ n: 7 }]);
    assert.deepEqual(await got, { n: 7 }, "the parked get re-attached on the new leader and got the item");
    await cluster.restartStopped();
    const impatient = await connect(cluster.connectString, { timeoutMs: 1500 });
    clients.push(impatient);
    await assert.rejects(impatient.call("queue", "get", []), (e: unknown) => e instanceof TimeoutError);
    await putter!.call("queue", "put", ["next"]);
    assert.equal(
      await putter!.call("queue", "get", []),
      "next",
      "the timed-out get was withdrawn, not served",
    );
  });

  it("a JobManager requeues the job of a claimer whose session expired", async () => {
    const c = await client();
    const id = (await c.call("jobs", "submit", ["build"])) as number;
    const held = await holder(cluster.connectString, "job");
    assert.match(held.line, new RegExp(`"id":${id}`));
    await held.kill();
    const claimed = (await c.call("jobs", "claim", [])) as { id: number; job: unknown };
    assert.equal(claimed.id, id, "the dead claimer's job came back");
    await c.call("jobs", "complete", [id]);
  });

  it("the plain objects under contention: 6 clients at once lose nothing and break no invariant", async () => {
    const workers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client()));
    const setup = workers[0]!;
    for (const name of ["a", "b", "c"]) await setup.call("bank", "open", [`c-${name}`, 100]);
    await setup.call("map", "set", ["cas", 0]);
    const logIndexes: number[] = [];
    await Promise.all(
      workers.map(async (c, w) => {
        for (let i = 0; i < 10; i++) {
          logIndexes.push((await c.call("log", "append", [`${w}:${i}`])) as number);
          await c.call("stack", "push", [`${w}:${i}`]);
          await c.call("tree", "insert", [w * 100 + i]);
          await c.call("members", "add", [`m${w}-${i % 3}`]);
          await c.call("ns", "addRecord", ["contended.test", "TXT", `${w}-${i}`]);
          // Compare-and-set increments: every lost race retries, so none is lost.
          for (;;) {
            const v = (await c.call("map", "get", ["cas"])) as number;
            if (await c.call("map", "compareAndSet", ["cas", v, v + 1])) break;
          }
          const [from, to] = [`c-${"abc"[(w + i) % 3]}`, `c-${"abc"[(w + i + 1) % 3]}`];
          await c.call("bank", "transfer", [from, to, 1]).catch((e: unknown) => {
            if (!(e instanceof RemoteError && e.name === "InsufficientFunds")) throw e;
          });
          const token = (await c.call("rlock", "acquire", [])) as number;
          assert.equal(await c.call("rlock", "acquire", []), token);
          await c.call("rlock", "release", []);
          await c.call("rlock", "release", []);
        }
      }),
    );
    assert.deepEqual(
      [...logIndexes].sort((x, y) => x - y),
      Array.from({ length: 60 }, (_, i) => i),
      "log indexes are unique and dense",
    );
    const popped = new Set<unknown>();
    for (let i = 0; i < 60; i++) popped.add(await setup.call("stack", "pop", []));
    assert.equal(popped.size, 60, "every push is popped exactly once");
    assert.equal(((await setup.call("tree", "inorder", [])) as number[]).length, 60);
    assert.equal(((await setup.call("members", "list", [])) as string[]).length, 18);
    assert.equal(((await setup.call("ns", "records", ["contended.test"])) as unknown[]).length, 60);
    assert.equal(await setup.call("map", "get", ["cas"]), 60, "no compare-and-set increment lost");
    assert.equal(await setup.call("bank", "total", []), 300, "transfers keep the total");
  });

  it("the other objects answer as documented", async () => {
    const c = await client();
    await c.call("stack", "push", [1]);
    await c.call("stack", "push", [2]);
    assert.equal(await c.call("stack", "pop", []), 2);
    const first = (await c.call("log", "append", ["a"])) as number;
    assert.equal(await c.call("log", "append", ["b"]), first + 1);
    assert.deepEqual(await c.call("log", "read", [first]), ["a", "b"]);
    const version = (await c.call("members", "version", [])) as number;
    const change = c.call("members", "waitForChange", [version]);
    await c.call("members", "add", ["n1"]);
    assert.ok(((await change) as { members: string[] }).members.includes("n1"), "the watcher saw the change");
    assert.equal(await c.call("map", "compareAndSet", ["k", null, 1]), true);
    assert.equal(await c.call("map", "compareAndSet", ["k", null, 2]), false);
    await c.call("bank", "open", ["alice", 10]);
    await c.call("bank", "open", ["bob", 0]);
    await assert.rejects(
      c.call("bank", "transfer", ["alice", "bob", 11]),
      (e: unknown) => e instanceof RemoteError && e.name === "InsufficientFunds",
    );
    await c.call("bank", "transfer", ["alice", "bob", 4]);
    assert.equal(await c.call("bank", "balance", ["bob"]), 4);
    for (const k of [5.5, 3.5, 8.5, 1.5]) await c.call("tree", "insert", [k]);
    const keys = (await c.call("tree", "inorder", [])) as number[];
    assert.deepEqual(
      keys.filter((k) => !Number.isInteger(k)),
      [1.5, 3.5, 5.5, 8.5],
    );
    assert.deepEqual(
      keys,
      [...keys].sort((x, y) => x - y),
      "in order",
    );
    await c.call("ns", "addRecord", ["example.test", "A", "127.0.0.1"]);
    assert.deepEqual(await c.call("ns", "records", ["example.test"]), [{ type: "A", value: "127.0.0.1" }]);
    assert.equal(
      await c.call("rlock", "acquire", []),
      await c.call("rlock", "acquire", []),
      "re-entrant: same token",
    );
    await c.call("rlock", "release", []);
    await c.call("rlock", "release", []);
    assert.equal(await c.call("counter", "increment", []), 1);
  });
});
