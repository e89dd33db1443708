import type { CommandBody, Reply } from "../core/command.ts";
import type { EventQueue } from "./event-queue.ts";
import type { SimNetwork } from "./network.ts";
import type { Packet } from "./packets.ts";
import type { Prng } from "./prng.ts";

/** How a client call ended: a reply, or nothing certain (it may or may not have taken effect). */
export type CallOutcome =
  | { kind: "ok"; reply: Reply & { ok: true } }
  | { kind: "unknown"; reason: string }
  /** Definitely did not happen: a parked call the cluster withdrew at its timeout. */
  | { kind: "fail"; reason: string };

/** Client timing of one seed. */
export interface ClientTiming {
  attemptTimeoutMs: number;
  /** After this long a call gives up with an unknown outcome; `Infinity` retries until it succeeds. */
  callDeadlineMs: number;
  retryBackoffMsMax: number;
}

interface Call {
  readonly packet: (requestId: number) => Packet;
  readonly startMs: number;
  readonly deadlineMs: number;
  readonly done: (outcome: CallOutcome) => void;
  attempt: number;
  readonly requestIds: Set<number>;
}

/**
 * A simulated client: one call at a time, sent to the node it believes leads, following `NotLeader`
 * hints, retrying after timeouts with the same `(clientId, seq)`, giving up with an unknown outcome
 * after its deadline. Its session comes from an `open` command through the log.
 *
 * @example
 * ```ts
 * client.call({ kind: "op", op }, (outcome) => record(outcome));
 * ```
 */
export class SimClient {
  readonly endpoint: number;
  readonly #queue: EventQueue;
  readonly #net: SimNetwork<Packet>;
  readonly #rng: Prng;
  readonly #members: () => readonly number[];
  timing: ClientTiming;
  sessionId = 0;
  #seq = 0;
  #ackedThrough = 0;
  #nonce: number;
  #leaderHint: number | null = null;
  #nextRequestId = 1;
  #call: Call | null = null;

  constructor(options: {
    endpoint: number;
    queue: EventQueue;
    net: SimNetwork<Packet>;
    rng: Prng;
    members: () => readonly number[];
    timing: ClientTiming;
  }) {
    this.endpoint = options.endpoint;
    this.#queue = options.queue;
    this.#net = options.net;
    this.#rng = options.rng;
    this.#members = options.members;
    this.timing = options.timing;
    this.#nonce = options.endpoint * 1_000_000;
  }

  get busy(): boolean {
    return this.#call !== null;
  }

  /** Opens a session (retrying until it succeeds or the deadline passes), then calls `done`. */
  openSession(done: (ok: boolean) => void): void {
    const nonce = ++this.#nonce;
    this.#start(
      (requestId) => ({
        kind: "command",
        requestId,
        command: { clientId: 0, seq: nonce, ackedThrough: 0, body: { kind: "open" } },
      }),
      (outcome) => {
        if (outcome.kind === "ok" && "sessionId" in outcome.reply) {
          this.sessionId = outcome.reply.sessionId;
          this.#seq = 0;
          this.#ackedThrough = 0;
          done(true);
        } else {
          done(false);
        }
      },
    );
  }

  /** Runs a command in the session; `timeoutMs` bounds how long the cluster may keep it parked. */
  command(body: CommandBody, done: (outcome: CallOutcome) => void, timeoutMs?: number): void {
    const seq = ++this.#seq;
    const clientId = this.sessionId;
    const ackedThrough = this.#ackedThrough;
    const command = { clientId, seq, ackedThrough, body, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
    this.#start(
      (requestId) => ({ kind: "command", requestId, command }),
      (outcome) => {
        // One call at a time: whatever became of this seq, the client will never wait for it again.
        this.#ackedThrough = seq;
        done(outcome);
      },
    );
  }

  /** Runs a linearizable read. */
  read(query: Uint8Array, done: (outcome: CallOutcome) => void): void {
    this.#start((requestId) => ({ kind: "read", requestId, query }), done);
  }

  #start(packet: (requestId: number) => Packet, done: (outcome: CallOutcome) => void): void {
    if (this.#call) throw new Error(`client ${this.endpoint} already has a call in flight`);
    const now = this.#queue.now;
    this.#call = {
      packet,
      startMs: now,
      deadlineMs: now + this.timing.callDeadlineMs,
      done,
      attempt: 0,
      requestIds: new Set(),
    };
    this.#attempt();
  }

  #attempt(): void {
    const call = this.#call;
    if (!call) return;
    if (this.#queue.now >= call.deadlineMs) {
      this.#finish({ kind: "unknown", reason: "deadline" });
      return;
    }
    const attempt = ++call.attempt;
    const members = this.#members();
    const target = this.#leaderHint ?? this.#rng.pick(members);
    const requestId = this.#nextRequestId++;
    call.requestIds.add(requestId);
    this.#net.send(this.endpoint, target, call.packet(requestId));
    this.#queue.after(this.timing.attemptTimeoutMs, () => {
      if (this.#call !== call || call.attempt !== attempt) return;
      this.#leaderHint = null;
      this.#attempt();
    });
  }

  #retrySoon(): void {
    const call = this.#call;
    if (!call) return;
    const attempt = ++call.attempt;
    this.#queue.after(this.#rng.float(1, this.timing.retryBackoffMsMax), () => {
      if (this.#call === call && call.attempt === attempt) this.#attempt();
    });
  }

  #finish(outcome: CallOutcome): void {
    const call = this.#call;
    if (!call) return;
    this.#call = null;
    call.done(outcome);
  }

  /** Handles a response from a node. */
  receive(from: number, packet: Packet): void {
    const call = this.#call;
    if (packet.kind !== "response" || !call || !call.requestIds.has(packet.requestId)) return;
    const reply = packet.reply;
    if (reply.ok) {
      this.#leaderHint = from;
      this.#finish({ kind: "ok", reply });
      return;
    }
    switch (reply.error) {
      case "NotLeader":
        this.#leaderHint = reply.leaderId !== undefined && reply.leaderId !== from ? reply.leaderId : null;
        this.#retrySoon();
        return;
      case "Busy":
        this.#retrySoon();
        return;
      case "Timeout":
        this.#finish({ kind: "fail", reason: reply.message });
        return;
      case "SessionExpired":
        this.sessionId = 0;
        this.#finish({ kind: "unknown", reason: "session expired" });
        return;
      default:
        this.#finish({ kind: "unknown", reason: `${reply.error}: ${reply.message}` });
    }
  }
}
