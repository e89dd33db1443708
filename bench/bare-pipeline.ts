import { type ChildProcess, fork } from "node:child_process";
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { FrameReader, framesBytes } from "../src/net/framer.ts";
import { processCpuMs } from "./processes.ts";

/**
 * The ceiling the benchmark's targets were set against, measured on this machine in the same run: a
 * bare Node pipeline with no consensus, no encoding and no application. A leader batches the requests
 * of one event-loop turn, sends the batch to two followers, writes and fdatasyncs it itself, and
 * answers the batch once it and one follower have it on disk; a follower writes, fdatasyncs and
 * acknowledges each turn's batches. Every process is a separate Node process on loopback TCP, with its
 * own log file, as in the benchmark's clusters.
 *
 * @example
 * ```ts
 * const [one, many] = await measureBarePipeline({ dataDir: "/tmp/bench", concurrencies: [1, 64], durationMs: 2000 });
 * console.log(one!.p50Ms, many!.serverCpuUsPerOp);
 * ```
 */
export interface BarePipelineFigure {
  readonly concurrency: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of the leader and both followers, summed, per acknowledged request. */
  readonly serverCpuUsPerOp: number;
}

/** A probe that takes longer than this in all has failed (a wedged process, a stalled disk). */
export const BARE_PIPELINE_TIMEOUT_MS = 60_000;
/** Each log file is preallocated and written round, so that a sync never has to grow the file. */
const LOG_BYTES = 16 * 1024 * 1024;
/** A request: its id (4 bytes) and a 16-byte value, like the benchmark's puts. */
const REQUEST_BYTES = 20;
/** No batch is larger than this many requests (the probe's clients never have more in flight). */
const BATCH_REQUESTS_MAX = 4096;
const FRAME_BYTES_MAX = 4 + BATCH_REQUESTS_MAX * REQUEST_BYTES;
const ROLE_FLAG = "--bare-pipeline-role";

/**
 * Runs the pipeline at each concurrency for `durationMs` after a warm-up of a quarter of that, with a
 * load generator in this process. The leader and followers are child processes this function starts and
 * ends by pid; past `timeoutMs` (default {@link BARE_PIPELINE_TIMEOUT_MS}) they are killed and the
 * promise rejects.
 */
