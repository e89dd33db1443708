import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BoundedSemaphore } from "../../src/objects/bounded-semaphore.ts";
import { Semaphore } from "../../src/objects/semaphore.ts";
import { Driver } from "./harness.ts";

describe("Semaphore", () => {
  it("lets 2 of 6 clients in at a time, FIFO, with growing tokens", () => {
    const d = new Driver(new Semaphore(2));
    const tokens: number[] = [d.value(1, "acquire"), d.value(2, "acquire")];
    assert.equal(d.value(9, "available"), 0);
    const waiting = [3, 4, 5, 6].map((c) => d.park(c, "acquire"));
    const inside = new Set([1, 2]);
    let next = 0;
    // Release in an order unrelated to arrival: permits still go to waiters oldest first.
    for (const leaver of [2, 1, 3, 4, 5, 6]) {
      const { wakes } = d.call(leaver, "release");
      inside.delete(leaver);
      for (const w of wakes) {
        inside.add(w.clientId);
        tokens.push(w.value as number);
      }
      if (next < waiting.length) {
        assert.deepEqual(
          wakes.map((w) => w.clientId),
          [waiting[next]!.clientId],
        );
        next++;
      } else assert.deepEqual(wakes, []);
      assert.ok(inside.size <= 2, "never more holders than permits");
    }
    assert.deepEqual(tokens, [1, 2, 3, 4, 5, 6]);
    assert.equal(d.value(9, "available"), 2);
  });

  it("lets a client hold several permits and release only its own", () => {
    const d = new Driver(new Semaphore(3));
    d.value(1, "acquire");
    d.value(1, "acquire");
    assert.equal(d.value(1, "held"), 2);
    assert.throws(() => d.call(2, "release"), { name: "NotHolder" });
    d.value(1, "release");
    d.value(1, "release");
    assert.throws(() => d.call(1, "release"), { name: "NotHolder", message: /holds no permit/ });
    assert.equal(d.value(1, "available"), 3);
  });

  it("tryAcquire never waits", () => {
    const d = new Driver(new Semaphore(1));
    assert.equal(d.value(1, "tryAcquire"), 1);
    assert.equal(d.value(2, "tryAcquire"), null);
    assert.deepEqual(d.parkedCalls(), []);
  });

  it("returns an expired session's permits, to waiters first, and drops its waits", () => {
    const d = new Driver(new Semaphore(2));
    d.value(1, "acquire");
    d.value(1, "acquire");
    const c2 = d.park(2, "acquire");
    const c1 = d.park(1, "acquire");
    const c3 = d.park(3, "acquire");
    const wakes = d.expire(1);
    assert.equal(c1.state, "expired");
    assert.deepEqual(
      wakes.map((w) => w.clientId),
      [2, 3],
    );
    assert.equal(c2.value, 3);
    assert.equal(c3.value, 4);
    assert.equal(d.value(9, "available"), 0);
    d.expire(2);
    d.expire(3);
    assert.equal(d.value(9, "available"), 2);
  });

  it("drops a timed-out waiter", () => {
    const d = new Driver(new Semaphore(1));
    d.value(1, "acquire");
    const c2 = d.parkWithTimeout(2, 100, "acquire");
    const c3 = d.park(3, "acquire");
    d.timeout(c2);
    d.value(1, "release");
    assert.equal(c3.state, "woken");
  });

  it("validates its permits and allows zero", () => {
    assert.equal(new Semaphore().permits, 1);
    assert.equal(new Semaphore(0).free, 0);
    for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => new Semaphore(bad), { name: "ValueError" });
    assert.throws(() => new Semaphore("2" as unknown as number), { name: "ValueError" });
  });
});

describe("BoundedSemaphore", () => {
  it("raises ValueError when released past its initial count", () => {
    const d = new Driver(new BoundedSemaphore(2));
    assert.throws(() => d.call(1, "release"), {
      name: "ValueError",
      message: /BoundedSemaphore released too many times/,
    });
    d.value(1, "acquire");
    d.value(1, "release");
    assert.throws(() => d.call(1, "release"), { name: "ValueError" });
    assert.equal(d.value(1, "available"), 2);
  });

  it("says NotHolder, as a Semaphore, when others hold the permits", () => {
    const d = new Driver(new BoundedSemaphore(2));
    d.value(1, "acquire");
    assert.throws(() => d.call(2, "release"), { name: "NotHolder" });
  });

  it("behaves as a Semaphore otherwise: waiters, handover, expiry", () => {
    const d = new Driver(new BoundedSemaphore());
    d.value(1, "acquire");
    const c2 = d.park(2, "acquire");
    d.expire(1);
    assert.equal(c2.value, 2);
    assert.ok(new BoundedSemaphore() instanceof Semaphore);
  });
});
