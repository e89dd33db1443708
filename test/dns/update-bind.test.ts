import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import type { TsigKey } from "../../src/dns/tsig.ts";
import { parseTsigSecret } from "../../src/dns/tsig.ts";
import type { UpdateLog } from "../../src/dns/update.ts";
import { DnsUpdatePublisher } from "../../src/dns/update.ts";
import type { ClusterView, ViewNode } from "../../src/dns/view.ts";
import { type BindServer, startBind } from "./fixtures/bind.ts";
import { digShort as dig } from "./fixtures/dig.ts";

const ZONE = "counterdomain.test";
const SRV = `_concoord._tcp.${ZONE}`;
const KEY_NAME = "concoord-key";
const SECRET = randomBytes(32).toString("base64");
const KEY: TsigKey = { name: KEY_NAME, algorithm: "hmac-sha256", secret: parseTsigSecret(SECRET) };
/** Generous for loopback, yet short enough that a hung exchange fails the test quickly. */
const TIMEOUT_MS = 2_000;
/** A hang fails the test instead of stalling the run. */
const TEST_TIMEOUT_MS = 30_000;

interface LogCall {
  readonly level: "info" | "warn" | "error";
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

function captureLog(): { log: UpdateLog; calls: LogCall[] } {
  const calls: LogCall[] = [];
  const at =
    (level: LogCall["level"]) =>
    (obj: object, msg: string): void => {
      calls.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { log: { info: at("info"), warn: at("warn"), error: at("error") }, calls };
}

/** A loopback TCP port that was just free, so that connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function node(role: ViewNode["role"], host: string, port: number): ViewNode {
  return { role, host, port };
}

function view(nodes: ViewNode[]): ClusterView {
  return { domain: ZONE, nodes };
}

const OTHERS = [node("ACCEPTOR", "127.0.0.1", 14010), node("NAMESERVER", "127.0.0.1", 14020)];
const VIEW_1 = view([
  node("REPLICA", "127.0.0.1", 14000),
  node("REPLICA", "127.0.0.1", 14001),
  node("REPLICA", "127.0.0.1", 14002),
  ...OTHERS,
]);
/** 14002 left, 127.0.0.2:14003 joined. */
const VIEW_2 = view([
  node("REPLICA", "127.0.0.1", 14000),
  node("REPLICA", "127.0.0.1", 14001),
  node("REPLICA", "127.0.0.2", 14003),
  ...OTHERS,
]);
/**
 * No replica on 127.0.0.1 any more, and enough acceptors for a TXT of two strings. IPv4 only: BIND's
 * default check-names refuses the `ipaddr` name of an IPv6 address such as ::1 (`--1.ipaddr…`).
 */
const VIEW_3 = view([
  node("REPLICA", "127.0.0.2", 14003),
  node("REPLICA", "127.0.0.3", 14004),
  node("REPLICA", "127.0.0.3", 14005),
  ...Array.from({ length: 12 }, (_, i) => node("ACCEPTOR", "127.0.0.1", 14010 + i)),
  node("NAMESERVER", "127.0.0.1", 14030),
]);

describe("slave mode: DNS UPDATE with TSIG to a real BIND 9", () => {
  let bind: BindServer;

  before(
    async () => {
      bind = await startBind({ zone: ZONE, keyName: KEY_NAME, secret: SECRET });
    },
    { timeout: TEST_TIMEOUT_MS },
  );

  after(async () => {
    await bind?.stop();
  });

  const q = (name: string, type: string): Promise<string[]> => dig(bind.port, name, type);

  it("publishes a view, then replaces it with the changed one", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { log, calls } = captureLog();
    const publisher = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: KEY,
      log,
      timeoutMs: TIMEOUT_MS,
    });
    try {
      publisher.publish(VIEW_1);
      await publisher.whenPublished();
      assert.deepEqual(await q(ZONE, "A"), ["127.0.0.1"]);
      assert.deepEqual(await q(SRV, "SRV"), [
        `0 100 14000 127.0.0.1.ipaddr.${ZONE}.`,
        `0 100 14001 127.0.0.1.ipaddr.${ZONE}.`,
        `0 100 14002 127.0.0.1.ipaddr.${ZONE}.`,
      ]);
      assert.deepEqual(await q(ZONE, "TXT"), [
        '"REPLICA 127.0.0.1:14000;REPLICA 127.0.0.1:14001;REPLICA 127.0.0.1:14002;ACCEPTOR 127.0.0.1:14010;NAMESERVER 127.0.0.1:14020"',
      ]);
      assert.deepEqual(await q(`127.0.0.1.ipaddr.${ZONE}`, "A"), ["127.0.0.1"]);
      assert.deepEqual(await q(ZONE, "NS"), [`ns.${ZONE}.`], "NS is left alone");
      const [soa] = await q(ZONE, "SOA");
      assert.match(soa!, /^ns\.counterdomain\.test\. hostmaster\.counterdomain\.test\. \d+ 60 60 600 30$/);
      assert.deepEqual(
        calls.map((c) => c.level),
        ["info"],
      );

      publisher.publish(VIEW_2);
      await publisher.whenPublished();
      assert.deepEqual(await q(ZONE, "A"), ["127.0.0.1", "127.0.0.2"]);
      assert.deepEqual(await q(SRV, "SRV"), [
        `0 100 14000 127.0.0.1.ipaddr.${ZONE}.`,
        `0 100 14001 127.0.0.1.ipaddr.${ZONE}.`,
        `0 100 14003 127.0.0.2.ipaddr.${ZONE}.`,
      ]);
      assert.deepEqual(await q(ZONE, "TXT"), [
        '"REPLICA 127.0.0.1:14000;REPLICA 127.0.0.1:14001;REPLICA 127.0.0.2:14003;ACCEPTOR 127.0.0.1:14010;NAMESERVER 127.0.0.1:14020"',
      ]);
      assert.deepEqual(await q(`127.0.0.2.ipaddr.${ZONE}`, "A"), ["127.0.0.2"]);
      const [serial2] = await q(ZONE, "SOA");

      // The same view in another order is no change: no UPDATE, so the serial stays.
      publisher.publish(view([...VIEW_2.nodes].reverse()));
      await publisher.whenPublished();
      assert.equal(calls.length, 2);
      assert.deepEqual(await q(ZONE, "SOA"), [serial2]);

      // VIEW_1 again, superseded at once by VIEW_3: only the newest view may end up at the master.
      publisher.publish(VIEW_1);
      publisher.publish(VIEW_3);
      await publisher.whenPublished();
      assert.equal(publisher.lastResult?.view, VIEW_3);
      assert.deepEqual(await q(ZONE, "A"), ["127.0.0.2", "127.0.0.3"]);
      assert.deepEqual(await q(ZONE, "AAAA"), []);
      assert.deepEqual(await q(SRV, "SRV"), [
        `0 100 14003 127.0.0.2.ipaddr.${ZONE}.`,
        `0 100 14004 127.0.0.3.ipaddr.${ZONE}.`,
        `0 100 14005 127.0.0.3.ipaddr.${ZONE}.`,
      ]);
      assert.deepEqual(await q(`127.0.0.1.ipaddr.${ZONE}`, "A"), [], "the stale ipaddr name is gone");
      assert.deepEqual(await q(`127.0.0.3.ipaddr.${ZONE}`, "A"), ["127.0.0.3"]);
      const [txt] = await q(ZONE, "TXT");
      const strings = JSON.parse(`[${txt!.replaceAll('" "', '","')}]`) as string[];
      assert.equal(strings.length, 2, "a TXT longer than 255 bytes goes as two strings");
      assert.equal(strings[0]!.length, 255);
      assert.equal(
        strings.join(""),
        [
          "REPLICA 127.0.0.2:14003;REPLICA 127.0.0.3:14004;REPLICA 127.0.0.3:14005",
          ...Array.from({ length: 12 }, (_, i) => `ACCEPTOR 127.0.0.1:${14010 + i}`),
          "NAMESERVER 127.0.0.1:14030",
        ].join(";"),
      );
      assert.deepEqual(await q(ZONE, "NS"), [`ns.${ZONE}.`]);
      assert.ok(
        calls.every((c) => c.level === "info"),
        JSON.stringify(calls.filter((c) => c.level !== "info")),
      );
    } finally {
      publisher.close();
    }
  });

