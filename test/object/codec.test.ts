import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeValue, encodeValue, NotEncodableError } from "../../src/object/index.ts";

function roundTrip(value: unknown): unknown {
  return decodeValue(encodeValue(value));
}

function refusal(value: unknown): { type: string; path: string } {
  try {
    encodeValue(value);
  } catch (error) {
    assert.ok(error instanceof NotEncodableError, `expected NotEncodableError, got ${String(error)}`);
    return { type: error.type, path: error.path };
  }
  assert.fail("expected encodeValue to refuse the value");
}

describe("the shared codec round-trips plain data exactly", () => {
  it("primitives", () => {
    for (const value of [0, 1, -1, 127, 128, -33, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, -0.25, Math.PI])
      assert.equal(roundTrip(value), value, `number ${value}`);
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      assert.equal(roundTrip(value), value);
    for (const value of ["", "counter", "ünïcödé ✓ 🎉", "x".repeat(70_000), true, false, null, undefined])
      assert.equal(roundTrip(value), value);
  });

  it("bigint, small and beyond 64 bits, stays bigint (never a number)", () => {
    for (const value of [
      0n,
      5n,
      -5n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 64n - 1n,
      2n ** 200n,
      -(3n ** 90n),
    ]) {
      const back = roundTrip(value);
      assert.equal(typeof back, "bigint", `${value}n`);
      assert.equal(back, value);
    }
    assert.equal(typeof roundTrip(2 ** 40), "number", "a large number stays a number");
  });

  it("Map (any keys, nested) and plain objects stay distinct", () => {
    const map = new Map<unknown, unknown>([
      ["ann", 10],
      [1, "one"],
      [2n, [true]],
      [null, new Map([["inner", new Set([1])]])],
    ]);
    assert.deepEqual(roundTrip(map), map);
    const object = { ann: 10, "two words": { nested: [1, { deep: "yes" }] } };
    const back = roundTrip(object);
    assert.deepEqual(back, object);
    assert.equal(Object.getPrototypeOf(back), Object.prototype, "an object comes back as an object");
    assert.ok(roundTrip(new Map([["ann", 10]])) instanceof Map, "a Map comes back as a Map");
    assert.deepEqual(roundTrip(new Map()), new Map());
    assert.deepEqual(roundTrip({}), {});
  });

  it("Set, Uint8Array, nested arrays", () => {
    const set = new Set<unknown>([1, "a", 3n, new Map([[1, 2]])]);
    assert.deepEqual(roundTrip(set), set);
    assert.deepEqual(roundTrip(new Set()), new Set());
    const bytes = Uint8Array.of(0, 1, 254, 255);
    assert.deepEqual(roundTrip(bytes), bytes);
    assert.deepEqual(
      roundTrip(Buffer.from([7, 8])),
      Uint8Array.of(7, 8),
      "a Buffer comes back as Uint8Array",
    );
    const arrays = [[], [[1, [2, [3, [4]]]]], [undefined, null, "x"]];
    assert.deepEqual(roundTrip(arrays), arrays);
  });

  it("the same object twice side by side is not a cycle", () => {
    const shared = { n: 1 };
    assert.deepEqual(roundTrip([shared, shared]), [{ n: 1 }, { n: 1 }]);
  });

  it("documented normalisations: -0 becomes 0, holes become undefined", () => {
    assert.ok(Object.is(roundTrip(-0), 0));
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    assert.deepEqual(roundTrip([1, , 3]), [1, undefined, 3]);
  });

  it("equal values give identical bytes", () => {
    const make = () => ({ a: [1, 2n, "x"], m: new Map([["k", new Set([1, 2])]]), b: Uint8Array.of(1) });
    assert.deepEqual(encodeValue(make()), encodeValue(make()));
    assert.deepEqual(encodeValue(decodeValue(encodeValue(make()))), encodeValue(make()));
  });
});

describe("the shared codec refuses what is not plain data, naming where", () => {
  it("functions and symbols", () => {
    assert.deepEqual(
      refusal(() => 1),
      { type: "function", path: "$" },
    );
    assert.deepEqual(refusal({ a: [0, { f: Math.max }] }), { type: "function", path: "$.a[1].f" });
    assert.deepEqual(refusal({ "odd key": Symbol("s") }), { type: "symbol", path: '$["odd key"]' });
  });

  it("Dates, class instances, other typed arrays, Map and Set subclasses", () => {
    class Point {
      x = 1;
    }
    class Registry extends Map {}
    assert.deepEqual(refusal({ at: new Date(0) }), { type: "instance of Date", path: "$.at" });
    assert.deepEqual(refusal([new Point()]), { type: "instance of Point", path: "$[0]" });
    assert.deepEqual(refusal(new Float64Array(2)), { type: "instance of Float64Array", path: "$" });
    assert.deepEqual(refusal(new Registry()), { type: "instance of Registry", path: "$" });
    assert.deepEqual(refusal(new Error("x")), { type: "instance of Error", path: "$" });
  });

  it("inside Maps and Sets", () => {
    assert.deepEqual(refusal(new Map([["ann", () => 1]])), { type: "function", path: '$.get("ann")' });
    assert.deepEqual(refusal(new Map([[Symbol("k"), 1]])), { type: "symbol", path: "$.keys()[0]" });
    assert.deepEqual(refusal(new Set([1, new Date(0)])), { type: "instance of Date", path: "$.values()[1]" });
  });

  it("cycles and a __proto__ key", () => {
    const node: { next?: unknown } = {};
    node.next = { back: node };
    assert.deepEqual(refusal(node), { type: "circular reference", path: "$.next.back" });
    assert.deepEqual(refusal(JSON.parse('{"__proto__": 1}')), { type: 'key "__proto__"', path: "$" });
  });

  it("the error's message is `<type> at <path>`", () => {
    assert.throws(() => encodeValue({ f() {} }), { name: "NotEncodableError", message: "function at $.f" });
  });
});

describe("decoding", () => {
  it("throws on truncated, trailing and empty input", () => {
    const good = encodeValue({ a: [1, 2, 3] });
    assert.throws(() => decodeValue(good.subarray(0, good.length - 1)));
    assert.throws(() => decodeValue(Uint8Array.of(...good, 0)));
    assert.throws(() => decodeValue(new Uint8Array(0)));
  });

  it("decoded bytes do not alias the input buffer", () => {
    const input = encodeValue(Uint8Array.of(1, 2, 3));
    const bytes = decodeValue(input) as Uint8Array;
    input.fill(0);
    assert.deepEqual(bytes, Uint8Array.of(1, 2, 3));
  });
});

describe("the caller's bytes", () => {
  it("are left as they were by decoding", () => {
    const bytes = encodeValue({ a: 1 });
    const keys = Object.keys(bytes);
    decodeValue(bytes);
    assert.deepEqual(Object.keys(bytes), keys, "msgpackr's cached DataView goes on a view of our own");
  });
});
