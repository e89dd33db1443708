import { isIP } from "node:net";

/** What a node is, as the TXT record names it. */
export type NodeRole = "REPLICA" | "ACCEPTOR" | "NAMESERVER";

/** One node of the cluster as DNS publishes it. */
export interface ViewNode {
  readonly role: NodeRole;
  readonly host: string;
  readonly port: number;
}

/**
 * The cluster as its name servers publish it: every node with its role. Name servers answer from it,
 * and slave and Route53 modes push the record sets derived from it.
 *
 * @example
 * ```ts
 * const view: ClusterView = { domain: "counterdomain.test", nodes: [{ role: "REPLICA", host: "127.0.0.1", port: 14000 }] };
 * ```
 */
export interface ClusterView {
  /** The zone, without a trailing dot, in lower case. */
  readonly domain: string;
  readonly nodes: readonly ViewNode[];
}

/** The record sets at the apex of the zone (and for `_concoord._tcp`) that a view stands for. */
export interface ViewRecordSets {
  /** IPv4 addresses of the replicas, sorted, without duplicates. */
  readonly a: readonly string[];
  /** IPv6 addresses of the replicas, sorted, without duplicates. */
  readonly aaaa: readonly string[];
  /** One per replica: `0 100 <port> <ip>.ipaddr.<domain>`. */
  readonly srv: readonly { readonly port: number; readonly target: string }[];
  /** Every node with its role, `REPLICA 127.0.0.1:14000;ACCEPTOR …;NAMESERVER …`. */
  readonly txt: string;
}

/** The SRV name clients look up: `_concoord._tcp.<domain>`. */
export function srvName(domain: string): string {
  return `_concoord._tcp.${domain}`;
}

/**
 * The name that an SRV target uses for `ip`, answered by our name servers with that address: the
 * original's `<ip>.ipaddr.<domain>`. An IPv6 address is written out in full with dashes for colons
 * (`0-0-0-0-0-0-0-1`): a label may not hold colons, and BIND's name checks refuse a label that starts
 * with a dash, as the short form of `::1` would.
 */
export function ipaddrName(ip: string, domain: string): string {
  return `${isIP(ip) === 6 ? expandIpv6(ip).join("-") : ip}.ipaddr.${domain}`;
}

/** The eight groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIpv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16).toString(16));
}

/** The address behind an `ipaddr` name, or null when `name` is not one of `domain`'s. */
export function ipFromIpaddrName(name: string, domain: string): string | null {
  const suffix = `.ipaddr.${domain}`;
  if (!name.endsWith(suffix)) return null;
  const label = name.slice(0, -suffix.length);
  if (isIP(label) === 4) return label;
  const v6 = label.replaceAll("-", ":");
  // The URL parser writes IPv6 in its canonical short form (RFC 5952), as the address was given.
  return isIP(v6) === 6 ? new URL(`http://[${v6}]/`).hostname.slice(1, -1) : null;
}

/**
 * The A, AAAA, SRV and TXT record sets of a view. Only replicas serve clients, so only they appear in
 * A and SRV; TXT lists every node.
 *
 * @example
 * ```ts
 * viewRecordSets(view).srv; // [{ port: 14000, target: "127.0.0.1.ipaddr.counterdomain.test" }]
 * ```
 */
export function viewRecordSets(view: ClusterView): ViewRecordSets {
  const replicas = view.nodes.filter((n) => n.role === "REPLICA");
  const unique = (xs: string[]): string[] => [...new Set(xs)].sort();
  const srvKeys = new Set<string>();
  const srv: { port: number; target: string }[] = [];
  for (const n of sortNodes(replicas)) {
    const target = ipaddrName(n.host, view.domain);
    const key = `${target}:${n.port}`;
    if (srvKeys.has(key)) continue;
    srvKeys.add(key);
    srv.push({ port: n.port, target });
  }
  return {
    a: unique(replicas.filter((n) => isIP(n.host) === 4).map((n) => n.host)),
    aaaa: unique(replicas.filter((n) => isIP(n.host) === 6).map((n) => n.host)),
    srv,
    txt: sortNodes(view.nodes)
      .map((n) => `${n.role} ${formatHostPort(n.host, n.port)}`)
      .join(";"),
  };
}

/** Splits a TXT string into the ≤ 255-byte character-strings a TXT record is made of. */
export function txtChunks(text: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += TXT_CHUNK_CHARS) chunks.push(text.slice(i, i + TXT_CHUNK_CHARS));
  return chunks.length > 0 ? chunks : [""];
}

/** A TXT character-string holds at most 255 bytes; the view's text is ASCII. */
const TXT_CHUNK_CHARS = 255;

/** True when two views publish the same records (a change of anything else needs no new serial). */
export function sameView(a: ClusterView, b: ClusterView): boolean {
  return a.domain === b.domain && viewKey(a) === viewKey(b);
}

function viewKey(view: ClusterView): string {
  return sortNodes(view.nodes)
    .map((n) => `${n.role} ${n.host} ${n.port}`)
    .join("|");
}

const ROLE_ORDER: Record<NodeRole, number> = { REPLICA: 0, ACCEPTOR: 1, NAMESERVER: 2 };

function sortNodes(nodes: readonly ViewNode[]): ViewNode[] {
  return [...nodes].sort(
    (x, y) =>
      ROLE_ORDER[x.role] - ROLE_ORDER[y.role] ||
      (x.host < y.host ? -1 : x.host > y.host ? 1 : 0) ||
      x.port - y.port,
  );
}

function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A domain as the zone keeps it: lower case, no trailing dot; throws on a name DNS cannot carry. */
export function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, "");
  if (d.length === 0 || d.length > 253) throw new Error(`"${domain}" is not a domain name`);
  for (const label of d.split(".")) {
    if (!/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) {
      throw new Error(`"${domain}" is not a domain name (label "${label}")`);
    }
  }
  return d;
}
