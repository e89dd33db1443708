import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type CheckResult,
  type CounterInput,
  type CounterOutput,
  checkHistory,
  counterModel,
  type Model,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "../../src/check/index.ts";

const NUM_RUNS = 200;
/** A property's runs normally take well under a second; past this it has a history the checker chokes on. */
const RUN_TIME_MS_MAX = 60_000;
/**
 * Runs per property, and a bound on a property's whole run: one slow history must fail the test with
 * fast-check's report, not keep CI busy shrinking for an hour.
 */
const RUN_OPTIONS = {
  numRuns: NUM_RUNS,
  plugins: [fc.interruptAfterTimeLimit(RUN_TIME_MS_MAX, { failOnInterrupt: true })],
};
const KEYS = ["a", "b", "c"] as const;
/**
 * Plan length in the tests that plant a violation. Proving a history illegal means trying every order of
 * the operations around the bad one, which grows exponentially with how many overlap it (operations
 * that never returned overlap everything after them): a 150-step plan once took 4.7 million steps, near
 * the checker's budget, and a budget-exhausted "unknown" made fast-check shrink for many minutes. At this
 * length every case is decided far under the budget (28,000 runs: at most 15,192 steps, 7 ms).
 */
const ILLEGAL_PLAN_STEPS_MAX = 45;
/** Distance between consecutive true linearization points. */
const SLOT = 10;

type CounterOp = Operation<CounterInput, CounterOutput>;
type RegisterOp = Operation<RegisterInput, RegisterOutput>;
type Fate = "known" | "unknown-applied" | "unknown-skipped";

/** One step of a sequential execution plus how far its recorded interval is widened around it. */
interface PlannedOp {
  kind: number;
  key: (typeof KEYS)[number];
  value: number;
  expected: number | null;
  clientId: number;
  before: number;
  after: number;
  fate: Fate;
}

const fateArb = (allowUnknown: boolean): fc.Arbitrary<Fate> =>
  allowUnknown
    ? fc.oneof(
        { arbitrary: fc.constant<Fate>("known"), weight: 16 },
        { arbitrary: fc.constant<Fate>("unknown-applied"), weight: 2 },
        { arbitrary: fc.constant<Fate>("unknown-skipped"), weight: 2 },
      )
    : fc.constant<Fate>("known");

/**
 * A random sequential execution: op i truly takes effect at time i * SLOT. Its recorded interval is
 * widened by up to `spread` on each side, so it always contains the true point, and neighbours overlap.
 */
const planArb = (allowUnknown: boolean, spreadMax: number, maxLength = 150) =>
  fc.record({
    spread: fc.integer({ min: 0, max: spreadMax }),
    steps: fc.array(
      fc.record({
        kind: fc.nat({ max: 2 }),
        key: fc.constantFrom(...KEYS),
        value: fc.nat({ max: 4 }),
        expected: fc.option(fc.nat({ max: 4 }), { nil: null }),
        clientId: fc.nat({ max: 9 }),
        before: fc.nat({ max: 100 }),
        after: fc.nat({ max: 100 }),
        fate: fateArb(allowUnknown),
      }),
      { minLength: 1, maxLength, size: "max" },
    ),
  });

type Plan = { spread: number; steps: PlannedOp[] };

function interval(plan: Plan, index: number, step: PlannedOp): { callTime: number; returnTime: number } {
  const truePoint = index * SLOT;
  const callTime = truePoint - Math.floor((step.before * plan.spread) / 100);
  const after = Math.floor((step.after * plan.spread) / 100);
  if (step.fate === "known") return { callTime, returnTime: truePoint + after };
  // Unknown outcomes: usually recorded as never returning, but sometimes with the time the harness gave
  // up, which may precede the true effect; the checker must not treat that as a response.
  return { callTime, returnTime: step.after % 2 === 0 ? Number.POSITIVE_INFINITY : callTime + after };
}

