import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { writeProxy } from "../../src/codegen/index.ts";
import { COUNTER, ROOT, RUNTIME, scratchDir } from "./helpers.ts";

/** What the generated Counter proxy module exports, as this test uses it. */
interface CounterProxyModule {
  Counter: new (
    bootstrap: string,
    options?: { timeoutMs?: number },
  ) => {
    increment(): Promise<number>;
    getvalue(): Promise<number>;
    __concoordinit__(): Promise<void>;
    close(): Promise<void>;
  };
}

/** A port nothing listens on right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a single in-memory replica of the tutorial's Counter and resolves once it listens. */
function startReplica(port: number): Promise<ChildProcess> {
  const cli = join(ROOT, "src/cli/main.ts");
  const args = [
    "--import",
    "tsx",
    cli,
    "replica",
    "-f",
    COUNTER,
    "-c",
    "Counter",
    "-p",
    `${port}`,
    "--in-memory",
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(child.pid!, "SIGKILL");
      reject(new Error(`the replica did not start in time:\n${stderr}`));
    }, 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the replica exited with ${code}:\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.includes("listening on")) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve(child);
    });
  });
}

/** Stops the child by its pid: SIGTERM, then SIGKILL if it lingers. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid!, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
  }, 3000);
  await exited;
  clearTimeout(timer);
}

describe("a generated proxy against a live cluster", () => {
  let replica: ChildProcess | undefined;
  let port = 0;
  let out = "";
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  before(async () => {
    scratch = await scratchDir("concoord-codegen-live-");
    port = await freePort();
    // The replica starts (a process, compiled by tsx) while the compiler reads the class.
    const starting = startReplica(port);
    // Kept as soon as it starts, so that `after` stops it even if generating the proxy fails.
    starting.then(
      (child) => {
        replica = child;
      },
      () => {},
    );
    [replica, out] = await Promise.all([
      starting,
      writeProxy({
        file: COUNTER,
        className: "Counter",
        out: join(scratch.dir, "counterproxy.ts"),
        runtimeImport: RUNTIME,
      }),
    ]);
  });
  after(async () => {
    if (replica) await stop(replica);
    await scratch.remove();
  });

  it("runs the ConCoord tutorial through the typed Counter proxy", async () => {
    const { Counter } = (await import(pathToFileURL(out).href)) as CounterProxyModule;
    const c = new Counter(`127.0.0.1:${port}`);
    await c.increment();
    await c.increment();
    assert.equal(await c.getvalue(), 2);
    await c.__concoordinit__();
    await c.increment();
    assert.equal(await c.getvalue(), 1);
    await c.close();
  });

  it("rejects calls, not the process, when the cluster cannot be reached", async () => {
    const { Counter } = (await import(pathToFileURL(out).href)) as CounterProxyModule;
    const c = new Counter(`127.0.0.1:${await freePort()}`, { timeoutMs: 500 });
    // Give the failed connection time to reject with nothing awaiting it: no unhandled rejection.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await assert.rejects(c.increment(), /cannot reach any node/);
    await c.close();
  });
});
