/**
 * The Wing–Gong / Lowe (WGL) search for a linearization of one (partition of a) history.
 *
 * Walk the time-ordered entry list. At a call entry, try to linearize that operation now: if the model
 * accepts its output and the resulting (linearized set, state) was never explored, push it on the stack,
 * lift its entries out of the list and restart from the front. At a return entry, the operation it belongs
 * to should have been linearized before it returned but was not, so the current prefix is a dead end: pop
 * the last choice and try the next candidate after it. Finishing means the list became empty.
 *
 * @module
 */

import { buildEntryList, type EntryList, isCallEntry, lift, NIL, opOfEntry, unlift } from "./entry-list.ts";
import type { Operation } from "./history.ts";
import { LinearizationCache, LinearizedSet } from "./memo.ts";
import type { Model } from "./model.ts";
import { interchangeablePredecessors } from "./symmetry.ts";

/** How often (in steps) the wall clock is consulted; performance.now() is too slow for every step. */
const CLOCK_CHECK_INTERVAL_STEPS = 4096;

/**
 * Limits for one search.
 *
 * @example
 * const limits: SearchLimits = { budgetSteps: 1_000_000, deadlineMs: performance.now() + 500 };
 */
export interface SearchLimits {
  /** Give up after this many steps (one step = one entry visited). */
  budgetSteps: number;
  /** Give up once `performance.now()` passes this; undefined for no wall-clock limit. */
  deadlineMs: number | undefined;
}

/**
 * The furthest the search got in a history that turned out not to be linearizable.
 *
 * @example
 * // prefix [0, 2]: ops 0 then 2 linearized; pending [1]: op 1 could not follow; blocking 1
 * const d: DeepestPoint<number> = { prefix: [0, 2], pending: [1], blocking: 1, state: 2 };
 */
export interface DeepestPoint<S> {
  /** Operation indices (within the partition) in linearization order. */
  prefix: number[];
  /** Indices of the operations that were called but not linearized, in call order. */
  pending: number[];
  /** The pending operation whose return was reached, i.e. the one that had to come next but could not. */
  blocking: number;
  /** The model state after `prefix`. */
  state: S;
}

/**
 * The outcome of one search.
 *
 * @example
 * const outcome = searchLinearization(counterModel, ops, { budgetSteps: 1e6, deadlineMs: undefined });
 * if (outcome.kind === "illegal") console.log(outcome.deepest.pending);
 */
export type SearchOutcome<S> =
  | { kind: "ok"; steps: number }
  | { kind: "illegal"; steps: number; deepest: DeepestPoint<S> }
  /** A limit was hit: `cause` says which. */
  | { kind: "exhausted"; steps: number; cause: "budget" | "timeout" };

/**
 * Search for a linearization of `ops` (which should be one partition; the checker splits beforehand).
 * Never answers "ok" or "illegal" without completing the search.
 *
 * @example
 * searchLinearization(counterModel, ops, { budgetSteps: 5_000_000, deadlineMs: undefined }); // { kind: "ok", steps: 42 }
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  limits: SearchLimits,
): SearchOutcome<S> {
  const list = buildEntryList(ops);
  const { head, next } = list;
  const linearized = new LinearizedSet(ops.length);
  const cache = new LinearizationCache(linearized.words.length);
  // State keys are interned to small integers so the cache compares numbers, not strings.
  const stateIds = new Map<string, number>();
  const internState = (state: S): number => {
    const key = model.key(state);
    let id = stateIds.get(key);
    if (id === undefined) {
      id = stateIds.size;
      stateIds.set(key, id);
    }
    return id;
  };

  const mustFollow = interchangeablePredecessors(model, ops);
  const stackCalls = new Int32Array(ops.length);
  const stackStates: S[] = [];
  let depth = 0;
  let state = model.init();
  let deepest: DeepestPoint<S> | undefined;
  let steps = 0;
  let entry = next[head]!;

  while (next[head] !== NIL) {
    steps++;
    if (steps > limits.budgetSteps) {
      return { kind: "exhausted", steps: steps - 1, cause: "budget" };
    }
    if (
      limits.deadlineMs !== undefined &&
      steps % CLOCK_CHECK_INTERVAL_STEPS === 0 &&
      performance.now() > limits.deadlineMs
    ) {
      return { kind: "exhausted", steps, cause: "timeout" };
    }
    // The last entry in the list is always a return entry, and returns never advance `entry`.
    if (entry === NIL) throw new Error("invariant: search walked off the end of the entry list");

    if (isCallEntry(entry)) {
      const index = opOfEntry(entry);
      const twin = mustFollow[index]!;
      if (twin !== NIL && !linearized.has(twin)) {
        entry = next[entry]!;
        continue;
      }
      const op = ops[index]!;
      const result = model.step(state, op.input, op.output);
      if (result.ok) {
        linearized.add(index);
        if (cache.addIfAbsent(linearized, internState(result.state))) {
          stackCalls[depth] = entry;
          stackStates[depth] = state;
          depth++;
          state = result.state;
          lift(list, entry);
          entry = next[head]!;
          continue;
        }
        linearized.remove(index);
      }
      entry = next[entry]!;
      continue;
    }

    // A return entry: its operation had to be linearized by now, so this prefix is a dead end.
    if (deepest === undefined || depth > deepest.prefix.length) {
      deepest = recordDeepest(list, stackCalls, depth, entry, state);
    }
    if (depth === 0) return { kind: "illegal", steps, deepest };
    depth--;
    const call = stackCalls[depth]!;
    state = stackStates[depth]!;
    linearized.remove(opOfEntry(call));
    unlift(list, call);
    entry = next[call]!;
  }
  if (depth !== ops.length) {
    throw new Error(`invariant: list empty with ${depth} of ${ops.length} linearized`);
  }
  return { kind: "ok", steps };
}

/**
 * Snapshot a dead end. Only called when the search gets deeper than ever before, so the copying is
 * bounded by O(n) snapshots of O(n) each.
 */
function recordDeepest<S>(
  list: EntryList,
  stackCalls: Int32Array,
  depth: number,
  blockingReturn: number,
  state: S,
): DeepestPoint<S> {
  const prefix: number[] = [];
  for (let i = 0; i < depth; i++) prefix.push(opOfEntry(stackCalls[i]!));
  // Everything in front of the blocking return is a call the search already stepped over.
  const pending: number[] = [];
  for (let e = list.next[list.head]!; e !== blockingReturn; e = list.next[e]!) {
    if (e === NIL || !isCallEntry(e)) {
      throw new Error("invariant: a return entry precedes the blocking return");
    }
    pending.push(opOfEntry(e));
  }
  const blocking = opOfEntry(blockingReturn);
  if (!pending.includes(blocking)) throw new Error("invariant: blocking operation is not pending");
  return { prefix, pending, blocking, state };
}
