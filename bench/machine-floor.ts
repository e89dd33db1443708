import { fork } from "node:child_process";
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { median } from "./stats.ts";

/**
 * What this machine costs before any system does work, measured in the same run as the figures: a
 * small write plus fdatasync where the systems keep their data, and a round trip between two Node
 * processes over loopback TCP, back to back and after each side sat idle. A system's C = 1 latency
 * cannot go below one fsync plus a few round trips; on a virtual machine whose idle cores halt without
 * polling, a round trip after idle costs several times a round trip back to back.
 *
 * @example
 * ```ts
 * const floor = await measureMachineFloor({ dataDir: "/tmp/bench" });
 * console.log(floor.fdatasyncP50Ms, floor.echoIdleP50Ms);
 * ```
 */
export interface MachineFloor {
  /** p50 of a 200-byte overwrite followed by fdatasync, in the benchmark's data directory. */
  readonly fdatasyncP50Ms: number;
  /** p50 of a 64-byte echo between two Node processes, one right after the other. */
  readonly echoBusyP50Ms: number;
  /** p50 of the same echo when each one follows {@link IDLE_PAUSE_MS} of idleness. */
  readonly echoIdleP50Ms: number;
}

/** Samples of each probe: enough for a stable median, few enough to take about a second in all. */
const FSYNC_SAMPLES = 200;
const ECHO_BUSY_SAMPLES = 500;
const ECHO_IDLE_SAMPLES = 60;
/** The pause before each idle echo: long enough for an idle core to halt. */
export const IDLE_PAUSE_MS = 10;
/** A probe that takes longer than this has failed (a wedged echo process, a stalled disk). */
export const PROBE_TIMEOUT_MS = 30_000;

const ECHO_CHILD_FLAG = "--machine-floor-echo";

/**
 * Measures the floor; the echo partner is a child process this function starts and ends by pid. Past
 * `probeTimeoutMs` (default {@link PROBE_TIMEOUT_MS}) the partner is killed and the promise rejects.
 */
export async function measureMachineFloor(options: {
  dataDir: string;
  probeTimeoutMs?: number;
}): Promise<MachineFloor> {
  const probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  const fdatasyncP50Ms = measureFdatasync(join(options.dataDir, `floor-${process.pid}.bin`));
  const child = fork(new URL(import.meta.url).pathname, [ECHO_CHILD_FLAG], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    execArgv: ["--import", "tsx"],
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, probeTimeoutMs);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { port: number }).port));
      child.once("exit", (code) => reject(new Error(`the echo process exited with ${code}`)));
    });
    const socket = connect({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    try {
      const echoBusyP50Ms = await echoP50(socket, ECHO_BUSY_SAMPLES, 0);
      const echoIdleP50Ms = await echoP50(socket, ECHO_IDLE_SAMPLES, IDLE_PAUSE_MS);
      return { fdatasyncP50Ms, echoBusyP50Ms, echoIdleP50Ms };
    } finally {
      socket.destroy();
    }
  } catch (error) {
    if (timedOut) throw new Error(`the machine-floor probe took over ${probeTimeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGTERM");
  }
}

function measureFdatasync(file: string): number {
  const fd = openSync(file, "w");
  try {
    // Written and synced first, so the probe overwrites allocated blocks the way a preallocated log does.
    const record = Buffer.alloc(200, 1);
    writeSync(fd, Buffer.alloc(record.length * FSYNC_SAMPLES));
    fdatasyncSync(fd);
    const samples: number[] = [];
    for (let i = 0; i < FSYNC_SAMPLES; i++) {
      writeSync(fd, record, 0, record.length, i * record.length);
      const startMs = performance.now();
      fdatasyncSync(fd);
      samples.push(performance.now() - startMs);
    }
    return median(samples);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

async function echoP50(socket: Socket, samples: number, pauseMs: number): Promise<number> {
  const payload = Buffer.alloc(64, 7);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const startMs = performance.now();
    const echoed = new Promise<void>((resolve, reject) => {
      let received = 0;
      // A partner that dies (or is killed past the timeout) ends the wait instead of leaving it hanging.
      const onClose = () => reject(new Error("the echo process closed the connection"));
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received < payload.length) return;
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve();
      };
      socket.on("data", onData);
      socket.once("close", onClose);
    });
    socket.write(payload);
    await echoed;
    times.push(performance.now() - startMs);
  }
  return median(times);
}

if (process.argv.includes(ECHO_CHILD_FLAG)) {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (chunk) => socket.write(chunk));
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  });
  // The parent's end: disconnecting the channel (or the parent dying) ends this process too.
  process.on("disconnect", () => process.exit(0));
}
