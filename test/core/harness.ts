import type { Command, Reply } from "../../src/core/command.ts";
import type { Config, Member } from "../../src/core/config.ts";
import { makeConfig } from "../../src/core/config.ts";
import type { DurableState } from "../../src/core/durable.ts";
import { applyRecord, emptyDurableState } from "../../src/core/durable.ts";
import type { Limits } from "../../src/core/limits.ts";
import type { Envelope, Message } from "../../src/core/messages.ts";
import { PaxosNode } from "../../src/core/node.ts";
import type { AppliedSlot } from "../../src/core/ready.ts";
import { decodeJson, encodeJson, KvMachine } from "../../src/sim/kv-machine.ts";

/** A message in flight between two nodes of the harness. */
export interface InFlight {
  readonly from: number;
  readonly to: number;
  readonly message: Message;
}

/**
 * A scripted cluster in the spirit of etcd-io/raft's interaction tests: nothing happens unless the test
 * ticks a node or delivers a message, and every effect is visible. Persist records are folded into a
 * per-node durable image immediately (the harness's disk never loses anything unless a test crashes a
 * node, which drops only volatile state).
 */
export class Harness {
  readonly nodes = new Map<number, PaxosNode>();
  readonly disks = new Map<number, DurableState>();
  readonly network: InFlight[] = [];
  readonly replies = new Map<number, Reply>();
  readonly applied = new Map<number, AppliedSlot[]>();
  readonly config: Config;
  readonly limits: Partial<Limits>;
  readonly #down = new Set<number>();
  #nextRequestId = 1;

  constructor(options: { members: number | Member[]; limits?: Partial<Limits> }) {
    const members =
      typeof options.members === "number"
        ? Array.from({ length: options.members }, (_, i) => ({ id: i + 1, replica: true, acceptor: true }))
        : options.members;
    this.config = makeConfig(members);
    this.limits = { electionTicks: 10, heartbeatTicks: 3, retransmitTicks: 5, ...options.limits };
    for (const m of members) this.start(m.id, this.config);
  }

  /** Starts (or restarts) node `id` from its durable image. */
  start(id: number, config: Config = this.config): PaxosNode {
    const disk = this.disks.get(id) ?? emptyDurableState();
    this.disks.set(id, disk);
    const node = new PaxosNode({
      id,
      config,
      machine: new KvMachine(),
      durable: { ...disk, accepted: new Map(disk.accepted) },
      // Distinct, fixed timeouts per node: the lowest id campaigns first, so scripts are predictable.
      random: () => Math.min(0.9, (id - 1) * 0.25),
      limits: this.limits,
    });
    this.nodes.set(id, node);
    this.#down.delete(id);
    return node;
  }

  node(id: number): PaxosNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Drops a node's volatile state and every message to or from it. */
  crash(id: number): void {
    this.#down.add(id);
    this.nodes.delete(id);
    this.dropWhere((m) => m.to === id || m.from === id);
  }

  /** Collects every node's effects: persist into its disk, messages into the network, replies by id. */
  flush(): void {
    for (const [id, node] of this.nodes) {
      while (node.hasReady()) {
        const ready = node.ready();
        const disk = this.disks.get(id)!;
        for (const record of ready.persist) applyRecord(disk, record);
        for (const e of [...ready.early, ...ready.messages]) this.#send(id, e);
        for (const r of ready.replies) this.replies.set(r.requestId, r.reply);
        const list = this.applied.get(id) ?? [];
        list.push(...ready.applied);
        this.applied.set(id, list);
      }
    }
  }

  #send(from: number, envelope: Envelope): void {
    if (this.#down.has(envelope.to)) return;
    this.network.push({ from, to: envelope.to, message: envelope.message });
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick(i);
    this.flush();
  }

  /** Ticks every live node `times` times, delivering everything after each round. */
  tickAll(times: number): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.tick(i);
      this.flush();
      this.stabilize();
    }
  }

  /** Delivers the messages matching `filter` (all by default) that are in flight now. */
  deliver(filter: (m: InFlight) => boolean = () => true): InFlight[] {
    const chosen = this.network.filter(filter);
    this.dropWhere((m) => chosen.includes(m));
    for (const m of chosen) this.nodes.get(m.to)?.step(m.from, m.message);
    this.flush();
    return chosen;
  }

  dropWhere(filter: (m: InFlight) => boolean): InFlight[] {
    const dropped = this.network.filter(filter);
    const kept = this.network.filter((m) => !filter(m));
    this.network.length = 0;
    this.network.push(...kept);
    return dropped;
  }

  /** Delivers until nothing is in flight (bounded, like every loop here). */
  stabilize(filter: (m: InFlight) => boolean = () => true, roundsMax = 200): void {
    for (let round = 0; round < roundsMax; round++) {
      if (!this.network.some(filter)) return;
      this.deliver(filter);
    }
    throw new Error("network did not settle");
  }

  /** Ticks every live node, delivering everything, until `id` leads (it must be the first to campaign). */
  elect(id: number): void {
    for (let round = 0; round < 100 && this.node(id).role !== "leader"; round++) this.tickAll(1);
    if (this.node(id).role !== "leader") throw new Error(`node ${id} did not become leader`);
  }

  /** Sends a command to node `id`; returns the request id its reply will carry. */
  propose(id: number, command: Command): number {
    const requestId = this.#nextRequestId++;
    this.node(id).propose(requestId, command);
    this.flush();
    return requestId;
  }

  read(id: number, key: string): number {
    const requestId = this.#nextRequestId++;
    this.node(id).read(requestId, encodeJson({ t: "get", k: key }));
    this.flush();
    return requestId;
  }

  /** Opens a session on leader `id` and returns its id. */
  openSession(id: number, nonce = 1): number {
    const requestId = this.propose(id, { clientId: 0, seq: nonce, ackedThrough: 0, body: { kind: "open" } });
    this.stabilize();
    const reply = this.replies.get(requestId);
    if (!reply?.ok || !("sessionId" in reply)) throw new Error(`open failed: ${JSON.stringify(reply)}`);
    return reply.sessionId;
  }

  /** The decoded result of a reply, or the error code. */
  result(requestId: number): unknown {
    const reply = this.replies.get(requestId);
    if (!reply) return undefined;
    if (!reply.ok) return reply.error;
    if ("result" in reply) return decodeJson(reply.result);
    return reply;
  }

  messages(type: Message["type"], filter: (m: InFlight) => boolean = () => true): InFlight[] {
    return this.network.filter((m) => m.message.type === type && filter(m));
  }
}

/** A command that increments counter `key` in session `clientId`. */
export function inc(clientId: number, seq: number, key = "c"): Command {
  return { clientId, seq, ackedThrough: seq - 1, body: { kind: "op", op: encodeJson({ t: "inc", k: key }) } };
}

/** A command that writes `value` (bytes of `size`) to register `key`. */
export function write(clientId: number, seq: number, key: string, value: number): Command {
  return {
    clientId,
    seq,
    ackedThrough: seq - 1,
    body: { kind: "op", op: encodeJson({ t: "write", k: key, v: value }) },
  };
}
