import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lock } from "../../src/objects/lock.ts";
import { RLock } from "../../src/objects/rlock.ts";
import { Driver, type ParkedCall } from "./harness.ts";

/** The token a parked acquire was woken with, checked to be a number. */
function tokenOf(call: ParkedCall): number {
  assert.equal(call.state, "woken", `call ${call.clientId}:${call.seq} was woken`);
  assert.equal(typeof call.value, "number");
  return call.value as number;
}

describe("Lock", () => {
  it("hands over FIFO among 5 clients, with strictly increasing tokens", () => {
    const d = new Driver(new Lock());
    const first = d.value(1, "acquire");
    assert.equal(first, 1);
    const waiting = [2, 3, 4, 5].map((c) => d.park(c, "acquire"));
    const tokens = [first];
    let holder = 1;
    for (const call of waiting) {
      assert.equal(d.value(holder, "holder"), holder);
      const { wakes } = d.call(holder, "release");
      // Exactly the oldest waiter is woken, and nobody else.
      assert.deepEqual(
        wakes.map((w) => w.clientId),
        [call.clientId],
      );
      tokens.push(tokenOf(call));
      holder = call.clientId;
    }
    assert.deepEqual(tokens, [1, 2, 3, 4, 5]);
    d.value(5, "release");
    assert.equal(d.value(1, "holder"), null);
    assert.equal(d.value(3, "acquire"), 6, "tokens keep growing across idle periods");
  });

  it("refuses a release by a client that does not hold it, without changing anything", () => {
    const d = new Driver(new Lock());
    assert.throws(() => d.call(1, "release"), { name: "NotHolder", message: /free/ });
    d.value(1, "acquire");
    d.park(2, "acquire");
    assert.throws(() => d.call(2, "release"), { name: "NotHolder", message: /held by client 1/ });
    assert.equal(d.value(2, "holder"), 1);
  });

  it("tryAcquire takes a free lock and returns null on a held one", () => {
    const d = new Driver(new Lock());
    assert.equal(d.value(1, "tryAcquire"), 1);
    assert.equal(d.value(2, "tryAcquire"), null);
    assert.equal(d.value(1, "tryAcquire"), null, "not re-entrant");
    d.value(1, "release");
    assert.equal(d.value(2, "tryAcquire"), 2);
  });

  it("a second acquire by the holder waits until some call of the holder releases", () => {
    const d = new Driver(new Lock());
    d.value(1, "acquire");
    const again = d.park(1, "acquire");
    d.value(1, "release");
    assert.equal(tokenOf(again), 2);
    assert.equal(d.value(1, "holder"), 1);
  });

  it("passes the lock to the next waiter with a larger token when the holder's session expires", () => {
    const d = new Driver(new Lock());
    const t1 = d.value(1, "acquire");
    const c2 = d.park(2, "acquire");
    const c3 = d.park(3, "acquire");
    const wakes = d.expire(1);
    assert.deepEqual(
      wakes.map((w) => w.clientId),
      [2],
    );
    assert.ok(tokenOf(c2) > t1);
    assert.equal(c3.state, "parked");
    assert.equal(d.value(9, "holder"), 2);
    // Client 2 expires while holding: client 3 is next.
    d.expire(2);
    assert.ok(tokenOf(c3) > tokenOf(c2));
  });

  it("drops an expired client's waiting calls, so it never gets the lock", () => {
    const d = new Driver(new Lock());
    d.value(1, "acquire");
    const c2 = d.park(2, "acquire");
    const c3 = d.park(3, "acquire");
    assert.deepEqual(d.expire(2), []);
    assert.equal(c2.state, "expired");
    d.value(1, "release"); // the harness fails if the expired call were woken
    assert.equal(tokenOf(c3), 2);
  });

  it("never hands a dead holder's lock to the dead client's own queued acquire", () => {
    const d = new Driver(new Lock());
    d.value(1, "acquire");
    const own = d.park(1, "acquire");
    const c2 = d.park(2, "acquire");
    d.expire(1); // the harness fails if `own` (already failed by the host) were woken
    assert.equal(own.state, "expired");
    assert.equal(tokenOf(c2), 2);
  });

  it("a timed-out waiter leaves the queue", () => {
    const d = new Driver(new Lock());
    d.value(1, "acquire");
    const c2 = d.parkWithTimeout(2, 250, "acquire");
    const c3 = d.park(3, "acquire");
    assert.equal(c2.timeoutMs, 250, "the park carries the client's deadline");
    assert.deepEqual(d.timeout(c2), []);
    d.value(1, "release");
    assert.equal(c2.state, "timedout");
    assert.equal(tokenOf(c3), 2);
  });

  it("survives a snapshot round trip with waiters parked", () => {
    const d = new Driver(new Lock());
    d.value(1, "acquire");
    const c2 = d.park(2, "acquire");
    d.restart();
    d.value(1, "release");
    assert.equal(tokenOf(c2), 2);
  });
});

describe("RLock", () => {
  it("re-enters for the holding client with the same token, and frees after as many releases", () => {
    const d = new Driver(new RLock());
    const token = d.value(1, "acquire");
    assert.equal(d.value(1, "acquire"), token);
    assert.equal(d.value(1, "tryAcquire"), token);
    assert.deepEqual(d.value(1, "holder"), { clientId: 1, count: 3 });
    const c2 = d.park(2, "acquire");
    assert.equal(d.value(2, "tryAcquire"), null);
    d.value(1, "release");
    d.value(1, "release");
    assert.equal(c2.state, "parked");
    d.value(1, "release");
    assert.equal(tokenOf(c2), token + 1);
    assert.throws(() => d.call(1, "release"), { name: "NotHolder" });
  });

  it("wakes every waiting call of the next holder's client together, FIFO among clients", () => {
    const d = new Driver(new RLock());
    d.value(1, "acquire");
    const a = d.park(2, "acquire");
    const b = d.park(3, "acquire");
    const c = d.park(2, "acquire");
    const { wakes } = d.call(1, "release");
    assert.deepEqual(
      wakes.map((w) => `${w.clientId}:${w.seq}`),
      ["2:1", "2:2"],
    );
    assert.equal(tokenOf(a), tokenOf(c));
    assert.deepEqual(d.value(9, "holder"), { clientId: 2, count: 2 });
    d.value(2, "release");
    d.value(2, "release");
    assert.equal(tokenOf(b), 3);
  });

  it("releases a dead holder's lock however deep, to the next waiter", () => {
    const d = new Driver(new RLock());
    d.value(1, "acquire");
    d.value(1, "acquire");
    const c2 = d.park(2, "acquire");
    const c3 = d.park(3, "acquire");
    d.timeout(c2);
    d.expire(1);
    assert.equal(tokenOf(c3), 2);
    assert.deepEqual(d.value(9, "holder"), { clientId: 3, count: 1 });
  });
});
