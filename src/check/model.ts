/**
 * The sequential specification a history is checked against.
 *
 * @module
 */

import type { Operation } from "./history.ts";

/**
 * The outcome of applying one operation to a model state.
 *
 * @example
 * const r: StepResult<number> = { ok: true, state: 1 };
 */
export interface StepResult<S> {
  /** False when the observed output is impossible from the state the operation was applied to. */
  ok: boolean;
  /** The state after the operation (meaningless when `ok` is false). */
  state: S;
}

/**
 * A deterministic sequential specification of an object.
 *
 * @example
 * const flag: Model<boolean, "set" | "get", boolean> = {
 *   name: "flag",
 *   init: () => false,
 *   step: (s, input, out) =>
 *     input === "set" ? { ok: true, state: true } : { ok: out === undefined || out === s, state: s },
 *   key: (s) => (s ? "1" : "0"),
 *   describe: (input, out) => `${input}() -> ${out ?? "?"}`,
 *   readOnly: (input) => input === "get",
 *   inputKey: (input) => input,
 * };
 */
export interface Model<S, I, O> {
  /** Used in reports. */
  name: string;
  /** Split a history into independent sub-histories (P-compositionality), e.g. by key. Optional. */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  /** A human name for one sub-history returned by `partition` (e.g. its key), used in reports. Optional. */
  partitionKey?(ops: readonly Operation<I, O>[]): string | undefined;
  /** The state before any operation. */
  init(): S;
  /**
   * Apply `input` to `state`. `output === undefined` means unknown outcome: accept any output. Return
   * ok=false if the observed output is impossible from this state. Must not mutate `state`.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /** A string key of the state, used for memoisation: equal keys must mean equal states. */
  key(state: S): string;
  /** Human text for an operation, used in reports. */
  describe(input: I, output: O | undefined): string;
  /**
   * True when `input` can never change the state. Such operations with an unknown outcome constrain
   * nothing, so the checker drops them before searching. Optional (default: nothing is read-only).
   */
  readOnly?(input: I): boolean;
  /**
   * A string key of an input: equal keys must mean equal inputs (same effect from every state). Lets the
   * checker treat unknown-outcome operations with equal inputs as interchangeable and try them only in
   * call order, which avoids exploring every subset of, say, ten timed-out increments. Optional (default:
   * no two operations are interchangeable).
   */
  inputKey?(input: I): string;
}
