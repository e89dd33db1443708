import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** Tries random ports in [min, max] until one can be bound on `host` (at most `tries` times). */
export async function findFreePort(host: string, min = 14000, max = 15000, tries = 50): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (await canBind(host, port)) return port;
  }
  throw new Error(`no free port in ${min}-${max} on ${host} after ${tries} tries`);
}

/** True when `host:port` can be listened on right now. */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports that can be bound on 127.0.0.1 now (for TCP, and for UDP too with `udp`), drawn
 * from {@link LOOPBACK_TEST_PORTS}: for tests and the benchmark.
 *
 * @example
 * ```ts
 * const [a, b] = await freeLoopbackPorts(2);
 * const [dns] = await freeLoopbackPorts(1, { udp: true });
 * ```
 */
export async function freeLoopbackPorts(count: number, options: { udp?: boolean } = {}): Promise<number[]> {
  const { min, span } = LOOPBACK_TEST_PORTS;
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < FREE_PORT_TRIES_MAX; tries++) {
    const port = min + Math.floor(Math.random() * span);
    if (ports.includes(port) || !(await canBind("127.0.0.1", port))) continue;
    if (options.udp && !(await canBindUdp("127.0.0.1", port))) continue;
    ports.push(port);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports on 127.0.0.1 in ${min}+${span}`);
  return ports;
}

/** True when UDP `host:port` can be bound right now. */
function canBindUdp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/**
 * The ports tests and the benchmark draw from: above the CLI's default 14000-15000 and below Linux's
 * ephemeral range (32768-60999), where an outgoing connection of a concurrent test could take a port
 * between the check and the listen.
 */
export const LOOPBACK_TEST_PORTS = { min: 15_100, span: 17_000 } as const;

/** Random draws before freeLoopbackPorts gives up. */
const FREE_PORT_TRIES_MAX = 1000;