  it("deletes the ipaddr names that an earlier publisher left", { timeout: TEST_TIMEOUT_MS }, async () => {
    const earlier = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: KEY,
      log: captureLog().log,
      timeoutMs: TIMEOUT_MS,
    });
    earlier.publish(VIEW_3);
    await earlier.whenPublished();
    earlier.close();
    assert.deepEqual(await q(`127.0.0.3.ipaddr.${ZONE}`, "A"), ["127.0.0.3"]);

    // A restarted process knows nothing of VIEW_3; it reads the old SRV targets back from the master.
    const { log, calls } = captureLog();
    const later = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: KEY,
      log,
      timeoutMs: TIMEOUT_MS,
    });
    later.publish(VIEW_1);
    await later.whenPublished();
    later.close();
    assert.deepEqual(await q(`127.0.0.2.ipaddr.${ZONE}`, "A"), []);
    assert.deepEqual(await q(`127.0.0.3.ipaddr.${ZONE}`, "A"), []);
    assert.deepEqual(await q(`127.0.0.1.ipaddr.${ZONE}`, "A"), ["127.0.0.1"]);
    assert.deepEqual(await q(ZONE, "A"), ["127.0.0.1"]);
    assert.deepEqual(
      calls.map((c) => [c.level, c.obj.deleted]),
      [["info", 2]],
    );
  });

  it("logs a refused update with a wrong secret or key, retries with backoff, and leaves the zone alone", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const good = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: KEY,
      log: captureLog().log,
      timeoutMs: TIMEOUT_MS,
    });
    good.publish(VIEW_1);
    await good.whenPublished();
    good.close();

    const { log, calls } = captureLog();
    const wrongSecret = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: { ...KEY, secret: randomBytes(32) },
      log,
      timeoutMs: TIMEOUT_MS,
      retryDelayMsMin: 20,
      retryDelayMsMax: 40,
      attemptsMax: 3,
    });
    const startedMs = Date.now();
    wrongSecret.publish(VIEW_2);
    await assert.rejects(wrongSecret.whenPublished(), /secret of TSIG key "concoord-key" differs/);
    const elapsedMs = Date.now() - startedMs;
    wrongSecret.close();
    assert.ok(elapsedMs >= 20 + 40 && elapsedMs < 3_000, `three attempts took ${elapsedMs} ms`);
    assert.equal(wrongSecret.lastResult?.attempt, 3);
    assert.deepEqual(
      calls.map((c) => [c.level, c.obj.rcode, c.obj.tsigError, c.obj.attempt, c.obj.retryInMs]),
      [
        ["error", "NOTAUTH", "BADSIG", 1, 20],
        ["error", "NOTAUTH", "BADSIG", 2, 40],
        ["error", "NOTAUTH", "BADSIG", 3, undefined],
      ],
    );
    assert.equal(calls[0]!.obj.master, `127.0.0.1:${bind.port}`);
    assert.match(
      calls[0]!.msg,
      /^the master refused the update \(NOTAUTH, TSIG BADSIG\): the secret of TSIG key/,
    );
    assert.match(calls[2]!.msg, /giving up on this view/);

    const unknownKey = captureLog();
    const wrongName = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: { ...KEY, name: "nobody-key" },
      log: unknownKey.log,
      timeoutMs: TIMEOUT_MS,
      attemptsMax: 1,
    });
    wrongName.publish(VIEW_2);
    await assert.rejects(wrongName.whenPublished(), /does not know TSIG key "nobody-key"/);
    wrongName.close();
    assert.deepEqual(
      unknownKey.calls.map((c) => [c.obj.rcode, c.obj.tsigError]),
      [["NOTAUTH", "BADKEY"]],
    );

    // Nothing of VIEW_2 reached the zone.
    assert.deepEqual(await q(ZONE, "A"), ["127.0.0.1"]);
    assert.deepEqual(await q(SRV, "SRV"), [
      `0 100 14000 127.0.0.1.ipaddr.${ZONE}.`,
      `0 100 14001 127.0.0.1.ipaddr.${ZONE}.`,
      `0 100 14002 127.0.0.1.ipaddr.${ZONE}.`,
    ]);
    assert.deepEqual(await q(`127.0.0.2.ipaddr.${ZONE}`, "A"), []);

    const right = captureLog();
    const rightKey = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: bind.port },
      key: KEY,
      log: right.log,
      timeoutMs: TIMEOUT_MS,
    });
    rightKey.publish(VIEW_2);
    await rightKey.whenPublished();
    rightKey.close();
    assert.deepEqual(await q(ZONE, "A"), ["127.0.0.1", "127.0.0.2"]);
    assert.deepEqual(
      right.calls.map((c) => c.level),
      ["info"],
    );
  });

  it("retries while the master is unreachable and gives up after the bounded attempts", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { log, calls } = captureLog();
    const publisher = new DnsUpdatePublisher({
      master: { host: "127.0.0.1", port: await closedPort() },
      key: KEY,
      log,
      timeoutMs: TIMEOUT_MS,
      retryDelayMsMin: 10,
      retryDelayMsMax: 10,
      attemptsMax: 2,
    });
    publisher.publish(VIEW_3);
    await assert.rejects(publisher.whenPublished(), /could not reach the master/);
    publisher.close();
    assert.deepEqual(
      calls.map((c) => c.level),
      ["warn", "error"],
    );
    assert.equal(calls[0]!.obj.retryInMs, 10);
  });
});
