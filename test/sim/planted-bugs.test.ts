import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlantedBug } from "../../src/core/planted-bugs.ts";
import { DEFAULT_OPS, DEFAULT_SEEDS } from "../../src/sim/defaults.ts";
import { runSeeds } from "../../src/sim/seed-pool.ts";

/** Mutation testing: a simulator that cannot catch these protocol bugs proves nothing. */
const CAUGHT_BY_DEFAULT_SEEDS: readonly PlantedBug[] = [
  "ack-before-persist",
  "accept-lower-ballot",
  "read-without-quorum",
  "no-dedup",
];

describe("the default seeds catch every planted bug", () => {
  for (const bug of CAUGHT_BY_DEFAULT_SEEDS) {
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
