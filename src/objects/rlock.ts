import { caller, type Parked, park, type Waiter, wake } from "../object/api.ts";
import { checkWaiters, invariant, NotHolder, plainWaiter, withoutCall, withoutClient } from "./shared.ts";

/** Who holds a re-entrant lock, how many times over, and the token of this holding. */
export interface RLockGrant {
  readonly clientId: number;
  readonly token: number;
  count: number;
}

/**
 * A re-entrant lock (ConCoord's `RLock` and `DRLock`): the holding client may acquire it again without
 * waiting, and must release it as many times as it acquired it before anyone else gets it.
 *
 * - Re-entry is per client session, not per call: any call of the holding client re-enters.
 * - `acquire()` returns a fencing token that grows with every new holding; re-entering returns the same
 *   token as the first acquire, because the holding did not change.
 * - When the holder's session expires the lock is released however deep it was held, and passes to the
 *   next waiter; the expired client's queued calls are dropped. A timed-out call leaves the queue.
 *
 * @example
 * ```ts
 * const rlock = client.object<RLock>("rlock");
 * const token = await rlock.acquire();
 * await rlock.acquire(); // same token: re-entered
 * await rlock.release();
 * await rlock.release(); // now free
 * ```
 */
export class RLock {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["holder"];

  /** The holding client, or null when free. */
  grant: RLockGrant | null = null;
  /** Calls of other clients waiting for the lock, oldest first. */
  waiters: Waiter<number>[] = [];
  /** The last fencing token handed out. */
  fence = 0;

  /**
   * Takes the lock, or re-enters it when the caller's client holds it; waits while another client holds
   * it. Returns the token of the holding.
   *
   * @example
   * ```ts
   * const token = await rlock.acquire();
   * ```
   */
  acquire(): number | Parked<number> {
    const me = caller();
    const entered = this._enter(me.clientId);
    if (entered !== null) return entered;
    this.waiters.push(plainWaiter<number>(me.waiter));
    this._check();
    return park<number>();
  }

  /**
   * Takes or re-enters the lock only if that needs no waiting: the token, or null.
   *
   * @example
   * ```ts
   * const token = await rlock.tryAcquire(); // null while another client holds it
   * ```
   */
  tryAcquire(): number | null {
    return this._enter(caller().clientId);
  }

  /**
   * Releases one level of holding; the last release passes the lock to the oldest waiter with a new
   * token. Throws `NotHolder` when the calling client does not hold it.
   *
   * @example
   * ```ts
   * await rlock.release();
   * ```
   */
  release(): void {
    const me = caller();
    const grant = this.grant;
    if (grant?.clientId !== me.clientId)
      throw new NotHolder(
        `release() by client ${me.clientId}, but the lock is ${grant === null ? "free" : `held by client ${grant.clientId}`}`,
      );
    grant.count -= 1;
    if (grant.count === 0) this._handOver();
    this._check();
  }

  /**
   * The holding client and its depth, or null when free.
   *
   * @example
   * ```ts
   * await rlock.holder(); // { clientId: 3, count: 2 }
   * ```
   */
  holder(): { clientId: number; count: number } | null {
    return this.grant === null ? null : { clientId: this.grant.clientId, count: this.grant.count };
  }

  /** Hook: a dead holder's lock is released however deep; its queued calls are dropped first. */
  __concoordsessionexpired__(clientId: number): void {
    this.waiters = withoutClient(this.waiters, clientId);
    if (this.grant?.clientId === clientId) this._handOver();
    this._check();
  }

  /** Hook: a timed-out call leaves the queue (its client gets a Timeout error from the host). */
  __concoordtimeout__(waiter: Waiter): void {
    this.waiters = withoutCall(this.waiters, waiter);
  }

  /** Takes a free lock or re-enters a held one for `clientId`: the token, or null when it must wait. */
  private _enter(clientId: number): number | null {
    if (this.grant === null) {
      this.fence += 1;
      this.grant = { clientId, token: this.fence, count: 1 };
    } else if (this.grant.clientId === clientId) {
      this.grant.count += 1;
    } else {
      return null;
    }
    this._check();
    return this.grant.token;
  }

  /**
   * Frees the lock and gives it to the oldest waiter. All waiters of the new holder's client are woken
   * with it too, as re-entries: they were only waiting because another client held the lock.
   */
  private _handOver(): void {
    this.grant = null;
    const next = this.waiters[0];
    if (next === undefined) return;
    const same = this.waiters.filter((w) => w.clientId === next.clientId);
    this.waiters = withoutClient(this.waiters, next.clientId);
    this.fence += 1;
    this.grant = { clientId: next.clientId, token: this.fence, count: same.length };
    for (const waiter of same) wake(waiter, this.fence);
  }

  private _check(): void {
    checkWaiters(this.waiters, undefined, "RLock");
    const grant = this.grant;
    invariant(grant === null || grant.count > 0, "a held RLock is held at least once");
    invariant(
      grant === null || this.waiters.every((w) => w.clientId !== grant.clientId),
      "the holder's client never waits for its own lock",
    );
  }
}
