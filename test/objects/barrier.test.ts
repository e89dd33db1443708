import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Barrier } from "../../src/objects/barrier.ts";
import { Driver } from "./harness.ts";

describe("Barrier", () => {
  it("runs two rounds of 3 with 6 clients, waking every waiter exactly once per round", () => {
    const d = new Driver(new Barrier(3));
    for (const round of [
      [1, 2, 3],
      [4, 5, 6],
    ]) {
      const [a, b, c] = round as [number, number, number];
      const first = d.park(a, "wait");
      const second = d.park(b, "wait");
      assert.equal(d.value(9, "waiting"), 2);
      const last = d.call(c, "wait");
      assert.ok(!last.parked, "the last arriver does not wait");
      assert.equal(last.value, 2);
      assert.deepEqual(
        last.wakes.map((w) => [w.clientId, w.value]),
        [
          [a, 0],
          [b, 1],
        ],
      );
      assert.equal(first.value, 0);
      assert.equal(second.value, 1);
      assert.equal(d.value(9, "waiting"), 0, "the next round starts empty");
    }
    assert.equal(d.instance.round, 2);
    // Each of the 4 parked calls was woken once: the harness fails on a second wake.
    assert.equal(d.woken.length, 4);
  });

  it("lets one client fill several places, and works for any number of parties", () => {
    for (const parties of [1, 2, 5]) {
      const d = new Driver(new Barrier(parties));
      const calls = Array.from({ length: parties - 1 }, () => d.park(1, "wait"));
      assert.equal(d.value(1, "wait"), parties - 1);
      assert.deepEqual(
        calls.map((c) => c.value),
        calls.map((_, i) => i),
      );
      assert.equal(d.value(1, "parties"), parties);
    }
    assert.throws(() => new Barrier(0), { name: "ValueError" });
    assert.equal(new Barrier().size, 2);
  });

  it("removes a party whose session expires from the current round", () => {
    const d = new Driver(new Barrier(3));
    const a = d.park(1, "wait");
    const b = d.park(2, "wait");
    d.expire(1);
    assert.equal(a.state, "expired");
    assert.equal(d.value(9, "waiting"), 1);
    const c = d.park(3, "wait"); // would have completed the round with client 1 still there
    assert.equal(d.value(4, "wait"), 2);
    assert.equal(b.value, 0, "indexes shift down to stay 0..parties-1");
    assert.equal(c.value, 1);
  });

  it("removes a timed-out party from the round", () => {
    const d = new Driver(new Barrier(2));
    const a = d.parkWithTimeout(1, 10, "wait");
    d.timeout(a);
    const b = d.park(2, "wait");
    assert.equal(d.value(3, "wait"), 1);
    assert.equal(b.value, 0);
  });

  it("keeps its waiters across a snapshot round trip", () => {
    const d = new Driver(new Barrier(3));
    const a = d.park(1, "wait");
    d.restart();
    const b = d.park(2, "wait");
    d.restart();
    d.value(3, "wait");
    assert.deepEqual([a.value, b.value], [0, 1]);
  });
});
