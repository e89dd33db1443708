import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { CliError } from "../../src/cli/cli-error.ts";
import { runRoute53Command } from "../../src/cli/commands/route53.ts";
import { Route53Publisher, route53RecordSets } from "../../src/dns/route53.ts";
import {
  loadRoute53Credentials,
  Route53CredentialsError,
  route53ConfigPath,
  saveRoute53Credentials,
} from "../../src/dns/route53-credentials.ts";
import type { ClusterView } from "../../src/dns/view.ts";

// The SDK warns once that its releases after January 2027 need Node 22; that is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const DOMAIN = "counterdomain.test";
const ACCESS_KEY_ID = "AKIAFAKEFAKEFAKE0001";
const SECRET_ACCESS_KEY = "fake/secret/key+0123456789abcdefghijklmn";
/** Every wait in these tests ends by then, so a broken publisher fails the test instead of hanging it. */
const WAIT_MS_MAX = 5_000;
const ZONE_LOOKUP_URL = "/2013-04-01/hostedzonesbyname?dnsname=counterdomain.test.";
const CHANGE_URL = "/2013-04-01/hostedzone/Z123/rrset";
const XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";

const view1: ClusterView = {
  domain: DOMAIN,
  nodes: [
    { role: "REPLICA", host: "127.0.0.2", port: 14001 },
    { role: "REPLICA", host: "127.0.0.1", port: 14000 },
    { role: "ACCEPTOR", host: "127.0.0.3", port: 14002 },
    { role: "NAMESERVER", host: "127.0.0.1", port: 5353 },
  ],
};

/** view1 with 127.0.0.2 replaced by an IPv6 replica. */
const view2: ClusterView = {
  domain: DOMAIN,
  nodes: [
    { role: "REPLICA", host: "127.0.0.1", port: 14000 },
    { role: "REPLICA", host: "2001:db8::7", port: 14005 },
    { role: "ACCEPTOR", host: "127.0.0.3", port: 14002 },
  ],
};

const view1Changes: ParsedChange[] = [
  upsert("counterdomain.test.", "A", ["127.0.0.1", "127.0.0.2"]),
  upsert("counterdomain.test.", "TXT", [
    '"REPLICA 127.0.0.1:14000;REPLICA 127.0.0.2:14001;ACCEPTOR 127.0.0.3:14002;NAMESERVER 127.0.0.1:5353"',
  ]),
  upsert("_concoord._tcp.counterdomain.test.", "SRV", [
    "0 100 14000 127.0.0.1.ipaddr.counterdomain.test.",
    "0 100 14001 127.0.0.2.ipaddr.counterdomain.test.",
  ]),
  upsert("127.0.0.1.ipaddr.counterdomain.test.", "A", ["127.0.0.1"]),
  upsert("127.0.0.2.ipaddr.counterdomain.test.", "A", ["127.0.0.2"]),
];

const view2Changes: ParsedChange[] = [
  { ...upsert("127.0.0.2.ipaddr.counterdomain.test.", "A", ["127.0.0.2"]), action: "DELETE" },
  upsert("counterdomain.test.", "A", ["127.0.0.1"]),
  upsert("counterdomain.test.", "AAAA", ["2001:db8::7"]),
  upsert("counterdomain.test.", "TXT", [
    '"REPLICA 127.0.0.1:14000;REPLICA [2001:db8::7]:14005;ACCEPTOR 127.0.0.3:14002"',
  ]),
  upsert("_concoord._tcp.counterdomain.test.", "SRV", [
    "0 100 14000 127.0.0.1.ipaddr.counterdomain.test.",
    "0 100 14005 2001-db8-0-0-0-0-0-7.ipaddr.counterdomain.test.",
  ]),
  upsert("127.0.0.1.ipaddr.counterdomain.test.", "A", ["127.0.0.1"]),
  upsert("2001-db8-0-0-0-0-0-7.ipaddr.counterdomain.test.", "AAAA", ["2001:db8::7"]),
];

describe("route53RecordSets", () => {
  it("splits a long TXT string into quoted 255-character chunks", () => {
    const nodes = Array.from({ length: 20 }, (_, i) => ({
      role: "ACCEPTOR" as const,
      host: `10.0.0.${i + 10}`,
      port: 14000,
    }));
    const txt = nodes.map((n) => `ACCEPTOR ${n.host}:14000`).join(";");
    assert.ok(txt.length > 255 && txt.length <= 510);
    const sets = route53RecordSets({ domain: DOMAIN, nodes });
    assert.deepEqual(sets, [
      { name: "counterdomain.test.", type: "TXT", values: [`"${txt.slice(0, 255)}" "${txt.slice(255)}"`] },
    ]);
  });
});

