import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CheckResult,
  type CounterInput,
  type CounterOutput,
  checkHistory,
  counterModel,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "../../src/check/index.ts";

type CounterOp = Operation<CounterInput, CounterOutput>;
type RegisterOp = Operation<RegisterInput, RegisterOutput>;

const UNKNOWN = Number.POSITIVE_INFINITY;

function op<I, O>(
  id: number,
  clientId: number,
  input: I,
  output: NoInfer<O> | undefined,
  callTime: number,
  returnTime: number,
): Operation<I, O> {
  return { id, clientId, input, output, callTime, returnTime };
}

const inc = (key = "x"): CounterInput => ({ kind: "inc", key });
const cread = (key = "x"): CounterInput => ({ kind: "read", key });
const write = (value: number, key = "x"): RegisterInput => ({ kind: "write", key, value });
const rread = (key = "x"): RegisterInput => ({ kind: "read", key });
const cas = (expected: number | null, value: number, key = "x"): RegisterInput => ({
  kind: "cas",
  key,
  expected,
  value,
});

function assertOk(result: CheckResult): void {
  assert.equal(result.result, "ok", JSON.stringify(result));
}

function assertIllegal(result: CheckResult): Extract<CheckResult, { result: "illegal" }> {
  if (result.result !== "illegal") assert.fail(`expected illegal, got ${JSON.stringify(result)}`);
  return result;
}

describe("counter histories", () => {
  test("sequential increments and reads are linearizable", () => {
    const ops: CounterOp[] = [op(0, 1, inc(), 1, 0, 1), op(1, 2, inc(), 2, 2, 3), op(2, 1, cread(), 2, 4, 5)];
    const result = checkHistory(counterModel, ops);
    assert.deepEqual(result, { result: "ok", partitions: 1, steps: result.steps });
  });

  test("overlapping operations may take effect in any order inside their intervals", () => {
    const ops: CounterOp[] = [
      op(0, 1, inc(), 2, 0, 10),
      op(1, 2, inc(), 1, 1, 5),
      op(2, 3, cread(), 0, 2, 3),
      op(3, 4, cread(), 2, 6, 7),
    ];
    assertOk(checkHistory(counterModel, ops));
  });

  test("an unknown increment that took effect explains a later read", () => {
    const ops: CounterOp[] = [op(0, 1, inc(), undefined, 0, UNKNOWN), op(1, 2, cread(), 1, 5, 6)];
    assertOk(checkHistory(counterModel, ops));
  });

  test("an unknown increment may also never take effect, or take effect late", () => {
    const ops: CounterOp[] = [
      op(0, 1, inc(), undefined, 0, UNKNOWN),
      op(1, 2, cread(), 0, 5, 6),
      op(2, 2, cread(), 0, 7, 8),
      op(3, 2, cread(), 1, 100, 101),
    ];
    assertOk(checkHistory(counterModel, ops));
    assertOk(checkHistory(counterModel, ops.slice(0, 3)));
  });

  test("an unknown increment cannot be undone once observed", () => {
    const ops: CounterOp[] = [
      op(0, 1, inc(), undefined, 0, UNKNOWN),
      op(1, 2, cread(), 1, 5, 6),
      op(2, 3, cread(), 0, 7, 8),
    ];
    const result = assertIllegal(checkHistory(counterModel, ops));
    assert.equal(result.offending[0]?.id, 2);
  });

  test("the returnTime of an unknown outcome is ignored: it may still take effect later", () => {
    const ops: CounterOp[] = [
      op(0, 1, inc(), undefined, 0, 1),
      op(1, 2, cread(), 0, 5, 6),
      op(2, 2, cread(), 1, 7, 8),
    ];
    assertOk(checkHistory(counterModel, ops));
  });

  test("a stale read is illegal and named in the report", () => {
    const ops: CounterOp[] = [op(12, 1, inc(), 1, 0, 1), op(17, 3, cread(), 0, 2, 3)];
    const result = assertIllegal(checkHistory(counterModel, ops));
    assert.equal(result.key, "x");
    assert.equal(result.partition, 0);
    assert.equal(result.linearizedPrefix, 1);
    assert.deepEqual(result.offending, [{ id: 17, clientId: 3, text: "read(x) -> 0" }]);
    assert.match(
      result.message,
      /read\(x\) -> 0 by client 3 \(op 17\) cannot be linearized after inc\(x\) -> 1 by client 1 \(op 12\)/,
    );
  });

  test("a duplicated increment (two sequential incs returning 1 and 3) is illegal", () => {
    const ops: CounterOp[] = [op(0, 1, inc(), 1, 0, 1), op(1, 2, inc(), 3, 2, 3)];
    const result = assertIllegal(checkHistory(counterModel, ops));
    assert.deepEqual(
      result.offending.map((o) => o.id),
      [1],
    );
    assert.match(result.message, /inc\(x\) -> 3 by client 2 \(op 1\)/);
    assert.match(result.message, /op 0/);
  });

  test("two concurrent increments returning the same value are illegal", () => {
    const ops: CounterOp[] = [op(0, 1, inc(), 1, 0, 10), op(1, 2, inc(), 1, 1, 9)];
    const result = assertIllegal(checkHistory(counterModel, ops));
    assert.equal(result.linearizedPrefix, 1);
    assert.equal(result.offending.length, 1);
    assert.ok([0, 1].includes(result.offending[0]!.id));
  });

  test("a first operation with an impossible output is reported against the initial state", () => {
    const result = assertIllegal(checkHistory(counterModel, [op(5, 1, cread(), 7, 0, 1)]));
    assert.equal(result.linearizedPrefix, 0);
    assert.deepEqual(
      result.offending.map((o) => o.id),
      [5],
    );
    assert.match(result.message, /cannot be linearized from the initial state/);
  });
});

