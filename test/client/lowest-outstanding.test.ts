import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LowestOutstanding } from "../../src/client/lowest-outstanding.ts";

describe("LowestOutstanding", () => {
  it("always names the lowest outstanding number, whatever order they are added and settled in", () => {
    const step = fc.oneof(
      fc.record({ add: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ settle: fc.nat({ max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), fc.integer({ min: 2, max: 16 }), (steps, sizeMax) => {
        const heap = new LowestOutstanding({ sizeMax });
        const outstanding = new Set<number>();
        const isOutstanding = (n: number) => outstanding.has(n);
        for (const s of steps) {
          if ("add" in s) {
            if (outstanding.has(s.add)) continue;
            const sizeBefore = heap.size;
            outstanding.add(s.add);
            heap.add(s.add, isOutstanding);
            // Bounded: once it holds sizeMax numbers, an add first drops the settled ones.
            if (sizeBefore >= sizeMax) assert.ok(heap.size <= outstanding.size, `size ${heap.size}`);
          } else {
            const sorted = [...outstanding].sort((a, b) => a - b);
            const victim = sorted[s.settle % Math.max(1, sorted.length)];
            if (victim !== undefined) outstanding.delete(victim);
          }
          const expected = outstanding.size === 0 ? undefined : Math.min(...outstanding);
          assert.equal(heap.lowest(isOutstanding), expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
