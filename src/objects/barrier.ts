import { caller, type Parked, park, type Waiter, wake } from "../object/api.ts";
import { checkWaiters, integerArg, invariant, plainWaiter, withoutCall, withoutClient } from "./shared.ts";

/**
 * A reusable barrier for `parties` calls (ConCoord's `Barrier` and `DBarrier`, which lost waiters: here
 * every waiting call of a round is woken, exactly once).
 *
 * - `wait()` waits until `parties` calls have arrived in the current round, then all of them return. Each
 *   returns its arrival index in the round, 0 to `parties - 1`; the last arriver gets `parties - 1`
 *   at once, without waiting, and wakes the others.
 * - The barrier is then reset: the next `wait()` starts a new round (`round` counts them).
 * - A call counts as one party, so one client may fill several places with concurrent calls.
 * - A party whose session expires, or whose call times out, is removed from the current round: the
 *   round then needs one more arrival, and the indexes of later arrivals shift down to stay 0 to
 *   `parties - 1`. (Python's Barrier breaks instead; with sessions that end on their own, waiting for a
 *   replacement is the more useful choice.)
 *
 * `__concoordinit__(n)` starts over with `n` parties; calls waiting then are lost with the old instance
 * (they time out), so re-initialise only an idle barrier.
 *
 * @example
 * ```ts
 * const barrier = client.object<Barrier>("barrier"); // hosted, then __concoordinit__(3)
 * const index = await barrier.wait(); // resolves when the third worker arrives
 * if (index === 0) console.log("first to arrive");
 * ```
 */
export class Barrier {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["waiting", "parties"];

  /** How many calls make a round. */
  size: number;
  /** Completed rounds so far: the generation of the round in progress. */
  round = 0;
  /** The waiting calls of the current round, in arrival order (at most `size - 1`). */
  arrived: Waiter<number>[] = [];

  /**
   * @param parties how many calls each round waits for; an integer ≥ 1 (else `ValueError`).
   *
   * @example
   * ```ts
   * new Barrier(3).parties(); // 3
   * ```
   */
  constructor(parties = 2) {
    this.size = integerArg(parties, "parties", 1);
  }

  /**
   * Waits for the round to fill; returns this call's arrival index, 0 to `parties - 1`.
   *
   * @example
   * ```ts
   * const index = await barrier.wait();
   * ```
   */
  wait(): number | Parked<number> {
    const me = caller();
    const index = this.arrived.length;
    if (index < this.size - 1) {
      this.arrived.push(plainWaiter<number>(me.waiter));
      this._check();
      return park<number>();
    }
    // The round is full: wake everyone, then start the next round with nobody in it.
    const round = this.arrived;
    this.arrived = [];
    this.round += 1;
    round.forEach((waiter, i) => {
      wake(waiter, i);
    });
    return index;
  }

  /**
   * How many calls wait in the current round.
   *
   * @example
   * ```ts
   * await barrier.waiting(); // 2
   * ```
   */
  waiting(): number {
    return this.arrived.length;
  }

  /**
   * How many calls make a round.
   *
   * @example
   * ```ts
   * await barrier.parties(); // 3
   * ```
   */
  parties(): number {
    return this.size;
  }

  /** Hook: an expired client's waiting calls leave the round, which then needs as many more arrivals. */
  __concoordsessionexpired__(clientId: number): void {
    this.arrived = withoutClient(this.arrived, clientId);
  }

  /** Hook: a timed-out call leaves the round (its client gets a Timeout error from the host). */
  __concoordtimeout__(waiter: Waiter): void {
    this.arrived = withoutCall(this.arrived, waiter);
  }

  private _check(): void {
    checkWaiters(this.arrived, undefined, "Barrier");
    invariant(this.arrived.length < this.size, "a full round is released at once");
  }
}