describe("register histories", () => {
  test("concurrent write and reads around it are linearizable", () => {
    const ops: RegisterOp[] = [
      op(0, 1, write(1), true, 0, 10),
      op(1, 2, rread(), null, 1, 2),
      op(2, 2, rread(), 1, 3, 4),
      op(3, 3, rread(), 1, 5, 6),
    ];
    assertOk(checkHistory(registerModel, ops));
  });

  test("a stale read after an acknowledged write is illegal", () => {
    const ops: RegisterOp[] = [op(0, 1, write(1), true, 0, 1), op(1, 2, rread(), null, 2, 3)];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.deepEqual(result.offending, [{ id: 1, clientId: 2, text: "read(x) -> null" }]);
    assert.match(result.message, /op 1/);
  });

  test("a lost write (acknowledged, then not seen by a later read) is illegal", () => {
    const ops: RegisterOp[] = [
      op(0, 1, write(1), true, 0, 1),
      op(1, 1, write(2), true, 2, 3),
      op(2, 2, rread(), 1, 4, 5),
    ];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.equal(result.linearizedPrefix, 2);
    assert.deepEqual(
      result.offending.map((o) => o.id),
      [2],
    );
    assert.match(
      result.message,
      /read\(x\) -> 1 by client 2 \(op 2\) cannot be linearized after write\(x, 2\) -> true by client 1 \(op 1\)/,
    );
  });

  test("reads may not go back in time (new-old inversion)", () => {
    const ops: RegisterOp[] = [
      op(0, 1, write(1), true, 0, 10),
      op(1, 2, rread(), 1, 1, 2),
      op(2, 3, rread(), null, 3, 4),
    ];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.deepEqual(
      result.offending.map((o) => o.id),
      [2],
    );
  });

  test("a write whose outcome is unknown may or may not have happened", () => {
    const took: RegisterOp[] = [op(0, 1, write(3), undefined, 0, UNKNOWN), op(1, 2, rread(), 3, 50, 51)];
    const didNot: RegisterOp[] = [op(0, 1, write(3), undefined, 0, UNKNOWN), op(1, 2, rread(), null, 50, 51)];
    assertOk(checkHistory(registerModel, took));
    assertOk(checkHistory(registerModel, didNot));
  });

  test("equal timestamps do not order operations: a return at t and a call at t are concurrent", () => {
    const tie: RegisterOp[] = [op(0, 1, write(1), true, 0, 5), op(1, 2, rread(), null, 5, 6)];
    assertOk(checkHistory(registerModel, tie));
    const after: RegisterOp[] = [op(0, 1, write(1), true, 0, 5), op(1, 2, rread(), null, 5.5, 6)];
    assertIllegal(checkHistory(registerModel, after));
  });
});

