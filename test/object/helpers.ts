import { fileURLToPath } from "node:url";
import type { ApplyContext } from "../../src/core/state-machine.ts";
import {
  type CallResult,
  decodeResult,
  encodeCall,
  inspectClass,
  type LoadedClass,
  type ObjectMachine,
} from "../../src/object/index.ts";

/** Absolute path of a fixture file. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

let slot = 0;

/** A plausible apply context. */
export function nextContext(): ApplyContext {
  slot++;
  return {
    slot,
    index: 0,
    timeMs: slot * 10,
    clientId: 1,
    seq: slot,
    randomSeed: slot,
    timeoutMs: undefined,
  };
}

/** The caller's result of an apply (these tests never park). */
export function resultOf(outcome: ReturnType<ObjectMachine["apply"]>): Uint8Array {
  const result = outcome instanceof Uint8Array ? outcome : outcome.result;
  if (result === null) throw new Error("the call parked");
  return result;
}

/** Applies one call through `apply` (a command) and decodes its result. */
export function command(
  machine: ObjectMachine,
  object: string,
  method: string,
  ...args: unknown[]
): CallResult {
  return decodeResult(resultOf(machine.apply(encodeCall({ object, method, args }), nextContext())));
}

/** Runs one call through `query` (a read) and decodes its result. */
export function read(machine: ObjectMachine, object: string, method: string, ...args: unknown[]): CallResult {
  return decodeResult(machine.query(encodeCall({ object, method, args })));
}

/** The value of an ok result; fails the test with the error otherwise. */
export function okValue(result: CallResult): unknown {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.name}: ${result.error.message}`);
  return result.value;
}

/** A class already in memory, hosted as if loaded from a file. */
export function inMemory(Class: unknown, className: string, codeHash = "in-memory"): LoadedClass {
  return inspectClass(Class, { shownFile: "memory.ts", file: "/memory.ts", className, codeHash });
}
