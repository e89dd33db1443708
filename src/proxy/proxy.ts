import type { Server, Socket } from "node:net";
import { createServer } from "node:net";
import type { Logger } from "pino";
import type { Member } from "../core/config.ts";
import type { Address } from "../host/address.ts";
import { parseAddress, parseAddressList } from "../host/address.ts";
import { FrameConnection } from "../net/connection.ts";
import { dialNode } from "../net/dial.ts";
import type { Frame, ObjectInfo, WelcomeFrame } from "../net/frames.ts";
import { PROTOCOL_VERSION } from "../net/frames.ts";

/** The node id a proxy gives itself in `welcome`: it is no member, so no member has it. */
export const PROXY_NODE_ID = 2 ** 31 - 1;
/** Requests waiting for the leader at once, over all clients; past it clients get Busy. */
const PENDING_MAX = 65_536;
/** Pause between attempts to reach the cluster. */
const RETRY_MS = 100;
/** How often the proxy checks its upstream node, and how long that node may stay silent. */
const WATCHDOG_MS = 250;
const SILENCE_MS_MAX = 1000;
/** How long a node may take to answer the proxy's hello. */
const DIAL_TIMEOUT_MS = 1000;

interface Pending {
  readonly client: FrameConnection;
  readonly clientId: number;
  readonly frame: Frame;
}

/**
 * A non-voting node that accepts client connections and forwards their requests to the current leader,
 * following leader changes itself (GeoScale's etcd proxy). Clients may use it as their only bootstrap: it
 * answers `welcome` with no members and no leader, so they stay with it; when the leader moves, the proxy
 * resends the same frames (same `(clientId, seq)`, so nothing runs twice). It is not a member: adding or
 * removing a proxy never touches the cluster's membership.
 *
 * @example
 * ```ts
 * const proxy = await ClusterProxy.start({ bootstrap: "127.0.0.1:14000", listen: { host: "127.0.0.1", port: 15000 }, logger });
 * ```
 */
export class ClusterProxy {
  readonly #server: Server;
  readonly #log: Logger;
  readonly #bootstrap: Address[];
  #members: Member[] = [];
  #objects: ObjectInfo[] = [];
  #identity = "";
  #leaderHint: number | null = null;
  #rotation = 0;
  #upstream: FrameConnection | null = null;
  #upstreamNodeId = 0;
  #upstreamHeardMs = 0;
  #watchdog: NodeJS.Timeout | null = null;
  #connecting = false;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #stopped = false;

  private constructor(server: Server, bootstrap: Address[], log: Logger) {
    this.#server = server;
    this.#bootstrap = bootstrap;
    this.#log = log;
  }

