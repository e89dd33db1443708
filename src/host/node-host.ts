import { createHash } from "node:crypto";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import type { Logger } from "pino";
import type { Command, Reply } from "../core/command.ts";
import type { Member } from "../core/config.ts";
import { makeConfig } from "../core/config.ts";
import type { Limits } from "../core/limits.ts";
import type { Message } from "../core/messages.ts";
import { PaxosNode } from "../core/node.ts";
import type { StateMachine } from "../core/state-machine.ts";
import { EncodedBatch, releaseCommands } from "../encoding/batch-bytes.ts";
import { MsgpackValueTooLargeError } from "../encoding/msgpack-writer.ts";
import type { ConnectionLimits } from "../net/connection.ts";
import { DEFAULT_CONNECTION_LIMITS, FrameConnection } from "../net/connection.ts";
import { encodeFrame } from "../net/frame-codec.ts";
import { FrameTooLargeError } from "../net/framer.ts";
import type { Frame, HelloFrame, ObjectInfo } from "../net/frames.ts";
import { PROTOCOL_VERSION } from "../net/frames.ts";
import type { NodeStorage } from "../storage/index.ts";
import { parseAddress } from "./address.ts";
import { identityConflict } from "./membership.ts";
import { HOLD_MS, ReplyGroupHold } from "./reply-group-hold.ts";

/** Everything a node process needs. */
export interface NodeHostOptions {
  readonly id: number;
  readonly members: readonly Member[];
  /** The address to listen on (normally this member's address). */
  readonly listen: { host: string; port: number };
  readonly machine: StateMachine;
  readonly objects: readonly ObjectInfo[];
  readonly storage: NodeStorage;
  readonly identity: string;
  readonly logger: Logger;
  readonly limits?: Partial<Limits>;
  readonly connection?: ConnectionLimits;
  readonly tickMs?: number;
}

/** An append (write and sync of one batch) at least this slow is a slow disk. */
export const SLOW_APPEND_MS = 100;
/** Slow appends are logged at most once per this interval (each one is counted). */
const SLOW_APPEND_WARN_MS = 1000;
/** Requests one client connection may have waiting for replies. */
const CLIENT_REQUESTS_MAX = 65_536;
/** Reconnect backoff towards a peer: doubles from the first value up to the second. */
const RECONNECT_MS_MIN = 50;
const RECONNECT_MS_MAX = 2000;
/** A connection that has not said `hello` within this time is closed. */
const HELLO_TIMEOUT_MS = 5000;

/** A client's command the leader holds for its reply group (see {@link ReplyGroupHold}). */
interface HeldCommand {
  readonly requestId: number;
  readonly command: Command;
}

interface PendingRequest {
  readonly conn: FrameConnection;
  readonly clientRequestId: number;
}

/**
 * Runs a core node on real I/O: a TCP server for peers and clients, one connection per peer pair (the
 * lower id dials, with bounded backoff), a tick timer, and the core's contract — each batch's records
 * are appended and fsynced (one sync) before its messages go out and its replies are delivered. Inputs
 * that arrive while a sync is in flight join the next batch (group commit).
 *
 * @example
 * ```ts
 * const host = await NodeHost.start({ id, members, listen, machine, objects, storage, identity, logger });
 * await host.stop();
 * ```
 */
