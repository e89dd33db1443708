/**
 * A Porcupine-style linearizability checker: record client operations as a history, describe the object
 * with a {@link Model}, and call {@link checkHistory}.
 *
 * @example
 * import { checkHistory, counterModel } from "concoord/check";
 * const result = checkHistory(counterModel, ops, { timeoutMs: 1000 });
 *
 * @module
 */

export type { HistoryEvent, Operation } from "./history.ts";
export { historyFromEvents } from "./history.ts";
export type { CheckOptions, CheckResult } from "./linearizability.ts";
export { checkHistory, DEFAULT_BUDGET_STEPS } from "./linearizability.ts";
export type { Model, StepResult } from "./model.ts";
export type {
  CounterInc,
  CounterInput,
  CounterOutput,
  CounterRead,
  CounterState,
  QueueInput,
  QueueOutput,
  QueuePut,
  QueueState,
  QueueTake,
  RegisterCas,
  RegisterInput,
  RegisterOutput,
  RegisterRead,
  RegisterState,
  RegisterWrite,
} from "./models.ts";
export { counterModel, keyOfPartition, partitionByKey, queueModel, registerModel } from "./models.ts";
export type { IllegalReport, OffendingOperation } from "./report.ts";
export { illegalReport, operationText } from "./report.ts";