describe("compare-and-set", () => {
  test("a successful cas from the right value is linearizable", () => {
    const ops: RegisterOp[] = [
      op(0, 1, cas(null, 1), true, 0, 1),
      op(1, 2, cas(1, 2), true, 2, 3),
      op(2, 1, cas(1, 3), false, 4, 5),
      op(3, 2, rread(), 2, 6, 7),
    ];
    assertOk(checkHistory(registerModel, ops));
  });

  test("a cas that succeeds when it should fail is illegal", () => {
    const ops: RegisterOp[] = [op(0, 1, write(1), true, 0, 1), op(1, 2, cas(2, 3), true, 2, 3)];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.deepEqual(result.offending, [{ id: 1, clientId: 2, text: "cas(x, 2, 3) -> true" }]);
  });

  test("a cas that fails when it should succeed is illegal", () => {
    const ops: RegisterOp[] = [op(0, 1, write(1), true, 0, 1), op(1, 2, cas(1, 3), false, 2, 3)];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.equal(result.offending[0]?.id, 1);
  });

  test("two concurrent cas from the same expected value cannot both succeed", () => {
    const ops: RegisterOp[] = [op(0, 1, cas(null, 1), true, 0, 10), op(1, 2, cas(null, 2), true, 0, 10)];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.equal(result.offending.length, 1);
  });

  test("a cas with unknown outcome is applied only if its expectation held", () => {
    const ops: RegisterOp[] = [op(0, 1, cas(null, 4), undefined, 0, UNKNOWN), op(1, 2, rread(), 4, 5, 6)];
    assertOk(checkHistory(registerModel, ops));
    const impossible: RegisterOp[] = [
      op(0, 3, write(1), true, 0, 1),
      op(1, 1, cas(null, 4), undefined, 2, UNKNOWN),
      op(2, 2, rread(), 4, 5, 6),
    ];
    const result = assertIllegal(checkHistory(registerModel, impossible));
    assert.equal(result.offending[0]?.id, 2);
  });
});

describe("partitioning", () => {
  test("a violation on key b is reported with key b while key a is fine", () => {
    const ops: RegisterOp[] = [
      op(0, 1, write(1, "a"), true, 0, 1),
      op(1, 2, write(5, "b"), true, 0, 1),
      op(2, 1, rread("a"), 1, 2, 3),
      op(3, 2, rread("b"), null, 2, 3),
      op(4, 3, rread("a"), 1, 4, 5),
    ];
    const result = assertIllegal(checkHistory(registerModel, ops));
    assert.equal(result.key, "b");
    assert.equal(result.partition, 1);
    assert.deepEqual(result.offending, [{ id: 3, clientId: 2, text: "read(b) -> null" }]);
    assert.match(result.message, /key "b"/);
  });

  test("independent keys are checked separately and counted", () => {
    const ops: CounterOp[] = [
      op(0, 1, inc("a"), 1, 0, 1),
      op(1, 2, inc("b"), 1, 0, 1),
      op(2, 3, inc("c"), 1, 0, 1),
      op(3, 1, cread("a"), 1, 2, 3),
    ];
    const result = checkHistory(counterModel, ops);
    assert.deepEqual(result, { result: "ok", partitions: 3, steps: result.steps });
  });

  test("without a partition function the history is checked as one piece", () => {
    const { partition: _unused, ...unpartitioned } = counterModel;
    const ops: CounterOp[] = [op(0, 1, inc("a"), 1, 0, 1), op(1, 2, inc("b"), 1, 0, 1)];
    const result = checkHistory(unpartitioned, ops);
    assert.deepEqual(result, { result: "ok", partitions: 1, steps: result.steps });
  });

  test("unknown-outcome reads are dropped before the search", () => {
    const ops: CounterOp[] = [
      op(0, 1, cread(), undefined, 0, UNKNOWN),
      op(1, 1, cread("b"), undefined, 0, UNKNOWN),
    ];
    assert.deepEqual(checkHistory(counterModel, ops), { result: "ok", partitions: 0, steps: 0 });
  });

  test("an empty history is linearizable", () => {
    assert.deepEqual(checkHistory(counterModel, []), { result: "ok", partitions: 0, steps: 0 });
  });
});

