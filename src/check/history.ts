/**
 * What a test harness records about client operations, and a helper to turn a flat event log into
 * that shape.
 *
 * @module
 */

/**
 * One client operation as recorded by a test harness.
 *
 * @example
 * const op: Operation<{ kind: "read"; key: string }, number> = {
 *   id: 7, clientId: 2, input: { kind: "read", key: "x" }, output: 3, callTime: 10, returnTime: 14,
 * };
 */
export interface Operation<I, O> {
  /** Unique within the history; reports name offending operations by it. */
  id: number;
  /** The client that issued the operation (only used in reports). */
  clientId: number;
  /** What the client asked for. */
  input: I;
  /**
   * The observed output; `undefined` when the outcome is unknown (timed out / connection lost): the
   * operation may or may not have taken effect, at any time after `callTime`.
   */
  output: O | undefined;
  /** Invocation time (any monotonic unit). */
  callTime: number;
  /** Response time; use `Number.POSITIVE_INFINITY` for unknown outcomes. */
  returnTime: number;
}

/**
 * One entry of a flat event log, as a harness might write it while clients run.
 *
 * @example
 * const log: HistoryEvent<string, number>[] = [
 *   { type: "invoke", clientId: 1, time: 0, input: "inc" },
 *   { type: "ok", clientId: 1, time: 3, output: 1 },
 * ];
 */
export type HistoryEvent<I, O> =
  /** The client sent a request. */
  | { type: "invoke"; clientId: number; time: number; input: I }
  /** The client received the response to its outstanding request. */
  | { type: "ok"; clientId: number; time: number; output: O }
  /** The client gave up on its outstanding request (timeout, lost connection): outcome unknown. */
  | { type: "unknown"; clientId: number; time: number };

/**
 * Build a history from a flat event log. Each client has at most one outstanding operation; ids are
 * assigned in invocation order starting at 0. Invocations that never got a response count as unknown
 * outcomes, because the request may still be applied after the log ends.
 *
 * @example
 * const ops = historyFromEvents([
 *   { type: "invoke", clientId: 1, time: 0, input: "inc" },
 *   { type: "invoke", clientId: 2, time: 1, input: "inc" },
 *   { type: "ok", clientId: 1, time: 2, output: 1 },
 *   { type: "unknown", clientId: 2, time: 5 },
 * ]);
 * // ops[1].output === undefined && ops[1].returnTime === Infinity
 */
export function historyFromEvents<I, O>(events: readonly HistoryEvent<I, O>[]): Operation<I, O>[] {
  const ops: Operation<I, O>[] = [];
  const outstanding = new Map<number, Operation<I, O>>();
  for (const event of events) {
    const pending = outstanding.get(event.clientId);
    if (event.type === "invoke") {
      if (pending !== undefined) {
        throw new Error(
          `client ${event.clientId} invoked a new operation at time ${event.time} while op ${pending.id} is outstanding`,
        );
      }
      const op: Operation<I, O> = {
        id: ops.length,
        clientId: event.clientId,
        input: event.input,
        output: undefined,
        callTime: event.time,
        returnTime: Number.POSITIVE_INFINITY,
      };
      ops.push(op);
      outstanding.set(event.clientId, op);
      continue;
    }
    if (pending === undefined) {
      throw new Error(
        `client ${event.clientId} got a response at time ${event.time} with nothing outstanding`,
      );
    }
    if (event.time < pending.callTime) {
      throw new Error(`op ${pending.id} responds at ${event.time}, before its call at ${pending.callTime}`);
    }
    outstanding.delete(event.clientId);
    if (event.type === "ok") {
      pending.output = event.output;
      pending.returnTime = event.time;
    }
    // "unknown": keep output undefined and returnTime infinite; the effect may land arbitrarily late.
  }
  return ops;
}
