import { caller, type Parked, park, type Waiter, wake } from "../object/api.ts";
import { checkWaiters, invariant, NotHolder, plainWaiter, withoutCall, withoutClient } from "./shared.ts";

/** The call that holds a lock, and the fencing token it was granted. */
export interface LockGrant {
  readonly clientId: number;
  readonly seq: number;
  readonly token: number;
}

/**
 * A mutual-exclusion lock held by one client session at a time, with fencing tokens (ConCoord's `Lock`
 * and `DLock`).
 *
 * - `acquire()` returns a fencing token, a number that grows with every grant ever made, so a storage
 *   service can refuse writes from a holder that has since lost the lock (pass the token along and
 *   reject any smaller than the largest seen). While the lock is held the call waits, first come first
 *   served.
 * - The lock belongs to the client's session, not to one call: any call of the holding client may
 *   `release()` it. It is not re-entrant (`RLock` is): a second `acquire()` by the holder
 *   waits like anyone else's, until some call of the holder releases.
 * - When the holder's session expires the lock passes to the next waiter (with a new, larger token), and
 *   the expired client's queued calls are dropped. A call whose timeout passes leaves the queue.
 *
 * @example
 * ```ts
 * const lock = client.object<Lock>("lock");
 * const token = await lock.acquire();
 * try {
 *   await storage.write(key, value, token); // storage rejects tokens older than the newest it saw
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export class Lock {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["holder"];

  /** The call holding the lock, or null when it is free. */
  grant: LockGrant | null = null;
  /** Calls waiting for the lock, oldest first. */
  waiters: Waiter<number>[] = [];
  /** The last fencing token handed out: every grant gets `++fence`. */
  fence = 0;

  /**
   * Takes the lock, waiting while another call holds it. Returns the fencing token of this grant.
   *
   * @example
   * ```ts
   * const token = await lock.acquire(); // e.g. 7
   * ```
   */
  acquire(): number | Parked<number> {
    const me = caller();
    if (this.grant === null) return this._grant(me.waiter);
    this.waiters.push(plainWaiter<number>(me.waiter));
    this._check();
    return park<number>();
  }

  /**
   * Takes the lock only if it is free now: its fencing token, or null without waiting.
   *
   * @example
   * ```ts
   * const token = await lock.tryAcquire();
   * if (token === null) console.log("busy, try later");
   * ```
   */
  tryAcquire(): number | null {
    const me = caller();
    return this.grant === null ? this._grant(me.waiter) : null;
  }

  /**
   * Releases the lock, which passes at once to the oldest waiting call with a new token. Throws
   * `NotHolder` when the calling client does not hold it.
   *
   * @example
   * ```ts
   * await lock.release();
   * ```
   */
  release(): void {
    const me = caller();
    if (this.grant?.clientId !== me.clientId)
      throw new NotHolder(
        `release() by client ${me.clientId}, but the lock is ${this.grant === null ? "free" : `held by client ${this.grant.clientId}`}`,
      );
    this._handOver();
  }

  /**
   * The client holding the lock, or null when it is free.
   *
   * @example
   * ```ts
   * await lock.holder(); // 3
   * ```
   */
  holder(): number | null {
    return this.grant?.clientId ?? null;
  }

  /** Hook: a dead client's waits are dropped first, so that the lock is never handed to it. */
  __concoordsessionexpired__(clientId: number): void {
    this.waiters = withoutClient(this.waiters, clientId);
    if (this.grant?.clientId === clientId) this._handOver();
    this._check();
  }

  /** Hook: the timed-out call gets a Timeout error from the host; it only has to leave the queue. */
  __concoordtimeout__(waiter: Waiter): void {
    this.waiters = withoutCall(this.waiters, waiter);
  }

  /** Grants the free lock to `waiter`'s call and returns the new token. */
  private _grant(waiter: Waiter): number {
    invariant(this.grant === null, "only a free lock is granted");
    this.fence += 1;
    this.grant = { clientId: waiter.clientId, seq: waiter.seq, token: this.fence };
    this._check();
    return this.fence;
  }

  /** Passes the lock to the oldest waiter (waking it with its token), or frees it. */
  private _handOver(): void {
    this.grant = null;
    const next = this.waiters.shift();
    if (next !== undefined) wake(next, this._grant(next));
  }

  private _check(): void {
    checkWaiters(this.waiters, this.grant ?? undefined, "Lock");
    invariant(this.grant === null || this.grant.token === this.fence, "the holder has the newest token");
  }
}