/** Execute the plan against a real in-memory counter to get the true outputs. */
function counterHistory(plan: Plan): CounterOp[] {
  const values = new Map<string, number>();
  return plan.steps.map((step, index) => {
    const input: CounterInput =
      step.kind === 0 ? { kind: "read", key: step.key } : { kind: "inc", key: step.key };
    let output = values.get(step.key) ?? 0;
    if (input.kind === "inc" && step.fate !== "unknown-skipped") {
      output += 1;
      values.set(step.key, output);
    }
    return {
      id: index,
      clientId: step.clientId,
      input,
      output: step.fate === "known" ? output : undefined,
      ...interval(plan, index, step),
    };
  });
}

/** Execute the plan against a real in-memory register to get the true outputs. */
function registerHistory(plan: Plan): RegisterOp[] {
  const values = new Map<string, number | null>();
  return plan.steps.map((step, index) => {
    const current = values.get(step.key) ?? null;
    const applies = step.fate !== "unknown-skipped";
    let input: RegisterInput;
    let output: RegisterOutput;
    if (step.kind === 0) {
      input = { kind: "read", key: step.key };
      output = current;
    } else if (step.kind === 1) {
      input = { kind: "write", key: step.key, value: step.value };
      output = true;
      if (applies) values.set(step.key, step.value);
    } else {
      input = { kind: "cas", key: step.key, expected: step.expected, value: step.value };
      output = current === step.expected;
      if (applies && output) values.set(step.key, step.value);
    }
    return {
      id: index,
      clientId: step.clientId,
      input,
      output: step.fate === "known" ? output : undefined,
      ...interval(plan, index, step),
    };
  });
}

function verdict(result: CheckResult): string {
  return result.result === "illegal" ? `illegal: ${result.message}` : result.result;
}

/** A known read chosen by `pick`, or undefined when the history has none. */
function pickKnownRead<O>(ops: Operation<{ kind: string; key: string }, O>[], pick: number) {
  const reads = ops.filter((o) => o.input.kind === "read" && o.output !== undefined);
  return reads[pick % Math.max(1, reads.length)];
}

