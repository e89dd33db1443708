import type { Change, ResourceRecordSet, Route53Client } from "@aws-sdk/client-route-53";
import type { ClusterView } from "./view.ts";
import { ipFromIpaddrName, normalizeDomain, srvName, txtChunks, viewRecordSets } from "./view.ts";

/** Route53 is global; its API is signed for this region whatever the zone. */
const REGION_DEFAULT = "us-east-1";
const TTL_SECONDS_DEFAULT = 600;
/** Route53 refuses TTLs above 2^31 - 1 seconds. */
const TTL_SECONDS_MAX = 2_147_483_647;
const RETRY_DELAY_MS_MIN = 1_000;
/** Failures are retried for as long as the publisher runs, but never more often than this apart. */
const RETRY_DELAY_MS_MAX = 60_000;
/** One API call, from connecting to the last byte of the answer. */
const REQUEST_TIMEOUT_MS = 15_000;
const CONNECTION_TIMEOUT_MS = 5_000;

/** The logger a publisher writes to; pino's Logger fits. */
export interface Route53Log {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** How a Route53Publisher reaches the hosted zone. */
export interface Route53PublisherOptions {
  /** The zone, which must exist in Route53 as a hosted zone of that exact name. */
  readonly domain: string;
  /** Explicit keys (from `concoord route53`); without them the SDK's default chain decides. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region?: string;
  /** Another API endpoint, e.g. a local fake in tests or a private gateway. */
  readonly endpoint?: string;
  readonly ttlSeconds?: number;
  readonly retryDelayMsMin?: number;
  readonly retryDelayMsMax?: number;
  readonly log: Route53Log;
}

/** One record set as Route53 stores it: a fully qualified name, a type and its values. */
export interface Route53RecordSet {
  /** Fully qualified, with the trailing dot Route53 answers with. */
  readonly name: string;
  readonly type: "A" | "AAAA" | "SRV" | "TXT";
  readonly values: readonly string[];
}

/**
 * The record sets a view stands for in Route53: A and AAAA at the apex (replicas), TXT at the apex
 * (every node, in quoted chunks), SRV at `_concoord._tcp`, and an A or AAAA set for every SRV target so
 * the targets resolve without our own name servers. Empty sets are left out.
 *
 * @example
 * ```ts
 * route53RecordSets(view)[0]; // { name: "counterdomain.test.", type: "A", values: ["127.0.0.1"] }
 * ```
 */
export function route53RecordSets(view: ClusterView): Route53RecordSet[] {
  const sets = viewRecordSets(view);
  const apex = `${view.domain}.`;
  const result: Route53RecordSet[] = [];
  const add = (name: string, type: Route53RecordSet["type"], values: readonly string[]): void => {
    if (values.length > 0) result.push({ name, type, values });
  };
  add(apex, "A", sets.a);
  add(apex, "AAAA", sets.aaaa);
  add(apex, "TXT", sets.txt.length > 0 ? [txtChunks(sets.txt).map(quoteTxt).join(" ")] : []);
  add(
    `${srvName(view.domain)}.`,
    "SRV",
    sets.srv.map((s) => `0 100 ${s.port} ${s.target}.`),
  );
  const targets = [...new Set(sets.srv.map((s) => s.target))].sort();
  for (const target of targets) {
    const ip = ipFromIpaddrName(target, view.domain);
    if (ip === null) throw new Error(`SRV target ${target} is not an ipaddr name of ${view.domain}`);
    add(`${target}.`, ip.includes(":") ? "AAAA" : "A", [ip]);
  }
  return result;
}

/** Route53 wants each TXT character-string in double quotes, with `"` and `\` escaped. */
function quoteTxt(chunk: string): string {
  return `"${chunk.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

const CREDENTIALS_HINT =
  "; store keys with `concoord route53 --id ID --key KEY` or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";

type Route53Sdk = typeof import("@aws-sdk/client-route-53");

/** Thrown when Route53 mode runs without the optional SDK installed; retrying cannot help. */
class Route53SdkMissingError extends Error {
  override readonly name = "Route53SdkMissingError";
}

interface Waiter {
  readonly version: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Keeps a Route53 hosted zone in step with the cluster view: every `publish` UPSERTs the view's record
 * sets in one change batch, and DELETEs the sets an earlier publish made that the view no longer has.
 * Only the newest view is sent; failures are logged and retried with capped exponential backoff. The
 * AWS SDK is loaded on first use, so nothing else in the program pays for it.
 *
 * @example
 * ```ts
 * const publisher = new Route53Publisher({ domain: "counterdomain.test", log });
 * publisher.publish(view);
 * await publisher.whenPublished();
 * await publisher.close();
 * ```
 */
export class Route53Publisher {
  readonly #domain: string;
  readonly #options: Route53PublisherOptions;
  readonly #log: Route53Log;
  readonly #ttlSeconds: number;
  readonly #retryDelayMsMin: number;
  readonly #retryDelayMsMax: number;
  readonly #abort = new AbortController();
  #sdk: Route53Sdk | null = null;
  #client: Route53Client | null = null;
  #zoneId: string | null = null;
  /** What this publisher last put in the zone, by `TYPE name`; null when that is unknown. */
  #published: Map<string, Route53RecordSet> | null = new Map();
  #newest: ClusterView | null = null;
  #newestVersion = 0;
  #acceptedVersion = 0;
  #waiters: Waiter[] = [];
  #looping = false;
  #loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | null = null;
  #fatal: Error | null = null;
  #closed = false;

  constructor(options: Route53PublisherOptions) {
    this.#domain = normalizeDomain(options.domain);
    this.#options = options;
    this.#log = options.log;
    this.#ttlSeconds = options.ttlSeconds ?? TTL_SECONDS_DEFAULT;
    this.#retryDelayMsMin = options.retryDelayMsMin ?? RETRY_DELAY_MS_MIN;
    this.#retryDelayMsMax = options.retryDelayMsMax ?? RETRY_DELAY_MS_MAX;
    if (!Number.isInteger(this.#ttlSeconds) || this.#ttlSeconds < 0 || this.#ttlSeconds > TTL_SECONDS_MAX) {
      throw new Error(`ttlSeconds must be an integer from 0 to ${TTL_SECONDS_MAX}, got ${this.#ttlSeconds}`);
    }
    if (!(this.#retryDelayMsMin > 0 && this.#retryDelayMsMin <= this.#retryDelayMsMax)) {
      throw new Error(
        `need 0 < retryDelayMsMin <= retryDelayMsMax, got ${this.#retryDelayMsMin} and ${this.#retryDelayMsMax}`,
      );
    }
    if (options.credentials) {
      const { accessKeyId, secretAccessKey } = options.credentials;
      if (!accessKeyId || !secretAccessKey) throw new Error("Route53 credentials need a key id and a secret");
    }
  }

  /** Asks for `view` to be published; a view that arrives before the previous one went out replaces it. */
  publish(view: ClusterView): void {
    if (this.#closed) throw new Error("Route53Publisher.publish after close");
    if (view.domain !== this.#domain) {
      throw new Error(`Route53 publisher for ${this.#domain} was given a view of ${view.domain}`);
    }
    this.#newest = view;
    this.#newestVersion++;
    if (this.#fatal || this.#looping) return;
    this.#looping = true;
    this.#loop = this.#run();
  }

  /**
   * Resolves once the newest view published so far was accepted by Route53 (which then spreads it to
   * its name servers within a minute or so); rejects if the publisher closes or cannot ever publish.
   */
  whenPublished(): Promise<void> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#acceptedVersion === this.#newestVersion) return Promise.resolve();
    if (this.#closed) return Promise.reject(closedError(this.#domain));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ version: this.#newestVersion, resolve, reject });
    });
  }

  /** Stops publishing: cancels a request in flight and a pending retry, and rejects waiters. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    this.#client?.destroy();
    this.#client = null;
    this.#rejectWaiters(closedError(this.#domain));
  }

  async #run(): Promise<void> {
    let delayMs = this.#retryDelayMsMin;
    let attempt = 0;
    for (;;) {
      // Checked and cleared in one synchronous step, so a publish() that follows starts a new loop.
      if (this.#closed || this.#acceptedVersion === this.#newestVersion) {
        this.#looping = false;
        return;
      }
      const version = this.#newestVersion;
      const view = this.#newest!;
      try {
        await this.#publishOnce(view);
        this.#accept(version);
        delayMs = this.#retryDelayMsMin;
        attempt = 0;
      } catch (error) {
        if (this.#closed) continue;
        attempt++;
        if (error instanceof Route53SdkMissingError) {
          this.#log.error({ domain: this.#domain }, error.message);
          this.#fatal = error;
          this.#rejectWaiters(error);
          this.#looping = false;
          return;
        }
        this.#forgetOnError(error);
        const hint = (error as Error | null)?.name === "CredentialsProviderError" ? CREDENTIALS_HINT : "";
        this.#log.error(
          { domain: this.#domain, attempt, retryInMs: delayMs, err: describeError(error) },
          `Route53: publishing the view of ${this.#domain} failed (${describeError(error)})${hint}; retrying`,
        );
        await this.#sleep(delayMs);
        delayMs = Math.min(delayMs * 2, this.#retryDelayMsMax);
      }
    }
  }

  async #publishOnce(view: ClusterView): Promise<void> {
    const sdk = await this.#loadSdk();
    this.#client ??= new sdk.Route53Client({
      region: this.#options.region ?? REGION_DEFAULT,
      ...(this.#options.endpoint ? { endpoint: this.#options.endpoint } : {}),
      ...(this.#options.credentials ? { credentials: { ...this.#options.credentials } } : {}),
      // The loop around this call retries, logs and backs off; the SDK's own retries would hide failures.
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    });
    const client = this.#client;
    this.#zoneId ??= await this.#findZoneId(sdk, client);
    const zoneId = this.#zoneId;

    const sets = route53RecordSets(view);
    const next = new Map(sets.map((s) => [setKey(s), s]));
    const previous = this.#published;
    if (previous !== null && sameSets(previous, next)) return;
    const changes: Change[] = [];
    // Route53 deletes a set only when given its exact values, which are the ones this publisher wrote.
    for (const [key, set] of previous ?? []) {
      if (!next.has(key)) changes.push({ Action: "DELETE", ResourceRecordSet: this.#recordSet(set) });
    }
    for (const set of sets) changes.push({ Action: "UPSERT", ResourceRecordSet: this.#recordSet(set) });
    if (changes.length === 0) return;

    const result = await client.send(
      new sdk.ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Comment: `concoord view of ${this.#domain}`, Changes: changes },
      }),
      { abortSignal: this.#abort.signal },
    );
    this.#published = next;
    this.#log.info(
      {
        domain: this.#domain,
        zoneId,
        upserts: sets.length,
        deletes: changes.length - sets.length,
        changeId: result.ChangeInfo?.Id,
        status: result.ChangeInfo?.Status,
      },
      `Route53: published the view of ${this.#domain}`,
    );
  }

  async #findZoneId(sdk: Route53Sdk, client: Route53Client): Promise<string> {
    const name = `${this.#domain}.`;
    const result = await client.send(new sdk.ListHostedZonesByNameCommand({ DNSName: name }), {
      abortSignal: this.#abort.signal,
    });
    // The list starts at `name` but goes on with the zones after it; only an exact match is ours.
    const zones = (result.HostedZones ?? []).filter((z) => z.Name?.toLowerCase() === name && z.Id);
    // A public zone and private ones may share a name; the public one is what clients resolve.
    const candidates = zones.length > 1 ? zones.filter((z) => z.Config?.PrivateZone !== true) : zones;
    if (candidates.length === 0) throw new Error(`no hosted zone named ${name} in Route53`);
    if (candidates.length > 1) {
      const ids = candidates.map((z) => z.Id).join(", ");
      throw new Error(`several public hosted zones named ${name} in Route53 (${ids}); keep one`);
    }
    const id = candidates[0]!.Id!;
    this.#log.info({ domain: this.#domain, zoneId: id }, `Route53: found the hosted zone ${name}`);
    return id;
  }

  #recordSet(set: Route53RecordSet): ResourceRecordSet {
    return {
      Name: set.name,
      Type: set.type,
      TTL: this.#ttlSeconds,
      ResourceRecords: set.values.map((Value) => ({ Value })),
    };
  }

  async #loadSdk(): Promise<Route53Sdk> {
    if (this.#sdk) return this.#sdk;
    try {
      this.#sdk = await import("@aws-sdk/client-route-53");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
        throw new Route53SdkMissingError(
          "Route53 mode needs the optional package @aws-sdk/client-route-53; install it with npm install @aws-sdk/client-route-53",
        );
      }
      throw error;
    }
    return this.#sdk;
  }

  /** After some failures what the zone holds is no longer what this publisher believes. */
  #forgetOnError(error: unknown): void {
    const name = (error as Error | null)?.name;
    // A zone deleted and created again has a new id.
    if (name === "NoSuchHostedZone") this.#zoneId = null;
    // A DELETE whose values no longer match fails the whole batch; the next attempt only UPSERTs.
    if (name === "InvalidChangeBatch") this.#published = null;
  }

  #accept(version: number): void {
    this.#acceptedVersion = version;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) {
      if (w.version <= version) w.resolve();
      else this.#waiters.push(w);
    }
  }

  #rejectWaiters(error: Error): void {
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) w.reject(error);
  }

  #sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, delayMs);
      this.#wake = done;
    });
  }
}

function setKey(set: Route53RecordSet): string {
  return `${set.type} ${set.name}`;
}

function sameSets(
  a: ReadonlyMap<string, Route53RecordSet>,
  b: ReadonlyMap<string, Route53RecordSet>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [key, set] of a) {
    const other = b.get(key);
    if (!other || other.values.join("\n") !== set.values.join("\n")) return false;
  }
  return true;
}

function closedError(domain: string): Error {
  return new Error(`Route53 publisher for ${domain} closed before the newest view was published`);
}

/** One line for the log: the Route53 error code (or Node's) with its message and HTTP status. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = error.name !== "Error" ? `${error.name}: ` : "";
  return `${code}${error.message}${status ? ` (HTTP ${status})` : ""}`;
}