describe("bounds", () => {
  /** Many concurrent distinct writes followed by an impossible read: every order must be refuted. */
  function expensive(writers: number, key = "x"): RegisterOp[] {
    const ops: RegisterOp[] = [];
    for (let i = 0; i < writers; i++) ops.push(op(i, i, write(i, key), true, 0, 100));
    ops.push(op(writers, writers, rread(key), 999, 200, 201));
    return ops;
  }

  test("a tiny budget gives unknown, never a verdict", () => {
    const result = checkHistory(registerModel, expensive(10), { budgetSteps: 50 });
    assert.equal(result.result, "unknown");
    if (result.result !== "unknown") return;
    assert.match(result.reason, /budget of 50 steps/);
    assert.equal(result.steps, 50);
  });

  test("with enough budget the same history is illegal", () => {
    const result = assertIllegal(checkHistory(registerModel, expensive(10)));
    assert.equal(result.linearizedPrefix, 10);
    assert.deepEqual(
      result.offending.map((o) => o.id),
      [10],
    );
  });

  test("even a linearizable history is unknown when the budget runs out", () => {
    const ops: CounterOp[] = [op(0, 1, inc(), 1, 0, 1), op(1, 2, inc(), 2, 2, 3), op(2, 1, cread(), 2, 4, 5)];
    const result = checkHistory(counterModel, ops, { budgetSteps: 2 });
    assert.equal(result.result, "unknown");
  });

  test("a wall-clock timeout gives unknown", () => {
    const started = performance.now();
    const result = checkHistory(registerModel, expensive(26), { timeoutMs: 30 });
    const elapsedMs = performance.now() - started;
    assert.equal(result.result, "unknown");
    if (result.result !== "unknown") return;
    assert.match(result.reason, /timeout of 30 ms/);
    assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
  });

  test("an illegal partition wins over an undecided one", () => {
    const ops = [
      ...expensive(10, "a"),
      op(100, 1, write(1, "b"), true, 0, 1),
      op(101, 2, rread("b"), null, 2, 3),
    ];
    const result = assertIllegal(checkHistory(registerModel, ops, { budgetSteps: 50 }));
    assert.equal(result.key, "b");
    assert.ok(result.steps > 50, "steps count all partitions searched");
  });

  test("a partition that runs out of budget makes the whole result unknown", () => {
    const ops = [
      ...expensive(10, "a"),
      op(100, 1, write(1, "b"), true, 0, 1),
      op(101, 2, rread("b"), 1, 2, 3),
    ];
    const result = checkHistory(registerModel, ops, { budgetSteps: 50 });
    assert.equal(result.result, "unknown");
    if (result.result !== "unknown") return;
    assert.match(result.reason, /key "a"/);
  });
});

describe("malformed histories", () => {
  test("duplicate ids are rejected", () => {
    const ops: CounterOp[] = [op(0, 1, inc(), 1, 0, 1), op(0, 2, inc(), 2, 2, 3)];
    assert.throws(() => checkHistory(counterModel, ops), /duplicate operation id 0/);
  });

  test("a return before the call is rejected", () => {
    assert.throws(() => checkHistory(counterModel, [op(3, 1, inc(), 1, 5, 4)]), /op 3 returns at 4/);
  });

  test("a non-finite call time is rejected", () => {
    assert.throws(
      () => checkHistory(counterModel, [op(3, 1, inc(), 1, Number.NaN, 4)]),
      /non-finite callTime/,
    );
  });

  test("invalid options are rejected", () => {
    assert.throws(() => checkHistory(counterModel, [], { budgetSteps: -1 }), /budgetSteps/);
    assert.throws(() => checkHistory(counterModel, [], { timeoutMs: Number.NaN }), /timeoutMs/);
  });
});
