/**
 * The API for authors of replicated objects whose calls may wait: a lock that blocks until it is
 * free, a barrier that releases a whole group, a queue whose `get` waits for an item.
 *
 * A method parks the calling client's request by returning `park()`; a later call wakes it with
 * `wake(waiter, value)`, each waiter with its own value. All of it happens inside methods, so it is
 * decided in the log and identical on every replica.
 *
 * ```ts
 * import { caller, park, wake, type Parked, type Waiter } from "concoord/object";
 *
 * export class Lock {
 *   holder: number | null = null;
 *   waiters: Waiter<number>[] = [];
 *   fence = 0;
 *
 *   acquire(): number | Parked<number> {
 *     const me = caller();
 *     if (this.holder === null) {
 *       this.holder = me.clientId;
 *       return ++this.fence; // a fencing token: it only grows
 *     }
 *     this.waiters.push(me.waiter);
 *     return park<number>();
 *   }
 *
 *   release(): void {
 *     const next = this.waiters.shift();
 *     this.holder = next ? next.clientId : null;
 *     if (next) wake(next, ++this.fence);
 *   }
 *
 *   // Told through the log when a client's session ends: a dead client's lock is released.
 *   __concoordsessionexpired__(clientId: number): void {
 *     this.waiters = this.waiters.filter((w) => w.clientId !== clientId);
 *     if (this.holder === clientId) this.release();
 *   }
 *
 *   // A parked call's timeout passed (the client gets a Timeout error): forget the waiter.
 *   __concoordtimeout__(waiter: Waiter): void {
 *     this.waiters = this.waiters.filter((w) => w.seq !== waiter.seq || w.clientId !== waiter.clientId);
 *   }
 * }
 * ```
 *
 * The functions work through a per-call context the host installs under a global symbol, so an
 * object file bundled with its own copy of this module still talks to the host.
 *
 * @module
 */

/** A parked call, as plain data: it can sit in the object's fields and in snapshots. */
export interface Waiter<T = unknown> {
  readonly clientId: number;
  readonly seq: number;
  /** Type-level only: the value this waiter is woken with. */
  readonly __value?: T;
}

/** What a method returns to park its caller; the client sees the value of the later `wake`. */
export interface Parked<T = unknown> {
  readonly [PARKED_KEY]: true;
  readonly timeoutMs: number | undefined;
  /** Type-level only. */
  readonly __value?: T;
}

/** The marker key of a parked result (shared by every copy of this module). */
export const PARKED_KEY: unique symbol = Symbol.for("concoord.parked") as never;

/** Where the host keeps the context of the call in progress. */
export const CALL_CONTEXT_KEY: unique symbol = Symbol.for("concoord.call") as never;

/** The host's side of one call: who calls, and what the call asks the host to do. */
export interface CallContext {
  readonly clientId: number;
  readonly seq: number;
  /** The client's own deadline for this call, if it gave one: the longest a park may last. */
  readonly timeoutMs: number | undefined;
  readonly wakes: { waiter: Waiter; ok: boolean; value: unknown }[];
}

function context(what: string): CallContext {
  const ctx = (globalThis as Record<symbol, CallContext | undefined>)[CALL_CONTEXT_KEY];
  if (!ctx) throw new Error(`${what}() works only inside a method call of a replicated object`);
  return ctx;
}

/**
 * Who is calling: the client's session id (stable for the life of its session) and a waiter handle
 * for this very call, to park it.
 */
export function caller(): { clientId: number; waiter: Waiter } {
  const ctx = context("caller");
  return { clientId: ctx.clientId, waiter: { clientId: ctx.clientId, seq: ctx.seq } };
}

/**
 * Parks the calling request: return the result of this from the method. The call completes when a
 * later call `wake`s it, or fails with a Timeout error after `timeoutMs` of agreed time (by default
 * the client's own deadline), decided through the log.
 */
export function park<T = unknown>(options: { timeoutMs?: number } = {}): Parked<T> {
  const ctx = context("park");
  const limits = [options.timeoutMs, ctx.timeoutMs].filter((t): t is number => t !== undefined);
  return { [PARKED_KEY]: true, timeoutMs: limits.length > 0 ? Math.min(...limits) : undefined };
}

/** Completes a parked call with `value` once the current call is decided. Waking a waiter twice is a no-op. */
export function wake<T>(waiter: Waiter<T>, value: T): void {
  context("wake").wakes.push({ waiter: { clientId: waiter.clientId, seq: waiter.seq }, ok: true, value });
}

/** Completes a parked call with an error its client receives as a RemoteError. */
export function wakeWithError(waiter: Waiter, error: { name: string; message: string }): void {
  context("wakeWithError").wakes.push({
    waiter: { clientId: waiter.clientId, seq: waiter.seq },
    ok: false,
    value: { name: error.name, message: error.message },
  });
}

/** True when `value` is the result of `park()`. */
export function isParked(value: unknown): value is Parked {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PARKED_KEY] === true
  );
}

/** Same waiter? */
export function sameWaiter(a: Waiter, b: Waiter): boolean {
  return a.clientId === b.clientId && a.seq === b.seq;
}
