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
 * 1. append every `persist` record and make them durable (one sync for the whole batch);
 * 2. only then send `messages` (including those addressed to this node itself, which it must deliver
 *    back through `step`) and deliver `replies`.
 * `applied` reports what the node has already applied to its state machine; it needs no action.
 *
 * @example
 * ```ts
 * const ready = node.ready();
 * await log.appendAndSync(ready.persist);
 * for (const e of ready.messages) transport.send(e.to, e.message);
 * ```
 */
export interface Ready {
  readonly persist: readonly PersistRecord[];
  readonly messages: readonly Envelope[];
  readonly replies: readonly ClientReplyEffect[];
  readonly applied: readonly AppliedSlot[];
}

/** Collects effects between two calls of `ready()`. */
export class Outbox {
  persist: PersistRecord[] = [];
  messages: Envelope[] = [];
  replies: ClientReplyEffect[] = [];
  applied: AppliedSlot[] = [];

  send(to: number, message: Message): void {
    this.messages.push({ to, message });
  }

  reply(requestId: number, reply: Reply): void {
    this.replies.push({ requestId, reply });
  }

  get empty(): boolean {
    return (
      this.persist.length === 0 &&
      this.messages.length === 0 &&
      this.replies.length === 0 &&
      this.applied.length === 0
    );
  }

  drain(): Ready {
    const ready: Ready = {
      persist: this.persist,
      messages: this.messages,
      replies: this.replies,
      applied: this.applied,
    };
    this.persist = [];
    this.messages = [];
    this.replies = [];
    this.applied = [];
    return ready;
  }
}
