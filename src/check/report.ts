/**
 * Human-readable explanations of linearizability violations.
 *
 * @module
 */

import type { Operation } from "./history.ts";
import type { Model } from "./model.ts";
import type { DeepestPoint } from "./search.ts";

/**
 * An operation named in a report.
 *
 * @example
 * const o: OffendingOperation = { id: 17, clientId: 3, text: "read(x) -> 0" };
 */
export interface OffendingOperation {
  /** The operation's id in the history. */
  id: number;
  /** The client that issued it. */
  clientId: number;
  /** `model.describe` of its input and output. */
  text: string;
}

/**
 * The report fields of an illegal result for one partition.
 *
 * @example
 * const r: IllegalReport = { linearizedPrefix: 1, offending: [{ id: 1, clientId: 2, text: "read(x) -> 0" }], message: "..." };
 */
export interface IllegalReport {
  /** Length of the longest partial linearization found. */
  linearizedPrefix: number;
  /** The operations pending at the deepest point; the one that had to come next is first. */
  offending: OffendingOperation[];
  /** One paragraph naming the offending operations with their ids. */
  message: string;
}

/**
 * Name an operation the way reports do.
 *
 * @example
 * operationText(counterModel, op); // "read(x) -> 0 by client 3 (op 17)"
 */
export function operationText<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  return `${model.describe(op.input, op.output)} by client ${op.clientId} (op ${op.id})`;
}

/**
 * Explain where the search for a linearization of one partition got stuck.
 *
 * @example
 * const report = illegalReport(counterModel, partitionOps, outcome.deepest, 0, "x");
 * console.log(report.message);
 */
export function illegalReport<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  deepest: DeepestPoint<S>,
  partitionIndex: number,
  key: string | undefined,
): IllegalReport {
  const opAt = (index: number): Operation<I, O> => {
    const op = ops[index];
    if (op === undefined) throw new Error(`invariant: report refers to missing operation index ${index}`);
    return op;
  };
  const blocking = opAt(deepest.blocking);
  const others = deepest.pending.filter((index) => index !== deepest.blocking).map(opAt);
  const offending = [blocking, ...others].map((op) => ({
    id: op.id,
    clientId: op.clientId,
    text: model.describe(op.input, op.output),
  }));

  const subject = `${model.name}${key === undefined ? "" : ` key ${JSON.stringify(key)}`} (partition ${partitionIndex})`;
  const prefixLength = deepest.prefix.length;
  const lastIndex = deepest.prefix[prefixLength - 1];
  const last = lastIndex === undefined ? undefined : opAt(lastIndex);
  const stateKey = model.key(deepest.state);
  const where = last === undefined ? "from the initial state" : `after ${operationText(model, last)}`;
  // Distinguish a plainly impossible output from a choice whose every continuation was already refuted,
  // because the first points at the operation itself and the second at the interleaving around it.
  const why = model.step(deepest.state, blocking.input, blocking.output).ok
    ? "every continuation from there had already been explored and failed"
    : "its output is impossible in that state";

  const deferral =
    blocking.output === undefined
      ? "and nothing else was left to linearize before it"
      : `and it had already returned (at ${blocking.returnTime}), so it could not be deferred`;
  const parts = [
    `${subject} is not linearizable.`,
    last === undefined
      ? "No operation can be linearized first."
      : `The longest linearizable prefix found has ${prefixLength} operation${prefixLength === 1 ? "" : "s"}, ending with ${operationText(model, last)}; model state there: ${stateKey || "(initial)"}.`,
    `${operationText(model, blocking)} cannot be linearized ${where} (${why}), ${deferral}.`,
  ];
  if (others.length > 0) {
    parts.push(
      `Also pending at that point, and no way out either: ${others.map((op) => operationText(model, op)).join("; ")}.`,
    );
  }
  return { linearizedPrefix: prefixLength, offending, message: parts.join(" ") };
}
