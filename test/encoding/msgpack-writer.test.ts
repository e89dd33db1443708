import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Packr } from "msgpackr";
import {
  MsgpackValueTooLargeError,
  MsgpackWriter,
  WRITER_BYTES_MAX,
} from "../../src/encoding/msgpack-writer.ts";

/** The options of the wire and the log: what the writer's bytes must equal. */
const packr = new Packr({ useRecords: false, variableMapSize: true });

type Item = number | string | Uint8Array | null | Item[];

const item: fc.Arbitrary<Item> = fc.letrec<{ item: Item }>((tie) => ({
  item: fc.oneof(
    { depthSize: "small" },
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    fc.maxSafeInteger(),
    fc.double(),
    fc.constantFrom(
      0,
      -0,
      127,
      128,
      255,
      256,
      65535,
      65536,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      2 ** 32,
      -(2 ** 31) - 1,
    ),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.constant(null),
    fc.array(tie("item"), { maxLength: 20 }),
  ),
})).item;

function write(w: MsgpackWriter, value: Item): void {
  if (value === null) w.nil();
  else if (typeof value === "number") w.number(value);
  else if (typeof value === "string") w.string(value);
  else if (value instanceof Uint8Array) w.bytes(value);
  else {
    w.array(value.length);
    for (const v of value) write(w, v);
  }
}

test("writes the very bytes msgpackr writes, and they read back", () => {
  const w = new MsgpackWriter();
  fc.assert(
    fc.property(item, (value) => {
      write(w, value);
      const bytes = w.take();
      assert.deepEqual(Buffer.from(bytes), Buffer.from(packr.pack(value)));
      // And they read back as msgpackr's own encoding does (-0 comes back as 0 from both).
      assert.deepEqual(packr.unpack(bytes), packr.unpack(new Uint8Array(packr.pack(value))));
    }),
    { numRuns: 1000 },
  );
});

test("long strings, byte strings and arrays take their wider headers", () => {
  const w = new MsgpackWriter();
  for (const value of [
    "é".repeat(70_000),
    new Uint8Array(70_000).fill(3),
    Array.from({ length: 70_000 }, (_, i) => i % 7),
  ]) {
    write(w, value);
    assert.deepEqual(Buffer.from(w.take()), Buffer.from(packr.pack(value)));
  }
});

test("raw items are copied in as they are, and take() leaves the writer empty with its own copy", () => {
  const w = new MsgpackWriter();
  w.array(2);
  w.raw(packr.pack({ kind: "open" }));
  w.number(5);
  const first = w.take();
  assert.deepEqual(packr.unpack(first), [{ kind: "open" }, 5]);
  w.string("next");
  const second = w.take();
  assert.equal(packr.unpack(second), "next");
  assert.deepEqual(packr.unpack(first), [{ kind: "open" }, 5], "an earlier take is not overwritten");
  w.number(1);
  w.reset();
  assert.equal(w.take().byteLength, 0);
});

test("take(leadingBytes) puts zero bytes before the payload; ballot() writes a ballot as msgpackr does", () => {
  const w = new MsgpackWriter();
  w.number(0xff); // a byte of 0xff: the leading bytes must not be left over from the buffer
  w.take();
  const ballot = { round: 70_000, nodeId: 3 };
  w.ballot(ballot);
  const out = w.take(8);
  assert.deepEqual([...out.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Buffer.from(out.subarray(8)), Buffer.from(packr.pack(ballot)));
  assert.equal(w.take().byteLength, 0, "the writer starts again");
});

test("past WRITER_BYTES_MAX a value is refused with its own error, and the writer goes on", () => {
  const w = new MsgpackWriter();
  w.array(1);
  assert.throws(() => w.bytes(new Uint8Array(WRITER_BYTES_MAX)), MsgpackValueTooLargeError);
  w.reset();
  w.string("after");
  assert.equal(packr.unpack(w.take()), "after");
});
