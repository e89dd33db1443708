import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, it } from "node:test";
import { parseBootstrap } from "../../src/dns/resolve.ts";
import { ipaddrName, ipFromIpaddrName, normalizeDomain, viewRecordSets } from "../../src/dns/view.ts";

describe("the view's names", () => {
  it("ipaddr names carry their address, IPv6 written out in full (no label starts with a dash)", () => {
    for (const ip of ["127.0.0.1", "::1", "fe80::1:2", "2001:db8::", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8"]) {
      const name = ipaddrName(ip, "x.test");
      for (const label of name.split(".")) assert.ok(!label.startsWith("-") && !label.endsWith("-"), name);
      const back = ipFromIpaddrName(name, "x.test");
      assert.ok(back !== null && isIP(back) === isIP(ip), `${ip} → ${name} → ${back}`);
    }
    assert.equal(ipaddrName("::1", "x.test"), "0-0-0-0-0-0-0-1.ipaddr.x.test");
    assert.equal(ipFromIpaddrName("nothing.ipaddr.x.test", "x.test"), null);
    assert.equal(ipFromIpaddrName("127.0.0.1.ipaddr.other.test", "x.test"), null);
  });

  it("record sets: replicas in A/AAAA and SRV, every node in TXT, in a stable order", () => {
    const sets = viewRecordSets({
      domain: "x.test",
      nodes: [
        { role: "NAMESERVER", host: "10.0.0.9", port: 53 },
        { role: "REPLICA", host: "10.0.0.2", port: 14000 },
        { role: "ACCEPTOR", host: "10.0.0.3", port: 14000 },
        { role: "REPLICA", host: "::1", port: 14001 },
        { role: "REPLICA", host: "10.0.0.1", port: 14000 },
      ],
    });
    assert.deepEqual(sets.a, ["10.0.0.1", "10.0.0.2"]);
    assert.deepEqual(sets.aaaa, ["::1"]);
    assert.equal(sets.srv.length, 3);
    assert.equal(
      sets.txt,
      "REPLICA 10.0.0.1:14000;REPLICA 10.0.0.2:14000;REPLICA [::1]:14001;ACCEPTOR 10.0.0.3:14000;NAMESERVER 10.0.0.9:53",
    );
  });

  it("domains and bootstraps are checked with messages", () => {
    assert.equal(normalizeDomain("CounterDomain.Test."), "counterdomain.test");
    assert.throws(() => normalizeDomain("bad..name"), /not a domain name/);
    assert.deepEqual(parseBootstrap("counterdomain.test"), { kind: "domain", domain: "counterdomain.test" });
    assert.equal(parseBootstrap("127.0.0.1:1,127.0.0.1:2").kind, "addresses");
    assert.throws(() => parseBootstrap("not a domain!"), /neither HOST:PORT/);
  });
});
