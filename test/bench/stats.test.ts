import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { median, pairedRatio } from "../../bench/stats.ts";

describe("benchmark statistics", () => {
  it("the median is the lower middle value, NaN for none", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.ok(Number.isNaN(median([])));
  });

  it("a ratio is taken run by run, then the median: a run slow for both systems cancels out", () => {
    // Ratios 2, 0.67 and 3 run by run: their median is 2, the medians' ratio 100 / 40 = 2.5.
    assert.equal(pairedRatio([100, 20, 120], [50, 30, 40]), 2);
    assert.equal(median([100, 20, 120]) / median([50, 30, 40]), 2.5);
    assert.equal(pairedRatio([10, 20, 30], [1, 40, 20]), 1.5);
    assert.equal(median([10, 20, 30]) / median([1, 40, 20]), 1);
    // Only runs both systems have are paired.
    assert.equal(pairedRatio([10, 20], [5]), 2);
    assert.ok(Number.isNaN(pairedRatio([10], [])));
  });
});
