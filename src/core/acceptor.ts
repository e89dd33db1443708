import { assert } from "./assert.ts";
import type { Ballot } from "./ballot.ts";
import { compareBallots } from "./ballot.ts";
import { batchBytes } from "./command.ts";
import type { DurableState } from "./durable.ts";
import type { Message, PValue, SlotValue } from "./messages.ts";
import type { PlantedBugs } from "./planted-bugs.ts";
import type { Outbox } from "./ready.ts";

/**
 * The acceptor role: it promises ballots and stores accepted values, durably. Every state change is
 * queued as a persist record in the same batch as the reply that depends on it, and the host makes the
 * record durable before it sends the reply.
 *
 * @example
 * ```ts
 * const acceptor = new Acceptor({ durable, bugs: NO_BUGS, outbox });
 * acceptor.onAccept(ballot, entries); // returns the reply to send
 * ```
 */
export class Acceptor {
  #promised: Ballot;
  readonly #accepted: Map<number, PValue>;
  #truncatedThrough: number;
  readonly #bugs: PlantedBugs;
  readonly #outbox: Outbox;

  constructor(options: { durable: DurableState; bugs: PlantedBugs; outbox: Outbox }) {
    this.#promised = options.durable.promised;
    this.#accepted = new Map(options.durable.accepted);
    this.#truncatedThrough = options.durable.truncatedThrough;
    this.#bugs = options.bugs;
    this.#outbox = options.outbox;
  }

  get promised(): Ballot {
    return this.#promised;
  }

  get truncatedThrough(): number {
    return this.#truncatedThrough;
  }

  get acceptedCount(): number {
    return this.#accepted.size;
  }

  /** The value accepted for `slot`, if any. */
  acceptedAt(slot: number): PValue | undefined {
    return this.#accepted.get(slot);
  }

  /** Raises the promise to `ballot` if it is higher; true when it did. */
  raise(ballot: Ballot): boolean {
    if (compareBallots(ballot, this.#promised) <= 0) return false;
    const previous = this.#promised;
    this.#promised = ballot;
    assert(compareBallots(this.#promised, previous) > 0, "a promise only grows");
    this.#outbox.persist.push({ kind: "promise", ballot });
    return true;
  }

  /**
   * Phase 1. `stickyLeader` is true while this node still hears a live leader other than the candidate:
   * the acceptor then refuses without promising, so a node that merely lost contact cannot depose a
   * leader the rest of the cluster still follows.
   */
  onPrepare(ballot: Ballot, fromSlot: number, stickyLeader: boolean, messageBytesMax: number): Message {
    if (
      compareBallots(ballot, this.#promised) < 0 ||
      (stickyLeader && compareBallots(ballot, this.#promised) > 0)
    ) {
      return { type: "nack", ballot, promised: this.#promised };
    }
    this.raise(ballot);
    const slots = [...this.#accepted.keys()].filter((s) => s >= fromSlot).sort((a, b) => a - b);
    const accepted: PValue[] = [];
    let bytes = 0;
    let coveredThrough = Number.POSITIVE_INFINITY;
    for (const slot of slots) {
      const pvalue = this.#accepted.get(slot)!;
      const size = batchBytes(pvalue.value) + 32;
      // Stop before the message limit; the candidate asks again from `coveredThrough + 1`.
      if (accepted.length > 0 && bytes + size > messageBytesMax / 2) {
        coveredThrough = slot - 1;
        break;
      }
      accepted.push(pvalue);
      bytes += size;
    }
    return { type: "promise", ballot, accepted, coveredThrough, truncatedThrough: this.#truncatedThrough };
  }

  /** Phase 2: accepts every entry if `ballot` is at least the promise. */
  onAccept(ballot: Ballot, entries: readonly SlotValue[]): Message {
    const lower = compareBallots(ballot, this.#promised) < 0;
    if (lower && !this.#bugs.has("accept-lower-ballot"))
      return { type: "nack", ballot, promised: this.#promised };
    if (!lower) this.raise(ballot);
    const slots: number[] = [];
    for (const entry of entries) {
      // Compacted slots are decided already; accepting again would resurrect state we dropped.
      if (entry.slot <= this.#truncatedThrough) continue;
      const pvalue: PValue = { slot: entry.slot, ballot, value: entry.value };
      this.#accepted.set(entry.slot, pvalue);
      this.#outbox.persist.push({ kind: "accept", pvalue });
      slots.push(entry.slot);
    }
    return { type: "accepted", ballot, slots };
  }

  /** Drops accepted values of decided slots up to `throughSlot`. */
  compact(throughSlot: number): void {
    if (throughSlot <= this.#truncatedThrough) return;
    this.#truncatedThrough = throughSlot;
    for (const slot of [...this.#accepted.keys()]) if (slot <= throughSlot) this.#accepted.delete(slot);
    this.#outbox.persist.push({ kind: "truncate", throughSlot });
    assert(this.#truncatedThrough === throughSlot, "truncation point moved backwards");
  }
}
