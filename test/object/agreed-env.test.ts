import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withAgreedEnvironment } from "../../src/object/agreed-env.ts";

const draw = () => ({
  now: Date.now(),
  // biome-ignore lint/complexity/useDateNow: what is tested is `new Date()` itself
  date: new Date().getTime(),
  fixed: new Date(5).getTime(),
  random: [Math.random(), Math.random()],
  uuid: crypto.randomUUID(),
});

describe("withAgreedEnvironment", () => {
  it("gives the agreed time and the same draws for the same seed", () => {
    const a = withAgreedEnvironment({ timeMs: 1_000, randomSeed: 7 }, draw);
    const b = withAgreedEnvironment({ timeMs: 1_000, randomSeed: 7 }, draw);
    const c = withAgreedEnvironment({ timeMs: 2_000, randomSeed: 8 }, draw);
    assert.deepEqual(a, b);
    assert.equal(a.now, 1_000);
    assert.equal(a.date, 1_000);
    assert.equal(a.fixed, 5);
    assert.equal(c.now, 2_000);
    assert.notDeepEqual(a.random, c.random);
    assert.notEqual(a.random[0], a.random[1]);
    assert.match(a.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("puts the real clock and randomness back, after a throw and after a nested call", () => {
    const realDate = Date;
    const realRandom = Math.random;
    assert.throws(() =>
      withAgreedEnvironment({ timeMs: 1, randomSeed: 1 }, () => {
        throw new Error("the method's own problem");
      }),
    );
    assert.equal(Date, realDate);
    assert.equal(Math.random, realRandom);
    assert.ok(Date.now() > 1_000_000);
    // Outside a call, randomUUID is the system's again: fresh UUIDs, not the agreed sequence.
    const agreedUuid = withAgreedEnvironment({ timeMs: 1, randomSeed: 1 }, () => crypto.randomUUID());
    const outside = [crypto.randomUUID(), crypto.randomUUID()];
    assert.notEqual(outside[0], outside[1]);
    assert.ok(!outside.includes(agreedUuid));
    assert.match(outside[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const inner = withAgreedEnvironment({ timeMs: 10, randomSeed: 3 }, () => {
      const nested = withAgreedEnvironment({ timeMs: 20, randomSeed: 4 }, () => Date.now());
      return [nested, Date.now(), Math.random()];
    });
    const alone = withAgreedEnvironment({ timeMs: 10, randomSeed: 3 }, () => [Date.now(), Math.random()]);
    assert.deepEqual(inner, [20, ...alone]);
  });

  it("wraps a randomUUID a program put in place after the first call, and defers to it outside calls", () => {
    const before = crypto.randomUUID;
    withAgreedEnvironment({ timeMs: 1, randomSeed: 1 }, () => crypto.randomUUID());
    const own = () => "00000000-0000-4000-8000-000000000000";
    crypto.randomUUID = own as typeof crypto.randomUUID;
    try {
      const inside = withAgreedEnvironment({ timeMs: 1, randomSeed: 2 }, () => crypto.randomUUID());
      assert.notEqual(inside, own());
      assert.equal(crypto.randomUUID(), own());
    } finally {
      crypto.randomUUID = before;
    }
  });
});
