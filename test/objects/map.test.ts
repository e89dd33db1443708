import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeValue, encodeValue } from "../../src/object/codec.ts";
import { deepEqual, ReplicatedMap } from "../../src/objects/map.ts";
import { Driver } from "./harness.ts";

/** Any value the codec carries, small. */
const encodable: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 4 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.uint8Array({ maxLength: 4 }),
    fc.array(tie("value"), { maxLength: 3 }),
    // msgpackr renames "__proto__" keys, so the codec refuses them.
    fc.dictionary(
      fc.string({ maxLength: 3 }).filter((k) => k !== "__proto__"),
      tie("value"),
      { maxKeys: 3 },
    ),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => new Set(items)),
  ),
})).value;

describe("ReplicatedMap", () => {
  it("gets, sets, deletes, with null meaning absent", () => {
    const d = new Driver(new ReplicatedMap());
    assert.equal(d.value(1, "get", "k"), null);
    d.value(1, "set", "k", { v: [1, 2] });
    assert.deepEqual(d.value(1, "get", "k"), { v: [1, 2] });
    assert.equal(d.value(1, "has", "k"), true);
    d.value(1, "set", "k", null);
    assert.equal(d.value(1, "has", "k"), false, "setting null deletes");
    d.value(1, "set", "k", 0);
    assert.equal(d.value(1, "get", "k"), 0);
    assert.equal(d.value(1, "delete", "k"), true);
    assert.equal(d.value(1, "delete", "k"), false);
    assert.throws(() => d.call(1, "set", 3 as unknown as string, 1), { name: "ValueError" });
  });

  it("compareAndSet by structural equality, with null as absent", () => {
    const d = new Driver(new ReplicatedMap());
    assert.equal(d.value(1, "compareAndSet", "owner", null, "ann"), true);
    assert.equal(d.value(2, "compareAndSet", "owner", null, "bob"), false);
    assert.equal(d.value(2, "compareAndSet", "owner", "bob", "bob"), false);
    assert.equal(d.value(1, "get", "owner"), "ann");
    d.value(1, "set", "cfg", { hosts: ["a", "b"], limits: new Map([["cpu", 2]]) });
    // A freshly decoded equal value, as a client would send it.
    const expected = decodeValue(encodeValue({ limits: new Map([["cpu", 2]]), hosts: ["a", "b"] }));
    assert.equal(d.value(1, "compareAndSet", "cfg", expected, { hosts: ["c"] }), true);
    assert.deepEqual(d.value(1, "get", "cfg"), { hosts: ["c"] });
    assert.equal(d.value(1, "compareAndSet", "owner", "ann", null), true, "compare-and-delete");
    assert.equal(d.value(1, "has", "owner"), false);
  });

  it("lists keys sorted, by prefix, and counts them", () => {
    const d = new Driver(new ReplicatedMap());
    for (const k of ["user/bob", "user/ann", "group/x", "user"]) d.value(1, "set", k, true);
    assert.deepEqual(d.value(1, "keys"), ["group/x", "user", "user/ann", "user/bob"]);
    assert.deepEqual(d.value(1, "keys", "user/"), ["user/ann", "user/bob"]);
    assert.equal(d.value(1, "size"), 4);
    d.restart();
    assert.equal(d.value(1, "size"), 4);
  });

  it("deepEqual agrees with the codec's notion of the same value", () => {
    assert.ok(deepEqual(new Set([{ a: 1 }, 2]), new Set([2, { a: 1 }])));
    assert.ok(
      deepEqual(new Map<unknown, unknown>([[{ k: 1 }, "v"]]), new Map<unknown, unknown>([[{ k: 1 }, "v"]])),
    );
    assert.ok(deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
    assert.ok(deepEqual(Number.NaN, Number.NaN));
    assert.ok(deepEqual(0, -0));
    assert.ok(!deepEqual(1, 1n));
    assert.ok(!deepEqual([1], { 0: 1 }));
    assert.ok(!deepEqual({ a: undefined }, {}));
    assert.ok(!deepEqual(new Map([["a", 1]]), { a: 1 }));
    assert.ok(!deepEqual(new Set([1, 1 + 1]), new Set([1, 3])));
    assert.ok(!deepEqual(new Uint8Array([1]), [1]));
    // Property: a value equals its own codec round trip, and differs from a changed copy.
    fc.assert(
      fc.property(encodable, (value) => {
        const copy = decodeValue(encodeValue(value));
        assert.ok(deepEqual(value, copy));
        assert.ok(!deepEqual(value, [copy]));
      }),
      { numRuns: 200 },
    );
  });
});
