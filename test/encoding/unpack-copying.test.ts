import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { addExtension, Packr } from "msgpackr";
import { SCRATCH_BYTES, unpackCopying } from "../../src/encoding/unpack-copying.ts";

const packr = new Packr({ useRecords: false, copyBuffers: true });

/**
 * A value whose decoding decodes other bytes (longer than what the outer decode has read so far) with
 * `unpackCopying` while the outer decode is still reading the scratch buffer.
 */
class Nested {}
const NESTED_TYPE = 0x7e;
const OTHER_VALUE = ["other", "y".repeat(300)];
const OTHER_BYTES = new Uint8Array(packr.pack(OTHER_VALUE));
addExtension({
  Class: Nested,
  type: NESTED_TYPE,
  pack: () => Buffer.from([0]),
  unpack: () => ({ nested: unpackCopying(packr, OTHER_BYTES) }),
});

test("decodes what msgpackr decodes, small inputs and large, and leaves the caller's bytes alone", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 200 }), fc.boolean(), (value, blob, onHeap) => {
      const encoded = packr.pack([value, blob]);
      // Small arrays made by `slice` live on V8's heap, the case the scratch copy is for.
      const bytes = onHeap ? new Uint8Array(encoded).slice() : new Uint8Array(encoded);
      const before = Uint8Array.from(bytes);
      const decoded = unpackCopying(packr, bytes) as [unknown, Uint8Array];
      assert.deepEqual(decoded, packr.unpack(new Uint8Array(encoded)));
      assert.deepEqual(bytes, before);
      assert.equal(Object.hasOwn(bytes, "dataView"), false);
    }),
    { numRuns: 300 },
  );
});

test("binary values are the caller's own: a later decode does not change them", () => {
  const first = unpackCopying(packr, packr.pack(new Uint8Array([1, 2, 3]))) as Uint8Array;
  unpackCopying(packr, packr.pack(new Uint8Array([9, 9, 9])));
  assert.deepEqual(first, new Uint8Array([1, 2, 3]));
  assert.equal(Object.getPrototypeOf(first), Uint8Array.prototype);
});

test("inputs past the scratch size are read in place", () => {
  const big = "x".repeat(SCRATCH_BYTES * 2);
  const bytes = new Uint8Array(packr.pack({ big }));
  assert.ok(bytes.byteLength > SCRATCH_BYTES);
  assert.deepEqual(unpackCopying(packr, bytes), { big });
  assert.equal(Object.hasOwn(bytes, "dataView"), false);
});

test("a decode inside a decode does not overwrite the outer input", () => {
  const outer = new Uint8Array(packr.pack(["before", new Nested(), "after", 12345]));
  assert.deepEqual(unpackCopying(packr, outer), ["before", { nested: OTHER_VALUE }, "after", 12345]);
});

test("empty, truncated and trailing bytes are refused, and the next decode still works", () => {
  assert.throws(() => unpackCopying(packr, new Uint8Array(0)));
  assert.throws(() => unpackCopying(packr, new Uint8Array([0x92, 0x01])), /end/i);
  assert.throws(() => unpackCopying(packr, new Uint8Array([0x01, 0x02])), /end of buffer not reached/);
  assert.deepEqual(unpackCopying(packr, new Uint8Array([0x92, 0x01, 0x02])), [1, 2]);
});
