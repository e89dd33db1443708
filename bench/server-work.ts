import { parseArgs } from "node:util";
import type { Reply } from "../src/core/command.ts";
import { makeConfig } from "../src/core/config.ts";
import { PaxosNode } from "../src/core/node.ts";
import { decodeFrame, encodeFrame } from "../src/net/frame-codec.ts";
import type { Frame } from "../src/net/frames.ts";
import { encodeCall, loadObjectFile, ObjectMachine } from "../src/object/index.ts";
import { encodeFrame as encodeWalFrame } from "../src/storage/record-codec.ts";

/**
 * The CPU a three-member cluster's own code spends per write, without sockets, fsync or an event loop:
 * three real cores in one process, every client command, peer message and reply encoded and decoded as
 * on the wire, every log record encoded as the WAL writes it, and `Map.set` applied on all three. What
 * `npm run bench` measures on top of this is the machine's part — system calls, wake-ups, Node's streams
 * — so this is the figure to watch when changing the code on the hot path, and it is steadier than the
 * cluster's on a shared machine.
 *
 * @example
 * ```ts
 * const r = await measureServerWork({ batch: 64, rounds: 1000 });
 * console.log(r.cpuUsPerCommand);
 * ```
 */
export interface ServerWorkResult {
  readonly batch: number;
  readonly rounds: number;
  /** Process CPU (all threads: the collector's helpers too) per command, for all three members. */
  readonly cpuUsPerCommand: number;
  /** Wall-clock time per command. */
  readonly wallUsPerCommand: number;
  /** The slot each member executed last (equal when every round was decided everywhere). */
  readonly executed: readonly number[];
}

/** A round that does not settle within this many deliveries is a bug, not a slow machine. */
const DELIVERIES_MAX = 1000;
/** Ticks (10 ms of agreed time each) the first member may take to be elected. */
const ELECTION_TICKS_MAX = 200;
/**
 * Rounds between ticks: ~60 writes a slot at ~45,000 writes a second is ~750 slots a second, a 10 ms tick
 * every ~7.5. The ticks' heartbeats are how the member outside the accept quorum learns the slots.
 */
const ROUNDS_PER_TICK = 8;
/** Ticks after the rounds for every member to learn the last slot (a heartbeat, then a learn). */
const CATCH_UP_TICKS = 20;

/**
 * Runs `rounds` rounds of `batch` puts each (after a warm-up of up to 500 rounds) through a leader and
 * two followers and reports the cost per command.
 */
export async function measureServerWork(options: {
  batch: number;
  rounds: number;
}): Promise<ServerWorkResult> {
  const { batch, rounds } = options;
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(rounds) || rounds < 1)
    throw new RangeError("batch and rounds must be positive integers");
  const loaded = await loadObjectFile({
    file: new URL("../src/objects/map.ts", import.meta.url).pathname,
    className: "ReplicatedMap",
  });
  const ids = [1, 2, 3];
  const config = makeConfig(ids.map((id) => ({ id, replica: true, acceptor: true })));
  const nodes = ids.map(
    (id) =>
      new PaxosNode({
        id,
        config,
        machine: new ObjectMachine(new Map([["Map", loaded]])),
        // Member 1 times out first and leads; the others never need to.
        random: () => (id === 1 ? 0 : 0.99),
      }),
  );
  const cluster = new InProcessCluster(nodes);
  let nowMs = 0;
  const tick = (): void => {
    nowMs += 10;
    for (const node of nodes) node.tick(nowMs);
    cluster.settle();
  };
  for (let t = 0; t < ELECTION_TICKS_MAX && nodes[0]!.status().role !== "leader"; t++) tick();
  if (nodes[0]!.status().role !== "leader") throw new Error("member 1 was not elected");
  const open = cluster.submit(
    encodeFrame({
      t: "command",
      id: 0,
      command: { clientId: 0, seq: 1, ackedThrough: 0, body: { kind: "open" } },
    }),
  );
  cluster.settle();
  const opened = cluster.replies.get(open);
  if (!opened?.ok || !("sessionId" in opened)) throw new Error("the session did not open");
  const sessionId = opened.sessionId;

  let seq = 0;
  // Client frames are made before the clock starts: encoding them is the client's work, not the servers'.
  const frames = (count: number): Uint8Array[][] =>
    Array.from({ length: count }, () =>
      Array.from({ length: batch }, () => {
        seq++;
        const op = encodeCall({ object: "Map", method: "set", args: [`k${seq % 100}`, "0123456789abcdef"] });
        const command = {
          clientId: sessionId,
          seq,
          ackedThrough: Math.max(0, seq - batch),
          body: { kind: "op" as const, op },
        };
        return encodeFrame({ t: "command", id: seq, command });
      }),
    );
  const run = (work: Uint8Array[][]): void => {
    for (const [i, round] of work.entries()) {
      for (const frame of round) cluster.submit(frame);
      cluster.settle();
      if (i % ROUNDS_PER_TICK === ROUNDS_PER_TICK - 1) tick();
    }
  };
  run(frames(Math.min(500, rounds)));
  const work = frames(rounds);
  const cpuBefore = process.cpuUsage();
  const startMs = performance.now();
  run(work);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - startMs;
  for (let t = 0; t < CATCH_UP_TICKS; t++) tick();
  const commands = rounds * batch;
  return {
    batch,
    rounds,
    cpuUsPerCommand: (cpu.user + cpu.system) / commands,
    wallUsPerCommand: (wallMs * 1000) / commands,
    executed: nodes.map((n) => n.status().executed),
  };
}

