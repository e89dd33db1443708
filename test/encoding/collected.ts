import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// The test runner does not pass --expose-gc; the flag set here makes `gc` in a new context.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/**
 * How many of the objects behind `refs` the collector took, after a full collection. Waits for the next
 * turn first: a WeakRef made or read during a turn holds its target until the turn ends.
 *
 * @example
 * ```ts
 * const refs = objects.map((o) => new WeakRef(o));
 * assert.equal(await collectedCount(refs), refs.length);
 * ```
 */
export async function collectedCount(refs: readonly WeakRef<object>[]): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return refs.filter((ref) => ref.deref() === undefined).length;
}
