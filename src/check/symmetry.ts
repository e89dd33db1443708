/**
 * Symmetry reduction for unknown-outcome operations.
 *
 * Two unknown-outcome operations with equal inputs are interchangeable: their outputs are not constrained
 * and neither ever forces a return, so in any linearization they can be swapped so that the one called
 * first is linearized first (the constraints on the later-called one are a superset of the earlier one's).
 * Restricting the search to that canonical order loses no linearization but cuts the subsets of, say, ten
 * timed-out increments from 2^10 to 11.
 *
 * @module
 */

import { NIL } from "./entry-list.ts";
import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";

/**
 * For each operation (by index), the operation that must be linearized before it may be, or {@link NIL}:
 * the previous unknown-outcome operation, in call order, with the same `model.inputKey`. All {@link NIL}
 * when the model has no `inputKey`.
 *
 * @example
 * const before = interchangeablePredecessors(counterModel, ops);
 * // two timed-out inc(x) called at 1 and 5 (indices 0 and 3): before[3] === 0, before[0] === NIL
 */
export function interchangeablePredecessors<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): Int32Array {
  const predecessors = new Int32Array(ops.length).fill(NIL);
  const inputKey = model.inputKey;
  if (inputKey === undefined) return predecessors;
  const unknown: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]!.output === undefined) unknown.push(i);
  }
  // Ties in call time are broken by index, matching the entry list, so the canonical order is well defined.
  unknown.sort((a, b) => ops[a]!.callTime - ops[b]!.callTime || a - b);
  const lastByKey = new Map<string, number>();
  for (const index of unknown) {
    const key = inputKey.call(model, ops[index]!.input);
    const previous = lastByKey.get(key);
    if (previous !== undefined) predecessors[index] = previous;
    lastByKey.set(key, index);
  }
  return predecessors;
}
