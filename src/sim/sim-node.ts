import type { Config } from "../core/config.ts";
import type { Limits } from "../core/limits.ts";
import { PaxosNode } from "../core/node.ts";
import type { PlantedBugs } from "../core/planted-bugs.ts";
import type { AppliedSlot, Ready } from "../core/ready.ts";
import { EncodedBatch, releaseCommands } from "../encoding/batch-bytes.ts";
import type { CrashLoss } from "./disk.ts";
import { SimDisk } from "./disk.ts";
import type { EventQueue } from "./event-queue.ts";
import { KvMachine } from "./kv-machine.ts";
import type { SimNetwork } from "./network.ts";
import type { Packet } from "./packets.ts";
import type { Prng } from "./prng.ts";
import type { SimTrace } from "./trace.ts";

/** How long a host that does not sync leaves data in the page cache (the planted bug). */
const LAZY_WRITEBACK_MS_MAX = 500;

const INPUT_AFTER_TIMERS_MS = 0.001;

/** Disk timing of one seed. */
export interface DiskTiming {
  syncMsMin: number;
  syncMsMax: number;
  /** Chance that one sync is slow (a gray failure), and how slow it may be. */
  slowSyncRate: number;
  slowSyncMsMax: number;
}

/**
 * A host for one core node in the simulator, keeping the same contract a real host keeps: records of a
 * batch are written, then synced, and only then are its messages sent and replies delivered. Batches
 * complete in order. The planted `ack-before-persist` bug breaks exactly this.
 *
 * @example
 * ```ts
 * const node = new SimNode({ id: 1, ... });
 * node.start();
 * node.crash(); node.start(); // restarts from what the disk kept
 * ```
 */
export class SimNode {
  readonly id: number;
  readonly disk = new SimDisk();
  core: PaxosNode | null = null;
  incarnation = 0;
  /** Permanently stopped (removed from the cluster). */
  retired = false;
  readonly #queue: EventQueue;
  readonly #net: SimNetwork<Packet>;
  readonly #rng: Prng;
  readonly #limits: Partial<Limits>;
  readonly #bugs: PlantedBugs;
  readonly #initialConfig: Config;
  readonly #tickMs: number;
  readonly #disk: DiskTiming;
  readonly #onApplied: (node: SimNode, applied: readonly AppliedSlot[]) => void;
  readonly #trace: SimTrace;
  #syncFreeAtMs = 0;
  /** A paused process (a long GC, a frozen VM) runs nothing until this time; its input waits. */
  #pausedUntilMs = 0;
  #lastRole = "";
  #nextRequestId = 1;
  readonly #requests = new Map<number, { client: number; clientRequestId: number }>();

  constructor(options: {
    id: number;
    queue: EventQueue;
    net: SimNetwork<Packet>;
    rng: Prng;
    limits: Partial<Limits>;
    bugs: PlantedBugs;
    config: Config;
    tickMs: number;
    disk: DiskTiming;
    onApplied: (node: SimNode, applied: readonly AppliedSlot[]) => void;
    trace: SimTrace;
  }) {
    this.#trace = options.trace;
    this.id = options.id;
    this.#queue = options.queue;
    this.#net = options.net;
    this.#rng = options.rng;
    this.#limits = options.limits;
    this.#bugs = options.bugs;
    this.#initialConfig = options.config;
    this.#tickMs = options.tickMs;
    this.#disk = options.disk;
    this.#onApplied = options.onApplied;
  }

  get alive(): boolean {
    return this.core !== null;
  }

  /** Starts (or restarts) the node from what its disk holds. */
  start(): void {
    if (this.core || this.retired) return;
    this.incarnation++;
    const rng = this.#rng.fork();
    this.core = new PaxosNode({
      id: this.id,
      config: this.#initialConfig,
      machine: new KvMachine(),
      durable: this.disk.recover(),
      random: () => rng.next(),
      limits: this.#limits,
      bugs: this.#bugs,
      // The host's batches, which let their commands go once applied and read them back from their
      // bytes on the rare paths after (see `EncodedBatch`): the simulation checks those paths too.
      makeBatch: EncodedBatch.of,
    });
    this.#syncFreeAtMs = this.#queue.now;
    this.#requests.clear();
    this.#scheduleTick(this.incarnation);
  }