describe("Route53Publisher", () => {
  it("looks the zone up once, then UPSERTs the view's record sets in one signed batch", async () => {
    const fake = await FakeRoute53.start();
    const log = new CapturedLog();
    const publisher = newPublisher(fake, log);
    try {
      publisher.publish(view1);
      await withDeadline(publisher.whenPublished());

      assert.deepEqual(
        fake.requests.map((r) => `${r.method} ${r.url}`),
        [`GET ${ZONE_LOOKUP_URL}`, `POST ${CHANGE_URL}`],
      );
      for (const request of fake.requests) {
        assert.match(
          String(request.headers.authorization),
          new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/us-east-1/route53/aws4_request, `),
        );
        assert.match(String(request.headers["x-amz-date"]), /^\d{8}T\d{6}Z$/);
      }
      const batch = parseChangeBatch(fake.requests[1]!.body);
      assert.equal(batch.comment, "concoord view of counterdomain.test");
      assert.deepEqual(batch.changes, view1Changes);
      assert.ok(log.entries.some((e) => e.level === "info" && e.message.includes("published the view")));
      assert.deepEqual(
        log.entries.filter((e) => e.level !== "info"),
        [],
      );

      // The same records again need no request.
      publisher.publish({ domain: DOMAIN, nodes: [...view1.nodes].reverse() });
      await withDeadline(publisher.whenPublished());
      assert.equal(fake.requests.length, 2);
    } finally {
      await publisher.close();
      await fake.close();
    }
  });

  it("signs with the SDK's default chain (here AWS_ACCESS_KEY_ID) when given no credentials", async () => {
    const fake = await FakeRoute53.start();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "AKIAFROMTHEENVIRONMENT";
    process.env.AWS_SECRET_ACCESS_KEY = SECRET_ACCESS_KEY;
    const publisher = new Route53Publisher({
      domain: DOMAIN,
      endpoint: fake.endpoint,
      log: new CapturedLog(),
    });
    try {
      publisher.publish(view1);
      await withDeadline(publisher.whenPublished());
      assert.equal(fake.requests.length, 2);
      for (const request of fake.requests) {
        assert.match(
          String(request.headers.authorization),
          /^AWS4-HMAC-SHA256 Credential=AKIAFROMTHEENVIRONMENT\//,
        );
      }
    } finally {
      restoreEnv("AWS_ACCESS_KEY_ID", saved.id);
      restoreEnv("AWS_SECRET_ACCESS_KEY", saved.secret);
      await publisher.close();
      await fake.close();
    }
  });

  it("publishes a changed view as a new batch, deleting the sets the view no longer has", async () => {
    const fake = await FakeRoute53.start();
    const publisher = newPublisher(fake, new CapturedLog());
    try {
      publisher.publish(view1);
      await withDeadline(publisher.whenPublished());
      publisher.publish(view2);
      await withDeadline(publisher.whenPublished());

      assert.deepEqual(
        fake.requests.map((r) => `${r.method} ${r.url}`),
        [`GET ${ZONE_LOOKUP_URL}`, `POST ${CHANGE_URL}`, `POST ${CHANGE_URL}`],
      );
      assert.deepEqual(parseChangeBatch(fake.requests[2]!.body).changes, view2Changes);
    } finally {
      await publisher.close();
      await fake.close();
    }
  });

  it("sends only the newest of the views that arrive while a batch is in flight", async () => {
    const fake = await FakeRoute53.start();
    const publisher = newPublisher(fake, new CapturedLog());
    try {
      publisher.publish(view1);
      publisher.publish({ domain: DOMAIN, nodes: [{ role: "REPLICA", host: "127.0.0.9", port: 1 }] });
      publisher.publish(view2);
      await withDeadline(publisher.whenPublished());

      const batches = fake.requests.filter((r) => r.method === "POST").map((r) => parseChangeBatch(r.body));
      assert.equal(batches.length, 2);
      assert.deepEqual(batches[0]!.changes, view1Changes);
      assert.deepEqual(batches[1]!.changes, view2Changes);
    } finally {
      await publisher.close();
      await fake.close();
    }
  });

  it("logs a failed batch and retries it until Route53 accepts it", async () => {
    const failures = [
      { status: 500, body: "" },
      {
        status: 400,
        body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
      },
    ];
    const fake = await FakeRoute53.start({ changeReply: () => failures.shift() ?? changeAccepted() });
    const log = new CapturedLog();
    const publisher = newPublisher(fake, log);
    try {
      publisher.publish(view1);
      await withDeadline(publisher.whenPublished());

      const posts = fake.requests.filter((r) => r.method === "POST");
      assert.equal(posts.length, 3);
      for (const post of posts) assert.deepEqual(parseChangeBatch(post.body).changes, view1Changes);
      const errors = log.entries.filter((e) => e.level === "error");
      assert.equal(errors.length, 2);
      assert.match(
        errors[0]!.message,
        /^Route53: publishing the view of counterdomain\.test failed \(.*HTTP 500.*\); retrying$/,
      );
      assert.equal(
        errors[1]!.message,
        "Route53: publishing the view of counterdomain.test failed (Throttling: Rate exceeded (HTTP 400)); retrying",
      );
      assert.deepEqual(
        errors.map((e) => e.object.attempt),
        [1, 2],
      );
      assert.deepEqual(
        errors.map((e) => e.object.retryInMs),
        [RETRY_DELAY_MS_MIN, RETRY_DELAY_MS_MIN * 2],
      );
    } finally {
      await publisher.close();
      await fake.close();
    }
  });

  it("logs clearly when Route53 has no hosted zone of that name", async () => {
    const fake = await FakeRoute53.start({ zones: ["other.test.", "counterdomain.test.example."] });
    const log = new CapturedLog();
    const publisher = newPublisher(fake, log);
    publisher.publish(view1);
    const waiting = publisher.whenPublished();
    // Two failed lookups: the zone is looked up again on every attempt until it appears.
    await withDeadline(log.next((e) => e.level === "error" && e.object.attempt === 2));
    assert.equal(
      log.entries.find((e) => e.level === "error")!.message,
      "Route53: publishing the view of counterdomain.test failed (no hosted zone named counterdomain.test. in Route53); retrying",
    );
    await publisher.close();
    await fake.close();
    await assert.rejects(waiting, /closed before the newest view was published/);
    assert.ok(fake.requests.length >= 2);
    assert.ok(fake.requests.every((r) => r.method === "GET" && r.url === ZONE_LOOKUP_URL));
  });

  it("after Route53 refuses a batch as invalid, retries it with UPSERTs only", async () => {
    let refuse = false;
    const invalid: Reply = {
      status: 400,
      body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[Tried to delete resource record set [name='127.0.0.2.ipaddr.counterdomain.test.', type='A'] but it was not found]</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`,
    };
    const fake = await FakeRoute53.start({
      changeReply: () => {
        const reply = refuse ? invalid : changeAccepted();
        refuse = false;
        return reply;
      },
    });
    const log = new CapturedLog();
    const publisher = newPublisher(fake, log);
    try {
      publisher.publish(view1);
      await withDeadline(publisher.whenPublished());
      refuse = true;
      publisher.publish(view2);
      await withDeadline(publisher.whenPublished());

      const batches = fake.requests.filter((r) => r.method === "POST").map((r) => parseChangeBatch(r.body));
      assert.equal(batches.length, 3);
      assert.deepEqual(batches[1]!.changes, view2Changes);
      assert.deepEqual(
        batches[2]!.changes,
        view2Changes.filter((c) => c.action === "UPSERT"),
      );
      assert.match(
        log.entries.find((e) => e.level === "error")!.message,
        /\(InvalidChangeBatch: \[Tried to delete/,
      );
    } finally {
      await publisher.close();
      await fake.close();
    }
  });
});

describe("Route53 credentials", () => {
  let dir = "";
  const savedEnv = process.env.CONCOORD_CONFIG_DIR;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "concoord-route53-"));
  });
  after(async () => {
    restoreEnv("CONCOORD_CONFIG_DIR", savedEnv);
    await rm(dir, { recursive: true, force: true });
  });

  it("finds the config file through CONCOORD_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config", () => {
    assert.equal(route53ConfigPath({ CONCOORD_CONFIG_DIR: "/c", XDG_CONFIG_HOME: "/x" }), "/c/route53.json");
    assert.equal(route53ConfigPath({ XDG_CONFIG_HOME: "/x" }), "/x/concoord/route53.json");
    assert.match(route53ConfigPath({}), /\/\.config\/concoord\/route53\.json$/);
  });

  it("concoord route53 stores the keys readable by the owner only, and they load back", async () => {
    process.env.CONCOORD_CONFIG_DIR = join(dir, "fresh", "concoord");
    const path = join(process.env.CONCOORD_CONFIG_DIR, "route53.json");
    const printed: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    // Only the command's line is kept; the test runner's own output still goes through.
    const write = mock.method(process.stdout, "write", (chunk: unknown, ...rest: never[]) => {
      if (typeof chunk === "string" && chunk.startsWith("concoord:")) return printed.push(chunk) > 0;
      return original(chunk as string, ...rest);
    });
    let code: number;
    try {
      code = await runRoute53Command({ id: ACCESS_KEY_ID, key: SECRET_ACCESS_KEY });
    } finally {
      write.mock.restore();
    }
    assert.equal(code, 0);
    assert.deepEqual(printed, [`concoord: Route53 credentials saved to ${path} (mode 0600)\n`]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(process.env.CONCOORD_CONFIG_DIR)).mode & 0o777, 0o700);
    assert.deepEqual(await loadRoute53Credentials(), {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
    });
  });

  it("rewrites a file left with wider permissions as 0600, and refuses to load such a file", async () => {
    const path = join(dir, "wide.json");
    await writeFile(path, JSON.stringify({ accessKeyId: "OLD", secretAccessKey: "old" }), { mode: 0o644 });
    await assert.rejects(
      loadRoute53Credentials(path),
      (e: Error) => e instanceof Route53CredentialsError && /has mode 0644; run "chmod 600 /.test(e.message),
    );
    await saveRoute53Credentials({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }, path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await loadRoute53Credentials(path))?.accessKeyId, ACCESS_KEY_ID);
  });

  it("reports no credentials when the file is absent, and a clear error when it is malformed", async () => {
    assert.equal(await loadRoute53Credentials(join(dir, "absent.json")), null);
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ not json", { mode: 0o600 });
    await assert.rejects(loadRoute53Credentials(bad), /bad\.json is not valid JSON/);
    await writeFile(bad, JSON.stringify({ accessKeyId: ACCESS_KEY_ID }), { mode: 0o600 });
    await assert.rejects(loadRoute53Credentials(bad), /bad\.json has no "secretAccessKey" string/);
  });

  it("concoord route53 refuses missing or malformed keys with a one-line CliError", async () => {
    process.env.CONCOORD_CONFIG_DIR = join(dir, "refused");
    const cases: [{ id?: string; key?: string }, RegExp][] = [
      [{ id: ACCESS_KEY_ID }, /^route53 needs both --id ACCESS_KEY_ID and --key SECRET_ACCESS_KEY$/],
      [{ key: SECRET_ACCESS_KEY }, /^route53 needs both --id/],
      [
        { id: "akia-lower", key: SECRET_ACCESS_KEY },
        /^--id "akia-lower" does not look like an AWS access key id/,
      ],
      [{ id: "AKIASHORT", key: SECRET_ACCESS_KEY }, /does not look like an AWS access key id/],
      [{ id: ACCESS_KEY_ID, key: "with space" }, /^--key holds white space/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(
        runRoute53Command(options),
        (e: Error) => e instanceof CliError && message.test(e.message) && !e.message.includes("\n"),
      );
    }
    await assert.rejects(stat(process.env.CONCOORD_CONFIG_DIR), { code: "ENOENT" });
  });
});