  /** Reaches the cluster once (to learn its identity and objects), then listens for clients. */
  static async start(options: { bootstrap: string; listen: Address; logger: Logger }): Promise<ClusterProxy> {
    const proxy = new ClusterProxy(createServer(), parseAddressList(options.bootstrap), options.logger);
    await proxy.#connectUpstream();
    if (!proxy.#upstream) throw new Error(`cannot reach the cluster at ${options.bootstrap}`);
    proxy.#server.on("connection", (socket) => proxy.#accept(socket));
    proxy.#watchdog = setInterval(() => proxy.#checkUpstream(), WATCHDOG_MS);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once("error", reject);
      proxy.#server.listen(options.listen.port, options.listen.host, () => resolve());
    });
    return proxy;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#upstream?.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Pings the upstream node; one silent for {@link SILENCE_MS_MAX} is dead or cut off: go elsewhere. */
  #checkUpstream(): void {
    const upstream = this.#upstream;
    if (!upstream || upstream.closed) return;
    if (performance.now() - this.#upstreamHeardMs > SILENCE_MS_MAX) {
      this.#leaderHint = null;
      upstream.close();
      return;
    }
    upstream.send({ t: "status", id: 0 });
  }

  #accept(socket: Socket): void {
    let welcomed = false;
    const conn: FrameConnection = new FrameConnection(socket, {
      onFrame: (frame) => {
        if (!welcomed) {
          if (frame.t !== "hello" || frame.role !== "client") {
            conn.fail("BadFrame", "a proxy serves clients only; say hello as a client");
            return;
          }
          welcomed = true;
          conn.send(this.#welcome());
          return;
        }
        this.#fromClient(conn, frame);
      },
      onClose: () => {
        for (const [id, p] of this.#pending) if (p.client === conn) this.#pending.delete(id);
      },
    });
  }

  #welcome(): WelcomeFrame {
    return {
      t: "welcome",
      v: PROTOCOL_VERSION,
      nodeId: PROXY_NODE_ID,
      leaderId: null,
      members: [],
      identity: this.#identity,
      objects: this.#objects,
    };
  }

  #fromClient(client: FrameConnection, frame: Frame): void {
    switch (frame.t) {
      case "keepalive":
        // The lease is recorded by the leader; the client only needs to know its proxy is alive.
        this.#upstream?.send(frame);
        client.send({ t: "keepalive-ack", leaderId: null });
        return;
      case "command":
      case "read":
      case "status": {
        if (this.#pending.size >= PENDING_MAX) {
          if (frame.t !== "status") {
            client.send({
              t: "reply",
              id: frame.id,
              reply: { ok: false, error: "Busy", message: "proxy queue full" },
            });
          }
          return;
        }
        const id = this.#nextId++;
        this.#pending.set(id, { client, clientId: frame.id, frame });
        this.#forward(id);
        return;
      }
      default:
        client.send({ t: "error", code: "BadFrame", message: `a client may not send ${frame.t}` });
    }
  }

  #forward(id: number): void {
    const pending = this.#pending.get(id);
    const upstream = this.#upstream;
    if (!pending || !upstream || upstream.closed) {
      void this.#connectUpstream();
      return;
    }
    upstream.send({ ...pending.frame, id } as Frame);
  }

  #fromUpstream(frame: Frame): void {
    this.#upstreamHeardMs = performance.now();
    if (frame.t === "keepalive-ack") {
      // Keepalives count only at the leader: an upstream follower would let the clients' leases lapse.
      if (frame.leaderId !== null && frame.leaderId !== this.#upstreamNodeId) {
        this.#leaderHint = frame.leaderId;
        this.#upstream?.close();
      }
      return;
    }
    if (frame.t !== "reply" && frame.t !== "status-reply" && frame.t !== "error") return;
    if (frame.id === undefined) return;
    const pending = this.#pending.get(frame.id);
    if (!pending) return;
    if (frame.t === "reply" && !frame.reply.ok && frame.reply.error === "NotLeader") {
      // Follow the leader ourselves: the client never sees the redirect.
      this.#leaderHint = frame.reply.leaderId ?? null;
      this.#upstream?.close();
      return;
    }
    this.#pending.delete(frame.id);
    pending.client.send({ ...frame, id: pending.clientId } as Frame);
  }

  async #connectUpstream(): Promise<void> {
    if (this.#connecting || this.#stopped) return;
    this.#connecting = true;
    try {
      for (let attempt = 0; attempt < 3 && !this.#stopped; attempt++) {
        for (const address of this.#candidates()) {
          try {
            const welcome = await this.#dial(address);
            if (
              welcome.leaderId !== null &&
              welcome.leaderId !== welcome.nodeId &&
              this.#leaderHint !== welcome.leaderId
            ) {
              this.#leaderHint = welcome.leaderId;
              const leader = welcome.members.find((m) => m.id === welcome.leaderId)?.address;
              if (leader) await this.#dial(parseAddress(leader)).catch(() => undefined);
            }
            for (const id of this.#pending.keys()) this.#forward(id);
            return;
          } catch {
            // try the next one
          }
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    } finally {
      this.#connecting = false;
    }
    if (!this.#stopped && this.#pending.size > 0) setTimeout(() => void this.#connectUpstream(), RETRY_MS);
  }

  #candidates(): Address[] {
    const hinted = this.#members.find((m) => m.id === this.#leaderHint)?.address;
    const known = [
      ...this.#members.filter((m) => m.replica && m.address).map((m) => parseAddress(m.address!)),
      ...this.#bootstrap,
    ];
    const rotated = known.map((_, i) => known[(this.#rotation + i) % known.length]!);
    this.#rotation++;
    return hinted ? [parseAddress(hinted), ...rotated] : rotated;
  }

  async #dial(address: Address): Promise<WelcomeFrame> {
    const { conn, welcome } = await dialNode(address, {
      timeoutMs: DIAL_TIMEOUT_MS,
      onFrame: (frame, c) => {
        if (this.#upstream === c) this.#fromUpstream(frame);
      },
      onClose: (c) => {
        if (this.#upstream !== c) return;
        this.#upstream = null;
        this.#log.info({ pending: this.#pending.size }, "lost the upstream node; reconnecting");
        if (!this.#stopped) setTimeout(() => void this.#connectUpstream(), RETRY_MS);
      },
    });
    if (this.#upstream && this.#upstream !== conn) this.#upstream.close();
    this.#upstream = conn;
    this.#upstreamNodeId = welcome.nodeId;
    this.#upstreamHeardMs = performance.now();
    this.#members = [...welcome.members];
    this.#objects = [...welcome.objects];
    this.#identity = welcome.identity;
    return welcome;
  }
}