  /** Power loss: volatile state is gone, and so are unsynced writes (in part or whole). */
  crash(): CrashLoss {
    if (!this.core) return "none";
    this.#trace.event(this.#queue.now, `crash ${this.id} (was ${this.core.role})`);
    this.core = null;
    return this.disk.crash(this.#rng);
  }

  retire(): void {
    this.crash();
    this.retired = true;
  }

  /** Freezes the process for `durationMs`: no ticks, no input handled, nothing sent. */
  pause(durationMs: number): void {
    this.#pausedUntilMs = Math.max(this.#pausedUntilMs, this.#queue.now + durationMs);
  }

  #scheduleTick(incarnation: number): void {
    this.#queue.after(this.#tickMs, () => {
      if (this.incarnation !== incarnation || !this.core) return;
      if (this.#queue.now < this.#pausedUntilMs) {
        // A frozen process counts no time: its timers resume where they stopped.
        this.#queue.at(this.#pausedUntilMs, () => this.#scheduleTick(incarnation));
        return;
      }
      this.core.tick(this.#queue.now);
      this.#flush();
      this.#scheduleTick(incarnation);
    });
  }

  /** Handles a packet that arrived from the network. */
  receive(from: number, packet: Packet): void {
    const core = this.core;
    if (!core) return;
    if (this.#queue.now < this.#pausedUntilMs) {
      const incarnation = this.incarnation;
      // Node runs due timers before it polls for input, so after a freeze the timers come first.
      this.#queue.at(this.#pausedUntilMs + INPUT_AFTER_TIMERS_MS, () => {
        if (this.incarnation === incarnation) this.receive(from, packet);
      });
      return;
    }
    switch (packet.kind) {
      case "peer":
        this.#trace.message(this.#queue.now, from, this.id, packet.message);
        core.step(from, packet.message);
        break;
      case "command": {
        const requestId = this.#register(from, packet.requestId);
        core.propose(requestId, packet.command);
        break;
      }
      case "read": {
        const requestId = this.#register(from, packet.requestId);
        core.read(requestId, packet.query);
        break;
      }
      case "response":
        return;
    }
    this.#flush();
  }

  #register(client: number, clientRequestId: number): number {
    const requestId = this.#nextRequestId++;
    this.#requests.set(requestId, { client, clientRequestId });
    return requestId;
  }

  /** Writes the batch, schedules its sync, and releases its messages and replies once it is durable. */
  #flush(): void {
    const core = this.core;
    if (!core?.hasReady()) return;
    if (this.#trace.enabled && core.role !== this.#lastRole) {
      this.#lastRole = core.role;
      this.#trace.event(this.#queue.now, `node ${this.id} ${JSON.stringify(core.status())}`);
    }
    const ready = core.ready();
    if (ready.applied.length > 0) this.#onApplied(this, ready.applied);
    for (const { batch } of ready.applied) releaseCommands(batch);
    const batch = this.disk.write(ready.persist);
    const incarnation = this.incarnation;
    // What needs no durability goes at once, as the host sends it while its sync runs.
    this.#sendEarly(ready);
    if (this.#bugs.has("ack-before-persist")) {
      // Acknowledge at once and leave the data to the page cache's periodic write-back.
      this.#release(ready);
      this.#queue.after(this.#rng.float(0, LAZY_WRITEBACK_MS_MAX), () => {
        if (this.incarnation === incarnation && this.core) this.disk.sync(batch);
      });
      return;
    }
    const syncMs = ready.persist.length > 0 ? this.#syncDelayMs() : 0;
    this.#syncFreeAtMs = Math.max(this.#syncFreeAtMs, this.#queue.now) + syncMs;
    const complete = (): void => {
      if (this.incarnation !== incarnation || !this.core) return;
      if (this.#queue.now < this.#pausedUntilMs) {
        this.#queue.at(this.#pausedUntilMs, complete);
        return;
      }
      this.disk.sync(batch);
      this.#release(ready);
      // As the host does after a sync: what the core put off until its messages were out comes next.
      this.#flush();
    };
    this.#queue.at(this.#syncFreeAtMs, complete);
  }

  #syncDelayMs(): number {
    const t = this.#disk;
    if (this.#rng.chance(t.slowSyncRate)) return this.#rng.float(t.syncMsMax, t.slowSyncMsMax);
    return this.#rng.float(t.syncMsMin, t.syncMsMax);
  }

  #release(ready: Ready): void {
    for (const envelope of ready.messages) {
      this.#net.send(this.id, envelope.to, { kind: "peer", message: envelope.message });
    }
  }

  #sendEarly(ready: Ready): void {
    for (const envelope of ready.early) {
      this.#net.send(this.id, envelope.to, { kind: "peer", message: envelope.message });
    }
    for (const { requestId, reply } of ready.replies) {
      const route = this.#requests.get(requestId);
      if (!route) continue;
      this.#requests.delete(requestId);
      this.#net.send(this.id, route.client, { kind: "response", requestId: route.clientRequestId, reply });
    }
  }
}