describe("the AWS SDK", () => {
  it("is only imported dynamically, so nothing but Route53 mode loads it", async () => {
    const source = await readFile(new URL("../../src/dns/route53.ts", import.meta.url), "utf8");
    const staticImports = source.split("\n").filter((line) => /^import .*"@aws-sdk\//.test(line));
    assert.ok(staticImports.length > 0);
    for (const line of staticImports) assert.match(line, /^import type /);
    assert.match(source, /await import\("@aws-sdk\/client-route-53"\)/);
  });
});

const RETRY_DELAY_MS_MIN = 5;

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function newPublisher(fake: FakeRoute53, log: CapturedLog): Route53Publisher {
  return new Route53Publisher({
    domain: DOMAIN,
    endpoint: fake.endpoint,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    retryDelayMsMin: RETRY_DELAY_MS_MIN,
    retryDelayMsMax: 40,
    log,
  });
}

interface ParsedChange {
  readonly action: string;
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly values: readonly string[];
}

function upsert(name: string, type: string, values: string[]): ParsedChange {
  return { action: "UPSERT", name, type, ttl: 600, values };
}

/** Reads a ChangeResourceRecordSetsRequest body; it fails on anything but the shape Route53 expects. */
function parseChangeBatch(xml: string): { comment: string; changes: ParsedChange[] } {
  const root =
    /^<\?xml version="1\.0" encoding="UTF-8"\?><ChangeResourceRecordSetsRequest xmlns="([^"]+)"><ChangeBatch>([\s\S]*)<\/ChangeBatch><\/ChangeResourceRecordSetsRequest>$/.exec(
      xml,
    );
  assert.ok(root, `not a ChangeResourceRecordSetsRequest: ${xml}`);
  assert.equal(root[1], XMLNS);
  const batch = root[2]!;
  const changes = [...batch.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map(([, change]) => {
    const one = (tag: string): string => {
      const found = [...change!.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))];
      assert.equal(found.length, 1, `${tag} in ${change}`);
      return unescapeXml(found[0]![1]!);
    };
    return {
      action: one("Action"),
      name: one("Name"),
      type: one("Type"),
      ttl: Number(one("TTL")),
      values: [...change!.matchAll(/<ResourceRecord><Value>([^<]*)<\/Value><\/ResourceRecord>/g)].map(
        ([, v]) => unescapeXml(v!),
      ),
    };
  });
  const comment = /<Comment>([^<]*)<\/Comment>/.exec(batch)?.[1] ?? "";
  return { comment: unescapeXml(comment), changes };
}

