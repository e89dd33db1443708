/**
 * Hosting a user's class as a replicated state machine: load it from a file (`loadObjectFile`), host it
 * (`ObjectMachine`), and the bytes clients and replicas exchange about it (`encodeCall`, `decodeResult`…).
 *
 * @example
 * ```ts
 * const counter = await loadObjectFile({ file: "counter.ts", className: "Counter" });
 * const machine = new ObjectMachine(new Map([["counter", counter]]));
 * ```
 */

export {
  type CallContext,
  caller,
  isParked,
  type Parked,
  park,
  type Waiter,
  wake,
  wakeWithError,
} from "./api.ts";
export {
  type CallOp,
  type CallResult,
  decodeCall,
  decodeResult,
  describeThrown,
  encodeCall,
  encodeResult,
  errorResult,
} from "./call-protocol.ts";
export { decodeValue, encodeValue, MAP_EXTENSION_TYPE } from "./codec.ts";
export {
  NotEncodableError,
  ObjectCallError,
  type ObjectCallErrorCode,
  ObjectLoadError,
  ObjectSnapshotError,
} from "./errors.ts";
export { loadObjectFile } from "./load.ts";
export { type ClassSource, inspectClass, type LoadedClass } from "./loaded-class.ts";
export { INIT_METHOD, RESTORE_HOOK, SNAPSHOT_HOOK } from "./methods.ts";
export { ObjectMachine, RESULT_BYTES_MAX } from "./object-machine.ts";
