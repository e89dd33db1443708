import { viewFromMembers } from "../../dns/cluster-view.ts";
import { parseBootstrap, resolveCluster } from "../../dns/resolve.ts";
import type { ClusterView } from "../../dns/view.ts";
import { normalizeDomain } from "../../dns/view.ts";
import type { Address } from "../../host/address.ts";
import { formatAddress, parseAddress } from "../../host/address.ts";
import { createLogger } from "../../log/logger.ts";
import { CliError } from "../cli-error.ts";
import {
  parseDnsPort,
  parseNameServiceType,
  parseTtl,
  startNameService,
  VIEW_POLL_MS,
} from "./name-service.ts";
import type { NodeStatusReport } from "./status.ts";
import { fetchStatus } from "./status.ts";

/** How long one node may take to report its status before the next is asked. */
const STATUS_TIMEOUT_MS = 500;
/** How long the name server waits for the cluster when it starts, before it gives up with a message. */
const FIRST_VIEW_TIMEOUT_MS = 10_000;

/**
 * `concoord nameserver -n DOMAIN -b BOOTSTRAP [-t 1|2|3] [-m MASTER] [-o CONFIG]`: a name server that is
 * not a member. It follows the cluster's decided membership (asking the leader several times a second)
 * and serves it (type 1), pushes it to a master by signed UPDATE (type 2) or to Route53 (type 3).
 *
 * @example
 * ```sh
 * concoord nameserver -n counterdomain.test -b 127.0.0.1:14000 --dns-port 5353
 * ```
 */
export async function runNameserver(options: {
  domain: string;
  bootstrap: string;
  type?: string;
  master?: string;
  config?: string;
  addr?: string;
  port?: string;
  ttl?: string;
  route53?: boolean;
  dnsServer?: string;
  debug?: boolean;
}): Promise<number> {
  let domain: string;
  try {
    domain = normalizeDomain(options.domain);
  } catch (error) {
    throw new CliError(`-n: ${(error as Error).message}`);
  }
  const type = options.route53 ? 3 : parseNameServiceType(options.type);
  if (type !== 2 && options.master) throw new CliError("-m is for -t 2 (slave of a master)");
  // YAML and schema validation load only when a config file is given (they are slow to import).
  const config = options.config
    ? await (await import("./name-service-config.ts")).readNameServiceConfig(options.config)
    : {};
  const listen: Address = { host: options.addr ?? "127.0.0.1", port: parseDnsPort(options.port) };
  const log = createLogger({ name: "nameserver", debug: options.debug ?? false });
  const follower = new ClusterFollower(await bootstrapAddresses(options.bootstrap, options.dnsServer));
  const members = await follower.firstMembers();
  const nameservers = type === 1 ? [listen] : [];
  const view = (m: NodeStatusReport["members"]): ClusterView =>
    viewFromMembers({ domain, members: m, nameservers });
  const service = await startNameService(
    {
      domain,
      type,
      listen,
      ttlSeconds: parseTtl(options.ttl),
      config,
      log,
      ...(options.master ? { master: options.master } : {}),
    },
    view(members),
  );
  const where =
    service.port === null
      ? type === 2
        ? `updates the master ${options.master}`
        : "publishes to Route53"
      : `serves on ${formatAddress({ host: listen.host, port: service.port })}`;
  process.stdout.write(
    `concoord nameserver for ${domain} ${where}, following the cluster at ${options.bootstrap}\n`,
  );
  let polling = false;
  const timer = setInterval(() => {
    // One poll at a time: a slow cluster must not pile up status requests.
    if (polling) return;
    polling = true;
    void follower
      .members()
      .then((m) => {
        if (m) service.publish(view(m));
      })
      .finally(() => {
        polling = false;
      });
  }, VIEW_POLL_MS);
  return await new Promise<number>((done) => {
    const stop = (): void => {
      clearInterval(timer);
      void service.close().then(() => done(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

async function bootstrapAddresses(bootstrap: string, dnsServer: string | undefined): Promise<Address[]> {
  try {
    const parsed = parseBootstrap(bootstrap);
    if (parsed.kind === "addresses") return [...parsed.addresses];
    return await resolveCluster(parsed.domain, dnsServer ? { dnsServer } : {});
  } catch (error) {
    throw new CliError(`-b ${bootstrap}: ${(error as Error).message}`);
  }
}

/**
 * Follows the decided membership from outside: asks the leader it last found (else every known node in
 * turn) for its status; only a leader's membership is taken, since a follower's may lag.
 */
class ClusterFollower {
  #known: Address[];
  #leader: Address | null = null;

  constructor(bootstrap: Address[]) {
    this.#known = bootstrap;
  }

  async firstMembers(): Promise<NodeStatusReport["members"]> {
    const deadlineMs = Date.now() + FIRST_VIEW_TIMEOUT_MS;
    while (Date.now() < deadlineMs) {
      const members = await this.members();
      if (members) return members;
      await new Promise((r) => setTimeout(r, VIEW_POLL_MS));
    }
    throw new CliError(`no leader of the cluster answered within ${FIRST_VIEW_TIMEOUT_MS} ms`);
  }

  /** The leader's membership, or null when no known node is (or knows) a leader. */
  async members(): Promise<NodeStatusReport["members"] | null> {
    const candidates = this.#leader ? [this.#leader, ...this.#known] : this.#known;
    for (const address of candidates) {
      let status: NodeStatusReport;
      try {
        status = await fetchStatus(formatAddress(address), STATUS_TIMEOUT_MS);
      } catch {
        continue;
      }
      if (status.role === "leader") {
        this.#leader = address;
        this.#learn(status.members);
        return status.members;
      }
      const leader = status.members.find((m) => m.id === status.leaderId)?.address;
      if (leader && leader !== formatAddress(address)) {
        this.#leader = parseAddress(leader);
      }
    }
    return null;
  }

  /** Later polls ask the current members too, so the bootstrap nodes may leave. */
  #learn(members: NodeStatusReport["members"]): void {
    const addresses = members.flatMap((m) => (m.address ? [parseAddress(m.address)] : []));
    const seen = new Set(addresses.map((a) => formatAddress(a)));
    this.#known = [...addresses, ...this.#known.filter((a) => !seen.has(formatAddress(a)))].slice(
      0,
      KNOWN_MAX,
    );
  }
}

/** Addresses remembered beyond the current members (bootstrap ones that may have left). */
const KNOWN_MAX = 32;