describe("histories widened around a true sequential execution", () => {
  test("counter histories are always linearizable", () => {
    fc.assert(
      fc.property(planArb(true, 80), (plan) => {
        assert.equal(verdict(checkHistory(counterModel, counterHistory(plan))), "ok");
      }),
      RUN_OPTIONS,
    );
  });

  test("register histories are always linearizable", () => {
    fc.assert(
      fc.property(planArb(true, 80), (plan) => {
        assert.equal(verdict(checkHistory(registerModel, registerHistory(plan))), "ok");
      }),
      RUN_OPTIONS,
    );
  });

  test("a counter read of a value that never existed is illegal", () => {
    fc.assert(
      fc.property(
        planArb(true, 80, ILLEGAL_PLAN_STEPS_MAX),
        fc.nat(),
        fc.nat({ max: 5 }),
        fc.boolean(),
        (plan, pick, extra, below) => {
          const ops = counterHistory(plan);
          const read = pickKnownRead(ops, pick);
          fc.pre(read !== undefined);
          const incs = ops.filter((o) => o.input.kind === "inc" && o.input.key === read!.input.key).length;
          read!.output = below ? -1 - extra : incs + 1 + extra;
          const result = checkHistory(counterModel, ops);
          assert.equal(result.result, "illegal");
          if (result.result !== "illegal") return;
          assert.equal(result.key, read!.input.key);
          assert.match(result.message, /\(op \d+\)/);
        },
      ),
      RUN_OPTIONS,
    );
  });

  test("a register read of a value that was never written is illegal", () => {
    fc.assert(
      fc.property(
        planArb(true, 80, ILLEGAL_PLAN_STEPS_MAX),
        fc.nat(),
        fc.nat({ max: 5 }),
        (plan, pick, extra) => {
          const ops = registerHistory(plan);
          const read = pickKnownRead(ops, pick);
          fc.pre(read !== undefined);
          read!.output = 1000 + extra;
          const result = checkHistory(registerModel, ops);
          assert.equal(result.result, "illegal");
          if (result.result !== "illegal") return;
          assert.equal(result.key, read!.input.key);
        },
      ),
      RUN_OPTIONS,
    );
  });

  test("duplicating a committed increment's value is illegal", () => {
    fc.assert(
      fc.property(
        planArb(true, 80, ILLEGAL_PLAN_STEPS_MAX),
        fc.nat(),
        fc.nat(),
        (plan, pickKey, pickPair) => {
          const ops = counterHistory(plan);
          const byKey = KEYS.map((key) =>
            ops.filter((o) => o.input.kind === "inc" && o.input.key === key && o.output !== undefined),
          ).filter((incs) => incs.length >= 2);
          fc.pre(byKey.length > 0);
          const incs = byKey[pickKey % byKey.length]!;
          const source = incs[pickPair % incs.length]!;
          const target = incs[(pickPair + 1) % incs.length]!;
          target.output = source.output;
          const result = checkHistory(counterModel, ops);
          assert.equal(result.result, "illegal");
          if (result.result !== "illegal") return;
          assert.equal(result.key, source.input.key);
        },
      ),
      RUN_OPTIONS,
    );
  });

  test("in a strictly sequential history any wrong read is illegal and is exactly what is reported", () => {
    fc.assert(
      fc.property(
        planArb(false, 0),
        fc.nat(),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (plan, pick, delta, counter) => {
          const ops: Operation<CounterInput | RegisterInput, CounterOutput | RegisterOutput>[] = counter
            ? counterHistory(plan)
            : registerHistory(plan);
          const read = pickKnownRead(ops, pick);
          fc.pre(read !== undefined);
          const truth = read!.output as number | null;
          read!.output = truth === null ? delta : truth + delta;
          const model = (counter ? counterModel : registerModel) as Model<
            unknown,
            CounterInput | RegisterInput,
            CounterOutput | RegisterOutput
          >;
          const result = checkHistory(model, ops);
          if (result.result !== "illegal") assert.fail(`expected illegal, got ${result.result}`);
          const sameKeyBefore = ops.filter((o) => o.input.key === read!.input.key && o.id < read!.id).length;
          assert.equal(result.linearizedPrefix, sameKeyBefore);
          assert.deepEqual(
            result.offending.map((o) => o.id),
            [read!.id],
          );
          assert.ok(result.message.includes(`(op ${read!.id})`));
        },
      ),
      RUN_OPTIONS,
    );
  });
});

/** Linearizability by brute force over all orders; exponential, so only for tiny histories. */
function bruteForce<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  const returns = ops.map((o) => (o.output === undefined ? Number.POSITIVE_INFINITY : o.returnTime));
  const used = ops.map(() => false);
  const extend = (state: S, count: number): boolean => {
    if (count === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      const candidate = ops[i]!;
      // Something still unplaced returned strictly before this was called: it must come first.
      if (ops.some((_, j) => !used[j] && j !== i && returns[j]! < candidate.callTime)) continue;
      const next = model.step(state, candidate.input, candidate.output);
      if (!next.ok) continue;
      used[i] = true;
      if (extend(next.state, count + 1)) return true;
      used[i] = false;
    }
    return false;
  };
  return extend(model.init(), 0);
}

/** Record fields shared by every tiny operation: who, when, and whether the outcome got lost. */
const smallTimes = {
  clientId: fc.nat({ max: 3 }),
  callTime: fc.nat({ max: 12 }),
  duration: fc.nat({ max: 8 }),
  unknown: fc.nat({ max: 4 }).map((n) => n === 0),
};

function toOps<I, O>(
  raw: { clientId: number; callTime: number; duration: number; unknown: boolean; input: I; output: O }[],
): Operation<I, O>[] {
  return raw.map((r, id) => ({
    id,
    clientId: r.clientId,
    input: r.input,
    output: r.unknown ? undefined : r.output,
    callTime: r.callTime,
    returnTime: r.unknown ? Number.POSITIVE_INFINITY : r.callTime + r.duration,
  }));
}

