import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Log } from "../../src/objects/log.ts";
import { Queue } from "../../src/objects/queue.ts";
import { Stack } from "../../src/objects/stack.ts";
import { Driver } from "./harness.ts";

describe("Queue", () => {
  it("is FIFO, and getNowait / peek throw Empty on an empty queue", () => {
    const d = new Driver(new Queue());
    assert.equal(d.value(1, "empty"), true);
    assert.throws(() => d.call(1, "getNowait"), { name: "Empty" });
    assert.throws(() => d.call(1, "peek"), { name: "Empty" });
    d.value(1, "put", "a");
    d.value(1, "put", { b: [1, 2] });
    d.value(1, "put", null);
    assert.equal(d.value(2, "size"), 3);
    assert.equal(d.value(2, "peek"), "a");
    assert.equal(d.value(2, "get"), "a");
    assert.deepEqual(d.value(2, "getNowait"), { b: [1, 2] });
    assert.equal(d.value(2, "get"), null, "null is an item like any other");
    assert.equal(d.value(2, "empty"), true);
  });

  it("blocks get while empty and hands each put to the oldest getter directly", () => {
    const d = new Driver(new Queue());
    const getters = [1, 2, 3].map((c) => d.park(c, "get"));
    const first = d.call(4, "put", "x");
    assert.deepEqual(
      first.wakes.map((w) => [w.clientId, w.value]),
      [[1, "x"]],
    );
    assert.equal(d.value(4, "size"), 0, "a handed-over item is not queued");
    d.value(4, "put", "y");
    d.value(4, "put", "z");
    d.value(4, "put", "w");
    assert.deepEqual(
      getters.map((g) => g.value),
      ["x", "y", "z"],
    );
    assert.equal(d.value(4, "size"), 1);
  });

  it("drops expired and timed-out getters, losing no item", () => {
    const d = new Driver(new Queue());
    const g1 = d.park(1, "get");
    const g2 = d.parkWithTimeout(2, 10, "get");
    const g3 = d.park(3, "get");
    d.expire(1);
    d.timeout(g2);
    d.value(4, "put", "only");
    assert.equal(g3.value, "only");
    assert.deepEqual([g1.state, g2.state], ["expired", "timedout"]);
    d.value(4, "put", "kept");
    d.restart();
    assert.equal(d.value(5, "getNowait"), "kept");
  });
});

describe("Stack", () => {
  it("is LIFO, and pop / peek throw Empty when empty", () => {
    const d = new Driver(new Stack());
    assert.throws(() => d.call(1, "pop"), { name: "Empty" });
    assert.throws(() => d.call(1, "peek"), { name: "Empty" });
    assert.equal(d.value(1, "push", "a"), 1);
    assert.equal(d.value(1, "push", new Map([["k", 1n]])), 2);
    assert.deepEqual(d.value(1, "peek"), new Map([["k", 1n]]));
    d.restart();
    assert.deepEqual(d.value(1, "pop"), new Map([["k", 1n]]));
    assert.equal(d.value(1, "size"), 1);
    assert.equal(d.value(1, "pop"), "a");
    assert.equal(d.value(1, "size"), 0);
  });
});

describe("Log", () => {
  it("appends with 0-based indexes and reads ranges", () => {
    const d = new Driver(new Log());
    assert.deepEqual(d.value(1, "read"), []);
    for (let i = 0; i < 5; i++) assert.equal(d.value(1, "append", `e${i}`), i);
    assert.equal(d.value(1, "length"), 5);
    assert.deepEqual(d.value(1, "read"), ["e0", "e1", "e2", "e3", "e4"]);
    assert.deepEqual(d.value(1, "read", 3), ["e3", "e4"]);
    assert.deepEqual(d.value(1, "read", 1, 2), ["e1", "e2"]);
    assert.deepEqual(d.value(1, "read", 4, 10), ["e4"]);
    assert.deepEqual(d.value(1, "read", 9), []);
    assert.deepEqual(d.value(1, "read", 0, 0), []);
    assert.deepEqual(d.value(1, "read", 2, null), ["e2", "e3", "e4"], "a JSON client's null count means all");
    assert.throws(() => d.call(1, "read", -1), { name: "ValueError" });
    assert.throws(() => d.call(1, "read", 0, 1.5), { name: "ValueError" });
  });
});
