/**
 * Drives a library object the way the host does, without a cluster: every call runs under a call context
 * (`globalThis[CALL_CONTEXT_KEY]`), parked calls are tracked by (clientId, seq) and settled when a later
 * call wakes them, and the hooks run under the host's hook context (client 0, seq 0).
 *
 * It is stricter than the host, to catch object bugs the host would silently absorb:
 * - a wake of a call that is not parked (woken twice, timed out, expired, or never parked) fails the test;
 * - a method that throws must not have woken anyone or changed the state (objects check, then act);
 * - a read-only method runs without a call context, as a host query does, and must not change the state;
 * - results, wake values and the state after every call must be encodable plain data.
 *
 * @example
 * ```ts
 * const d = new Driver(new Lock());
 * d.value(1, "acquire"); // 1
 * const waiting = d.park(2, "acquire");
 * d.value(1, "release");
 * waiting.value; // 2
 * ```
 */

import assert from "node:assert/strict";
import {
  CALL_CONTEXT_KEY,
  type CallContext,
  isParked,
  type Parked,
  type Waiter,
} from "../../src/object/api.ts";
import { decodeValue, encodeValue } from "../../src/object/codec.ts";

/** The names of `T`'s public methods. */
export type MethodName<T> = Exclude<
  { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string,
  `_${string}`
>;
/** The arguments of method `K`. */
export type Args<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown ? A : never;
/** What method `K` returns when it does not park. */
export type Returned<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R
  ? Exclude<R, Parked<unknown>>
  : never;

/** A completion the host would deliver to a parked call. */
export interface Woken {
  readonly clientId: number;
  readonly seq: number;
  readonly ok: boolean;
  readonly value: unknown;
}

/** A call that parked, and what became of it. */
export interface ParkedCall {
  readonly clientId: number;
  readonly seq: number;
  readonly method: string;
  /** The park's timeout as the object asked for it (already capped by the call's own deadline). */
  readonly timeoutMs: number | undefined;
  state: "parked" | "woken" | "failed" | "timedout" | "expired";
  /** The wake's value once `woken`; `{ name, message }` once `failed`. */
  value?: unknown;
}

/** What one call did: returned a value or parked, and which parked calls it woke. */
export type Outcome<R> =
  | { readonly parked: false; readonly value: R; readonly wakes: Woken[] }
  | { readonly parked: true; readonly call: ParkedCall; readonly wakes: Woken[] };

/** The host's context for hooks: no caller of its own. */
const HOOK_CLIENT = 0;

/**
 * One object instance and the host's bookkeeping around it.
 *
 * @example
 * ```ts
 * const d = new Driver(new Queue());
 * const getter = d.park(1, "get");
 * d.call(2, "put", "x").wakes; // [{ clientId: 1, seq: 1, ok: true, value: "x" }]
 * ```
 */
export class Driver<T extends object> {
  /** Parked calls by `clientId:seq`, in the order they parked. */
  readonly parked = new Map<string, ParkedCall>();
  /** Every completion delivered so far, in order. */
  readonly woken: Woken[] = [];
  readonly #seqs = new Map<number, number>();
  readonly #readOnly: ReadonlySet<string>;

  constructor(public instance: T) {
    const declared = (instance.constructor as { readOnlyMethods?: readonly string[] }).readOnlyMethods;
    this.#readOnly = new Set(declared ?? []);
  }

  /**
   * Calls `method` as client `clientId` with the next seq of that client; rethrows what the method throws.
   *
   * @example
   * ```ts
   * const outcome = d.call(1, "acquire");
   * if (!outcome.parked) console.log(outcome.value);
   * ```
   */
  call<K extends MethodName<T>>(clientId: number, method: K, ...args: Args<T, K>): Outcome<Returned<T, K>> {
    return this.callWithTimeout(clientId, undefined, method, ...args);
  }

  /**
   * {@link call}, with a client deadline of `timeoutMs` in the call context.
   *
   * @example
   * ```ts
   * d.callWithTimeout(1, 500, "acquire");
   * ```
   */
  callWithTimeout<K extends MethodName<T>>(
    clientId: number,
    timeoutMs: number | undefined,
    method: K,
    ...args: Args<T, K>
  ): Outcome<Returned<T, K>> {
    assert.ok(clientId > 0, "client ids start at 1 (0 is the host's hook context)");
    const seq = (this.#seqs.get(clientId) ?? 0) + 1;
    this.#seqs.set(clientId, seq);
    const fn = (this.instance as Record<string, unknown>)[method];
    assert.equal(typeof fn, "function", `${method} is a method`);
    const before = this.stateBytes();

    if (this.#readOnly.has(method)) {
      // As a host query: no call context at all, no parking, no waking, no change.
      const value: unknown = (fn as (...a: unknown[]) => unknown).apply(this.instance, args);
      assert.ok(!isParked(value), `read-only ${method} must not park`);
      assert.deepEqual(this.stateBytes(), before, `read-only ${method} must not change the state`);
      encodeValue(value, `${method}()`);
      return { parked: false, value: value as Returned<T, K>, wakes: [] };
    }

    const ctx: CallContext = { clientId, seq, timeoutMs, wakes: [] };
    const value = this.#underContext(
      ctx,
      () => (fn as (...a: unknown[]) => unknown).apply(this.instance, args),
      {
        refusalKeepsState: before,
        what: `${method}() by client ${clientId}`,
      },
    );
    const wakes = this.#deliver(ctx);
    if (isParked(value)) {
      const call: ParkedCall = { clientId, seq, method, timeoutMs: value.timeoutMs, state: "parked" };
      this.parked.set(key(clientId, seq), call);
      return { parked: true, call, wakes };
    }
    encodeValue(value, `${method}()`);
    return { parked: false, value: value as Returned<T, K>, wakes };
  }

  /**
   * Calls `method` and returns its value, failing the test if it parks.
   *
   * @example
   * ```ts
   * const token = d.value(1, "acquire");
   * ```
   */
  value<K extends MethodName<T>>(clientId: number, method: K, ...args: Args<T, K>): Returned<T, K> {
    const outcome = this.call(clientId, method, ...args);
    assert.ok(!outcome.parked, `${method}() by client ${clientId} was expected to return, but it parked`);
    return outcome.value;
  }

  /**
   * Calls `method` and returns its parked call, failing the test if it returns.
   *
   * @example
   * ```ts
   * const waiting = d.park(2, "acquire");
   * ```
   */
  park<K extends MethodName<T>>(clientId: number, method: K, ...args: Args<T, K>): ParkedCall {
    const outcome = this.call(clientId, method, ...args);
    assert.ok(outcome.parked, `${method}() by client ${clientId} was expected to park, but it returned`);
    return outcome.call;
  }

  /**
   * {@link park} with a client deadline of `timeoutMs`.
   *
   * @example
   * ```ts
   * const waiting = d.parkWithTimeout(2, 500, "acquire");
   * waiting.timeoutMs; // 500
   * ```
   */
  parkWithTimeout<K extends MethodName<T>>(
    clientId: number,
    timeoutMs: number,
    method: K,
    ...args: Args<T, K>
  ): ParkedCall {
    const outcome = this.callWithTimeout(clientId, timeoutMs, method, ...args);
    assert.ok(outcome.parked, `${method}() by client ${clientId} was expected to park, but it returned`);
    return outcome.call;
  }

  /**
   * Ends client `clientId`'s session as the host does: its parked calls fail, then the object's
   * `__concoordsessionexpired__` hook runs (a wake of one of those calls fails the test).
   *
   * @example
   * ```ts
   * d.expire(1); // the wakes the hook made
   * ```
   */
  expire(clientId: number): Woken[] {
    for (const [k, call] of this.parked)
      if (call.clientId === clientId) {
        call.state = "expired";
        this.parked.delete(k);
      }
    return this.#hook("__concoordsessionexpired__", clientId);
  }

  /**
   * Times out a parked call as the host does: the call fails, then `__concoordtimeout__` runs.
   *
   * @example
   * ```ts
   * d.timeout(waiting);
   * ```
   */
  timeout(call: ParkedCall): Woken[] {
    assert.equal(call.state, "parked", "only a parked call times out");
    call.state = "timedout";
    this.parked.delete(key(call.clientId, call.seq));
    // A fresh object, as the host passes: objects must compare ids, not identity.
    const waiter: Waiter = { clientId: call.clientId, seq: call.seq };
    return this.#hook("__concoordtimeout__", waiter);
  }

  /**
   * The parked calls (of `clientId`, if given), oldest first.
   *
   * @example
   * ```ts
   * d.parkedCalls(2).length; // 1
   * ```
   */
  parkedCalls(clientId?: number): ParkedCall[] {
    return [...this.parked.values()].filter((c) => clientId === undefined || c.clientId === clientId);
  }

  /**
   * The instance's own fields, encoded: checks that the state is plain data, and gives bytes to compare.
   *
   * @example
   * ```ts
   * assert.deepEqual(d.stateBytes(), before);
   * ```
   */
  stateBytes(): Uint8Array {
    return encodeValue(fieldsOf(this.instance), this.instance.constructor.name);
  }

  /**
   * Replaces the instance by a copy rebuilt from its encoded fields, as a replica restoring a snapshot
   * does (a fresh instance, then the decoded fields assigned), after checking the decoded fields equal
   * the live ones. Parked calls stay tracked: the copy must wake them as the original would.
   *
   * @example
   * ```ts
   * d.restart();
   * d.value(1, "release"); // still wakes the waiter parked before the restart
   * ```
   */
  restart(): void {
    this.instance = roundTrip(this.instance);
  }

  #hook(name: string, argument: unknown): Woken[] {
    const hook = (this.instance as Record<string, unknown>)[name];
    if (typeof hook !== "function") return [];
    const ctx: CallContext = { clientId: HOOK_CLIENT, seq: 0, timeoutMs: undefined, wakes: [] };
    this.#underContext(ctx, () => (hook as (a: unknown) => unknown).call(this.instance, argument), {
      what: name,
    });
    return this.#deliver(ctx);
  }

  /** Runs `body` with `ctx` installed, removing it whatever happens; checks a throw left no trace. */
  #underContext(
    ctx: CallContext,
    body: () => unknown,
    options: { refusalKeepsState?: Uint8Array; what: string },
  ): unknown {
    const global = globalThis as Record<symbol, unknown>;
    assert.equal(global[CALL_CONTEXT_KEY], undefined, "calls do not nest");
    global[CALL_CONTEXT_KEY] = ctx;
    try {
      return body();
    } catch (error) {
      assert.deepEqual(ctx.wakes, [], `${options.what} threw after waking calls: ${String(error)}`);
      if (options.refusalKeepsState !== undefined)
        assert.deepEqual(
          this.stateBytes(),
          options.refusalKeepsState,
          `${options.what} threw after changing state`,
        );
      throw error;
    } finally {
      global[CALL_CONTEXT_KEY] = undefined;
    }
  }

  /** Settles the calls `ctx` woke, each exactly once; a wake of a call that is not parked fails. */
  #deliver(ctx: CallContext): Woken[] {
    this.stateBytes();
    const delivered: Woken[] = [];
    for (const { waiter, ok, value } of ctx.wakes) {
      const k = key(waiter.clientId, waiter.seq);
      const call = this.parked.get(k);
      assert.ok(
        call !== undefined,
        `wake of call ${k}, which is not parked (woken twice, gone or never parked)`,
      );
      encodeValue(value, `the wake of ${k}`);
      this.parked.delete(k);
      call.state = ok ? "woken" : "failed";
      call.value = value;
      const woken: Woken = { clientId: waiter.clientId, seq: waiter.seq, ok, value };
      delivered.push(woken);
      this.woken.push(woken);
    }
    return delivered;
  }
}

/**
 * The own enumerable fields of `instance` as a plain record: what a snapshot holds.
 *
 * @example
 * ```ts
 * fieldsOf(new Counter()); // { value: 0 }
 * ```
 */
export function fieldsOf(instance: object): Record<string, unknown> {
  const record = instance as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).map((k) => [k, record[k]]));
}

/**
 * A copy of `instance` rebuilt as a restored replica would: its fields through `encodeValue` and
 * `decodeValue` (checked equal to the originals), assigned onto a fresh instance of its class.
 *
 * @example
 * ```ts
 * const copy = roundTrip(lock);
 * ```
 */
export function roundTrip<T extends object>(instance: T): T {
  const fields = fieldsOf(instance);
  const decoded = decodeValue(encodeValue(fields, instance.constructor.name));
  assert.deepStrictEqual(decoded, fields, `${instance.constructor.name}'s fields survive the codec`);
  const Class = instance.constructor as new () => T;
  return Object.assign(new Class(), decoded as Partial<T>);
}

function key(clientId: number, seq: number): string {
  return `${clientId}:${seq}`;
}
