/**
 * Ready-made models: keyed counters and keyed registers with compare-and-set.
 *
 * @module
 */

import type { Operation } from "./history.ts";
import type { Model, StepResult } from "./model.ts";

/**
 * Increment the counter at `key`; the output is the counter's new value.
 *
 * @example
 * const op: CounterInc = { kind: "inc", key: "x" };
 */
export interface CounterInc {
  kind: "inc";
  key: string;
}

/**
 * Read the counter at `key`; the output is its current value.
 *
 * @example
 * const op: CounterRead = { kind: "read", key: "x" };
 */
export interface CounterRead {
  kind: "read";
  key: string;
}

/**
 * Any counter operation.
 *
 * @example
 * const ops: CounterInput[] = [{ kind: "inc", key: "x" }, { kind: "read", key: "x" }];
 */
export type CounterInput = CounterInc | CounterRead;

/**
 * The output of every counter operation: a counter value.
 *
 * @example
 * const out: CounterOutput = 3;
 */
export type CounterOutput = number;

/**
 * Counter values by key; absent keys are 0. Never mutated: steps build new maps.
 *
 * @example
 * const s: CounterState = new Map([["x", 2]]);
 */
export type CounterState = ReadonlyMap<string, number>;

/**
 * Write `value` to the register at `key`; the output is always `true`.
 *
 * @example
 * const op: RegisterWrite = { kind: "write", key: "x", value: 5 };
 */
export interface RegisterWrite {
  kind: "write";
  key: string;
  value: number;
}

/**
 * Read the register at `key`; the output is its value, or `null` when never written.
 *
 * @example
 * const op: RegisterRead = { kind: "read", key: "x" };
 */
export interface RegisterRead {
  kind: "read";
  key: string;
}

/**
 * Set the register at `key` to `value` if it currently holds `expected` (`null` = never written); the
 * output tells whether it swapped.
 *
 * @example
 * const op: RegisterCas = { kind: "cas", key: "x", expected: null, value: 1 };
 */
export interface RegisterCas {
  kind: "cas";
  key: string;
  expected: number | null;
  value: number;
}

/**
 * Any register operation.
 *
 * @example
 * const op: RegisterInput = { kind: "write", key: "x", value: 5 };
 */
export type RegisterInput = RegisterWrite | RegisterRead | RegisterCas;

/**
 * Outputs of register operations: `true` for writes, the value (or `null`) for reads, whether it
 * swapped for cas.
 *
 * @example
 * const outs: RegisterOutput[] = [true, 5, null, false];
 */
export type RegisterOutput = boolean | number | null;

/**
 * Register values by key; absent keys are `null`. Never mutated: steps build new maps.
 *
 * @example
 * const s: RegisterState = new Map([["x", 5]]);
 */
export type RegisterState = ReadonlyMap<string, number | null>;

/**
 * Split operations by `input.key`, keeping the order of first appearance so reports are stable.
 *
 * @example
 * partitionByKey(ops); // [[ops on "a"...], [ops on "b"...]]
 */
export function partitionByKey<I extends { key: string }, O>(
  ops: readonly Operation<I, O>[],
): Operation<I, O>[][] {
  const byKey = new Map<string, Operation<I, O>[]>();
  for (const op of ops) {
    const group = byKey.get(op.input.key);
    if (group === undefined) byKey.set(op.input.key, [op]);
    else group.push(op);
  }
  return [...byKey.values()];
}

/**
 * The key shared by a partition made by {@link partitionByKey} (undefined for an empty one).
 *
 * @example
 * keyOfPartition([{ id: 0, clientId: 1, input: { kind: "read", key: "b" }, output: 0, callTime: 0, returnTime: 1 }]); // "b"
 */
export function keyOfPartition<I extends { key: string }, O>(
  ops: readonly Operation<I, O>[],
): string | undefined {
  return ops[0]?.input.key;
}

/**
 * A memo key for a keyed state map. Entries are sorted so that equal maps built in different orders get
 * equal keys; keys are JSON-quoted so no key text can forge a separator.
 */
function mapKey(state: ReadonlyMap<string, number | null>): string {
  if (state.size === 0) return "";
  // Fast path: partitioned histories only ever touch one key.
  if (state.size === 1) {
    for (const [k, v] of state) return `${JSON.stringify(k)}:${v}`;
  }
  const keys = [...state.keys()].sort();
  return keys.map((k) => `${JSON.stringify(k)}:${state.get(k)}`).join(",");
}

function withValue<V>(state: ReadonlyMap<string, V>, key: string, value: V): ReadonlyMap<string, V> {
  const next = new Map(state);
  next.set(key, value);
  return next;
}

/**
 * Keyed counters starting at 0. `inc` returns the new value, `read` the current one.
 *
 * @example
 * const result = checkHistory(counterModel, [
 *   { id: 0, clientId: 1, input: { kind: "inc", key: "x" }, output: 1, callTime: 0, returnTime: 2 },
 *   { id: 1, clientId: 2, input: { kind: "read", key: "x" }, output: 1, callTime: 3, returnTime: 4 },
 * ]); // { result: "ok", ... }
 */
