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
 * `count` distinct ports that can be bound on 127.0.0.1 now, drawn from [min, min + span) (tests and the
 * benchmark keep away from the CLI's default 14000-15000).
 *
 * @example
 * ```ts
 * const [a, b] = await freeLoopbackPorts(2, LOOPBACK_TEST_PORTS);
 * ```
 */
export async function freeLoopbackPorts(
  count: number,
  range: { min: number; span: number },
): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < FREE_PORT_TRIES_MAX; tries++) {
    const port = range.min + Math.floor(Math.random() * range.span);
    if (!ports.includes(port) && (await canBind("127.0.0.1", port))) ports.push(port);
  }
  if (ports.length < count)
    throw new Error(`no ${count} free ports on 127.0.0.1 in ${range.min}+${range.span}`);
  return ports;
}

/**
 * The ports tests and the benchmark draw from: above the CLI's default 14000-15000 and below Linux's
 * ephemeral range (32768-60999), where an outgoing connection of a concurrent test could take a port
 * between the check and the listen.
 */
export const LOOPBACK_TEST_PORTS = { min: 15_100, span: 17_000 } as const;

/** Random draws before freeLoopbackPorts gives up. */
const FREE_PORT_TRIES_MAX = 1000;
