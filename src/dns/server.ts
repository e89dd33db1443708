import type { Socket as UdpSocket } from "node:dgram";
import { createSocket } from "node:dgram";
import type { Server, Socket } from "node:net";
import { createServer, isIP } from "node:net";
import type { Answer, Packet } from "dns-packet";
import dnsPacket from "dns-packet";
import type { Logger } from "../log/logger.ts";
import { ZoneSerial } from "./serial.ts";
import type { ClusterView } from "./view.ts";
import { sameView } from "./view.ts";
import type { ZoneSnapshot } from "./zone.ts";
import { answerQuery, describeQuestion, truncatedResponse } from "./zone.ts";

/** A UDP answer without EDNS must fit 512 bytes (RFC 1035 §4.2.1). */
const UDP_BYTES_PLAIN = 512;
/** The largest UDP answer sent with EDNS, whatever the client offers (DNS flag day 2020). */
const UDP_BYTES_EDNS_MAX = 1232;
/** TCP connections served at once; more are closed at once. */
const TCP_CONNECTIONS_MAX = 256;
/** A TCP connection idle this long is closed (RFC 7766 suggests seconds). */
const TCP_IDLE_MS = 10_000;
/** Bytes a TCP connection may buffer: one message of the largest size DNS allows, plus its length. */
const TCP_BUFFER_BYTES_MAX = 65_535 + 2;

/** Counters a name server keeps, reported by `concoord status` and asserted by tests. */
export interface DnsServerStats {
  queries: number;
  /** Packets that could not be decoded, or were not queries: dropped without an answer. */
  malformed: number;
  /** UDP answers cut to the header with TC set, so the client asks again over TCP. */
  truncated: number;
}

/** Options of {@link DnsServer.start}. */
export interface DnsServerOptions {
  readonly host: string;
  /** 53 by default; binding it needs privileges. */
  readonly port: number;
  readonly view: ClusterView;
  readonly ttlSeconds: number;
  readonly log: Logger;
  /** The clock for SOA serials (tests pin it). */
  readonly nowMs?: () => number;
}

/**
 * An authoritative name server for one zone, over UDP and TCP, answering from the latest view given
 * to {@link DnsServer.update}. Malformed packets are counted and dropped; no packet stops it.
 *
 * @example
 * ```ts
 * const server = await DnsServer.start({ host: "127.0.0.1", port: 5353, view, ttlSeconds: 30, log });
 * server.update(newView); // the SOA serial grows
 * await server.close();
 * ```
 */
export class DnsServer {
  readonly stats: DnsServerStats = { queries: 0, malformed: 0, truncated: 0 };
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #options: DnsServerOptions;
  readonly #serial: ZoneSerial;
  readonly #connections = new Set<Socket>();
  /** What queries are answered from; replaced (never changed) when the view changes. */
  #zone: ZoneSnapshot;

  private constructor(options: DnsServerOptions, udp: UdpSocket, tcp: Server) {
    this.#options = options;
    this.#udp = udp;
    this.#tcp = tcp;
    this.#serial = new ZoneSerial(this.#now());
    this.#zone = { view: options.view, serial: this.#serial.value, ttlSeconds: options.ttlSeconds };
  }

