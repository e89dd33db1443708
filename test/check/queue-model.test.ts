import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Operation } from "../../src/check/history.ts";
import { checkHistory } from "../../src/check/linearizability.ts";
import type { QueueInput, QueueOutput } from "../../src/check/models.ts";
import { queueModel } from "../../src/check/models.ts";

function op(
  id: number,
  input: QueueInput,
  output: QueueOutput | undefined,
  callTime: number,
  returnTime: number,
) {
  return { id, clientId: id, input, output, callTime, returnTime } satisfies Operation<
    QueueInput,
    QueueOutput
  >;
}

describe("queue model", () => {
  it("a take that waited for a later put is linearizable", () => {
    const result = checkHistory(queueModel, [
      op(0, { kind: "take", key: "q" }, 7, 0, 10),
      op(1, { kind: "put", key: "q", value: 7 }, true, 5, 6),
    ]);
    assert.equal(result.result, "ok");
  });

  it("FIFO: taking the second item first is illegal", () => {
    const result = checkHistory(queueModel, [
      op(0, { kind: "put", key: "q", value: 1 }, true, 0, 1),
      op(1, { kind: "put", key: "q", value: 2 }, true, 2, 3),
      op(2, { kind: "take", key: "q" }, 2, 4, 5),
    ]);
    assert.equal(result.result, "illegal");
    if (result.result === "illegal") assert.ok(result.offending.some((o) => o.id === 2));
  });

  it("an item taken twice is illegal; a take with an unknown outcome may or may not have happened", () => {
    const twice = checkHistory(queueModel, [
      op(0, { kind: "put", key: "q", value: 1 }, true, 0, 1),
      op(1, { kind: "take", key: "q" }, 1, 2, 3),
      op(2, { kind: "take", key: "q" }, 1, 4, 5),
    ]);
    assert.equal(twice.result, "illegal");
    const unknown = checkHistory(queueModel, [
      op(0, { kind: "put", key: "q", value: 1 }, true, 0, 1),
      op(1, { kind: "take", key: "q" }, undefined, 2, Number.POSITIVE_INFINITY),
      op(2, { kind: "take", key: "q" }, 1, 4, 5),
      op(3, { kind: "take", key: "q" }, undefined, 6, Number.POSITIVE_INFINITY),
    ]);
    assert.equal(unknown.result, "ok");
  });
});
