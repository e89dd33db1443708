import { Resolver } from "node:dns/promises";
import type { Address } from "../host/address.ts";
import { parseAddress, parseAddressList } from "../host/address.ts";
import { ipFromIpaddrName, normalizeDomain, srvName } from "./view.ts";

/** What a bootstrap string names: addresses, or a domain whose SRV records list the replicas. */
export type Bootstrap =
  | { readonly kind: "addresses"; readonly addresses: readonly Address[] }
  | { readonly kind: "domain"; readonly domain: string };

/**
 * Reads `-b`/`connect()`'s bootstrap: `HOST:PORT[,HOST:PORT...]`, or one domain name. Throws with a
 * message that says what to fix.
 *
 * @example
 * ```ts
 * parseBootstrap("counterdomain.test"); // { kind: "domain", domain: "counterdomain.test" }
 * parseBootstrap("127.0.0.1:14000");    // { kind: "addresses", addresses: [...] }
 * ```
 */
export function parseBootstrap(text: string): Bootstrap {
  const trimmed = text.trim();
  if (trimmed.length > 0 && !trimmed.includes(":") && !trimmed.includes(",")) {
    try {
      return { kind: "domain", domain: normalizeDomain(trimmed) };
    } catch {
      throw new Error(`"${text}" is neither HOST:PORT[,HOST:PORT...] nor a domain name`);
    }
  }
  const addresses = parseAddressList(trimmed);
  if (addresses.length === 0) throw new Error("no bootstrap address given");
  return { kind: "addresses", addresses };
}

/** Options of {@link resolveCluster}. */
export interface ResolveOptions {
  /** The name server to ask (`HOST:PORT`); by default the system's resolver. */
  readonly dnsServer?: string;
  /** How long one query may take (default 1000). */
  readonly timeoutMs?: number;
}

/** Attempts per query, so that one lost UDP packet does not fail a lookup. */
const RESOLVE_TRIES = 2;
/** SRV answers used; a cluster has a handful of replicas, this only bounds a hostile answer. */
const SRV_RECORDS_MAX = 64;

/**
 * The replicas of the cluster named `domain`, from `SRV _concoord._tcp.<domain>` (lowest priority
 * first, then highest weight), with each target resolved to its address.
 *
 * @example
 * ```ts
 * await resolveCluster("counterdomain.test", { dnsServer: "127.0.0.1:5353" }); // [{ host: "127.0.0.1", port: 14000 }, ...]
 * ```
 */
export async function resolveCluster(domain: string, options: ResolveOptions = {}): Promise<Address[]> {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 1000, tries: RESOLVE_TRIES });
  if (options.dnsServer) {
    const server = parseAddress(options.dnsServer);
    resolver.setServers([`${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`]);
  }
  let records: Awaited<ReturnType<Resolver["resolveSrv"]>>;
  try {
    records = await resolver.resolveSrv(srvName(domain));
  } catch (error) {
    throw new Error(`cannot resolve SRV ${srvName(domain)}: ${(error as Error).message}`);
  }
  records = records.slice(0, SRV_RECORDS_MAX).sort((a, b) => a.priority - b.priority || b.weight - a.weight);
  const addresses: Address[] = [];
  for (const record of records) {
    const host = await resolveTarget(resolver, record.name, domain);
    if (host !== null) addresses.push({ host, port: record.port });
  }
  if (addresses.length === 0) throw new Error(`SRV ${srvName(domain)} lists no reachable replica`);
  return addresses;
}

async function resolveTarget(resolver: Resolver, target: string, domain: string): Promise<string | null> {
  try {
    const [ip] = await resolver.resolve4(target);
    if (ip) return ip;
  } catch {
    // Fall through: IPv6, or a server that does not answer for the target's name.
  }
  try {
    const [ip] = await resolver.resolve6(target);
    if (ip) return ip;
  } catch {
    // Fall through to reading the address out of the name.
  }
  // `<ip>.ipaddr.<domain>` carries its address; use it when the name server could not be asked.
  return ipFromIpaddrName(target.toLowerCase(), domain);
}
