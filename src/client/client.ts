import { randomInt } from "node:crypto";
import type { Command, CommandBody, Reply } from "../core/command.ts";
import type { ConfChange, Member } from "../core/config.ts";
import type { Bootstrap } from "../dns/resolve.ts";
import { parseBootstrap, resolveCluster } from "../dns/resolve.ts";
import type { Address } from "../host/address.ts";
import { parseAddress } from "../host/address.ts";
import type { FrameConnection } from "../net/connection.ts";
import { dialNode } from "../net/dial.ts";
import type { Frame, ObjectInfo, WelcomeFrame } from "../net/frames.ts";
import type { Parked } from "../object/api.ts";
import { decodeResult, encodeCall } from "../object/index.ts";
import { ConnectionError, RemoteError, SessionExpiredError, TimeoutError } from "./errors.ts";
import { LowestOutstanding } from "./lowest-outstanding.ts";

/** How a client behaves. */
export interface ConnectOptions {
  /** How long one call may take, retries included, before it rejects with a Timeout (default 5000). */
  readonly timeoutMs?: number;
  /** How long to wait for one node to answer `hello` (default 1000). */
  readonly connectTimeoutMs?: number;
  /** Calls in flight at once; more wait in line (default 1024, the servers' per-session reply limit). */
  readonly inFlightMax?: number;
  /**
   * The session's lease (default 10000): if the cluster hears nothing from this client for that long,
   * the session expires and objects release what it held (locks, permits, claimed jobs).
   */
  readonly sessionTtlMs?: number;
  /**
   * The name server that resolves a domain bootstrap (`HOST:PORT`, e.g. `127.0.0.1:5353`); by default
   * the system's resolver.
   */
  readonly dnsServer?: string;
}

/**
 * The methods of `T`, each returning a Promise of its result: what `client.object<T>()` gives.
 *
 * @example
 * ```ts
 * const counter: Remote<Counter> = client.object<Counter>();
 * await counter.increment();
 * ```
 */
