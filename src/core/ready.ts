import type { Batch, Reply } from "./command.ts";
import type { PersistRecord } from "./durable.ts";
import type { Envelope, Message } from "./messages.ts";

/** A reply for the request the host registered as `requestId`. */
export interface ClientReplyEffect {
  readonly requestId: number;
  readonly reply: Reply;
}

/** A slot this node applied, in order, to its state machine. */
export interface AppliedSlot {
  readonly slot: number;
  readonly batch: Batch;
}

/**
 * One batch of effects. The host's contract, in order:
 * 1. `early` messages and `replies` may go at once, before the batch is durable: a leader's accepts and
 *    heartbeats to other nodes carry nothing this node must have on disk first (its ballot was made
 *    durable when it campaigned, and its own vote is counted only through its own acceptor), and every
 *    reply reports a decision that a quorum of acceptors holds durably, or a refusal. Sending them
 *    first overlaps this node's sync with the followers' round trip.
 * 2. append every `persist` record and make them durable (one sync for the whole batch);
 * 3. only then send `messages` (votes, prepares, and those addressed to this node itself, which it must
 *    deliver back through `step`).
 * `applied` reports what the node has already applied to its state machine; it needs no action.
 *
 * @example
 * ```ts
 * const ready = node.ready();
 * for (const e of ready.early) transport.send(e.to, e.message);
 * await log.appendAndSync(ready.persist);
 * for (const e of ready.messages) transport.send(e.to, e.message);
 * ```
 */
export interface Ready {
  readonly persist: readonly PersistRecord[];
  readonly early: readonly Envelope[];
  readonly messages: readonly Envelope[];
  readonly replies: readonly ClientReplyEffect[];
  readonly applied: readonly AppliedSlot[];
}

/** Message types a node may send before its batch is durable (see {@link Ready}). */
const EARLY_TYPES: ReadonlySet<Message["type"]> = new Set(["accept", "heartbeat"]);

/** Collects effects between two calls of `ready()`. */
export class Outbox {
  persist: PersistRecord[] = [];
  early: Envelope[] = [];
  messages: Envelope[] = [];
  replies: ClientReplyEffect[] = [];
  applied: AppliedSlot[] = [];
  readonly #selfId: number;

  constructor(selfId: number) {
    this.#selfId = selfId;
  }

  send(to: number, message: Message): void {
    if (to !== this.#selfId && EARLY_TYPES.has(message.type)) this.early.push({ to, message });
    else this.messages.push({ to, message });
  }

  reply(requestId: number, reply: Reply): void {
    this.replies.push({ requestId, reply });
  }

  get empty(): boolean {
    return (
      this.persist.length === 0 &&
      this.early.length === 0 &&
      this.messages.length === 0 &&
      this.replies.length === 0 &&
      this.applied.length === 0
    );
  }

  drain(): Ready {
    const ready: Ready = {
      persist: this.persist,
      early: this.early,
      messages: this.messages,
      replies: this.replies,
      applied: this.applied,
    };
    this.persist = [];
    this.early = [];
    this.messages = [];
    this.replies = [];
    this.applied = [];
    return ready;
  }
}
