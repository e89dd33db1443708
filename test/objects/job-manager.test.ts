import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobManager } from "../../src/objects/job-manager.ts";
import { Driver } from "./harness.ts";

describe("JobManager", () => {
  it("submits, claims FIFO and completes", () => {
    const d = new Driver(new JobManager());
    assert.equal(d.value(1, "submit", "a"), 1);
    assert.equal(d.value(1, "submit", { b: 2 }), 2);
    assert.deepEqual(d.value(2, "claim"), { id: 1, job: "a" });
    assert.deepEqual(d.value(3, "claim"), { id: 2, job: { b: 2 } });
    assert.throws(() => d.call(3, "complete", 1), { name: "NotClaimer", message: /claimed by client 2/ });
    assert.throws(() => d.call(2, "complete", 9), { name: "NoSuchJob" });
    d.value(2, "complete", 1);
    assert.throws(() => d.call(2, "complete", 1), { name: "NoSuchJob" }, "completed once");
    assert.deepEqual(d.value(1, "status"), { queued: 0, claimed: 1, completed: 1, waiting: 0 });
  });

  it("parks claims while nothing is queued and hands submissions to them in order", () => {
    const d = new Driver(new JobManager());
    const claims = [1, 2].map((c) => d.park(c, "claim"));
    assert.deepEqual(d.value(9, "status"), { queued: 0, claimed: 0, completed: 0, waiting: 2 });
    const { wakes } = d.call(9, "submit", "x");
    assert.deepEqual(
      wakes.map((w) => w.clientId),
      [1],
    );
    d.value(9, "submit", "y");
    assert.deepEqual(
      claims.map((c) => c.value),
      [
        { id: 1, job: "x" },
        { id: 2, job: "y" },
      ],
    );
    d.value(1, "complete", 1);
  });

  it("requeue gives a job back to the end of the queue, only by its claimer", () => {
    const d = new Driver(new JobManager());
    d.value(9, "submit", "a");
    d.value(9, "submit", "b");
    d.value(1, "claim");
    assert.throws(() => d.call(2, "requeue", 1), { name: "NotClaimer" });
    d.value(1, "requeue", 1);
    assert.throws(() => d.call(1, "requeue", 1), { name: "NotClaimer", message: /queued/ });
    assert.deepEqual(d.value(2, "claim"), { id: 2, job: "b" });
    assert.deepEqual(d.value(2, "claim"), { id: 1, job: "a" });
  });

  it("puts an expired worker's jobs back at the front and hands them to blocked claimers", () => {
    const d = new Driver(new JobManager());
    for (const job of ["j1", "j2", "j3"]) d.value(9, "submit", job);
    d.value(1, "claim"); // j1
    d.value(2, "claim"); // j2
    d.value(1, "claim"); // j3
    const own = d.park(1, "claim"); // the dying worker's own claim must not get its jobs back
    const c3 = d.park(3, "claim");
    const c4 = d.park(4, "claim");
    const wakes = d.expire(1);
    assert.equal(own.state, "expired");
    assert.deepEqual(
      wakes.map((w) => [w.clientId, w.value]),
      [
        [3, { id: 1, job: "j1" }],
        [4, { id: 3, job: "j3" }],
      ],
    );
    assert.deepEqual(c3.value, { id: 1, job: "j1" });
    assert.deepEqual(c4.value, { id: 3, job: "j3" });
    // With nobody waiting, orphans go before jobs queued earlier.
    d.value(9, "submit", "j4");
    d.expire(2);
    assert.deepEqual(d.value(9, "status"), { queued: 2, claimed: 2, completed: 0, waiting: 0 });
    d.restart();
    assert.deepEqual(d.value(5, "claim"), { id: 2, job: "j2" });
    assert.deepEqual(d.value(5, "claim"), { id: 4, job: "j4" });
    assert.throws(() => d.call(2, "complete", 2), { name: "NotClaimer" }, "the expired worker lost it");
  });

  it("drops a timed-out claim, which takes nothing", () => {
    const d = new Driver(new JobManager());
    const c1 = d.parkWithTimeout(1, 100, "claim");
    const c2 = d.park(2, "claim");
    d.timeout(c1);
    d.value(9, "submit", "x");
    assert.deepEqual(c2.value, { id: 1, job: "x" });
    assert.equal(c1.state, "timedout");
  });
});