export type Remote<T> = {
  // biome-ignore lint/suspicious/noExplicitAny: a method of any signature is mapped
  [K in keyof T as T[K] extends (...args: any[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Unparked<Awaited<R>>>
    : never;
} & {
  /** Re-runs the object's constructor on the live replicated object. */
  __concoordinit__(...args: unknown[]): Promise<void>;
};

/** What a parked call resolves to: `number | Parked<number>` is a `number` for the caller. */
export type Unparked<R> = R extends Parked<infer V> ? V : R;

interface PendingCall {
  readonly kind: "command" | "read";
  /** The session sequence number (commands) or a local id (reads). */
  readonly key: number;
  readonly body: CommandBody | null;
  readonly query: Uint8Array | null;
  readonly label: string;
  /** When the call gives up (`performance.now()` time). */
  readonly deadlineMs: number;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  /** The frames this call was sent in (more than one after a resend); ids are never reused. */
  readonly frameIds: number[];
}

/** A node silent for this long (no reply, no keepalive answer) is given up for another. */
const SILENCE_MS_MAX = 1000;
/** How often the client proves it is alive, and checks that its node is. */
const KEEPALIVE_MS = 250;
/** Pause before retrying after `Busy` or when no node knows the leader. */
const RETRY_PAUSE_MS = 20;

/**
 * A connection to a concoord cluster: it finds the leader (following hints), holds a session, pipelines
 * calls over one TCP connection, and retries after a lost connection or a timeout with the same
 * `(clientId, seq)`, so each call is applied at most once even across leader changes.
 *
 * @example
 * ```ts
 * const client = await connect("127.0.0.1:14000,127.0.0.1:14001", { timeoutMs: 5000 });
 * const counter = client.object<Counter>();
 * await counter.increment();
 * await client.close();
 * ```
 */
export class Client {
  #bootstrap: Address[];
  /** A domain bootstrap, resolved again whenever the client looks for a node (the view may have moved). */
  readonly #domain: string | null;
  readonly #dnsServer: string | undefined;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #inFlightMax: number;
  readonly #sessionTtlMs: number;
  #lastHeardMs = 0;
  #keepaliveTimer: NodeJS.Timeout | null = null;
  #members: Member[] = [];
  #identity = "";
  #objects = new Map<string, ObjectInfo>();
  #conn: FrameConnection | null = null;
  #connecting: Promise<void> | null = null;
  #leaderHint: number | null = null;
  #nodeId: number | null = null;
  #rotation = 0;
  #sessionId = 0;
  #seq = 0;
  #nextFrameId = 1;
  #nextReadKey = 1;
  /** Frame id → the call it carried (several attempts of one call may be outstanding). */
  readonly #frames = new Map<number, PendingCall>();
  /** Calls in flight, in submission order, which is also deadline order (one timeout for all). */
  readonly #calls = new Map<number, PendingCall>();
  /** One timer for the oldest call's deadline, rather than one per call. */
  #deadlineTimer: NodeJS.Timeout | null = null;
  /** Seqs of the commands in flight, for `ackedThrough` (the lowest one still waiting). */
  readonly #commandSeqs: LowestOutstanding;
  readonly #isCommandInFlight = (seq: number): boolean => this.#calls.has(keyOfCall(seq, CALL_KEY_COMMAND));
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  private constructor(bootstrap: Address[], domain: string | null, options: ConnectOptions) {
    this.#bootstrap = bootstrap;
    this.#domain = domain;
    this.#dnsServer = options.dnsServer;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 1000;
    this.#inFlightMax = options.inFlightMax ?? 1024;
    // Room for every call in flight and as many settled ones before the heap is compacted.
    this.#commandSeqs = new LowestOutstanding({ sizeMax: 2 * this.#inFlightMax + 64 });
    this.#sessionTtlMs = options.sessionTtlMs ?? 10_000;
  }

  /** Connects and opens a session. */
  static async open(bootstrap: string, options: ConnectOptions = {}): Promise<Client> {
    let parsed: Bootstrap;
    try {
      parsed = parseBootstrap(bootstrap);
    } catch (error) {
      throw new ConnectionError(`bad bootstrap "${bootstrap}": ${(error as Error).message}`);
    }
    let addresses: Address[];
    if (parsed.kind === "domain") {
      try {
        addresses = await resolveCluster(
          parsed.domain,
          options.dnsServer ? { dnsServer: options.dnsServer } : {},
        );
      } catch (error) {
        throw new ConnectionError(`bootstrap ${parsed.domain}: ${(error as Error).message}`);
      }
    } else {
      addresses = [...parsed.addresses];
    }
    const client = new Client(addresses, parsed.kind === "domain" ? parsed.domain : null, options);
    await client.#ensureConnected();
    await client.#openSession();
    client.#keepaliveTimer = setInterval(() => client.#keepalive(), KEEPALIVE_MS);
    client.#keepaliveTimer.unref();
    return client;
  }

  /** The remote object `name` (by default the only one, or the one named after its class). */
  object<T>(name?: string): Remote<T> {
    const objectName = name ?? this.#defaultObject();
    return new Proxy({} as Remote<T>, {
      get: (_target, property) => {
        if (typeof property !== "string" || property === "then") return undefined;
        return (...args: unknown[]) => this.call(objectName, property, args);
      },
    });
  }

  /** Calls `method` on object `objectName` with msgpack-encodable arguments. */
  async call(objectName: string, method: string, args: readonly unknown[]): Promise<unknown> {
    if (this.#closed) throw new ConnectionError("client is closed");
    const op = encodeCall({ object: objectName, method, args });
    const readOnly = this.#objects.get(objectName)?.readOnlyMethods.includes(method) ?? false;
    if (this.#calls.size >= this.#inFlightMax) await this.#slot();
    const reply = readOnly
      ? await this.#submit("read", null, op, `${objectName}.${method}`)
      : await this.#submit("command", { kind: "op", op }, null, `${objectName}.${method}`);
    if (!reply.ok) throw new RemoteError(reply.error, reply.message);
    if (!("result" in reply)) throw new RemoteError("BadReply", "the node answered without a result");
    const result = decodeResult(reply.result);
    if (!result.ok) throw new RemoteError(result.error.name, result.error.message);
    return result.value;
  }

  /** Closes the connection; calls still in flight reject. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#keepaliveTimer) clearInterval(this.#keepaliveTimer);
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    for (const call of [...this.#calls.values()])
      this.#settle(call, null, new ConnectionError("client closed"));
    this.#conn?.close();
    this.#conn = null;
  }

  /** The members as the cluster described them, and the node this client talks to. */
  get view(): { members: readonly Member[]; nodeId: number | null; sessionId: number } {
    return { members: this.#members, nodeId: this.#nodeId, sessionId: this.#sessionId };
  }

  /**
   * Changes the membership through the log; resolves once the change is in effect (α slots after it
   * is decided), rejects with a RemoteError `ReconfigRefused` saying why it was refused.
   *
   * @example
   * ```ts
   * await client.reconfigure({ kind: "remove", id: 3 });
   * ```
   */
  async reconfigure(change: ConfChange): Promise<void> {
    if (this.#closed) throw new ConnectionError("client is closed");
    await this.#slot();
    const reply = await this.#submit(
      "command",
      { kind: "reconfig", change },
      null,
      `membership change (${change.kind})`,
    );
    if (!reply.ok) throw new RemoteError(reply.error, reply.message);
  }

  /** The cluster identity the node stated in its welcome. */
  get identity(): string {
    return this.#identity;
  }

  /** Names of the objects the cluster hosts. */
  get objectNames(): string[] {
    return [...this.#objects.keys()];
  }

  #defaultObject(): string {
    const names = [...this.#objects.keys()];
    if (names.length === 1) return names[0]!;
    throw new Error(
      `the cluster hosts ${names.length} objects (${names.join(", ")}): name one in client.object(name)`,
    );
  }

  /** Waits until fewer than `inFlightMax` calls are in flight (bounded pipelining). */
  async #slot(): Promise<void> {
    while (this.#calls.size >= this.#inFlightMax)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  async #openSession(): Promise<void> {
    const nonce = randomInt(1, 2 ** 47);
    const reply = await this.#submit(
      "command",
      { kind: "open", ttlMs: this.#sessionTtlMs },
      null,
      "open session",
      nonce,
    );
    if (!reply.ok || !("sessionId" in reply)) {
      throw new ConnectionError(`could not open a session: ${reply.ok ? "unexpected reply" : reply.message}`);
    }
    this.#sessionId = reply.sessionId;
    this.#seq = 0;
  }

  #submit(
    kind: "command" | "read",
    body: CommandBody | null,
    query: Uint8Array | null,
    label: string,
    openNonce?: number,
  ): Promise<Reply> {
    const key = kind === "read" ? this.#nextReadKey++ : (openNonce ?? ++this.#seq);
    return new Promise<Reply>((resolve, reject) => {
      const call: PendingCall = {
        kind,
        key,
        body,
        query,
        label,
        resolve,
        reject,
        deadlineMs: performance.now() + this.#timeoutMs,
        frameIds: [],
      };
      this.#calls.set(callKey(call, openNonce !== undefined), call);
      if (kind === "command" && openNonce === undefined) this.#commandSeqs.add(key, this.#isCommandInFlight);
      this.#deadlineTimer ??= setTimeout(() => this.#expireCalls(), this.#timeoutMs);
      this.#send(call);
    });
  }

  /**
   * Rejects the calls whose deadline has passed and waits for the next one. Every call has the same
   * timeout and `#calls` keeps submission order, so the expired calls are a prefix of it.
   */
  #expireCalls(): void {
    this.#deadlineTimer = null;
    const nowMs = performance.now();
    for (const call of this.#calls.values()) {
      if (call.deadlineMs > nowMs) {
        this.#deadlineTimer = setTimeout(() => this.#expireCalls(), call.deadlineMs - nowMs);
        return;
      }
      this.#settle(
        call,
        null,
        new TimeoutError(
          `${call.label} did not complete within ${this.#timeoutMs} ms; its outcome is unknown`,
        ),
      );
    }
  }

  #send(call: PendingCall): void {
    if (!this.#calls.has(callKey(call, call.body?.kind === "open"))) return;
    const conn = this.#conn;
    if (!conn || conn.closed) {
      void this.#reconnectThenResend();
      return;
    }
    const id = this.#nextFrameId++;
    this.#frames.set(id, call);
    call.frameIds.push(id);
    const frame: Frame =
      call.kind === "read"
        ? { t: "read", id, query: call.query! }
        : { t: "command", id, command: this.#command(call) };
    conn.send(frame);
  }

  /**
   * Keeps the session's lease and checks the node: a keepalive every {@link KEEPALIVE_MS}; a node that
   * has said nothing for {@link SILENCE_MS_MAX} is dead or cut off, and every call moves elsewhere with
   * the same seq. Calls that wait (a parked lock acquire) do not count as silence.
   */
  #keepalive(): void {
    const conn = this.#conn;
    if (this.#closed || !conn || conn.closed) return;
    if (performance.now() - this.#lastHeardMs > SILENCE_MS_MAX) {
      this.#leaderHint = null;
      conn.close();
      return;
    }
    if (this.#sessionId !== 0) conn.send({ t: "keepalive", sessionId: this.#sessionId });
  }

  #command(call: PendingCall): Command {
    const open = call.body?.kind === "open";
    return {
      clientId: open ? 0 : this.#sessionId,
      seq: call.key,
      ackedThrough: open ? 0 : this.#ackedThrough(),
      body: call.body!,
      // A call that parks is withdrawn by the cluster a little before the client gives up, so the
      // client learns a definite Timeout instead of an unknown outcome.
      timeoutMs: Math.floor(this.#timeoutMs * SERVER_TIMEOUT_SHARE),
    };
  }

  /** Every seq below the lowest one still waiting is done from this client's point of view. */
  #ackedThrough(): number {
    const lowest = this.#commandSeqs.lowest(this.#isCommandInFlight) ?? this.#seq + 1;
    return Math.min(lowest, this.#seq + 1) - 1;
  }

  #settle(call: PendingCall, reply: Reply | null, error?: Error): void {
    const key = callKey(call, call.body?.kind === "open");
    if (this.#calls.get(key) !== call) return;
    this.#calls.delete(key);
    // Nothing left to time out: no timer holds the process open after the last call.
    if (this.#calls.size === 0 && this.#deadlineTimer) {
      clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = null;
    }
    // The call's own frames, not a scan of every frame in flight (that was quadratic in the pipeline).
    for (const id of call.frameIds) if (this.#frames.get(id) === call) this.#frames.delete(id);
    if (reply) call.resolve(reply);
    else call.reject(error ?? new Error("call failed"));
    this.#waiting.shift()?.();
  }

  #onFrame(frame: Frame): void {
    this.#lastHeardMs = performance.now();
    if (frame.t === "keepalive-ack") {
      // Keepalives count only at the leader: follow it, or the lease runs out while we talk to a follower.
      if (frame.leaderId !== null && frame.leaderId !== this.#nodeId) {
        this.#leaderHint = frame.leaderId;
        this.#conn?.close();
      }
      return;
    }
    if (frame.t === "reply") {
      const call = this.#frames.get(frame.id);
      if (!call) return;
      this.#frames.delete(frame.id);
      this.#onReply(call, frame.reply);
      return;
    }
    if (frame.t === "error" && frame.id !== undefined) {
      const call = this.#frames.get(frame.id);
      if (call) this.#settle(call, null, new RemoteError(frame.code, frame.message));
    }
  }

  #onReply(call: PendingCall, reply: Reply): void {
    if (reply.ok) {
      this.#settle(call, reply);
      return;
    }
    switch (reply.error) {
      case "NotLeader": {
        const hint = reply.leaderId ?? null;
        this.#leaderHint = hint !== null && hint !== this.#nodeId ? hint : null;
        // Move every call to the leader at once, rather than one rejection at a time.
        if (this.#conn) this.#conn.close();
        else setTimeout(() => this.#send(call), RETRY_PAUSE_MS);
        return;
      }
      case "Busy":
      case "TooManyInFlight":
        setTimeout(() => this.#send(call), RETRY_PAUSE_MS);
        return;
      case "Timeout":
        this.#settle(call, null, new TimeoutError(`${call.label}: ${reply.message}`));
        return;
      case "SessionExpired":
        if (call.body?.kind === "open") {
          this.#settle(call, reply);
          return;
        }
        this.#sessionLost();
        return;
      default:
        this.#settle(call, reply);
    }
  }

  /** Every call of the lost session has an unknown outcome; later calls get a new session. */
  #sessionLost(): void {
    for (const call of [...this.#calls.values()]) {
      if (call.kind === "command" && call.body?.kind !== "open") {
        this.#settle(
          call,
          null,
          new SessionExpiredError(`${call.label}: the session expired; its outcome is unknown`),
        );
      }
    }
    this.#sessionId = 0;
    void this.#openSession().catch(() => {});
  }

  async #reconnectThenResend(): Promise<void> {
    try {
      await this.#ensureConnected();
    } catch {
      // Every call keeps its deadline: retry until it expires.
      if (this.#calls.size > 0 && !this.#closed) {
        setTimeout(() => void this.#reconnectThenResend(), RETRY_PAUSE_MS * 5);
      }
      return;
    }
    for (const call of this.#calls.values())
      if (!call.frameIds.some((id) => this.#frames.get(id) === call)) this.#send(call);
  }

  /** Connects to the leader if known, else to the members and bootstrap addresses in turn. */
  #ensureConnected(): Promise<void> {
    if (this.#conn && !this.#conn.closed) return Promise.resolve();
    this.#connecting ??= this.#connectSomewhere().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connectSomewhere(): Promise<void> {
    if (this.#domain !== null) {
      try {
        this.#bootstrap = await resolveCluster(
          this.#domain,
          this.#dnsServer ? { dnsServer: this.#dnsServer } : {},
        );
      } catch {
        // The name server is down or behind: the addresses resolved last time and the members still serve.
      }
    }
    const candidates: Address[] = [];
    const hinted = this.#members.find((m) => m.id === this.#leaderHint)?.address;
    if (hinted) candidates.push(parseAddress(hinted));
    const known = [
      ...this.#members.filter((m) => m.replica && m.address).map((m) => parseAddress(m.address!)),
      ...this.#bootstrap,
    ];
    for (let i = 0; i < known.length; i++) candidates.push(known[(this.#rotation + i) % known.length]!);
    this.#rotation++;
    const errors: string[] = [];
    for (const address of candidates) {
      if (this.#closed) throw new ConnectionError("client closed");
      try {
        const welcome = await this.#connectTo(address);
        // A node that names another leader: go there directly (once), so calls are not redirected.
        if (
          welcome.leaderId !== null &&
          welcome.leaderId !== welcome.nodeId &&
          this.#leaderHint !== welcome.leaderId
        ) {
          const leader = welcome.members.find((m) => m.id === welcome.leaderId)?.address;
          if (leader) {
            this.#leaderHint = welcome.leaderId;
            try {
              this.#conn?.close();
              await this.#connectTo(parseAddress(leader));
            } catch {
              await this.#connectTo(address);
            }
          }
        }
        return;
      } catch (error) {
        errors.push(`${address.host}:${address.port}: ${(error as Error).message}`);
      }
    }
    throw new ConnectionError(`cannot reach any node (${errors.join("; ")})`);
  }

  async #connectTo(address: Address): Promise<WelcomeFrame> {
    const { conn, welcome } = await dialNode(address, {
      timeoutMs: this.#connectTimeoutMs,
      onFrame: (frame, c) => {
        if (this.#conn === c) this.#onFrame(frame);
      },
      onClose: (c) => {
        if (this.#conn === c) this.#lost(c);
      },
      // The calls of one turn leave together, whichever client makes them: after a turn that answered
      // several clients, their next calls reach the leader at once and can share a slot.
      sendsAt: "turn",
    });
    this.#adopt(conn, welcome);
    return welcome;
  }

  #adopt(conn: FrameConnection, welcome: WelcomeFrame): void {
    if (this.#conn && this.#conn !== conn) this.#conn.close();
    this.#conn = conn;
    this.#lastHeardMs = performance.now();
    this.#nodeId = welcome.nodeId;
    this.#members = [...welcome.members];
    this.#identity = welcome.identity;
    this.#objects = new Map(welcome.objects.map((o) => [o.name, o]));
  }

  /** The connection dropped: every call in flight is resent elsewhere with the same seq. */
  #lost(conn: FrameConnection): void {
    if (this.#conn !== conn) return;
    this.#conn = null;
    this.#frames.clear();
    if (this.#calls.size > 0 && !this.#closed)
      setTimeout(() => void this.#reconnectThenResend(), RETRY_PAUSE_MS);
  }
}

/** The share of the client's timeout the cluster may keep a call parked. */
const SERVER_TIMEOUT_SHARE = 0.8;

/** The low bits of a call key that say what the call is. */
const CALL_KEY_OPEN = 0;
const CALL_KEY_READ = 1;
const CALL_KEY_COMMAND = 2;

function callKey(call: PendingCall, open: boolean): number {
  return keyOfCall(call.key, open ? CALL_KEY_OPEN : call.kind === "read" ? CALL_KEY_READ : CALL_KEY_COMMAND);
}

function keyOfCall(key: number, kindBits: number): number {
  // A number, not a string: this runs three times per call. Keys stay below 2^50 (open nonces < 2^47).
  return key * 4 + kindBits;
}

/**
 * Connects to a cluster given as `host:port[,host:port...]` and opens a session.
 *
 * @example
 * ```ts
 * const client = await connect("127.0.0.1:14000", { timeoutMs: 5000 });
 * ```
 */
export function connect(bootstrap: string, options: ConnectOptions = {}): Promise<Client> {
  return Client.open(bootstrap, options);
}