export class NodeHost {
  readonly id: number;
  readonly #options: NodeHostOptions;
  readonly #log: Logger;
  readonly #core: PaxosNode;
  readonly #server: Server;
  readonly #peers = new Map<number, PeerLink>();
  /** Members known at the last sync: a link is closed only when its member leaves this set. */
  #knownPeerIds = new Set<number>();
  readonly #clients = new Set<FrameConnection>();
  readonly #requests = new Map<number, PendingRequest>();
  readonly #connRequests = new Map<FrameConnection, number>();
  #nextRequestId = 1;
  #tickTimer: NodeJS.Timeout | null = null;
  #flushScheduled = false;
  /** Connections a flush round replied on, with how many replies each (kept to reuse the map). */
  readonly #repliedTo = new Map<FrameConnection, number>();
  /** Commands of clients answered together wait for each other, so they share a slot again. */
  readonly #hold = new ReplyGroupHold<FrameConnection, HeldCommand>({
    holdMs: HOLD_MS,
    propose: (held) => {
      for (const { requestId, command } of held) this.#core.propose(requestId, command);
      this.#scheduleFlush();
    },
  });
  /** A connection with no call in flight (made once, not per flush). */
  readonly #hasNoRequests = (conn: FrameConnection): boolean => !this.#connRequests.has(conn);
  /** The peer message encoded last, with its bytes. */
  #encodedPeer: { readonly message: Message; readonly payload: Uint8Array } | null = null;
  #flushing = false;
  #stopped = false;
  #fatal: ((error: Error) => void) | null = null;
  droppedPeerMessages = 0;
  /** Appends that took at least {@link SLOW_APPEND_MS}. */
  slowAppends = 0;
  #slowAppendWarnedMs = Number.NEGATIVE_INFINITY;

  private constructor(options: NodeHostOptions, core: PaxosNode, server: Server) {
    this.id = options.id;
    this.#options = options;
    this.#log = options.logger;
    this.#core = core;
    this.#server = server;
  }

  /** Recovers from storage, listens, and starts talking to peers. */
  static async start(options: NodeHostOptions): Promise<NodeHost> {
    const durable = await options.storage.open();
    const core = new PaxosNode({
      id: options.id,
      config: makeConfig(options.members),
      machine: options.machine,
      durable,
      // Election jitter only: the host may draw it from anywhere; the core stays deterministic.
      random: Math.random,
      limits: options.limits ?? {},
      // Batches that can let their commands go once applied (see `EncodedBatch`).
      makeBatch: EncodedBatch.of,
    });
    const server = createServer();
    const host = new NodeHost(options, core, server);
    server.on("connection", (socket) => host.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => host.#log.error({ err: error }, "server error"));
    host.#syncPeers();
    const tickMs = options.tickMs ?? 10;
    host.#tickTimer = setInterval(() => {
      core.tick(Date.now());
      // Most ticks change nothing: no extra turn of the event loop for them.
      if (core.hasReady()) host.#scheduleFlush();
      // Links follow the membership a tick after it changes, not after every flush: the core resends
      // what a missing link dropped, and rebuilding the member sets per batch was a cost of every write.
      host.#syncPeers();
    }, tickMs);
    host.#log.info({ id: options.id, status: core.status() }, "node started");
    host.#scheduleFlush();
    return host;
  }

  /** Called with the error when the node must stop (a failed fsync): never continue after one. */
  onFatal(handler: (error: Error) => void): void {
    this.#fatal = handler;
  }

  get address(): { host: string; port: number } {
    const a = this.#server.address();
    if (a === null || typeof a === "string") return this.#options.listen;
    return { host: a.address, port: a.port };
  }

  /** The membership as last decided (what health checks and name servers publish). */
  members(): Member[] {
    return [...this.#core.latestConfig().members];
  }

  status() {
    return this.#core.status();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    this.#hold.clear();
    for (const link of this.#peers.values()) link.close();
    for (const conn of this.#clients) conn.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Let a flush that is mid-sync finish before the storage closes under it.
    for (let i = 0; i < 200 && this.#flushing; i++) await new Promise((r) => setTimeout(r, 5));
    await this.#options.storage.close();
  }

  // ---- the core's contract ----------------------------------------------------------------------------

  /**
   * Flushes when the event loop's turn ends, so that everything read in the turn shares one batch and
   * one sync; or, with `callbackEnd`, as soon as the running callback is done.
   */
  #scheduleFlush(callbackEnd = false): void {
    if (this.#flushScheduled || this.#stopped) return;
    this.#flushScheduled = true;
    if (callbackEnd) queueMicrotask(this.#flushNow);
    else setImmediate(this.#flushNow);
  }

  readonly #flushNow = (): void => {
    this.#flushScheduled = false;
    void this.#flush();
  };

  async #flush(): Promise<void> {
    if (this.#flushing || this.#stopped) return;
    this.#flushing = true;
    try {
      for (let batches = 0; batches < FLUSH_BATCHES_MAX && this.#core.hasReady(); batches++) {
        const ready = this.#core.ready();
        // Accepts and heartbeats to peers, and replies, go while this node's own sync runs (see Ready).
        for (const { to, message } of ready.early) this.#sendPeer(to, message);
        for (const { requestId, reply } of ready.replies) {
          const pending = this.#requests.get(requestId);
          if (!pending) continue;
          this.#forget(requestId, pending.conn);
          this.#sendReply(pending.conn, pending.clientRequestId, reply);
          this.#repliedTo.set(pending.conn, (this.#repliedTo.get(pending.conn) ?? 0) + 1);
        }
        // The sync below holds this thread: what may go before it leaves now, not when the turn ends
        // (one write per connection, however the replies interleave).
        for (const conn of this.#repliedTo.keys()) conn.flush();
        this.#hold.answered(this.#repliedTo, this.#hasNoRequests);
        this.#repliedTo.clear();
        // The log keeps an applied batch for thousands of slots; its command objects are done with.
        for (const { batch } of ready.applied) releaseCommands(batch);
        if (ready.early.length > 0) this.#flushPeers();
        const appendStartMs = performance.now();
        await this.#options.storage.append(ready.persist);
        this.#noteAppend(performance.now() - appendStartMs, ready.persist.length);
        if (this.#stopped) return;
        for (const { to, message } of ready.messages) {
          if (to === this.id) this.#core.step(this.id, message);
          else this.#sendPeer(to, message);
        }
        // Votes leave before the next round of this loop, which may apply a whole batch (see `ready()`).
        if (ready.messages.length > 0) this.#flushPeers();
      }
    } catch (error) {
      // A failed fsync leaves the file's durable contents unknown: stop rather than acknowledge.
      this.#log.fatal({ err: error }, "storage failed; stopping the node");
      this.#stopped = true;
      this.#fatal?.(error as Error);
      return;
    } finally {
      this.#flushing = false;
    }
    if (this.#core.hasReady()) this.#scheduleFlush();
  }

  /**
   * Sends a reply; one the state machine made too large for a frame is answered with `TooLarge` instead,
   * and the node goes on (the object layer bounds its results below this, see `RESULT_BYTES_MAX`; this is
   * for any other state machine).
   */
  #sendReply(conn: FrameConnection, id: number, reply: Reply): void {
    try {
      conn.send({ t: "reply", id, reply });
    } catch (error) {
      if (!(error instanceof FrameTooLargeError || error instanceof MsgpackValueTooLargeError)) throw error;
      conn.send({
        t: "reply",
        id,
        reply: { ok: false, error: "TooLarge", message: `the reply: ${error.message}` },
      });
    }
  }

  #flushPeers(): void {
    for (const link of this.#peers.values()) link.flush();
  }

  /**
   * Warns of appends slower than {@link SLOW_APPEND_MS}, at most once per {@link SLOW_APPEND_WARN_MS}: the
   * WAL syncs on the event-loop thread, so a stalled disk holds this node's heartbeats and replies too —
   * the operator should hear of it before followers start elections.
   */
  #noteAppend(durationMs: number, records: number): void {
    if (durationMs < SLOW_APPEND_MS) return;
    this.slowAppends++;
    const nowMs = performance.now();
    if (nowMs - this.#slowAppendWarnedMs < SLOW_APPEND_WARN_MS) return;
    this.#slowAppendWarnedMs = nowMs;
    this.#log.warn(
      { appendMs: Math.round(durationMs), records, slowAppends: this.slowAppends },
      `slow disk: a log append took ${Math.round(durationMs)} ms (over ${SLOW_APPEND_MS} ms); this node's heartbeats wait for it`,
    );
  }

  /**
   * Keeps one link per member the core must reach, following the replicated membership: a member added
   * through the log gets a link (the lower id dials), a removed one loses it.
   */
  #syncPeers(): void {
    if (this.#stopped) return;
    const wanted = new Map(this.#core.knownMembers().map((m) => [m.id, m]));
    for (const [id, link] of this.#peers) {
      const member = wanted.get(id);
      // Only a member this node saw leave loses its link; a peer it has not learned of yet keeps it.
      const removed = !member && this.#knownPeerIds.has(id);
      const moved = member?.address !== undefined && link.address !== "" && member.address !== link.address;
      if (removed || moved) {
        link.close();
        this.#peers.delete(id);
      } else if (member?.address && link.address === "") {
        link.address = member.address;
      }
    }
    this.#knownPeerIds = new Set(wanted.keys());
    for (const m of wanted.values()) {
      if (m.id === this.id || !m.address || this.#peers.has(m.id)) continue;
      this.#peers.set(m.id, new PeerLink(this, m.id, m.address, m.id > this.id));
    }
  }

  #sendPeer(to: number, message: Message): void {
    const link = this.#peers.get(to);
    if (!link?.connected) {
      this.droppedPeerMessages++;
      return;
    }
    // The core hands one accept or heartbeat object to every follower: encode it once.
    if (this.#encodedPeer?.message !== message)
      this.#encodedPeer = { message, payload: encodeFrame({ t: "peer", m: message }) };
    if (!link.sendEncoded(this.#encodedPeer.payload)) this.droppedPeerMessages++;
  }

  // ---- connections ------------------------------------------------------------------------------------

  #accept(socket: Socket): void {
    // What the connection turned out to be after its hello: nothing yet, a client, or peer `id`.
    let peer: number | null = null;
    let identified = false;
    const helloTimer = setTimeout(() => {
      if (!identified) conn.fail("BadFrame", "no hello within 5 s");
    }, HELLO_TIMEOUT_MS);
    helloTimer.unref();
    const conn = new FrameConnection(
      socket,
      {
        onFrame: (frame) => {
          if (peer !== null) {
            this.deliverPeer(peer, frame);
            return;
          }
          if (identified) {
            this.#clientFrame(conn, frame);
            return;
          }
          if (frame.t !== "hello") {
            conn.fail("BadFrame", `expected hello, got ${frame.t}`);
            return;
          }
          const outcome = this.#hello(conn, frame);
          if (outcome === "refused") return;
          identified = true;
          clearTimeout(helloTimer);
          if (outcome !== "client") peer = outcome;
        },
        onClose: (c) => {
          clearTimeout(helloTimer);
          if (peer !== null) this.#peers.get(peer)?.lost(c);
          this.#dropClient(c);
        },
        onBadFrame: (reason) => this.#log.warn({ remote: socket.remoteAddress, reason }, "bad frame"),
      },
      { limits: this.#options.connection ?? DEFAULT_CONNECTION_LIMITS },
    );
  }

  /** Answers a `hello`: the connection is now a client's, peer `id`'s, or refused (and closing). */
  #hello(conn: FrameConnection, hello: HelloFrame): "client" | "refused" | number {
    if (hello.v !== PROTOCOL_VERSION) {
      conn.fail("BadVersion", `protocol version ${hello.v} is not ${PROTOCOL_VERSION}`);
      return "refused";
    }
    if (hello.role === "client") {
      this.#log.debug(
        { remote: conn.socket.remoteAddress, port: conn.socket.remotePort },
        "client connected",
      );
      this.#clients.add(conn);
      conn.send(this.#welcome());
      return "client";
    }
    if (hello.from === undefined || hello.from === this.id) {
      conn.fail("UnknownPeer", `a peer must name itself with a node id other than ${this.id}`);
      return "refused";
    }
    const conflict = identityConflict(this.#options.identity, hello.identity ?? "");
    if (conflict) {
      this.#log.error({ peer: hello.from, reason: conflict }, "refusing peer");
      conn.fail("IdentityMismatch", `node ${this.id} refuses node ${hello.from}: ${conflict}`);
      return "refused";
    }
    this.#log.debug({ peer: hello.from }, "peer connected");
    conn.send(this.#welcome());
    // A member this node does not know yet (it is joining and has not learned the membership, or the
    // peer was added in a slot it has not applied): same cluster, same code, so take the link.
    let link = this.#peers.get(hello.from);
    if (!link) {
      link = new PeerLink(this, hello.from, "", false);
      this.#peers.set(hello.from, link);
    }
    link.adopt(conn);
    return hello.from;
  }

  #welcome(): Frame {
    return {
      t: "welcome",
      v: PROTOCOL_VERSION,
      nodeId: this.id,
      leaderId: this.#core.status().leaderId,
      members: this.#core.knownMembers(),
      identity: this.#options.identity,
      objects: this.#options.objects,
    };
  }

  /** Frames from a client (or from a peer on an inbound connection, routed here by the link). */
  #clientFrame(conn: FrameConnection, frame: Frame): void {
    switch (frame.t) {
      case "command":
      case "read": {
        const outstanding = this.#connRequests.get(conn) ?? 0;
        if (outstanding >= CLIENT_REQUESTS_MAX) {
          conn.send({
            t: "reply",
            id: frame.id,
            reply: {
              ok: false,
              error: "Busy",
              message: `more than ${CLIENT_REQUESTS_MAX} requests waiting on this connection`,
            },
          });
          return;
        }
        const refusal = frame.t === "command" ? commandRefusal(frame.command) : null;
        if (refusal) {
          conn.send({
            t: "reply",
            id: frame.id,
            reply: { ok: false, error: "BadCommand", message: refusal },
          });
          return;
        }
        const requestId = this.#nextRequestId++;
        this.#requests.set(requestId, { conn, clientRequestId: frame.id });
        this.#connRequests.set(conn, outstanding + 1);
        if (frame.t === "command") {
          if (this.#hold.command(conn, { requestId, command: frame.command })) return;
          this.#core.propose(requestId, frame.command);
        } else {
          this.#hold.stopAwaiting(conn);
          this.#core.read(requestId, frame.query);
        }
        this.#scheduleFlush();
        return;
      }
      case "keepalive":
        this.#core.keepalive(frame.sessionId);
        conn.send({ t: "keepalive-ack", leaderId: this.#core.status().leaderId });
        return;
      case "status":
        conn.send({
          t: "status-reply",
          id: frame.id,
          status: {
            ...this.#core.status(),
            stateHash: createHash("sha256").update(this.#core.snapshotNow().app).digest("hex"),
            address: `${this.address.host}:${this.address.port}`,
            dataDir: this.#options.storage.dir,
            members: this.members(),
          },
        });
        return;
      case "hello":
        conn.send({ t: "error", code: "BadFrame", message: "hello was already received" });
        return;
      default:
        conn.send({ t: "error", code: "BadFrame", message: `a client may not send ${frame.t}` });
    }
  }

  #forget(requestId: number, conn: FrameConnection): void {
    this.#requests.delete(requestId);
    const left = (this.#connRequests.get(conn) ?? 1) - 1;
    if (left <= 0) this.#connRequests.delete(conn);
    else this.#connRequests.set(conn, left);
  }

  #dropClient(conn: FrameConnection): void {
    this.#clients.delete(conn);
    this.#hold.stopAwaiting(conn);
    if (!this.#connRequests.has(conn)) return;
    for (const [id, pending] of this.#requests) if (pending.conn === conn) this.#requests.delete(id);
    this.#connRequests.delete(conn);
  }

  /** A peer message arrived on a link. */
  deliverPeer(from: number, frame: Frame): void {
    if (this.#stopped) return;
    if (frame.t !== "peer") return;
    this.#core.step(from, frame.m);
    // A follower's work comes from the leader's one connection, every frame of a read delivered before
    // the callback ends: waiting for the rest of the turn would only delay its sync and its answer.
    this.#scheduleFlush(this.#core.role === "follower");
  }

  get log(): Logger {
    return this.#log;
  }

  get identity(): string {
    return this.#options.identity;
  }

  get connectionLimits(): ConnectionLimits {
    return this.#options.connection ?? DEFAULT_CONNECTION_LIMITS;
  }
}

/** Why a client's command is refused before it reaches the core, or null. */
function commandRefusal(command: Command): string | null {
  const body = command.body;
  if (body.kind === "keepalive") return "keepalive commands are the leader's";
  // Every host dials members by the address in the replicated config: a member without one is unreachable.
  if (body.kind === "reconfig" && body.change.kind === "add" && !body.change.member.address) {
    return "a new member needs an address (host:port)";
  }
  return null;
}

/** Batches one flush may drain before yielding to the event loop. */
const FLUSH_BATCHES_MAX = 64;

/**
 * The one connection to a peer. The node with the lower id dials (and redials with backoff); the other
 * waits for it, so a pair never holds two connections.
 */
class PeerLink {
  readonly #host: NodeHost;
  readonly #peerId: number;
  /** Where to dial; empty for a link that only ever accepts (a peer learned from its own hello). */
  address: string;
  #conn: FrameConnection | null = null;
  #backoffMs = RECONNECT_MS_MIN;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(host: NodeHost, peerId: number, address: string, dials: boolean) {
    this.#host = host;
    this.#peerId = peerId;
    this.address = address;
    // The lower id dials; the other side waits, so each pair shares one connection.
    if (dials) this.#dial();
  }

  get connected(): boolean {
    return this.#conn !== null && !this.#conn.closed;
  }

  /** Writes the frames queued for this peer now (see {@link FrameConnection.flush}). */
  flush(): void {
    this.#conn?.flush();
  }

  /** Sends a frame encoded with `encodeFrame`; false when not connected or the peer is too slow. */
  sendEncoded(payload: Uint8Array): boolean {
    return this.#conn?.sendEncoded(payload) ?? false;
  }

  /** Takes over an inbound connection from the peer (it dials us, or it restarted and dialled again). */
  adopt(conn: FrameConnection): void {
    if (this.#conn && this.#conn !== conn) this.#conn.close();
    this.#conn = conn;
  }

  /** An inbound connection closed; the peer will dial again. */
  lost(conn: FrameConnection): void {
    if (this.#conn === conn) this.#conn = null;
  }

  #dial(): void {
    if (this.#closed) return;
    let address: { host: string; port: number };
    try {
      address = parseAddress(this.address);
    } catch {
      return;
    }
    const socket = connect({ host: address.host, port: address.port });
    let welcomed = false;
    const conn = new FrameConnection(
      socket,
      {
        onFrame: (frame) => {
          if (!welcomed) {
            if (frame.t === "welcome") {
              welcomed = true;
              this.#backoffMs = RECONNECT_MS_MIN;
              if (this.#conn && this.#conn !== conn) this.#conn.close();
              this.#conn = conn;
              return;
            }
            if (frame.t === "error") {
              this.#host.log.error(
                { peer: this.#peerId, code: frame.code, reason: frame.message },
                "peer refused us",
              );
            }
            return;
          }
          this.#host.deliverPeer(this.#peerId, frame);
        },
        onClose: () => {
          if (this.#conn === conn) this.#conn = null;
          if (!this.#closed) this.#retry();
        },
      },
      { limits: this.#host.connectionLimits },
    );
    socket.on("connect", () => {
      conn.send({
        t: "hello",
        v: PROTOCOL_VERSION,
        role: "peer",
        from: this.#host.id,
        identity: this.#host.identity,
      });
    });
  }

  #retry(): void {
    if (this.#timer || this.#closed) return;
    const delay = this.#backoffMs * (0.5 + Math.random() / 2);
    this.#backoffMs = Math.min(RECONNECT_MS_MAX, this.#backoffMs * 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#dial();
    }, delay);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#conn?.close();
  }
}
