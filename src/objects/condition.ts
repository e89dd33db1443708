import { caller, type Parked, park, type Waiter, wake } from "../object/api.ts";
import {
  checkWaiters,
  integerArg,
  invariant,
  NotHolder,
  plainWaiter,
  withoutCall,
  withoutClient,
} from "./shared.ts";

/**
 * A condition variable with its own lock, with Python's semantics (ConCoord's `Condition` and
 * `DCondition`, which lost notified waiters: here none is lost, and each is woken exactly once).
 *
 * - The lock: `acquire()` waits while another call holds it (first come first served), `release()` frees
 *   it. It is held by a client session (any call of that client may use it) and is not re-entrant.
 * - `wait()` needs the lock (else `NotHolder`). It atomically releases the lock — handing it to the next
 *   call queued for it — and joins the wait set. `notify(n)` moves the `n` oldest waiting calls, in order,
 *   to the end of the lock's queue; each returns `true` from `wait()` only once it holds the lock again,
 *   exactly as a Python thread re-acquires before `wait()` returns. `notifyAll()` moves all of them.
 * - Every call is in exactly one place — holding the lock, queued for it, or in the wait set — and is
 *   woken only when it gets the lock, so none is woken twice or lost.
 * - When a session expires its queued and waiting calls are dropped, and if it held the lock, the lock
 *   passes on. A timed-out `wait()` or `acquire()` leaves its queue; unlike Python's `wait(timeout)`, the
 *   client then gets a Timeout error and does NOT hold the lock.
 *
 * @example
 * ```ts
 * const cond = client.object<Condition>("cond");
 * // consumer
 * await cond.acquire();
 * while (!(await box.ready())) await cond.wait(); // holds the lock again when wait() returns
 * await cond.release();
 * // producer
 * await cond.acquire();
 * await box.fill();
 * await cond.notifyAll();
 * await cond.release();
 * ```
 */
export class Condition {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["holder", "waiting"];

  /** The call that holds the lock (an `acquire()`, or a `wait()` that got it back), or null when free. */
  owner: Waiter | null = null;
  /** Calls queued for the lock, oldest first: `acquire()`s and notified `wait()`s. */
  lockQueue: Waiter<boolean>[] = [];
  /** `wait()` calls not yet notified, oldest first. */
  waitSet: Waiter<boolean>[] = [];

  /**
   * Takes the lock, waiting while another call holds it. Returns `true` once held.
   *
   * @example
   * ```ts
   * await cond.acquire();
   * ```
   */
  acquire(): boolean | Parked<boolean> {
    const me = caller();
    if (this.owner === null) {
      this.owner = plainWaiter(me.waiter);
      this._check();
      return true;
    }
    this.lockQueue.push(plainWaiter<boolean>(me.waiter));
    this._check();
    return park<boolean>();
  }

  /**
   * Releases the lock, which passes to the oldest queued call. Throws `NotHolder` unless the caller's
   * client holds it.
   *
   * @example
   * ```ts
   * await cond.release();
   * ```
   */
  release(): void {
    this._requireHolder("release");
    this._handOver();
  }

  /**
   * Releases the lock and waits to be notified, then waits to hold the lock again; returns `true` holding
   * it. Throws `NotHolder` unless the caller's client holds the lock.
   *
   * @example
   * ```ts
   * await cond.acquire();
   * await cond.wait(); // true, and the lock is ours again
   * ```
   */
  wait(): boolean | Parked<boolean> {
    const me = this._requireHolder("wait");
    this.waitSet.push(plainWaiter<boolean>(me.waiter));
    this._handOver();
    return park<boolean>();
  }

  /**
   * Moves the `n` oldest waiting calls to the lock's queue; returns how many were moved. Throws `NotHolder`
   * unless the caller's client holds the lock.
   *
   * @example
   * ```ts
   * await cond.notify(); // 1, or 0 when nobody waited
   * ```
   */
  notify(n = 1): number {
    const count = integerArg(n, "n", 0);
    this._requireHolder("notify");
    // The lock is held (by the caller), so the moved calls cannot get it yet: nobody is woken here.
    const moved = this.waitSet.splice(0, count);
    this.lockQueue.push(...moved);
    this._check();
    return moved.length;
  }

  /**
   * Moves every waiting call to the lock's queue, in order; returns how many. Throws `NotHolder` unless
   * the caller's client holds the lock.
   *
   * @example
   * ```ts
   * await cond.notifyAll(); // 3
   * ```
   */
  notifyAll(): number {
    return this.notify(this.waitSet.length);
  }

  /**
   * The client holding the lock, or null.
   *
   * @example
   * ```ts
   * await cond.holder(); // 4
   * ```
   */
  holder(): number | null {
    return this.owner?.clientId ?? null;
  }

  /**
   * How many `wait()` calls wait to be notified.
   *
   * @example
   * ```ts
   * await cond.waiting(); // 2
   * ```
   */
  waiting(): number {
    return this.waitSet.length;
  }

  /** Hook: an expired client's calls are dropped first, so that the lock never passes to it. */
  __concoordsessionexpired__(clientId: number): void {
    this.waitSet = withoutClient(this.waitSet, clientId);
    this.lockQueue = withoutClient(this.lockQueue, clientId);
    if (this.owner?.clientId === clientId) this._handOver();
    this._check();
  }

  /** Hook: a timed-out call leaves whichever queue it is in; it holds nothing, so nothing passes on. */
  __concoordtimeout__(waiter: Waiter): void {
    this.waitSet = withoutCall(this.waitSet, waiter);
    this.lockQueue = withoutCall(this.lockQueue, waiter);
  }

  /** The caller, after checking that its client holds the lock. */
  private _requireHolder(what: string): ReturnType<typeof caller> {
    const me = caller();
    if (this.owner?.clientId !== me.clientId)
      throw new NotHolder(
        `${what}() by client ${me.clientId}, but the lock is ${this.owner === null ? "free" : `held by client ${this.owner.clientId}`}`,
      );
    return me;
  }

  /** Gives the lock to the oldest queued call, waking it (`acquire()` or `wait()` both return true). */
  private _handOver(): void {
    const next = this.lockQueue.shift();
    this.owner = next ?? null;
    if (next !== undefined) wake(next, true);
    this._check();
  }

  private _check(): void {
    checkWaiters([...this.lockQueue, ...this.waitSet], this.owner ?? undefined, "Condition");
    invariant(this.owner !== null || this.lockQueue.length === 0, "nobody queues for a free lock");
  }
}
