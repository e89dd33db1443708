import { randomInt } from "node:crypto";
import { connect, isIP, type Socket } from "node:net";
import type { Answer } from "dns-packet";
import dnsPacket from "dns-packet";
import { signMessage, type TsigKey, type TsigVerification, verifyResponse } from "./tsig.ts";
import {
  type ClusterView,
  ipFromIpaddrName,
  normalizeDomain,
  sameView,
  srvName,
  txtChunks,
  viewRecordSets,
} from "./view.ts";

/** The few pino methods the publisher logs with. */
export interface UpdateLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where and how to send updates. */
export interface DnsUpdatePublisherOptions {
  /** The primary (master) name server of the zone. */
  readonly master: { readonly host: string; readonly port: number };
  readonly key: TsigKey;
  /** TTL of the published records; short, so that resolvers notice view changes soon. */
  readonly ttlSeconds?: number;
  /** How long one exchange with the master may take. */
  readonly timeoutMs?: number;
  /** First delay before a retry; it doubles up to `retryDelayMsMax`. */
  readonly retryDelayMsMin?: number;
  readonly retryDelayMsMax?: number;
  /** Attempts for one view before giving up until the next view. */
  readonly attemptsMax?: number;
  readonly log: UpdateLog;
  /** Milliseconds since the Unix epoch; TSIG signs with it, so the master's clock must agree. */
  readonly now?: () => number;
}

/** How the latest attempt went. */
export type PublishResult =
  | { readonly ok: true; readonly view: ClusterView; readonly attempt: number }
  | {
      readonly ok: false;
      readonly view: ClusterView;
      readonly attempt: number;
      readonly reason: string;
      /** The master's RCODE, when it answered. */
      readonly rcode?: string;
      readonly tsigError?: string;
    };