  static async start(options: DnsServerOptions): Promise<DnsServer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await DnsServer.#bind(options);
      } catch (error) {
        // Port 0 lets UDP pick any free port, which a TCP socket may hold: pick again, a bounded number
        // of times. A port the operator named is theirs to change.
        const code = (error as NodeJS.ErrnoException).code;
        if (options.port !== 0 || code !== "EADDRINUSE" || attempt >= ANY_PORT_BIND_ATTEMPTS_MAX)
          throw bindError(error as NodeJS.ErrnoException, options);
      }
    }
  }

  /** Binds UDP, then TCP on the same port; closes both and rethrows the socket's error on failure. */
  static async #bind(options: DnsServerOptions): Promise<DnsServer> {
    const udp = createSocket({ type: isIP(options.host) === 6 ? "udp6" : "udp4" });
    const tcp = createServer();
    const server = new DnsServer(options, udp, tcp);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(options.port, options.host, () => {
          udp.off("error", reject);
          resolve();
        });
      });
      const port = (udp.address() as { port: number }).port;
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, options.host, () => {
          tcp.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      tcp.close();
      throw error;
    }
    udp.on("message", (message, remote) => server.#onUdp(message, remote.address, remote.port));
    udp.on("error", (error) => options.log.warn({ err: error }, "dns: udp socket error"));
    tcp.on("connection", (socket) => server.#onTcp(socket));
    tcp.on("error", (error) => options.log.warn({ err: error }, "dns: tcp server error"));
    options.log.info({ host: options.host, port: server.port, domain: options.view.domain }, "dns: serving");
    return server;
  }

  /** The port both sockets listen on (useful when started on port 0). */
  get port(): number {
    return (this.#udp.address() as { port: number }).port;
  }

  get serial(): number {
    return this.#serial.value;
  }

  get view(): ClusterView {
    return this.#zone.view;
  }

  /** Serves `view` from now on; the serial grows only when the records change. */
  update(view: ClusterView): void {
    if (view.domain !== this.#zone.view.domain) throw new Error("dns: the zone's domain cannot change");
    if (sameView(view, this.#zone.view)) return;
    const serial = this.#serial.bump(this.#now());
    this.#zone = { view, serial, ttlSeconds: this.#options.ttlSeconds };
    this.#options.log.info({ serial, nodes: view.nodes.length }, "dns: view changed");
  }

  async close(): Promise<void> {
    for (const socket of this.#connections) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.#udp.close(() => resolve())),
      new Promise<void>((resolve) => this.#tcp.close(() => resolve())),
    ]);
  }

  #now(): number {
    return this.#options.nowMs ? this.#options.nowMs() : Date.now();
  }

  /** Decodes and answers one message; null for anything that is not a query we can read. */
  #answer(message: Buffer): { query: Packet; response: Packet } | null {
    let query: Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      this.stats.malformed++;
      return null;
    }
    if (query.type !== "query") {
      this.stats.malformed++;
      return null;
    }
    this.stats.queries++;
    try {
      return { query, response: answerQuery(query, this.#zone) };
    } catch (error) {
      // A question the codec let through but the zone cannot handle: count it, answer nothing.
      this.stats.malformed++;
      const question = describeQuestion(query.questions?.[0]);
      this.#options.log.warn({ err: error, question }, "dns: bad query");
      return null;
    }
  }

  #onUdp(message: Buffer, host: string, port: number): void {
    const answered = this.#answer(message);
    if (!answered) return;
    const offered = ednsPayloadBytes(answered.query);
    const limit = offered === null ? UDP_BYTES_PLAIN : clamp(offered, UDP_BYTES_PLAIN, UDP_BYTES_EDNS_MAX);
    // A client that spoke EDNS hears EDNS back, in the full answer and in the truncated one alike.
    const withEdns = (p: Packet): Packet =>
      offered === null ? p : { ...p, additionals: [...(p.additionals ?? []), ednsRecord()] };
    let bytes = encode(withEdns(answered.response));
    if (bytes !== null && bytes.length > limit) {
      this.stats.truncated++;
      bytes = encode(withEdns(truncatedResponse(answered.response)));
    }
    if (bytes !== null) this.#udp.send(bytes, port, host);
  }

  #onTcp(socket: Socket): void {
    if (this.#connections.size >= TCP_CONNECTIONS_MAX) {
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on("close", () => this.#connections.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > TCP_BUFFER_BYTES_MAX) {
        this.stats.malformed++;
        socket.destroy();
        return;
      }
      // Answer every whole message in the buffer; the loop ends because each pass consumes one.
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (buffer.length < 2 + length) break;
        const message = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        const answered = this.#answer(message);
        if (!answered) {
          // A stream that sent garbage cannot be trusted to be framed right any more.
          socket.destroy();
          return;
        }
        const bytes = encode(answered.response);
        if (bytes === null) continue;
        const framed = Buffer.alloc(2 + bytes.length);
        framed.writeUInt16BE(bytes.length, 0);
        bytes.copy(framed, 2);
        socket.write(framed);
      }
    });
  }
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(Math.max(x, min), max);
}

function encode(packet: Packet): Buffer | null {
  try {
    return dnsPacket.encode(packet);
  } catch {
    return null;
  }
}

/** The UDP payload size the client's EDNS OPT record offers, or null without EDNS. */
function ednsPayloadBytes(query: Packet): number | null {
  const opt = (query.additionals ?? []).find((r) => r.type === "OPT") as
    | { udpPayloadSize?: number }
    | undefined;
  return opt ? (opt.udpPayloadSize ?? UDP_BYTES_PLAIN) : null;
}

function ednsRecord(): Answer {
  return {
    type: "OPT",
    name: ".",
    udpPayloadSize: UDP_BYTES_EDNS_MAX,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    options: [],
  } as unknown as Answer;
}

/** Tries at binding both sockets to one port when any port will do (see `DnsServer.start`). */
const ANY_PORT_BIND_ATTEMPTS_MAX = 8;

function bindError(error: NodeJS.ErrnoException, options: DnsServerOptions): Error {
  const where = `${options.host}:${options.port}`;
  if (error.code === "EACCES" || error.code === "EPERM") {
    return new Error(
      `cannot bind the name server to ${where}: ports below 1024 need privileges (run as root or grant CAP_NET_BIND_SERVICE), or pick a high port with --dns-port`,
    );
  }
  if (error.code === "EADDRINUSE")
    return new Error(`cannot bind the name server to ${where}: the port is in use (--dns-port)`);
  if (error.code === "EADDRNOTAVAIL")
    return new Error(`cannot bind the name server to ${where}: not an address of this machine (--dns-addr)`);
  return new Error(`cannot bind the name server to ${where}: ${error.message}`);
}
