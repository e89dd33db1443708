import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  buildEntryList,
  type EntryList,
  isCallEntry,
  lift,
  NIL,
  opOfEntry,
  unlift,
} from "../../src/check/entry-list.ts";
import { historyFromEvents } from "../../src/check/history.ts";
import type { Operation } from "../../src/check/index.ts";
import { LinearizationCache, LinearizedSet } from "../../src/check/memo.ts";
import { counterModel, registerModel } from "../../src/check/models.ts";
import { interchangeablePredecessors } from "../../src/check/symmetry.ts";

function timed(callTime: number, returnTime: number, known = true): Operation<string, number> {
  return { id: 0, clientId: 0, input: "op", output: known ? 0 : undefined, callTime, returnTime };
}

function walk(list: EntryList): number[] {
  const entries: number[] = [];
  for (let e = list.next[list.head]!; e !== NIL; e = list.next[e]!) entries.push(e);
  return entries;
}

describe("entry list", () => {
  test("sorts by time, calls before returns at equal times, unknown outcomes last", () => {
    const list = buildEntryList([timed(0, 5), timed(5, 6), timed(1, 2, false), timed(3, 3)]);
    // op0 call@0, op2 call@1, op3 call@3, op3 return@3, op1 call@5, op0 return@5, op1 return@6, op2 return@inf
    assert.deepEqual(walk(list), [0, 4, 6, 7, 2, 1, 3, 5]);
    assert.equal(isCallEntry(4), true);
    assert.equal(opOfEntry(7), 3);
  });

  test("prev links mirror next links", () => {
    const list = buildEntryList([timed(0, 5), timed(1, 2), timed(3, 9)]);
    const entries = walk(list);
    let previous = list.head;
    for (const e of entries) {
      assert.equal(list.prev[e], previous);
      previous = e;
    }
  });

  test("lift then unlift in reverse order restores the list exactly", () => {
    const opsArb = fc.array(
      fc
        .record({ callTime: fc.nat({ max: 20 }), duration: fc.nat({ max: 10 }) })
        .map((r) => timed(r.callTime, r.callTime + r.duration)),
      { minLength: 1, maxLength: 12 },
    );
    fc.assert(
      fc.property(opsArb, fc.array(fc.nat()), (ops, picks) => {
        const list = buildEntryList(ops);
        const before = walk(list);
        const lifted: number[] = [];
        for (const pick of picks) {
          const calls = walk(list).filter(isCallEntry);
          if (calls.length === 0) break;
          const call = calls[pick % calls.length]!;
          lift(list, call);
          lifted.push(call);
          assert.ok(!walk(list).includes(call) && !walk(list).includes(call + 1));
        }
        for (const call of lifted.reverse()) unlift(list, call);
        assert.deepEqual(walk(list), before);
      }),
      { numRuns: 200 },
    );
  });
});

describe("memoisation", () => {
  test("LinearizedSet tracks membership and its hash returns to 0 when emptied", () => {
    const set = new LinearizedSet(70);
    set.add(0);
    set.add(33);
    set.add(69);
    assert.equal(set.has(33), true);
    assert.equal(set.has(34), false);
    assert.notEqual(set.hash, 0);
    set.remove(33);
    set.remove(0);
    set.remove(69);
    assert.equal(set.hash, 0);
    assert.deepEqual([...set.words], [0, 0, 0]);
  });

  test("LinearizedSet rejects double adds and removing non-members", () => {
    const set = new LinearizedSet(8);
    set.add(3);
    assert.throws(() => set.add(3), /linearized twice/);
    assert.throws(() => set.remove(4), /not linearized/);
  });

  test("the cache distinguishes bitsets and states, and remembers pairs", () => {
    const set = new LinearizedSet(40);
    const cache = new LinearizationCache(set.words.length);
    assert.equal(cache.addIfAbsent(set, 0), true);
    assert.equal(cache.addIfAbsent(set, 0), false);
    assert.equal(cache.addIfAbsent(set, 1), true);
    set.add(35);
    assert.equal(cache.addIfAbsent(set, 0), true);
    assert.equal(cache.addIfAbsent(set, 0), false);
    assert.equal(cache.size, 3);
  });

  test("pairs landing in the same bucket are still told apart", () => {
    // Multiplication by an odd constant is a bijection mod 2^32, and the constant is 1 mod 4, so state ids
    // 2^30 apart hash to the same 30-bit bucket.
    const set = new LinearizedSet(4);
    const cache = new LinearizationCache(set.words.length);
    assert.equal(cache.addIfAbsent(set, 0), true);
    assert.equal(cache.addIfAbsent(set, 2 ** 30), true);
    assert.equal(cache.addIfAbsent(set, 2 ** 30), false);
  });

  test("the cache grows past its initial pool", () => {
    const set = new LinearizedSet(16);
    const cache = new LinearizationCache(set.words.length);
    for (let state = 0; state < 5000; state++) assert.equal(cache.addIfAbsent(set, state), true);
    for (let state = 0; state < 5000; state++) assert.equal(cache.addIfAbsent(set, state), false);
  });
});