export const UPDATE_TTL_SECONDS_DEFAULT = 30;
export const UPDATE_TIMEOUT_MS_DEFAULT = 5_000;
export const UPDATE_RETRY_DELAY_MS_MIN_DEFAULT = 250;
export const UPDATE_RETRY_DELAY_MS_MAX_DEFAULT = 30_000;
/** With the default delays, about 17 minutes of retries; a new view starts over. */
export const UPDATE_ATTEMPTS_MAX_DEFAULT = 40;
/** Keeps one UPDATE well under the 64 KiB a TCP DNS message can hold. */
export const VIEW_NODES_MAX = 200;
/** `ipaddr` names kept for deletion after failed updates, which may or may not have been applied. */
const STALE_NAMES_MAX = 256;
/** A TCP DNS message has a 16-bit length; leave room for the TSIG record. */
const UPDATE_BYTES_MAX = 65_535 - 512;
const HEADER_BYTES = 12;
const OPCODE_QUERY = 0;
const OPCODE_UPDATE = 5;
const RCODES: Readonly<Record<number, string>> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
};
const TYPE_CODES = { A: 1, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;

/**
 * Slave mode: keeps the records of the cluster view at a master name server with RFC 2136 UPDATEs
 * signed with TSIG, sent over TCP. Only the newest view matters; a failed update is retried with
 * bounded exponential backoff until it is accepted, superseded by a newer view, or out of attempts.
 *
 * @example
 * ```ts
 * const publisher = new DnsUpdatePublisher({ master: { host: "10.0.0.53", port: 53 }, key, log });
 * publisher.publish(view);
 * await publisher.whenPublished();
 * publisher.close();
 * ```
 */
export class DnsUpdatePublisher {
  readonly #master: { readonly host: string; readonly port: number };
  readonly #key: TsigKey;
  readonly #ttlSeconds: number;
  readonly #timeoutMs: number;
  readonly #retryDelayMsMin: number;
  readonly #retryDelayMsMax: number;
  readonly #attemptsMax: number;
  readonly #log: UpdateLog;
  readonly #now: () => number;
  readonly #masterText: string;

  #latest: ClusterView | null = null;
  #accepted: ClusterView | null = null;
  /** `ipaddr` names that may exist at the master: the accepted view's, plus those of failed updates. */
  #mayExist = new Set<string>();
  /** Whether the names a previous process published were read back from the master. */
  #learnedPublishedNames = false;
  #attempt = 0;
  #gaveUp = false;
  #sending = false;
  #closed = false;
  #timer: NodeJS.Timeout | null = null;
  #socket: Socket | null = null;
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #lastResult: PublishResult | null = null;

  constructor(options: DnsUpdatePublisherOptions) {
    const { host, port } = options.master;
    if (host.length === 0) throw new Error("the master's host is empty");
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`bad master port ${port}`);
    this.#master = { host, port };
    this.#masterText = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    this.#key = options.key;
    this.#ttlSeconds = options.ttlSeconds ?? UPDATE_TTL_SECONDS_DEFAULT;
    this.#timeoutMs = options.timeoutMs ?? UPDATE_TIMEOUT_MS_DEFAULT;
    this.#retryDelayMsMin = options.retryDelayMsMin ?? UPDATE_RETRY_DELAY_MS_MIN_DEFAULT;
    this.#retryDelayMsMax = options.retryDelayMsMax ?? UPDATE_RETRY_DELAY_MS_MAX_DEFAULT;
    this.#attemptsMax = options.attemptsMax ?? UPDATE_ATTEMPTS_MAX_DEFAULT;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    assertInt(this.#ttlSeconds, 0, 2 ** 31 - 1, "ttlSeconds");
    assertInt(this.#timeoutMs, 1, 600_000, "timeoutMs");
    assertInt(this.#retryDelayMsMin, 1, 3_600_000, "retryDelayMsMin");
    assertInt(this.#retryDelayMsMax, this.#retryDelayMsMin, 3_600_000, "retryDelayMsMax");
    assertInt(this.#attemptsMax, 1, 10_000, "attemptsMax");
    // Sign once to fail here, not on the first view, when the key cannot sign.
    signMessage(Buffer.alloc(HEADER_BYTES), this.#key, { timeSignedSeconds: 0 });
  }

  /** How the latest attempt went, or null before the first one ended. */
  get lastResult(): PublishResult | null {
    return this.#lastResult;
  }

  /**
   * Makes `view` the records to keep at the master, superseding any view still being sent or retried.
   *
   * @example
   * ```ts
   * publisher.publish({ domain: "counterdomain.test", nodes });
   * ```
   */
  publish(view: ClusterView): void {
    if (this.#closed) throw new Error("the publisher is closed");
    if (normalizeDomain(view.domain) !== view.domain) throw new Error(`"${view.domain}" is not normalized`);
    if (this.#latest !== null && this.#latest.domain !== view.domain) {
      throw new Error(`the publisher serves zone ${this.#latest.domain}, not ${view.domain}`);
    }
    if (view.nodes.length > VIEW_NODES_MAX) {
      throw new Error(`a view of ${view.nodes.length} nodes does not fit one UPDATE (${VIEW_NODES_MAX} max)`);
    }
    // A repeated view needs no new UPDATE (each one would bump the zone's serial) unless it was given up.
    if (this.#latest !== null && sameView(this.#latest, view) && !this.#gaveUp) return;
    this.#latest = view;
    this.#attempt = 0;
    this.#gaveUp = false;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    // An update in flight finishes first; #run then sees the newer view and sends it at once.
    if (!this.#sending) this.#start();
  }

  /**
   * Resolves once the master accepted the newest view; rejects when the publisher gives up on it or
   * is closed first.
   *
   * @example
   * ```ts
   * publisher.publish(view);
   * await publisher.whenPublished();
   * ```
   */
  whenPublished(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the publisher is closed"));
    if (this.#latest === null) return Promise.reject(new Error("no view was published"));
    if (this.#accepted === this.#latest) return Promise.resolve();
    if (this.#gaveUp) return Promise.reject(new Error(this.#failureText()));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops retrying and drops the exchange in flight; pending `whenPublished` promises reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#socket?.destroy();
    this.#settle(new Error("the publisher is closed"));
  }

  #start(): void {
    this.#sending = true;
    this.#run().catch((e: unknown) => {
      // #run handles every expected failure; this is a bug, reported rather than lost.
      this.#sending = false;
      this.#log.error({ master: this.#masterText, err: e }, "the DNS update publisher failed");
    });
  }

  async #run(): Promise<void> {
    let notLearned: string | null = null;
    if (!this.#learnedPublishedNames) {
      notLearned = await this.#learnPublishedNames(this.#latest!.domain);
      this.#learnedPublishedNames = notLearned === null;
      if (this.#closed) return;
    }
    // Read after the lookup above, which a newer view may have overtaken.
    const view = this.#latest!;
    this.#attempt++;
    const attempt = this.#attempt;
    const targets = ipaddrNames(view);
    const stale = [...this.#mayExist].filter((name) => !targets.includes(name));
    const outcome = await this.#exchange(view, stale);
    this.#sending = false;
    if (this.#closed) return;

    if (outcome.ok) {
      this.#mayExist = new Set(targets);
      this.#accepted = view;
      // From now on this publisher knows what it published; asking again would not find older names.
      this.#learnedPublishedNames = true;
    } else {
      // The master may have applied an update whose answer was lost, so its names may exist.
      for (const name of targets) this.#mayExist.add(name);
      this.#trimMayExist();
    }
    this.#lastResult = outcome.ok
      ? { ok: true, view, attempt }
      : {
          ok: false,
          view,
          attempt,
          reason: outcome.reason,
          rcode: outcome.rcode,
          tsigError: outcome.tsigError,
        };

    if (view !== this.#latest) {
      this.#start();
      return;
    }
    const fields = { master: this.#masterText, zone: view.domain, attempt };
    if (outcome.ok) {
      if (notLearned !== null) {
        this.#log.warn(
          { ...fields, reason: notLearned },
          "could not read the published SRV targets back, so ipaddr names of an earlier run may remain",
        );
      }
      const rs = viewRecordSets(view);
      this.#log.info(
        { ...fields, a: rs.a, aaaa: rs.aaaa, srv: rs.srv.length, deleted: stale.length },
        "the master accepted the view",
      );
      this.#settle(null);
      return;
    }
    const failure = { ...fields, rcode: outcome.rcode, tsigError: outcome.tsigError };
    if (attempt >= this.#attemptsMax || !outcome.retry) {
      this.#gaveUp = true;
      this.#log.error(failure, `${outcome.reason}; giving up on this view until the next one`);
      this.#settle(new Error(this.#failureText()));
      return;
    }
    const retryInMs = Math.min(this.#retryDelayMsMax, this.#retryDelayMsMin * 2 ** Math.min(attempt - 1, 30));
    const message = `${outcome.reason}; retrying in ${retryInMs} ms`;
    if (outcome.rcode !== undefined || outcome.tsigError !== undefined) {
      this.#log.error({ ...failure, retryInMs }, message);
    } else this.#log.warn({ ...failure, retryInMs }, message);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#start();
    }, retryInMs);
  }

  /** One UPDATE over TCP; never throws. */
  async #exchange(view: ClusterView, stale: readonly string[]): Promise<Outcome> {
    const id = randomInt(0x10000);
    const message = updateMessage(view, stale, this.#ttlSeconds, id);
    if (message.length > UPDATE_BYTES_MAX) {
      return fail(
        `the UPDATE for the view has ${message.length} bytes, more than ${UPDATE_BYTES_MAX}`,
        false,
      );
    }
    const answer = await this.#roundTrip(message, OPCODE_UPDATE);
    if (!answer.ok) return answer;
    const { rcode, check } = answer;
    if (rcode === "NOERROR" && check.ok) return { ok: true };
    const tsigError = check.ok ? undefined : check.tsigError;
    return { ok: false, retry: true, rcode, tsigError, reason: refusalText(rcode, check, view, this.#key) };
  }

  /**
   * Adds the SRV targets the master holds to the names to delete. They are what an earlier process
   * published, and this one has no other way to learn them (RFC 2136 cannot delete by pattern).
   */
  async #learnPublishedNames(domain: string): Promise<string | null> {
    const message = dnsPacket.encode({
      type: "query",
      id: randomInt(0x10000),
      questions: [{ name: srvName(domain), type: "SRV", class: "IN" }],
    });
    const answer = await this.#roundTrip(message, OPCODE_QUERY);
    if (!answer.ok) return answer.reason;
    if (!answer.check.ok) return answer.check.reason;
    if (answer.rcode !== "NOERROR" && answer.rcode !== "NXDOMAIN") {
      return `the master answered ${answer.rcode}`;
    }
    let packet: ReturnType<typeof dnsPacket.decode>;
    try {
      packet = dnsPacket.decode(answer.response);
    } catch (e) {
      return `the master's answer is malformed: ${(e as Error).message}`;
    }
    for (const rr of packet.answers ?? []) {
      if (rr.type !== "SRV") continue;
      const target = rr.data.target.toLowerCase().replace(/\.$/, "");
      // Only our own names: an operator's SRV target elsewhere in the zone is not ours to delete.
      if (ipFromIpaddrName(target, domain) !== null) this.#mayExist.add(target);
    }
    this.#trimMayExist();
    return null;
  }

  /** Signs `message`, sends it and checks that the answer is for it; never throws. */
  async #roundTrip(
    message: Buffer,
    opcode: number,
  ): Promise<
    | { ok: true; response: Buffer; rcode: string; check: TsigVerification }
    | { ok: false; retry: true; reason: string }
  > {
    const id = message.readUInt16BE(0);
    const { signed, mac } = signMessage(message, this.#key, { timeSignedSeconds: this.#nowSeconds() });
    let response: Buffer;
    try {
      response = await this.#send(signed);
    } catch (e) {
      return { ok: false, retry: true, reason: `could not reach the master: ${(e as Error).message}` };
    }
    const flags = response.length >= HEADER_BYTES ? response.readUInt16BE(2) : 0;
    if (response.length < HEADER_BYTES || response.readUInt16BE(0) !== id || (flags & 0x8000) === 0) {
      return { ok: false, retry: true, reason: "the master's answer is not an answer to our message" };
    }
    if (((flags >> 11) & 0xf) !== opcode) {
      return { ok: false, retry: true, reason: "the master's answer has another opcode" };
    }
    const rcode = RCODES[flags & 0xf] ?? `RCODE${flags & 0xf}`;
    const check = verifyResponse(response, this.#key, mac, { nowSeconds: this.#nowSeconds() });
    return { ok: true, response, rcode, check };
  }

  #send(signed: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.#master.host, port: this.#master.port });
      this.#socket = socket;
      const chunks: Buffer[] = [];
      let received = 0;
      const done = (error: Error | null, response?: Buffer): void => {
        clearTimeout(timer);
        socket.destroy();
        if (this.#socket === socket) this.#socket = null;
        if (error !== null) reject(error);
        else resolve(response!);
      };
      const timer = setTimeout(
        () => done(new Error(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      socket.setNoDelay(true);
      socket.on("connect", () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(signed.length);
        socket.write(Buffer.concat([length, signed]));
      });
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received < 2) return;
        const all = Buffer.concat(chunks);
        const expected = 2 + all.readUInt16BE(0);
        // The length prefix bounds what is kept: one answer, at most 64 KiB.
        if (received >= expected) done(null, all.subarray(2, expected));
      });
      socket.on("error", (e) => done(e));
      socket.on("close", () => done(new Error("the master closed the connection without answering")));
    });
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  #trimMayExist(): void {
    // Sets iterate in insertion order, so the oldest names go first; those are the least likely to exist.
    for (const name of this.#mayExist) {
      if (this.#mayExist.size <= STALE_NAMES_MAX) break;
      this.#mayExist.delete(name);
    }
  }

  #settle(error: Error | null): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (error === null) w.resolve();
      else w.reject(error);
    }
  }

  #failureText(): string {
    const r = this.#lastResult;
    return r === null || r.ok ? "the view was not published" : `the view was not published: ${r.reason}`;
  }
}

type Outcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly retry: boolean;
      readonly reason: string;
      readonly rcode?: string | undefined;
      readonly tsigError?: string | undefined;
    };

function fail(reason: string, retry: boolean): Outcome {
  return { ok: false, retry, reason };
}

/** Why the master did not accept the update, with what to check. */
function refusalText(rcode: string, check: TsigVerification, view: ClusterView, key: TsigKey): string {
  const tsigError = check.ok ? undefined : check.tsigError;
  const refused = `the master refused the update (${rcode}${tsigError ? `, TSIG ${tsigError}` : ""})`;
  if (rcode === "NOERROR") {
    return `the master's answer failed TSIG verification: ${check.ok ? "" : check.reason}`;
  }
  if (tsigError === "BADSIG") {
    return `${refused}: the secret of TSIG key "${key.name}" differs from the master's`;
  }
  if (tsigError === "BADKEY") {
    return `${refused}: the master does not know TSIG key "${key.name}" with algorithm ${key.algorithm}`;
  }
  if (tsigError === "BADTIME") return `${refused}: our clock and the master's differ by more than the fudge`;
  if (rcode === "REFUSED") {
    return (
      `${refused}: zone ${view.domain} does not allow updates signed with key "${key.name}" ` +
      "(allow-update / update-policy), or a name fails the master's check-names (see its log)"
    );
  }
  if (rcode === "NOTAUTH") {
    return `${refused}: the master is not authoritative (primary) for zone ${view.domain}`;
  }
  return `${refused}${tsigError ? "" : "; check the TSIG key and the zone's update policy"}`;
}

/** The `ipaddr` names the view's SRV records point at. */
function ipaddrNames(view: ClusterView): string[] {
  return [...new Set(viewRecordSets(view).srv.map((s) => s.target))];
}

/**
 * The UPDATE (RFC 2136) that replaces the view's record sets: deletes the apex A, AAAA and TXT, the
 * SRV set and every `ipaddr` name that may exist, then adds the view's records. SOA and NS stay.
 */
function updateMessage(view: ClusterView, stale: readonly string[], ttl: number, id: number): Buffer {
  const domain = view.domain;
  const srv = srvName(domain);
  const rs = viewRecordSets(view);
  const targets = ipaddrNames(view);
  const updates: Answer[] = [
    deleteRrset(domain, "A"),
    deleteRrset(domain, "AAAA"),
    deleteRrset(domain, "TXT"),
    deleteRrset(srv, "SRV"),
    ...[...stale, ...targets].map((name) => deleteRrset(name, "ANY")),
    ...rs.a.map((ip): Answer => ({ name: domain, type: "A", class: "IN", ttl, data: ip })),
    ...rs.aaaa.map((ip): Answer => ({ name: domain, type: "AAAA", class: "IN", ttl, data: ip })),
    ...rs.srv.map(
      (s): Answer => ({
        name: srv,
        type: "SRV",
        class: "IN",
        ttl,
        data: { priority: 0, weight: 100, port: s.port, target: s.target },
      }),
    ),
    ...targets.map((name): Answer => {
      const ip = ipFromIpaddrName(name, domain)!;
      return { name, type: isIP(ip) === 6 ? "AAAA" : "A", class: "IN", ttl, data: ip };
    }),
  ];
  if (rs.txt.length > 0) {
    updates.push({ name: domain, type: "TXT", class: "IN", ttl, data: txtChunks(rs.txt) });
  }
  return dnsPacket.encode({
    type: "query",
    id,
    flags: OPCODE_UPDATE << 11,
    questions: [{ name: domain, type: "SOA", class: "IN" }],
    answers: [], // no prerequisites: the view replaces whatever is there
    authorities: updates,
    additionals: [],
  });
}

/**
 * "Delete an RRset" (RFC 2136 section 2.5.2): class ANY, TTL 0, no RDATA; type ANY deletes every
 * RRset of the name. dns-packet's typed encoders would write RDATA, so the type goes as a raw code.
 */
function deleteRrset(name: string, type: keyof typeof TYPE_CODES): Answer {
  const raw = { name, type: `UNKNOWN_${TYPE_CODES[type]}`, class: "ANY", ttl: 0, data: Buffer.alloc(0) };
  return raw as unknown as Answer;
}

function assertInt(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} must be an integer in [${min}, ${max}], not ${value}`);
  }
}
