import type { EventQueue } from "./event-queue.ts";
import type { Prng } from "./prng.ts";

/** How unreliable the network of one seed is. */
export interface NetworkFaults {
  lossRate: number;
  duplicateRate: number;
  delayMsMin: number;
  delayMsMax: number;
  /** How late a duplicate may arrive. */
  lateDuplicateMsMax: number;
}

/**
 * A simulated network between endpoints (nodes and clients): delay with jitter (which reorders),
 * loss, duplication, symmetric and one-way partitions, and clogged links that deliver very late.
 * Messages to oneself are never lost or delayed, like a loopback.
 *
 * @example
 * ```ts
 * const net = new SimNetwork({ queue, rng, faults, deliver: (from, to, p) => ... });
 * net.block(1, 2); // 1 can no longer reach 2
 * ```
 */
export class SimNetwork<P> {
  readonly #queue: EventQueue;
  readonly #rng: Prng;
  readonly #deliver: (from: number, to: number, payload: P) => void;
  faults: NetworkFaults;
  readonly #blocked = new Set<string>();
  readonly #clogged = new Map<string, { untilMs: number; extraMs: number }>();
  sent = 0;
  dropped = 0;

  constructor(options: {
    queue: EventQueue;
    rng: Prng;
    faults: NetworkFaults;
    deliver: (from: number, to: number, payload: P) => void;
  }) {
    this.#queue = options.queue;
    this.#rng = options.rng;
    this.faults = options.faults;
    this.#deliver = options.deliver;
  }

  send(from: number, to: number, payload: P): void {
    this.sent++;
    if (from === to) {
      this.#queue.after(0, () => this.#deliver(from, to, payload));
      return;
    }
    if (this.#blocked.has(linkKey(from, to)) || this.#rng.chance(this.faults.lossRate)) {
      this.dropped++;
      return;
    }
    this.#queue.after(this.#delayMs(from, to), () => this.#deliver(from, to, payload));
    if (this.#rng.chance(this.faults.duplicateRate)) {
      // A duplicate may come much later (a retransmitting middlebox), after leaders and ballots moved on.
      const lateMs = this.#rng.chance(0.5) ? this.#rng.float(0, this.faults.lateDuplicateMsMax) : 0;
      this.#queue.after(this.#delayMs(from, to) + lateMs, () => this.#deliver(from, to, payload));
    }
  }

  #delayMs(from: number, to: number): number {
    let delay = this.#rng.float(this.faults.delayMsMin, this.faults.delayMsMax);
    const clog = this.#clogged.get(linkKey(from, to));
    if (clog && clog.untilMs > this.#queue.now) delay += this.#rng.float(0, clog.extraMs);
    return delay;
  }

  /** Stops traffic from `from` to `to` (one way). */
  block(from: number, to: number): void {
    this.#blocked.add(linkKey(from, to));
  }

  /** Cuts `a` and `b` off from each other both ways. */
  partition(a: readonly number[], b: readonly number[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  /** Makes the link from `from` to `to` deliver up to `extraMs` late until `untilMs`. */
  clog(from: number, to: number, untilMs: number, extraMs: number): void {
    this.#clogged.set(linkKey(from, to), { untilMs, extraMs });
  }

  /** Removes every partition and clog. */
  healAll(): void {
    this.#blocked.clear();
    this.#clogged.clear();
  }

  get partitioned(): boolean {
    return this.#blocked.size > 0;
  }
}

function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}