function unescapeXml(text: string): string {
  const entities: Record<string, string> = { quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" };
  return text.replace(/&(quot|apos|lt|gt|amp);/g, (_, name: string) => entities[name]!);
}

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

function changeAccepted(): Reply {
  return {
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsResponse xmlns="${XMLNS}"><ChangeInfo><Id>/change/C2KTVS7CHANGE</Id><Status>PENDING</Status><SubmittedAt>2026-11-22T12:00:00.000Z</SubmittedAt><Comment>concoord</Comment></ChangeInfo></ChangeResourceRecordSetsResponse>`,
  };
}

function zonesFound(names: readonly string[]): Reply {
  const zones = names
    .map(
      (name, i) =>
        `<HostedZone><Id>/hostedzone/Z${123 + i * 1000}</Id><Name>${name}</Name><CallerReference>ref-${i}</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone>`,
    )
    .join("");
  return {
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ListHostedZonesByNameResponse xmlns="${XMLNS}"><HostedZones>${zones}</HostedZones><DNSName>counterdomain.test.</DNSName><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesByNameResponse>`,
  };
}

/** A Route53 API endpoint on 127.0.0.1 that records every request and answers only the two it expects. */
class FakeRoute53 {
  readonly requests: SeenRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(
    options: { zones?: readonly string[]; changeReply?: () => Reply } = {},
  ): Promise<FakeRoute53> {
    const zones = options.zones ?? ["counterdomain.test.", "counterdomain.test.example."];
    const changeReply = options.changeReply ?? changeAccepted;
    let fake: FakeRoute53 | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const seen = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        fake!.requests.push(seen);
        let reply: Reply = { status: 404, body: "" };
        if (seen.method === "GET" && seen.url === ZONE_LOOKUP_URL) reply = zonesFound(zones);
        else if (seen.method === "POST" && seen.url === CHANGE_URL) reply = changeReply();
        res.writeHead(reply.status, { "content-type": "text/xml" });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeRoute53(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface LogEntry {
  readonly level: "info" | "warn" | "error";
  readonly object: Record<string, unknown>;
  readonly message: string;
}

class CapturedLog {
  readonly entries: LogEntry[] = [];
  #listeners: ((entry: LogEntry) => void)[] = [];

  info(object: object, message: string): void {
    this.#add({ level: "info", object: object as Record<string, unknown>, message });
  }
  warn(object: object, message: string): void {
    this.#add({ level: "warn", object: object as Record<string, unknown>, message });
  }
  error(object: object, message: string): void {
    this.#add({ level: "error", object: object as Record<string, unknown>, message });
  }

  /** The first entry, logged already or later, that matches. */
  next(match: (entry: LogEntry) => boolean): Promise<LogEntry> {
    const found = this.entries.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const listener = (entry: LogEntry): void => {
        if (!match(entry)) return;
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        resolve(entry);
      };
      this.#listeners.push(listener);
    });
  }

  #add(entry: LogEntry): void {
    this.entries.push(entry);
    for (const listener of [...this.#listeners]) listener(entry);
  }
}

async function withDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${WAIT_MS_MAX} ms`)), WAIT_MS_MAX);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
