/**
 * What the library objects share: the errors their clients see by name, argument checks, and helpers for
 * lists of parked calls. Not an object itself (the registry does not list it); each object file that
 * imports it gets its own bundled copy, which is fine because everything here is stateless.
 *
 * @module
 */

import type { Waiter } from "../object/api.ts";

/**
 * A call by a client that does not hold what it tries to release (a lock, a permit) or use (a condition).
 *
 * @example
 * ```ts
 * throw new NotHolder("release() by client 7, but client 3 holds the lock");
 * ```
 */
export class NotHolder extends Error {
  override name = "NotHolder";
}

/**
 * An argument with the right shape but a wrong value (a negative amount, an unknown record type), or of
 * the wrong type altogether: every argument problem is a `ValueError`, so clients test one name.
 *
 * @example
 * ```ts
 * throw new ValueError("amount must be a positive integer, got -3");
 * ```
 */
export class ValueError extends Error {
  override name = "ValueError";
}

/**
 * Taking from an empty container without waiting (`getNowait()`, `pop()`, `peek()`).
 *
 * @example
 * ```ts
 * throw new Empty("the stack is empty");
 * ```
 */
export class Empty extends Error {
  override name = "Empty";
}

/**
 * A broken invariant of an object: a bug in the object, never the client's fault. Thrown before the
 * broken state can spread (the call fails and its client sees the name).
 *
 * @example
 * ```ts
 * invariant(this.free >= 0, "free permits are never negative");
 * ```
 */
export class InvariantViolation extends Error {
  override name = "InvariantViolation";
}

/**
 * Throws {@link InvariantViolation} with `message` when `condition` is false.
 *
 * @example
 * ```ts
 * invariant(this.items.length === 0 || this.getters.length === 0, "nobody waits while items are queued");
 * ```
 */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}

/**
 * `value` if it is an integer in [min, Number.MAX_SAFE_INTEGER]; otherwise throws {@link ValueError}
 * naming `what`. Safe integers only, so that arithmetic on counts and amounts stays exact.
 *
 * @example
 * ```ts
 * const n = integerArg(permits, "permits", 0); // 2, or ValueError for -1, 1.5, "2", NaN
 * ```
 */
export function integerArg(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw new ValueError(`${what} must be an integer ≥ ${min}, got ${describe(value)}`);
  return value;
}

/**
 * `value` if it is a string (non-empty unless `allowEmpty`); otherwise throws {@link ValueError}.
 *
 * @example
 * ```ts
 * const key = stringArg(key, "key", true);
 * ```
 */
export function stringArg(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== "string" || (!allowEmpty && value === ""))
    throw new ValueError(`${what} must be a ${allowEmpty ? "" : "non-empty "}string, got ${describe(value)}`);
  return value;
}

/**
 * A short description of an argument for error messages; never throws.
 *
 * @example
 * ```ts
 * describe("2"); // '"2"'
 * ```
 */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/**
 * Whether `a` and `b` are the same parked call.
 *
 * @example
 * ```ts
 * isSameCall({ clientId: 1, seq: 4 }, { clientId: 1, seq: 4 }); // true
 * ```
 */
export function isSameCall(a: Waiter, b: Waiter): boolean {
  return a.clientId === b.clientId && a.seq === b.seq;
}

/**
 * `waiters` without the call `waiter` (a timed-out call), in the same order. Only `clientId` and `seq` are
 * compared: the host hands hooks a fresh object, never the one the object stored.
 *
 * @example
 * ```ts
 * this.waiters = withoutCall(this.waiters, waiter);
 * ```
 */
export function withoutCall<W extends Waiter>(waiters: readonly W[], waiter: Waiter): W[] {
  return waiters.filter((w) => !isSameCall(w, waiter));
}

/**
 * `waiters` without any call of `clientId` (an expired session), in the same order.
 *
 * @example
 * ```ts
 * this.waiters = withoutClient(this.waiters, clientId);
 * ```
 */
export function withoutClient<W extends Waiter>(waiters: readonly W[], clientId: number): W[] {
  return waiters.filter((w) => w.clientId !== clientId);
}

/**
 * Checks that no call appears twice in `waiters` (a call woken twice would be a bug) and, when given, that
 * `holder` (the call that was granted something) is not among them.
 *
 * @example
 * ```ts
 * checkWaiters(this.waiters, this.grant ?? undefined, "Lock");
 * ```
 */
export function checkWaiters(waiters: readonly Waiter[], holder: Waiter | undefined, label: string): void {
  const keys = new Set(waiters.map((w) => `${w.clientId}:${w.seq}`));
  invariant(keys.size === waiters.length, `${label}: a parked call is queued twice`);
  invariant(
    holder === undefined || !keys.has(`${holder.clientId}:${holder.seq}`),
    `${label}: the holder's call is also queued`,
  );
}

/**
 * A waiter as plain data with only its identity, so stored waiters never carry extra properties.
 *
 * @example
 * ```ts
 * this.waiters.push(plainWaiter(caller().waiter));
 * ```
 */
export function plainWaiter<T>(waiter: Waiter): Waiter<T> {
  return { clientId: waiter.clientId, seq: waiter.seq };
}
