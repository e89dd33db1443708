import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Condition } from "../../src/objects/condition.ts";
import { Driver, type ParkedCall } from "./harness.ts";

/** `n` clients (ids from `first`) that each acquire the lock, in turn, and wait. */
function waitersOf(d: Driver<Condition>, first: number, n: number): ParkedCall[] {
  const calls: ParkedCall[] = [];
  for (let c = first; c < first + n; c++) {
    // The lock is free whenever a waiter has just gone into wait(), so acquire returns at once.
    assert.equal(d.value(c, "acquire"), true);
    calls.push(d.park(c, "wait"));
  }
  return calls;
}

describe("Condition", () => {
  it("wait needs the lock and releases it to the next acquirer", () => {
    const d = new Driver(new Condition());
    assert.throws(() => d.call(1, "wait"), { name: "NotHolder" });
    assert.throws(() => d.call(1, "notify"), { name: "NotHolder" });
    assert.throws(() => d.call(1, "notifyAll"), { name: "NotHolder" });
    d.value(1, "acquire");
    const acquirer = d.park(2, "acquire");
    const waiting = d.call(1, "wait");
    assert.ok(waiting.parked);
    // wait() handed the lock to client 2 in the same call.
    assert.deepEqual(
      waiting.wakes.map((w) => w.clientId),
      [2],
    );
    assert.equal(acquirer.value, true);
    assert.equal(d.value(9, "holder"), 2);
    assert.equal(d.value(9, "waiting"), 1);
  });

  it("notify wakes the waiter only once it holds the lock again, FIFO", () => {
    const d = new Driver(new Condition());
    const [w1, w2, w3] = waitersOf(d, 1, 3);
    d.value(4, "acquire");
    assert.equal(d.value(4, "notify"), 1);
    assert.equal(w1!.state, "parked", "notified, but the notifier still holds the lock");
    assert.equal(d.value(4, "notify", 1), 1);
    const { wakes } = d.call(4, "release");
    assert.deepEqual(
      wakes.map((w) => w.clientId),
      [1],
      "only the first notified waiter gets the lock",
    );
    assert.equal(w1!.value, true);
    assert.equal(d.value(9, "holder"), 1);
    assert.equal(w2!.state, "parked");
    d.value(1, "release");
    assert.equal(w2!.value, true);
    d.value(2, "release");
    assert.equal(w3!.state, "parked", "never notified");
    assert.equal(d.value(9, "holder"), null);
  });

  it("notifyAll loses no waiter and wakes each exactly once, in order", () => {
    const d = new Driver(new Condition());
    const waiters = waitersOf(d, 1, 6);
    d.value(7, "acquire");
    const late = d.park(8, "acquire"); // queued for the lock before the notified ones
    assert.equal(d.value(7, "notifyAll"), 6);
    assert.equal(d.value(7, "notifyAll"), 0, "nobody is left waiting");
    const order: number[] = [];
    let holder = 7;
    for (let i = 0; i < 7; i++) {
      const { wakes } = d.call(holder, "release");
      assert.equal(wakes.length, 1, "each release wakes exactly one call");
      holder = wakes[0]!.clientId;
      order.push(holder);
    }
    assert.deepEqual(order, [8, 1, 2, 3, 4, 5, 6]);
    assert.equal(late.value, true);
    assert.ok(waiters.every((w) => w.state === "woken" && w.value === true));
    d.value(holder, "release");
    assert.deepEqual(d.parkedCalls(), []);
    assert.equal(d.value(9, "holder"), null);
  });

  it("a waiter can wait again after being woken, and notify(n) moves n", () => {
    const d = new Driver(new Condition());
    const [w1, w2] = waitersOf(d, 1, 2);
    d.value(3, "acquire");
    assert.equal(d.value(3, "notify", 5), 2);
    d.value(3, "release");
    assert.equal(w1!.value, true);
    const again = d.park(1, "wait"); // client 1 holds the lock again: it may wait again
    assert.equal(w2!.value, true, "waiting released the lock to the next notified call");
    d.value(2, "notify");
    d.value(2, "release");
    assert.equal(again.value, true);
    assert.throws(() => d.call(1, "notify", -1), { name: "ValueError" });
  });

  it("session expiry drops a dead client's waits and releases its lock", () => {
    const d = new Driver(new Condition());
    const [w1, w2, w3] = waitersOf(d, 1, 3);
    d.value(4, "acquire");
    d.value(4, "notify", 2); // w1 and w2 queue for the lock
    d.expire(1); // w1 queued, w1's client gone
    assert.equal(w1!.state, "expired");
    d.expire(4); // the holder dies: the lock passes to w2
    assert.equal(w2!.value, true);
    d.expire(3);
    assert.equal(w3!.state, "expired");
    assert.equal(d.value(9, "waiting"), 0);
    d.value(2, "release");
    assert.equal(d.value(9, "holder"), null);
  });

  it("never hands a dead holder's lock to the dead client's own queued calls", () => {
    const d = new Driver(new Condition());
    d.value(1, "acquire");
    const own = d.park(1, "acquire");
    const other = d.park(2, "acquire");
    d.expire(1);
    assert.equal(own.state, "expired");
    assert.equal(other.value, true);
  });

  it("a timed-out wait leaves without the lock, and the others still get it", () => {
    const d = new Driver(new Condition());
    d.value(1, "acquire");
    const w1 = d.parkWithTimeout(1, 50, "wait");
    d.value(2, "acquire");
    const w2 = d.park(2, "wait");
    d.timeout(w1);
    d.value(3, "acquire");
    assert.equal(d.value(3, "notifyAll"), 1);
    d.value(3, "release");
    assert.equal(w2.value, true);
    assert.equal(d.value(9, "holder"), 2);
  });

  it("survives a snapshot round trip mid-protocol", () => {
    const d = new Driver(new Condition());
    const [w1] = waitersOf(d, 1, 1);
    d.value(2, "acquire");
    d.value(2, "notify");
    d.restart();
    d.value(2, "release");
    assert.equal(w1!.value, true);
  });
});