const smallCounterOps = fc
  .array(
    fc.record({
      ...smallTimes,
      input: fc.record({
        kind: fc.constantFrom("inc" as const, "read" as const),
        key: fc.constantFrom("a", "b"),
      }),
      output: fc.nat({ max: 3 }),
    }),
    { maxLength: 7 },
  )
  .map(toOps);

const smallRegisterOps = fc
  .array(
    fc.oneof(
      fc.record({
        ...smallTimes,
        input: fc.record({
          kind: fc.constant("write" as const),
          key: fc.constantFrom("a", "b"),
          value: fc.nat(2),
        }),
        output: fc.constant<RegisterOutput>(true),
      }),
      fc.record({
        ...smallTimes,
        input: fc.record({ kind: fc.constant("read" as const), key: fc.constantFrom("a", "b") }),
        output: fc.option(fc.nat(2), { nil: null }),
      }),
      fc.record({
        ...smallTimes,
        input: fc.record({
          kind: fc.constant("cas" as const),
          key: fc.constantFrom("a", "b"),
          expected: fc.option(fc.nat(2), { nil: null }),
          value: fc.nat(2),
        }),
        output: fc.boolean(),
      }),
    ),
    { maxLength: 7 },
  )
  .map((raw) => toOps<RegisterInput, RegisterOutput>(raw));

/** Change one known output of a true history, often into something only some interleavings explain. */
const perturbationArb = fc.option(fc.record({ pick: fc.nat(), value: fc.nat({ max: 4 }) }), {
  nil: undefined,
});

function perturbCounter(ops: CounterOp[], change: { pick: number; value: number } | undefined): CounterOp[] {
  const known = ops.filter((o) => o.output !== undefined);
  const target = known[(change?.pick ?? 0) % Math.max(1, known.length)];
  if (change !== undefined && target !== undefined) target.output = change.value;
  return ops;
}

function perturbRegister(
  ops: RegisterOp[],
  change: { pick: number; value: number } | undefined,
): RegisterOp[] {
  const known = ops.filter((o) => o.output !== undefined && o.input.kind !== "write");
  const target = known[(change?.pick ?? 0) % Math.max(1, known.length)];
  if (change === undefined || target === undefined) return ops;
  target.output = target.input.kind === "cas" ? !target.output : change.value === 4 ? null : change.value;
  return ops;
}

const nearCounterOps = fc
  .tuple(planArb(true, 30, 7), perturbationArb)
  .map(([plan, change]) => perturbCounter(counterHistory(plan), change));
const nearRegisterOps = fc
  .tuple(planArb(true, 30, 7), perturbationArb)
  .map(([plan, change]) => perturbRegister(registerHistory(plan), change));

describe("agreement with a brute-force oracle on tiny random histories", () => {
  test("counter", () => {
    fc.assert(
      fc.property(fc.oneof(smallCounterOps, nearCounterOps), (ops) => {
        const expected = bruteForce(counterModel, ops) ? "ok" : "illegal";
        assert.equal(checkHistory(counterModel, ops).result, expected);
        assert.equal(checkHistory(counterModel, [...ops].reverse()).result, expected);
      }),
      RUN_OPTIONS,
    );
  });

  test("register with compare-and-set", () => {
    fc.assert(
      fc.property(fc.oneof(smallRegisterOps, nearRegisterOps), (ops) => {
        const expected = bruteForce(registerModel, ops) ? "ok" : "illegal";
        assert.equal(checkHistory(registerModel, ops).result, expected);
        // Without partitioning, pruning or symmetry reduction the verdict must not change.
        const { partition: _p, inputKey: _k, readOnly: _r, ...plain } = registerModel;
        assert.equal(checkHistory(plain, ops).result, expected);
      }),
      RUN_OPTIONS,
    );
  });
});
