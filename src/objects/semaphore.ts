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
 * A counting semaphore of `permits` (ConCoord's `Semaphore` and `DSemaphore`), whose permits belong to
 * the client sessions that took them.
 *
 * - `acquire()` takes a permit and returns a fencing token (it grows with every grant ever made); with
 *   none free it waits, first come first served. A client may hold several permits.
 * - `release()` gives back one of the caller's own permits, straight to the oldest waiter if there is
 *   one. A client holding none gets `NotHolder`: counting who holds what is what lets an expired session's
 *   permits come back, and it catches double releases.
 * - When a session expires its permits are returned (to waiters first) and its queued calls dropped. A
 *   timed-out call leaves the queue.
 *
 * `__concoordinit__(n)` starts over with `n` permits, all free.
 *
 * @example
 * ```ts
 * const slots = client.object<Semaphore>("slots"); // hosted as Semaphore, then __concoordinit__(4)
 * await slots.acquire();
 * try {
 *   await download();
 * } finally {
 *   await slots.release();
 * }
 * ```
 */
export class Semaphore {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["available"];

  /** The number of permits the semaphore was created with. */
  permits: number;
  /** Permits nobody holds. */
  free: number;
  /** Permits held, by client id (clients holding none are absent). */
  holders = new Map<number, number>();
  /** Calls waiting for a permit, oldest first. */
  waiters: Waiter<number>[] = [];
  /** The last fencing token handed out. */
  fence = 0;

  /**
   * @param permits how many clients may hold a permit at once; a non-negative integer (else `ValueError`).
   *
   * @example
   * ```ts
   * new Semaphore(3).available(); // 3
   * ```
   */
  constructor(permits = 1) {
    this.permits = integerArg(permits, "permits", 0);
    this.free = this.permits;
  }

  /**
   * Takes a permit, waiting while none is free. Returns this grant's fencing token.
   *
   * @example
   * ```ts
   * const token = await semaphore.acquire();
   * ```
   */
  acquire(): number | Parked<number> {
    const me = caller();
    if (this.free > 0) {
      this.free -= 1;
      const token = this._grant(me.clientId);
      this._check();
      return token;
    }
    this.waiters.push(plainWaiter<number>(me.waiter));
    this._check();
    return park<number>();
  }

  /**
   * Takes a permit only if one is free now: its token, or null without waiting.
   *
   * @example
   * ```ts
   * const token = await semaphore.tryAcquire();
   * ```
   */
  tryAcquire(): number | null {
    const me = caller();
    if (this.free === 0) return null;
    this.free -= 1;
    const token = this._grant(me.clientId);
    this._check();
    return token;
  }

  /**
   * Gives back one of the caller's permits; it goes straight to the oldest waiter, if any. Throws
   * `NotHolder` when the caller holds none.
   *
   * @example
   * ```ts
   * await semaphore.release();
   * ```
   */
  release(): void {
    const me = caller();
    if ((this.holders.get(me.clientId) ?? 0) === 0) throw this._refuseRelease(me.clientId);
    this._take(me.clientId, 1);
    this._returnPermits(1);
  }

  /**
   * How many permits are free.
   *
   * @example
   * ```ts
   * await semaphore.available(); // 2
   * ```
   */
  available(): number {
    return this.free;
  }

  /**
   * How many permits the calling client holds. Not read-only: it needs to know the caller, which only a
   * call through the log does.
   *
   * @example
   * ```ts
   * await semaphore.held(); // 1
   * ```
   */
  held(): number {
    return this.holders.get(caller().clientId) ?? 0;
  }

  /** Hook: an expired client's permits come back (to waiters first); its queued calls are dropped. */
  __concoordsessionexpired__(clientId: number): void {
    this.waiters = withoutClient(this.waiters, clientId);
    const count = this.holders.get(clientId) ?? 0;
    if (count > 0) {
      this._take(clientId, count);
      this._returnPermits(count);
    }
    this._check();
  }

  /** Hook: a timed-out call leaves the queue (its client gets a Timeout error from the host). */
  __concoordtimeout__(waiter: Waiter): void {
    this.waiters = withoutCall(this.waiters, waiter);
  }

  /**
   * The error for a release by a client that holds no permit. A subclass may refuse differently
   * (`BoundedSemaphore` says `ValueError` when the count would pass its bound).
   */
  protected _refuseRelease(clientId: number): Error {
    return new NotHolder(`release() by client ${clientId}, which holds no permit`);
  }

  /**
   * Records one more permit for `clientId` (already taken from `free` or from a releaser) and returns its
   * token. The counts only add up again once the caller is done, so it does not check them.
   */
  private _grant(clientId: number): number {
    this.holders.set(clientId, (this.holders.get(clientId) ?? 0) + 1);
    this.fence += 1;
    return this.fence;
  }

  /** Takes `count` of the permits `clientId` holds away from it. */
  private _take(clientId: number, count: number): void {
    const held = this.holders.get(clientId) ?? 0;
    invariant(held >= count, "a client gives back only permits it holds");
    if (held === count) this.holders.delete(clientId);
    else this.holders.set(clientId, held - count);
  }

  /** Hands `count` returned permits to the oldest waiters, the rest back to `free`. */
  private _returnPermits(count: number): void {
    for (let i = 0; i < count; i++) {
      const next = this.waiters.shift();
      if (next === undefined) this.free += 1;
      else wake(next, this._grant(next.clientId));
    }
    this._check();
  }

  private _check(): void {
    checkWaiters(this.waiters, undefined, "Semaphore");
    let held = 0;
    for (const count of this.holders.values()) held += count;
    invariant(this.free >= 0 && held + this.free === this.permits, "every permit is free or held, once");
    invariant(this.free === 0 || this.waiters.length === 0, "nobody waits while a permit is free");
  }
}
