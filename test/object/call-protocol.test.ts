import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect, isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { encodeResultShared } from "../../src/object/call-protocol.ts";
import { packWire, toWire } from "../../src/object/codec.ts";
import {
  type CallResult,
  decodeCall,
  decodeResult,
  decodeValue,
  describeThrown,
  encodeCall,
  encodeResult,
  encodeValue,
  ObjectCallError,
} from "../../src/object/index.ts";
import { mutate, mutationArb } from "../encoding/damage.ts";

function isCode(code: string) {
  return (error: unknown) => error instanceof ObjectCallError && error.code === code;
}

/** Names and scalars of every kind the fast paths take or leave: ASCII or not, short and long. */
const name = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ minLength: 28, maxLength: 300 }),
);
const scalar = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    false,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    -(2 ** 40),
  ),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  name,
);
const arg = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 2 }) },
);

describe("calls", () => {
  it("round-trip with any plain-data arguments", () => {
    const call = {
      object: "bank",
      method: "open",
      args: ["ann", 10, 2n ** 70n, new Map([["k", new Set([1])]]), Uint8Array.of(9), [[1], { a: null }]],
    };
    assert.deepEqual(decodeCall(encodeCall(call)), call);
    assert.deepEqual(decodeCall(encodeCall({ object: "c", method: "m", args: [] })), {
      object: "c",
      method: "m",
      args: [],
    });
  });

  it("garbage is a BadCall", () => {
    const garbage = [
      new Uint8Array(0),
      Uint8Array.of(0xc1),
      Uint8Array.of(0x92, 0x01),
      Buffer.from("not msgpack at all, just text"),
      encodeValue(42),
      encodeValue(["counter", "increment"]),
      encodeValue(["counter", "increment", [], 1]),
      encodeValue([1, "increment", []]),
      encodeValue(["counter", "increment", "no args"]),
      encodeValue(new Map([["object", "counter"]])),
      encodeValue({ object: "counter", method: "increment" }),
      encodeValue({ object: 1, method: "increment", args: [] }),
      encodeValue({ object: "counter", method: null, args: [] }),
      encodeValue({ object: "counter", method: "increment", args: { 0: 1 } }),
    ];
    for (const bytes of garbage) assert.throws(() => decodeCall(bytes), isCode("BadCall"), `bytes ${bytes}`);
  });

  it("encodes [object, method, args], and still reads the map form older logs hold", () => {
    const op = encodeCall({ object: "counter", method: "add", args: [2] });
    assert.deepEqual(decodeValue(op), ["counter", "add", [2]]);
    const older = encodeValue({ object: "counter", method: "add", args: [2] });
    assert.deepEqual(decodeCall(older), decodeCall(op));
    assert.deepEqual(decodeCall(op), { object: "counter", method: "add", args: [2] });
  });

  it("reads every call as the general decoding does: ASCII or not, plain arguments or nested ones", () => {
    fc.assert(
      fc.property(name, name, fc.array(arg, { maxLength: 20 }), (object, method, args) => {
        const bytes = encodeCall({ object, method, args });
        const [o, m, a] = decodeValue(bytes) as [string, string, unknown[]];
        assert.deepStrictEqual(decodeCall(bytes), { object: o, method: m, args: a });
      }),
      { numRuns: 1000 },
    );
  });

  it("writes every call in the bytes the general encoding writes", () => {
    fc.assert(
      fc.property(name, name, fc.array(arg, { maxLength: 20 }), (object, method, args) => {
        const general = packWire([object, method, toWire([...args], "$.args")]);
        assert.deepStrictEqual(Buffer.from(encodeCall({ object, method, args })), Buffer.from(general));
      }),
      { numRuns: 2000 },
    );
    // The common call by itself, each scalar kind at every header width the writer picks.
    for (const value of [
      undefined,
      null,
      true,
      false,
      0,
      127,
      128,
      65_536,
      -1,
      -33,
      -129,
      -40_000,
      2 ** 32,
      0.5,
      "a".repeat(31),
      "b".repeat(32),
      "c".repeat(256),
    ]) {
      const args = [value];
      const general = packWire(["Map", "set", toWire([...args], "$.args")]);
      assert.deepStrictEqual(
        Buffer.from(encodeCall({ object: "Map", method: "set", args })),
        Buffer.from(general),
        String(value),
      );
    }
  });

  it("a damaged call is read as the general decoding reads it, or refused as it refuses it", () => {
    const calls = [
      encodeCall({ object: "Map", method: "set", args: ["k12", "0123456789abcdef"] }),
      encodeCall({ object: "counter", method: "add", args: [1, -7, 0.5, true, null, "x".repeat(40)] }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...calls), mutationArb, (original, mutations) => {
        const bytes = mutate(original, mutations);
        let general: unknown;
        try {
          const value = decodeValue(bytes);
          general = Array.isArray(value) && value.length === 3 ? value : "other shape";
        } catch {
          general = "refused";
        }
        let fast: unknown;
        try {
          const call = decodeCall(bytes);
          fast = [call.object, call.method, call.args];
        } catch (error) {
          assert.ok(isCode("BadCall")(error), String(error));
          fast = "refused";
        }
        // The general path's answer for a three-item array is the call itself when its fields are right.
        if (general === "refused") assert.equal(fast, "refused");
        else if (
          Array.isArray(general) &&
          typeof general[0] === "string" &&
          typeof general[1] === "string" &&
          Array.isArray(general[2])
        )
          assert.deepStrictEqual(fast, general);
      }),
      { numRuns: 3000 },
    );
  });

  it("encoding refuses arguments that are not plain data", () => {
    assert.throws(() => encodeCall({ object: "c", method: "m", args: [() => 1] }), {
      name: "NotEncodableError",
      message: "function at $.args[0]",
    });
  });
});

