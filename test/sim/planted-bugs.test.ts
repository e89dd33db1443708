import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PLANTED_BUGS } from "../../src/core/planted-bugs.ts";
import { DEFAULT_OPS, DEFAULT_SEEDS } from "../../src/sim/defaults.ts";
import { runSeeds } from "../../src/sim/seed-pool.ts";

/**
 * Mutation testing: a simulator that cannot catch these protocol bugs proves nothing. `no-alpha-window`
 * only bites under a replacement while a replica lags two changes behind (the simulator's
 * `replaceUnderLaggard` fault).
 */
describe("the default seeds catch every planted bug", () => {
  for (const bug of PLANTED_BUGS) {
    it(bug, async () => {
      const results = await runSeeds({
        seeds: DEFAULT_SEEDS,
        ops: DEFAULT_OPS,
        bugs: [bug],
        stopOnViolation: true,
      });
      const caught = results.find((r) => r.violations.length > 0);
      assert.ok(caught, `${bug} went unnoticed through ${results.length} seeds`);
    });
  }
});