export async function measureBarePipeline(options: {
  dataDir: string;
  concurrencies: readonly number[];
  durationMs: number;
  timeoutMs?: number;
}): Promise<BarePipelineFigure[]> {
  for (const concurrency of options.concurrencies) {
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > BATCH_REQUESTS_MAX)
      throw new RangeError(`bare-pipeline concurrency must be an integer in 1..${BATCH_REQUESTS_MAX}`);
  }
  const dir = join(options.dataDir, `bare-pipeline-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const children: ChildProcess[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const child of children) child.kill("SIGKILL");
      reject(
        new Error(`the bare-pipeline probe took over ${options.timeoutMs ?? BARE_PIPELINE_TIMEOUT_MS} ms`),
      );
    }, options.timeoutMs ?? BARE_PIPELINE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([timeout, run(options, dir, children)]);
  } finally {
    clearTimeout(timer);
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(
  options: { concurrencies: readonly number[]; durationMs: number },
  dir: string,
  children: ChildProcess[],
): Promise<BarePipelineFigure[]> {
  const start = async (role: string, args: readonly string[]): Promise<number> => {
    const child = fork(new URL(import.meta.url).pathname, [ROLE_FLAG, role, dir, ...args], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      execArgv: ["--import", "tsx"],
    });
    children.push(child);
    return await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { port: number }).port));
      child.once("exit", (code) => reject(new Error(`the bare-pipeline ${role} exited with ${code}`)));
    });
  };
  const followerPorts = [await start("follower", ["f1"]), await start("follower", ["f2"])];
  const leaderPort = await start("leader", followerPorts.map(String));
  const socket = connect({ host: "127.0.0.1", port: leaderPort });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  try {
    const client = new PipelineClient(socket);
    const figures: BarePipelineFigure[] = [];
    for (const concurrency of options.concurrencies) {
      await client.drive(concurrency, options.durationMs / 4);
      const cpuBeforeMs = children.reduce((sum, c) => sum + processCpuMs(c.pid!), 0);
      const { latenciesMs, elapsedMs } = await client.drive(concurrency, options.durationMs);
      const cpuMs = children.reduce((sum, c) => sum + processCpuMs(c.pid!), 0) - cpuBeforeMs;
      latenciesMs.sort((a, b) => a - b);
      const at = (q: number) =>
        latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))]!;
      figures.push({
        concurrency,
        opsPerSec: (latenciesMs.length * 1000) / elapsedMs,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        serverCpuUsPerOp: (cpuMs * 1000) / latenciesMs.length,
      });
    }
    return figures;
  } finally {
    socket.destroy();
  }
}

/** The load generator: `concurrency` callers, each sending its next request when the last is answered. */
class PipelineClient {
  readonly #socket: Socket;
  readonly #waiting = new Map<number, () => void>();
  #nextId = 1;
  #outbox: Uint8Array[] = [];

  constructor(socket: Socket) {
    this.#socket = socket;
    const reader = new FrameReader({ frameBytesMax: FRAME_BYTES_MAX });
    socket.on("data", (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        const id = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).readUInt32LE(0);
        const done = this.#waiting.get(id);
        this.#waiting.delete(id);
        done?.();
      }
    });
    // A pipeline process that dies ends every wait (the probe's timeout reports it).
    socket.once("close", () => {
      for (const done of this.#waiting.values()) done();
      this.#waiting.clear();
    });
  }

  async drive(
    concurrency: number,
    durationMs: number,
  ): Promise<{ latenciesMs: number[]; elapsedMs: number }> {
    const latenciesMs: number[] = [];
    const startMs = performance.now();
    const caller = async (): Promise<void> => {
      while (performance.now() - startMs < durationMs && !this.#socket.destroyed) {
        const sentMs = performance.now();
        await this.#request();
        latenciesMs.push(performance.now() - sentMs);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, caller));
    return { latenciesMs, elapsedMs: performance.now() - startMs };
  }

  #request(): Promise<void> {
    const id = this.#nextId++ >>> 0;
    const request = Buffer.alloc(REQUEST_BYTES);
    request.writeUInt32LE(id, 0);
    request.write("0123456789abcdef", 4);
    this.#outbox.push(request);
    // The requests of one turn leave in one write, as every client in the benchmark sends them.
    if (this.#outbox.length === 1) process.nextTick(() => this.#flush());
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  #flush(): void {
    const frames = this.#outbox;
    this.#outbox = [];
    if (!this.#socket.destroyed) this.#socket.write(framesBytes(frames));
  }
}

/** A log file written round at increasing offsets, each write followed by fdatasync. */
class RoundLog {
  readonly #fd: number;
  #offset = 0;

  constructor(path: string) {
    this.#fd = openSync(path, "w");
    writeSync(this.#fd, Buffer.alloc(LOG_BYTES));
    fdatasyncSync(this.#fd);
  }

  appendDurably(bytes: Uint8Array): void {
    if (this.#offset + bytes.byteLength > LOG_BYTES) this.#offset = 0;
    writeSync(this.#fd, bytes, 0, bytes.byteLength, this.#offset);
    this.#offset += bytes.byteLength;
    fdatasyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function u32(value: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0, 0);
  return bytes;
}

function readU32(bytes: Uint8Array, offset = 0): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(offset);
}

/**
 * Serves connections whose frames are handled a turn at a time: `onTurn` gets every frame that arrived
 * on the connection during one event-loop turn, once, when the turn's input is all read.
 */
function serveTurns(onTurn: (socket: Socket, frames: Uint8Array[]) => void): ReturnType<typeof createServer> {
  return createServer((socket) => {
    socket.setNoDelay(true);
    const reader = new FrameReader({ frameBytesMax: FRAME_BYTES_MAX });
    let frames: Uint8Array[] = [];
    socket.on("data", (chunk: Buffer) => {
      const arrived = reader.push(chunk);
      if (arrived.length === 0) return;
      if (frames.length === 0)
        setImmediate(() => {
          const turn = frames;
          frames = [];
          onTurn(socket, turn);
        });
      frames.push(...arrived);
    });
  });
}

function runFollower(dir: string, name: string): void {
  const log = new RoundLog(join(dir, `${name}.log`));
  const server = serveTurns((socket, batches) => {
    // Every batch of the turn: one write, one sync, then one write of the acknowledgements.
    log.appendDurably(framesBytes(batches));
    socket.write(framesBytes(batches.map((batch) => u32(readU32(batch)))));
  });
  server.listen(0, "127.0.0.1", () => report(server));
  process.on("exit", () => log.close());
}

function runLeader(dir: string, followerPorts: readonly number[]): void {
  const log = new RoundLog(join(dir, "leader.log"));
  /** Batches in flight, by sequence number: the replies to send, and what has made them durable. */
  const inFlight = new Map<
    number,
    { client: Socket; replies: Uint8Array; selfDurable: boolean; acks: number }
  >();
  let nextSeq = 1;
  const answerIfDurable = (seq: number): void => {
    const batch = inFlight.get(seq);
    if (!batch?.selfDurable || batch.acks < 1) return;
    inFlight.delete(seq);
    batch.client.write(batch.replies);
  };
  const followers = followerPorts.map((port) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    const reader = new FrameReader({ frameBytesMax: FRAME_BYTES_MAX });
    socket.on("data", (chunk: Buffer) => {
      for (const ack of reader.push(chunk)) {
        const seq = readU32(ack);
        const batch = inFlight.get(seq);
        if (batch) batch.acks++;
        answerIfDurable(seq);
      }
    });
    return socket;
  });
  const server = serveTurns((client, requests) => {
    const seq = nextSeq++;
    const batch = framesBytes([Buffer.concat([u32(seq), ...requests])]);
    // Out to the followers first, so that their syncs overlap this process's own.
    for (const follower of followers) follower.write(batch);
    const replies = framesBytes(requests.map((request) => request.subarray(0, 4)));
    inFlight.set(seq, { client, replies, selfDurable: false, acks: 0 });
    log.appendDurably(batch);
    inFlight.get(seq)!.selfDurable = true;
    answerIfDurable(seq);
  });
  server.listen(0, "127.0.0.1", () => report(server));
  process.on("exit", () => log.close());
}

function report(server: ReturnType<typeof createServer>): void {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
}

const roleAt = process.argv.indexOf(ROLE_FLAG);
if (roleAt >= 0) {
  const [role, dir, ...rest] = process.argv.slice(roleAt + 1);
  if (role === "follower") runFollower(dir!, rest[0]!);
  else if (role === "leader") runLeader(dir!, rest.map(Number));
  // The parent's end: disconnecting the channel (or the parent dying) ends this process too.
  process.on("disconnect", () => process.exit(0));
}