describe("results", () => {
  it("round-trip, values and errors", () => {
    const results: CallResult[] = [
      { ok: true, value: 3 },
      { ok: true, value: undefined },
      { ok: true, value: new Map([[1, [2n]]]) },
      { ok: false, error: { name: "InsufficientFunds", message: "ann has 5" } },
    ];
    for (const result of results) assert.deepEqual(decodeResult(encodeResult(result)), result);
  });

  it("an ok result is [value]; the map form older snapshots hold still decodes", () => {
    assert.deepEqual(decodeValue(encodeResult({ ok: true, value: 3 })), [3]);
    assert.deepEqual(decodeResult(encodeValue({ ok: true, value: 3 })), { ok: true, value: 3 });
    assert.throws(() => decodeResult(encodeValue([1, 2])), isCode("BadResult"));
    assert.throws(() => decodeResult(encodeValue([])), isCode("BadResult"));
  });

  it("constant results decode as themselves, and each encoding is the caller's own copy", () => {
    for (const value of [undefined, null, true, false]) {
      const first = encodeResult({ ok: true, value });
      assert.deepEqual(decodeResult(first), { ok: true, value });
      first.fill(0);
      assert.deepEqual(decodeResult(encodeResult({ ok: true, value })), { ok: true, value });
    }
  });

  it("the object machine's encoding shares the constant results' bytes, and matches the copying one", () => {
    for (const value of [undefined, null, true, false]) {
      const shared = encodeResultShared({ ok: true, value });
      assert.equal(encodeResultShared({ ok: true, value }), shared);
      assert.deepEqual(shared, encodeResult({ ok: true, value }));
      assert.notEqual(encodeResult({ ok: true, value }), shared);
    }
    assert.deepEqual(encodeResultShared({ ok: true, value: 3 }), encodeResult({ ok: true, value: 3 }));
  });

  it("reads every result as the general decoding does", () => {
    fc.assert(
      fc.property(arg, (value) => {
        const bytes = encodeResult({ ok: true, value });
        assert.deepStrictEqual(decodeResult(bytes), {
          ok: true,
          value: (decodeValue(bytes) as unknown[])[0],
        });
      }),
      { numRuns: 2000 },
    );
  });

  it("a damaged result is read as the general decoding reads it, or refused as it refuses it", () => {
    const results = [undefined, null, true, 7, -300, 0.25, "0123456789abcdef"].map((value) =>
      encodeResult({ ok: true, value }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...results), mutationArb, (original, mutations) => {
        const bytes = mutate(original, mutations);
        let general: unknown;
        try {
          general = decodeValue(bytes);
        } catch {
          general = "refused";
        }
        let fast: unknown;
        try {
          fast = decodeResult(bytes);
        } catch (error) {
          assert.ok(isCode("BadResult")(error), String(error));
          fast = "refused";
        }
        if (general === "refused") assert.equal(fast, "refused");
        else if (Array.isArray(general) && general.length === 1) {
          // Compared as printed too: damage can make an invalid Date, which is not deep-equal to itself.
          const expected = { ok: true, value: general[0] };
          assert.ok(isDeepStrictEqual(fast, expected) || inspect(fast) === inspect(expected), inspect(fast));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("garbage is a BadResult", () => {
    const garbage = [
      Uint8Array.of(0xff, 0xff),
      encodeValue("ok"),
      encodeValue({ ok: "yes", value: 1 }),
      encodeValue({ ok: false }),
      encodeValue({ ok: false, error: { name: "E" } }),
    ];
    for (const bytes of garbage) assert.throws(() => decodeResult(bytes), isCode("BadResult"));
  });
});

describe("describeThrown", () => {
  it("keeps an error's name and message", () => {
    class InsufficientFunds extends Error {
      override name = "InsufficientFunds";
    }
    assert.deepEqual(describeThrown(new InsufficientFunds("ann has 5")), {
      name: "InsufficientFunds",
      message: "ann has 5",
    });
    assert.deepEqual(describeThrown(new RangeError("far")), { name: "RangeError", message: "far" });
  });

  it("describes non-errors as Error with String(value)", () => {
    assert.deepEqual(describeThrown("a plain string"), { name: "Error", message: "a plain string" });
    assert.deepEqual(describeThrown(42), { name: "Error", message: "42" });
    assert.deepEqual(describeThrown(undefined), { name: "Error", message: "undefined" });
    assert.deepEqual(describeThrown(Symbol("s")), { name: "Error", message: "Symbol(s)" });
  });

  it("never throws, even for hostile values", () => {
    const hostile = {
      toString() {
        throw new Error("no");
      },
    };
    assert.equal(describeThrown(hostile).name, "Error");
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.equal(describeThrown(proxy).name, "Error");
    const getter = {
      get message(): string {
        throw new Error("no");
      },
    };
    assert.equal(describeThrown(getter).name, "Error");
  });
});
