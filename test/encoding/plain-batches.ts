import { EncodedBatch } from "../../src/encoding/batch-bytes.ts";

/**
 * `value` with every {@link EncodedBatch} in it replaced by the plain batch of its fields, so that a
 * decoded frame or log record compares deeply with the plain objects a test wrote (an encoded batch's
 * commands are a getter, which deep comparison does not read).
 *
 * @example
 * ```ts
 * assert.deepStrictEqual(withPlainBatches(decodeFrame(encodeFrame(frame))), frame);
 * ```
 */
export function withPlainBatches(value: unknown): unknown {
  if (value instanceof EncodedBatch) {
    return { timeMs: value.timeMs, seed: value.seed, commands: withPlainBatches(value.commands) };
  }
  if (Array.isArray(value)) return value.map(withPlainBatches);
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withPlainBatches(item)]));
}
