import { isIP } from "node:net";

/** A TCP endpoint. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port` (IPv6 as `[::1]:14000`). Throws with a message that says what to fix.
 *
 * @example
 * ```ts
 * parseAddress("127.0.0.1:14000"); // { host: "127.0.0.1", port: 14000 }
 * ```
 */
export function parseAddress(text: string): Address {
  const trimmed = text.trim();
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed) ?? /^([^:[\]]+):(\d+)$/.exec(trimmed);
  if (!match) throw new Error(`"${text}" is not HOST:PORT`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${text}": port must be 1-65535`);
  return { host: match[1]!, port };
}

/** Parses a comma-separated list of addresses. */
export function parseAddressList(text: string): Address[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseAddress);
}

/** `host:port`, with brackets for IPv6. */
export function formatAddress(address: Address): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Orders addresses the same way on every node: IPv4 numerically, then other hosts as text, then port
 * as a number — never `"10.0.0.10" < "10.0.0.9"` as strings.
 */
export function compareAddresses(a: Address, b: Address): number {
  const ka = hostKey(a.host);
  const kb = hostKey(b.host);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.port - b.port;
}

function hostKey(host: string): string {
  if (isIP(host) === 4)
    return `0${host
      .split(".")
      .map((o) => o.padStart(3, "0"))
      .join(".")}`;
  return `1${host}`;
}