export const counterModel: Model<CounterState, CounterInput, CounterOutput> = {
  name: "counter",
  partition: partitionByKey,
  partitionKey: keyOfPartition,
  init: () => new Map<string, number>(),
  step(state, input, output): StepResult<CounterState> {
    const current = state.get(input.key) ?? 0;
    if (input.kind === "read") return { ok: output === undefined || output === current, state };
    const next = current + 1;
    return { ok: output === undefined || output === next, state: withValue(state, input.key, next) };
  },
  key: mapKey,
  describe(input, output) {
    return `${input.kind}(${input.key}) -> ${output === undefined ? "?" : String(output)}`;
  },
  readOnly: (input) => input.kind === "read",
  inputKey: (input) => `${input.kind}:${input.key}`,
};

/**
 * Keyed registers starting at `null`, with `write`, `read` and compare-and-set.
 *
 * @example
 * const result = checkHistory(registerModel, [
 *   { id: 0, clientId: 1, input: { kind: "cas", key: "x", expected: null, value: 4 }, output: true, callTime: 0, returnTime: 1 },
 *   { id: 1, clientId: 1, input: { kind: "read", key: "x" }, output: 4, callTime: 2, returnTime: 3 },
 * ]); // { result: "ok", ... }
 */
export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  name: "register",
  partition: partitionByKey,
  partitionKey: keyOfPartition,
  init: () => new Map<string, number | null>(),
  step(state, input, output): StepResult<RegisterState> {
    const current = state.get(input.key) ?? null;
    switch (input.kind) {
      case "read":
        return { ok: output === undefined || output === current, state };
      case "write":
        return {
          ok: output === undefined || output === true,
          state: withValue(state, input.key, input.value),
        };
      case "cas": {
        const swapped = current === input.expected;
        const ok = output === undefined || output === swapped;
        return { ok, state: swapped ? withValue(state, input.key, input.value) : state };
      }
    }
  },
  key: mapKey,
  describe(input, output) {
    const out = output === undefined ? "?" : String(output);
    switch (input.kind) {
      case "read":
        return `read(${input.key}) -> ${out}`;
      case "write":
        return `write(${input.key}, ${input.value}) -> ${out}`;
      case "cas":
        return `cas(${input.key}, ${String(input.expected)}, ${input.value}) -> ${out}`;
    }
  },
  readOnly: (input) => input.kind === "read",
  inputKey(input) {
    // JSON keeps the key text from colliding with the separators.
    switch (input.kind) {
      case "read":
        return JSON.stringify(["read", input.key]);
      case "write":
        return JSON.stringify(["write", input.key, input.value]);
      case "cas":
        return JSON.stringify(["cas", input.key, input.expected, input.value]);
    }
  },
};

/** Appends `value` to queue `key`; answers `true`. */
export interface QueuePut {
  kind: "put";
  key: string;
  value: number;
}

/** Removes and returns the head of queue `key` (a blocking take: it waits until there is one). */
export interface QueueTake {
  kind: "take";
  key: string;
}

/** What a queue operation asks. */
export type QueueInput = QueuePut | QueueTake;

/** `true` for a put, the item for a take. */
export type QueueOutput = true | number;

/** FIFO queues by key. */
export type QueueState = ReadonlyMap<string, readonly number[]>;

/**
 * Keyed FIFO queues with a blocking take. A take whose outcome is unknown either took the head at some
 * point, or never happened; on an empty queue the model lets it do nothing, which is the same as never.
 *
 * @example
 * const result = checkHistory(queueModel, [
 *   { id: 0, clientId: 1, input: { kind: "put", key: "q", value: 4 }, output: true, callTime: 0, returnTime: 1 },
 *   { id: 1, clientId: 2, input: { kind: "take", key: "q" }, output: 4, callTime: 0, returnTime: 3 },
 * ]); // { result: "ok", ... }
 */
export const queueModel: Model<QueueState, QueueInput, QueueOutput> = {
  name: "queue",
  partition: partitionByKey,
  partitionKey: keyOfPartition,
  init: () => new Map<string, readonly number[]>(),
  step(state, input, output): StepResult<QueueState> {
    const items = state.get(input.key) ?? [];
    if (input.kind === "put") {
      return {
        ok: output === undefined || output === true,
        state: withValue(state, input.key, [...items, input.value]),
      };
    }
    if (output === undefined) {
      return { ok: true, state: items.length === 0 ? state : withValue(state, input.key, items.slice(1)) };
    }
    return {
      ok: items.length > 0 && items[0] === output,
      state: withValue(state, input.key, items.slice(1)),
    };
  },
  key(state) {
    return JSON.stringify([...state.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  },
  describe(input, output) {
    const out = output === undefined ? "?" : String(output);
    return input.kind === "put"
      ? `put(${input.key}, ${input.value}) -> ${out}`
      : `take(${input.key}) -> ${out}`;
  },
  inputKey: (input) =>
    JSON.stringify(input.kind === "put" ? ["put", input.key, input.value] : ["take", input.key]),
};
