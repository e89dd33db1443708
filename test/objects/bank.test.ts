import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Bank } from "../../src/objects/bank.ts";
import { Driver } from "./harness.ts";

describe("Bank", () => {
  it("opens accounts, moves money and keeps the total", () => {
    const d = new Driver(new Bank());
    d.value(1, "open", "ann", 100);
    d.value(1, "open", "bob");
    assert.throws(() => d.call(1, "open", "ann"), { name: "AccountExists" });
    assert.equal(d.value(1, "deposit", "bob", 5), 5);
    assert.equal(d.value(1, "withdraw", "ann", 20), 80);
    d.value(2, "transfer", "ann", "bob", 30);
    assert.deepEqual([d.value(1, "balance", "ann"), d.value(1, "balance", "bob")], [50, 35]);
    assert.deepEqual(d.value(1, "accounts"), ["ann", "bob"]);
    assert.equal(d.value(1, "total"), 85);
    d.restart();
    assert.equal(d.value(1, "total"), 85);
  });

  it("refuses overdrafts and bad input without changing anything", () => {
    const d = new Driver(new Bank());
    d.value(1, "open", "ann", 10);
    d.value(1, "open", "bob", 0);
    // The harness also checks that every refused call left the state byte-for-byte as it was.
    assert.throws(() => d.call(1, "withdraw", "ann", 11), { name: "InsufficientFunds", message: /holds 10/ });
    assert.throws(() => d.call(1, "transfer", "ann", "bob", 11), { name: "InsufficientFunds" });
    assert.throws(() => d.call(1, "transfer", "ann", "eve", 1), { name: "NoSuchAccount" });
    assert.throws(() => d.call(1, "transfer", "eve", "ann", 1), { name: "NoSuchAccount" });
    assert.throws(() => d.call(1, "transfer", "ann", "ann", 1), { name: "ValueError" });
    assert.throws(() => d.call(1, "balance", "eve"), { name: "NoSuchAccount" });
    for (const amount of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => d.call(1, "deposit", "ann", amount), { name: "ValueError" }, String(amount));
    assert.throws(() => d.call(1, "deposit", "ann", "5" as unknown as number), { name: "ValueError" });
    assert.throws(() => d.call(1, "open", "", 1), { name: "ValueError" });
    assert.throws(() => d.call(1, "open", "carl", -1), { name: "ValueError" });
    assert.throws(() => d.call(1, "deposit", "ann", Number.MAX_SAFE_INTEGER), { name: "ValueError" });
    assert.equal(d.value(1, "total"), 10);
  });

  it("conserves money through many transfers between 6 clients' accounts", () => {
    const d = new Driver(new Bank());
    const names = ["a", "b", "c", "d", "e", "f"];
    names.forEach((n, i) => {
      d.value(i + 1, "open", n, 100);
    });
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const from = names[(i * 7) % 6]!;
      const to = names[(i * 11 + 1) % 6]!;
      if (from === to) continue;
      try {
        d.value((i % 6) + 1, "transfer", from, to, (i % 90) + 1);
      } catch (error) {
        assert.equal((error as Error).name, "InsufficientFunds");
        refused++;
      }
    }
    assert.ok(refused > 0, "some transfers were refused");
    const balances = names.map((n) => d.value(1, "balance", n));
    assert.ok(balances.every((b) => b >= 0));
    assert.equal(
      balances.reduce((s, b) => s + b, 0),
      600,
    );
    assert.equal(d.value(1, "total"), 600);
  });
});