/** Three cores wired together in memory, with the host's order of effects and real encodings. */
class InProcessCluster {
  readonly #nodes: readonly PaxosNode[];
  readonly #inFlight: { to: number; from: number; bytes: Uint8Array }[] = [];
  readonly replies = new Map<number, Reply>();
  #nextRequestId = 1;
  #walSeq = 1;

  constructor(nodes: readonly PaxosNode[]) {
    this.#nodes = nodes;
  }

  /** Hands a client's command frame to the leader (member 1); returns its request id. */
  submit(bytes: Uint8Array): number {
    const frame = decodeFrame(bytes);
    if (frame.t !== "command") throw new Error(`not a command frame: ${frame.t}`);
    const requestId = this.#nextRequestId++;
    this.#nodes[0]!.propose(requestId, frame.command);
    return requestId;
  }

  /** Delivers effects until no member has anything left to do. */
  settle(): void {
    for (let deliveries = 0; deliveries < DELIVERIES_MAX; deliveries++) {
      let progress = false;
      for (const node of this.#nodes) {
        while (node.hasReady()) {
          progress = true;
          this.#handle(node);
        }
      }
      for (const { to, from, bytes } of this.#inFlight.splice(0)) {
        progress = true;
        const frame = decodeFrame(bytes) as Extract<Frame, { t: "peer" }>;
        this.#nodes[to - 1]!.step(from, frame.m);
      }
      if (!progress) return;
    }
    throw new Error(`the cluster did not settle within ${DELIVERIES_MAX} deliveries`);
  }

  #handle(node: PaxosNode): void {
    const ready = node.ready();
    for (const { to, message } of ready.early) this.#send(node.id, to, message);
    for (const { requestId, reply } of ready.replies) {
      encodeFrame({ t: "reply", id: requestId, reply });
      this.replies.set(requestId, reply);
    }
    ready.persist.forEach((record, i) => {
      // Snapshots go to files of their own (rare: every 4,096 slots); the log's records are what counts.
      if (record.kind !== "snapshot")
        encodeWalFrame({ seq: this.#walSeq, final: i === ready.persist.length - 1, record });
    });
    if (ready.persist.length > 0) this.#walSeq++;
    for (const { to, message } of ready.messages) {
      if (to === node.id) node.step(node.id, message);
      else this.#send(node.id, to, message);
    }
  }

  #send(from: number, to: number, message: Extract<Frame, { t: "peer" }>["m"]): void {
    this.#inFlight.push({ to, from, bytes: encodeFrame({ t: "peer", m: message }) });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { batch: { type: "string", default: "64" }, rounds: { type: "string", default: "1500" } },
  });
  const result = await measureServerWork({ batch: Number(values.batch), rounds: Number(values.rounds) });
  console.log(
    `server work, batches of ${result.batch}, ${result.rounds} rounds: ${result.cpuUsPerCommand.toFixed(2)} µs CPU ` +
      `and ${result.wallUsPerCommand.toFixed(2)} µs wall per command for three members (executed ${result.executed.join("/")})`,
  );
}
