import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { RequestRoutes } from "../../src/core/routes.ts";

describe("RequestRoutes", () => {
  it("behaves as a map keyed by (clientId, seq) under any sequence of set, take and drain", () => {
    const id = fc.integer({ min: 0, max: 3 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), clientId: id, seq: id, requestId: fc.nat() }),
      fc.record({ kind: fc.constant("take" as const), clientId: id, seq: id }),
      fc.record({ kind: fc.constant("drain" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const routes = new RequestRoutes();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === "set") {
            routes.set(o.clientId, o.seq, o.requestId);
            model.set(`${o.clientId}:${o.seq}`, o.requestId);
          } else if (o.kind === "take") {
            const key = `${o.clientId}:${o.seq}`;
            assert.equal(routes.take(o.clientId, o.seq), model.get(key));
            model.delete(key);
          } else {
            assert.deepEqual(routes.drain().sort(), [...model.values()].sort());
            model.clear();
          }
          assert.equal(routes.size, model.size);
          for (let c = 0; c <= 3; c++)
            for (let s = 0; s <= 3; s++) assert.equal(routes.has(c, s), model.has(`${c}:${s}`));
        }
      }),
      { numRuns: 300 },
    );
  });
});
