import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect as tcpConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { DnsServer } from "../../src/dns/server.ts";
import type { ClusterView, ViewNode } from "../../src/dns/view.ts";
import { digHeader, digRaw, digShort } from "./fixtures/dig.ts";

const DOMAIN = "counterdomain.test";
const log = pino({ level: "silent" });

function view(nodes: ViewNode[]): ClusterView {
  return { domain: DOMAIN, nodes };
}

const THREE: ViewNode[] = [
  { role: "REPLICA", host: "127.0.0.1", port: 14000 },
  { role: "REPLICA", host: "127.0.0.2", port: 14001 },
  { role: "REPLICA", host: "127.0.0.3", port: 14002 },
  { role: "ACCEPTOR", host: "127.0.0.4", port: 14003 },
  { role: "NAMESERVER", host: "127.0.0.1", port: 5353 },
];

describe("the name server answers the seeds' dig commands (real dig)", () => {
  let server: DnsServer;
  let port: number;
  before(async () => {
    server = await DnsServer.start({ host: "127.0.0.1", port: 0, view: view(THREE), ttlSeconds: 30, log });
    port = server.port;
  });
  after(async () => {
    await server.close();
  });

  it("A: the replicas' addresses, authoritative, TTL 30", async () => {
    assert.deepEqual(await digShort(port, DOMAIN, "a"), ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    const out = await digRaw(port, ["-t", "a", DOMAIN]);
    assert.deepEqual(digHeader(out).status, "NOERROR");
    assert.ok(digHeader(out).flags.includes("aa"), out);
    assert.match(out, /counterdomain\.test\.\s+30\s+IN\s+A\s+127\.0\.0\.1/);
  });

  it("SRV _concoord._tcp: one per replica with its port, and targets that resolve", async () => {
    assert.deepEqual(await digShort(port, `_concoord._tcp.${DOMAIN}`, "srv"), [
      "0 100 14000 127.0.0.1.ipaddr.counterdomain.test.",
      "0 100 14001 127.0.0.2.ipaddr.counterdomain.test.",
      "0 100 14002 127.0.0.3.ipaddr.counterdomain.test.",
    ]);
    assert.deepEqual(await digShort(port, `127.0.0.2.ipaddr.${DOMAIN}`, "a"), ["127.0.0.2"]);
    // The targets' addresses come along as additional records.
    const out = await digRaw(port, ["-t", "srv", `_concoord._tcp.${DOMAIN}`]);
    assert.match(
      out,
      /ADDITIONAL SECTION:[\s\S]*127\.0\.0\.3\.ipaddr\.counterdomain\.test\.\s+30\s+IN\s+A\s+127\.0\.0\.3/,
    );
  });

  it("TXT: every node with its role; NS: the name servers with glue", async () => {
    assert.deepEqual(await digShort(port, DOMAIN, "txt"), [
      '"REPLICA 127.0.0.1:14000;REPLICA 127.0.0.2:14001;REPLICA 127.0.0.3:14002;ACCEPTOR 127.0.0.4:14003;NAMESERVER 127.0.0.1:5353"',
    ]);
    assert.deepEqual(await digShort(port, DOMAIN, "ns"), ["127.0.0.1.ipaddr.counterdomain.test."]);
    const out = await digRaw(port, ["-t", "ns", DOMAIN]);
    assert.match(
      out,
      /ADDITIONAL SECTION:[\s\S]*127\.0\.0\.1\.ipaddr\.counterdomain\.test\.\s+30\s+IN\s+A\s+127\.0\.0\.1/,
    );
  });

  it("SOA: the serial grows with every change of the view, and only then", async () => {
    const serialOf = async (): Promise<number> =>
      Number((await digShort(port, DOMAIN, "soa"))[0]!.split(" ")[2]);
    const first = await serialOf();
    assert.match(String(first), /^20\d{6}\d{2}$/, "YYYYMMDDnn");
    server.update(view([...THREE]));
    assert.equal(await serialOf(), first, "the same records keep the serial");
    server.update(view(THREE.filter((n) => n.host !== "127.0.0.2")));
    const second = await serialOf();
    assert.ok(second > first, `${second} > ${first}`);
    assert.deepEqual(await digShort(port, DOMAIN, "a"), ["127.0.0.1", "127.0.0.3"]);
    server.update(view(THREE));
    assert.ok((await serialOf()) > second);
  });

  it("NXDOMAIN inside the zone (with the SOA), REFUSED outside it, no data for a name without that type", async () => {
    const unknown = await digRaw(port, ["-t", "a", `nothing.${DOMAIN}`]);
    assert.equal(digHeader(unknown).status, "NXDOMAIN");
    assert.ok(digHeader(unknown).flags.includes("aa"));
    assert.match(unknown, /AUTHORITY SECTION:[\s\S]*SOA/);
    assert.equal(digHeader(await digRaw(port, ["-t", "a", "example.com"])).status, "REFUSED");
    const noData = await digRaw(port, ["-t", "mx", DOMAIN]);
    assert.equal(digHeader(noData).status, "NOERROR");
    assert.match(noData, /ANSWER: 0/);
    // `ipaddr.<domain>` leads to names that exist: an empty non-terminal, not NXDOMAIN.
    assert.equal(digHeader(await digRaw(port, ["-t", "a", `ipaddr.${DOMAIN}`])).status, "NOERROR");
  });

  it("answers over TCP too", async () => {
    assert.deepEqual(await digShort(port, DOMAIN, "a", ["+tcp"]), ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
  });

  it("random bytes, truncated headers and responses are dropped and counted; the server keeps answering", async () => {
    const before = server.stats.malformed;
    const socket = createSocket("udp4");
    const junk = [
      Buffer.from([1, 2, 3]),
      Buffer.from("this is not a DNS message at all, just text"),
      Buffer.alloc(40, 0xff),
      // A well-formed response (QR set) is not a query: dropped.
      Buffer.from([0, 1, 0x84, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];
    for (let i = 0; i < 200; i++)
      junk.push(Buffer.from(Array.from({ length: 1 + (i % 97) }, (_, j) => (i * 31 + j * 7) & 0xff)));
    await Promise.all(
      junk.map((b) => new Promise<void>((r) => socket.send(b, port, "127.0.0.1", () => r()))),
    );
    socket.close();
    // Garbage over TCP closes that connection only.
    await new Promise<void>((resolve) => {
      const s = tcpConnect({ host: "127.0.0.1", port }, () => s.write(Buffer.from([0, 5, 1, 2, 3, 4, 5])));
      s.on("close", () => resolve());
      s.on("error", () => resolve());
    });
    assert.deepEqual(await digShort(port, DOMAIN, "a"), ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    assert.ok(server.stats.malformed - before >= 4, `counted ${server.stats.malformed - before}`);
  });
});

describe("answers that do not fit UDP", () => {
  it("are truncated (TC) over UDP, and dig gets them whole over TCP", async () => {
    const many: ViewNode[] = Array.from({ length: 40 }, (_, i) => ({
      role: "REPLICA",
      host: `127.0.${Math.floor(i / 200)}.${(i % 200) + 1}`,
      port: 14000 + i,
    }));
    const server = await DnsServer.start({
      host: "127.0.0.1",
      port: 0,
      view: view(many),
      ttlSeconds: 30,
      log,
    });
    try {
      const before = server.stats.truncated;
      // Without EDNS the limit is 512 bytes; +ignore shows the truncated answer instead of retrying.
      const cut = await digRaw(server.port, ["+noedns", "+ignore", "-t", "srv", `_concoord._tcp.${DOMAIN}`]);
      assert.ok(digHeader(cut).flags.includes("tc"), cut);
      assert.ok(server.stats.truncated > before);
      // dig's default: retry over TCP on TC.
      const whole = await digShort(server.port, `_concoord._tcp.${DOMAIN}`, "srv", ["+noedns"]);
      assert.equal(whole.length, 40);
    } finally {
      await server.close();
    }
  });
});

describe("binding", () => {
  it("a port in use is a clear error", async () => {
    const a = await DnsServer.start({ host: "127.0.0.1", port: 0, view: view(THREE), ttlSeconds: 30, log });
    try {
      await assert.rejects(
        DnsServer.start({ host: "127.0.0.1", port: a.port, view: view(THREE), ttlSeconds: 30, log }),
        /the port is in use/,
      );
    } finally {
      await a.close();
    }
  });
});
