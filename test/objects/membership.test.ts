import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Membership } from "../../src/objects/membership.ts";
import { Driver } from "./harness.ts";

describe("Membership", () => {
  it("versions changes only, and lists members sorted", () => {
    const d = new Driver(new Membership());
    assert.equal(d.value(1, "version"), 0);
    assert.equal(d.value(1, "add", "node-b"), true);
    assert.equal(d.value(1, "add", "node-a"), true);
    assert.equal(d.value(1, "add", "node-a"), false);
    assert.equal(d.value(1, "remove", "node-z"), false);
    assert.equal(d.value(1, "version"), 2);
    assert.deepEqual(d.value(1, "list"), ["node-a", "node-b"]);
    assert.throws(() => d.call(1, "add", ""), { name: "ValueError" });
  });

  it("waitForChange returns at once for a stale version and wakes every watcher on a change", () => {
    const d = new Driver(new Membership());
    d.value(1, "add", "a");
    assert.deepEqual(d.value(2, "waitForChange", -1), { version: 1, members: ["a"] });
    const watchers = [2, 3, 4].map((c) => d.park(c, "waitForChange", 1));
    assert.deepEqual(d.value(1, "add", "a"), false);
    assert.ok(
      watchers.every((w) => w.state === "parked"),
      "a no-op is not a change",
    );
    const { wakes } = d.call(1, "add", "b");
    assert.equal(wakes.length, 3);
    for (const w of watchers) assert.deepEqual(w.value, { version: 2, members: ["a", "b"] });
    // The next change wakes only those who watch again.
    const again = d.park(2, "waitForChange", 2);
    d.value(1, "remove", "a");
    assert.deepEqual(again.value, { version: 3, members: ["b"] });
  });

  it("drops expired and timed-out watchers", () => {
    const d = new Driver(new Membership());
    const w1 = d.park(1, "waitForChange", 0);
    const w2 = d.parkWithTimeout(2, 5, "waitForChange", 0);
    const w3 = d.park(3, "waitForChange", 0);
    d.expire(1);
    d.timeout(w2);
    d.restart();
    d.value(4, "add", "x");
    assert.deepEqual([w1.state, w2.state, w3.state], ["expired", "timedout", "woken"]);
  });
});