describe("symmetry reduction", () => {
  test("unknown operations with equal inputs are chained in call order; others are free", () => {
    const ops = [
      {
        id: 0,
        clientId: 0,
        input: { kind: "inc" as const, key: "x" },
        output: undefined,
        callTime: 5,
        returnTime: Infinity,
      },
      {
        id: 1,
        clientId: 1,
        input: { kind: "inc" as const, key: "x" },
        output: 1,
        callTime: 0,
        returnTime: 9,
      },
      {
        id: 2,
        clientId: 2,
        input: { kind: "inc" as const, key: "x" },
        output: undefined,
        callTime: 1,
        returnTime: Infinity,
      },
      {
        id: 3,
        clientId: 3,
        input: { kind: "inc" as const, key: "y" },
        output: undefined,
        callTime: 2,
        returnTime: Infinity,
      },
      {
        id: 4,
        clientId: 4,
        input: { kind: "inc" as const, key: "x" },
        output: undefined,
        callTime: 5,
        returnTime: Infinity,
      },
    ];
    assert.deepEqual([...interchangeablePredecessors(counterModel, ops)], [2, NIL, NIL, NIL, 0]);
    const { inputKey: _unused, ...withoutKey } = counterModel;
    assert.deepEqual([...interchangeablePredecessors(withoutKey, ops)], [NIL, NIL, NIL, NIL, NIL]);
  });
});

describe("models", () => {
  test("counter steps, keys and descriptions", () => {
    const s0 = counterModel.init();
    const s1 = counterModel.step(s0, { kind: "inc", key: "x" }, 1);
    assert.deepEqual(s1.ok, true);
    assert.equal(counterModel.key(s0), "");
    assert.equal(counterModel.key(s1.state), '"x":1');
    assert.equal(s0.size, 0, "step must not mutate its input state");
    assert.equal(counterModel.step(s1.state, { kind: "inc", key: "x" }, 3).ok, false);
    assert.equal(counterModel.step(s1.state, { kind: "read", key: "y" }, 0).ok, true);
    assert.equal(counterModel.step(s1.state, { kind: "read", key: "x" }, undefined).ok, true);
    const both = counterModel.step(s1.state, { kind: "inc", key: "a" }, undefined).state;
    assert.equal(counterModel.key(both), '"a":1,"x":1');
    assert.equal(counterModel.describe({ kind: "inc", key: "x" }, undefined), "inc(x) -> ?");
    assert.equal(counterModel.readOnly?.({ kind: "read", key: "x" }), true);
  });

  test("register steps, keys and descriptions", () => {
    const s0 = registerModel.init();
    assert.equal(registerModel.step(s0, { kind: "read", key: "x" }, null).ok, true);
    assert.equal(registerModel.step(s0, { kind: "write", key: "x", value: 1 }, false).ok, false);
    const s1 = registerModel.step(s0, { kind: "cas", key: "x", expected: null, value: 7 }, undefined).state;
    assert.equal(registerModel.key(s1), '"x":7');
    const failed = registerModel.step(s1, { kind: "cas", key: "x", expected: 1, value: 2 }, false);
    assert.equal(failed.ok, true);
    assert.equal(failed.state, s1);
    assert.equal(registerModel.step(s1, { kind: "cas", key: "x", expected: 7, value: 2 }, false).ok, false);
    assert.equal(
      registerModel.describe({ kind: "cas", key: "x", expected: null, value: 2 }, true),
      "cas(x, null, 2) -> true",
    );
    assert.equal(registerModel.describe({ kind: "write", key: "x", value: 2 }, true), "write(x, 2) -> true");
    assert.notEqual(
      registerModel.inputKey?.({ kind: "write", key: "x", value: 1 }),
      registerModel.inputKey?.({ kind: "write", key: "x", value: 2 }),
    );
  });

  test("partitioning groups by key in order of first appearance", () => {
    const ops = ["b", "a", "b"].map((key, id) => ({
      id,
      clientId: 0,
      input: { kind: "read" as const, key },
      output: 0,
      callTime: id,
      returnTime: id,
    }));
    const parts = counterModel.partition?.(ops) ?? [];
    assert.deepEqual(
      parts.map((p) => p.map((o) => o.id)),
      [[0, 2], [1]],
    );
    assert.equal(counterModel.partitionKey?.(parts[1]!), "a");
  });
});

describe("historyFromEvents", () => {
  test("pairs invocations with responses per client and keeps lost ones as unknown", () => {
    const ops = historyFromEvents<string, number>([
      { type: "invoke", clientId: 1, time: 0, input: "inc" },
      { type: "invoke", clientId: 2, time: 1, input: "inc" },
      { type: "ok", clientId: 1, time: 2, output: 1 },
      { type: "unknown", clientId: 2, time: 5 },
      { type: "invoke", clientId: 1, time: 6, input: "read" },
    ]);
    assert.deepEqual(ops, [
      { id: 0, clientId: 1, input: "inc", output: 1, callTime: 0, returnTime: 2 },
      { id: 1, clientId: 2, input: "inc", output: undefined, callTime: 1, returnTime: Infinity },
      { id: 2, clientId: 1, input: "read", output: undefined, callTime: 6, returnTime: Infinity },
    ]);
  });

  test("rejects overlapping invocations and orphan responses", () => {
    assert.throws(
      () =>
        historyFromEvents<string, number>([
          { type: "invoke", clientId: 1, time: 0, input: "a" },
          { type: "invoke", clientId: 1, time: 1, input: "b" },
        ]),
      /while op 0 is outstanding/,
    );
    assert.throws(
      () => historyFromEvents<string, number>([{ type: "ok", clientId: 1, time: 0, output: 1 }]),
      /nothing outstanding/,
    );
  });
});
