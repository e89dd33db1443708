/**
 * Linearizability checking of whole histories: validation, pruning, partitioning, and combining the
 * per-partition WGL searches into one verdict.
 *
 * @module
 */

import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";
import { illegalReport, type OffendingOperation } from "./report.ts";
import { searchLinearization } from "./search.ts";

/**
 * The default search budget per partition. Histories of a few hundred operations need thousands of steps
 * at most; millions means the history is pathological, and it is better to say "unknown" than to hang.
 *
 * @example
 * checkHistory(counterModel, ops, { budgetSteps: DEFAULT_BUDGET_STEPS * 2 });
 */
export const DEFAULT_BUDGET_STEPS = 5_000_000;

/**
 * Bounds on the work {@link checkHistory} does.
 *
 * @example
 * const options: CheckOptions = { budgetSteps: 100_000, timeoutMs: 250 };
 */
export interface CheckOptions {
  /** Maximum search steps per partition (default {@link DEFAULT_BUDGET_STEPS}). */
  budgetSteps?: number;
  /** Wall-clock limit for the whole check, all partitions together (default: none). */
  timeoutMs?: number;
}

/**
 * The verdict on a history. `steps` always counts the search steps of all partitions searched.
 *
 * @example
 * const r = checkHistory(registerModel, ops);
 * if (r.result === "illegal") console.error(r.message, r.offending.map((o) => o.id));
 */
export type CheckResult =
  /** Every partition has a linearization; `partitions` counts the non-empty ones searched. */
  | { result: "ok"; partitions: number; steps: number }
  /** Some partition has none; the report describes the deepest point its search reached. */
  | {
      result: "illegal";
      partition: number;
      key?: string;
      steps: number;
      linearizedPrefix: number;
      offending: OffendingOperation[];
      message: string;
    }
  /** A bound was hit before every partition was decided (and none was found illegal). */
  | { result: "unknown"; reason: string; steps: number };

/**
 * Decide whether a history is linearizable with respect to `model`.
 *
 * Partitions are searched independently in the order `model.partition` returns them; the first illegal
 * one decides the result (nothing can be worse). A partition that runs out of budget makes the result
 * "unknown" unless a later one is illegal. Operations with an unknown outcome whose input is read-only
 * are dropped first, since they can neither change the state nor be observed.
 *
 * Real-time order: operation a must precede b only when `a.returnTime < b.callTime` strictly; equal
 * stamps count as concurrent, because coarse clocks cannot prove an order. Unknown outcomes
 * (`output === undefined`) are treated as never returning, whatever their `returnTime` says.
 *
 * Throws on malformed histories (duplicate ids, non-finite call times, returns before calls), because
 * those are harness bugs that no verdict should paper over.
 *
 * @example
 * const result = checkHistory(counterModel, [
 *   { id: 0, clientId: 1, input: { kind: "inc", key: "x" }, output: 1, callTime: 0, returnTime: 1 },
 *   { id: 1, clientId: 2, input: { kind: "read", key: "x" }, output: 0, callTime: 2, returnTime: 3 },
 * ]);
 * // result.result === "illegal", result.offending[0].id === 1
 */
export function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  const budgetSteps = options.budgetSteps ?? DEFAULT_BUDGET_STEPS;
  if (!(budgetSteps >= 0)) throw new Error(`budgetSteps must be a non-negative number, got ${budgetSteps}`);
  if (options.timeoutMs !== undefined && !(options.timeoutMs >= 0)) {
    throw new Error(`timeoutMs must be a non-negative number, got ${options.timeoutMs}`);
  }
  const deadlineMs = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
  validateHistory(ops);

  const readOnly = model.readOnly;
  const relevant =
    readOnly === undefined
      ? ops
      : ops.filter((op) => op.output !== undefined || !readOnly.call(model, op.input));
  const partitions = model.partition === undefined ? [[...relevant]] : model.partition(relevant);
  const partitioned = partitions.reduce((sum, part) => sum + part.length, 0);
  if (partitioned !== relevant.length) {
    throw new Error(`model ${model.name} partitioned ${relevant.length} operations into ${partitioned}`);
  }

  let steps = 0;
  let searched = 0;
  const undecided: string[] = [];
  for (let index = 0; index < partitions.length; index++) {
    const part = partitions[index]!;
    if (part.length === 0) continue;
    const key = model.partitionKey?.(part);
    const label = `partition ${index}${key === undefined ? "" : ` (key ${JSON.stringify(key)})`}`;
    if (deadlineMs !== undefined && performance.now() > deadlineMs) {
      undecided.push(`${label}: timeout of ${options.timeoutMs} ms exceeded before it was searched`);
      continue;
    }
    const outcome = searchLinearization(model, part, { budgetSteps, deadlineMs });
    steps += outcome.steps;
    searched++;
    if (outcome.kind === "illegal") {
      const report = illegalReport(model, part, outcome.deepest, index, key);
      return {
        result: "illegal",
        partition: index,
        ...(key === undefined ? {} : { key }),
        steps,
        ...report,
      };
    }
    if (outcome.kind === "exhausted") {
      const reason =
        outcome.cause === "timeout"
          ? `timeout of ${options.timeoutMs} ms exceeded`
          : `search budget of ${budgetSteps} steps exhausted`;
      undecided.push(`${label}: ${reason}`);
    }
  }
  if (undecided.length > 0) return { result: "unknown", reason: undecided.join("; "), steps };
  return { result: "ok", partitions: searched, steps };
}

/** Reject histories no harness should produce; see {@link checkHistory}. */
function validateHistory<I, O>(ops: readonly Operation<I, O>[]): void {
  const ids = new Set<number>();
  for (const op of ops) {
    if (ids.has(op.id)) throw new Error(`duplicate operation id ${op.id}`);
    ids.add(op.id);
    if (!Number.isFinite(op.callTime)) {
      throw new Error(`op ${op.id} has a non-finite callTime ${op.callTime}`);
    }
    if (Number.isNaN(op.returnTime)) throw new Error(`op ${op.id} has returnTime NaN`);
    // Unknown outcomes are treated as never returning, whatever returnTime says, so only check known ones.
    if (op.output !== undefined && op.returnTime < op.callTime) {
      throw new Error(`op ${op.id} returns at ${op.returnTime}, before its call at ${op.callTime}`);
    }
  }
}
