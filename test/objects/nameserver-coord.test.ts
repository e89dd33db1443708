import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NameserverCoord } from "../../src/objects/nameserver-coord.ts";
import { Driver } from "./harness.ts";

describe("NameserverCoord", () => {
  it("adds, removes and lists records sorted by type then value", () => {
    const d = new Driver(new NameserverCoord());
    assert.equal(d.value(1, "addRecord", "Example.COM.", "a", "192.0.2.2"), true);
    assert.equal(d.value(1, "addRecord", "example.com", "A", "192.0.2.1"), true);
    assert.equal(d.value(1, "addRecord", "example.com", "A", "192.0.2.1"), false);
    d.value(1, "addRecord", "example.com", "TXT", "v=spf1 -all");
    d.value(1, "addRecord", "example.com", "MX", "10 mail.example.com");
    d.value(1, "addRecord", "www.example.com", "CNAME", "example.com");
    assert.deepEqual(d.value(1, "records", "EXAMPLE.com"), [
      { type: "A", value: "192.0.2.1" },
      { type: "A", value: "192.0.2.2" },
      { type: "MX", value: "10 mail.example.com" },
      { type: "TXT", value: "v=spf1 -all" },
    ]);
    assert.deepEqual(d.value(1, "domains"), ["example.com", "www.example.com"]);
    assert.equal(d.value(1, "removeRecord", "www.example.com", "CNAME", "example.com"), true);
    assert.equal(d.value(1, "removeRecord", "www.example.com", "CNAME", "example.com"), false);
    assert.deepEqual(d.value(1, "domains"), ["example.com"], "a domain without records disappears");
    assert.deepEqual(d.value(1, "records", "nowhere.example"), []);
  });

  it("setRecords replaces one type's set, and an empty list removes it", () => {
    const d = new Driver(new NameserverCoord());
    d.value(1, "addRecord", "example.com", "NS", "old.example.com");
    d.value(1, "addRecord", "example.com", "A", "192.0.2.1");
    d.value(1, "setRecords", "example.com", "NS", ["ns2.example.com", "ns1.example.com", "ns1.example.com"]);
    assert.deepEqual(d.value(1, "records", "example.com"), [
      { type: "A", value: "192.0.2.1" },
      { type: "NS", value: "ns1.example.com" },
      { type: "NS", value: "ns2.example.com" },
    ]);
    d.restart();
    d.value(1, "setRecords", "example.com", "A", []);
    d.value(1, "setRecords", "example.com", "NS", []);
    assert.deepEqual(d.value(1, "domains"), []);
  });

  it("refuses unknown types and malformed arguments", () => {
    const d = new Driver(new NameserverCoord());
    assert.throws(() => d.call(1, "addRecord", "example.com", "PTR", "x"), {
      name: "ValueError",
      message: /A, AAAA, CNAME, MX, NS, SRV, TXT/,
    });
    assert.throws(() => d.call(1, "addRecord", ".", "A", "x"), { name: "ValueError" });
    assert.throws(() => d.call(1, "addRecord", "example.com", "A", ""), { name: "ValueError" });
    assert.throws(() => d.call(1, "setRecords", "example.com", "A", ["ok", 5 as unknown as string]), {
      name: "ValueError",
    });
    assert.throws(() => d.call(1, "setRecords", "example.com", "A", "x" as unknown as string[]), {
      name: "ValueError",
    });
    for (const type of ["A", "AAAA", "SRV", "TXT", "NS", "CNAME", "MX"])
      d.value(1, "addRecord", "all.example", type, "v");
    assert.equal(d.value(1, "records", "all.example").length, 7);
  });
});
