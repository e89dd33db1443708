import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { Member } from "../../core/config.ts";
import type { StateMachine } from "../../core/state-machine.ts";
import { viewFromMembers } from "../../dns/cluster-view.ts";
import { normalizeDomain } from "../../dns/view.ts";
import type { Address } from "../../host/address.ts";
import { formatAddress, parseAddressList } from "../../host/address.ts";
import { clusterIdentity, initialMembers } from "../../host/membership.ts";
import { NodeHost } from "../../host/node-host.ts";
import { createLogger } from "../../log/logger.ts";
import type { ObjectInfo } from "../../net/frames.ts";
import { CliError } from "../cli-error.ts";
import { objectSpecs } from "../object-specs.ts";
import { canBind, findFreePort } from "../ports.ts";
import { parseDnsPort, parseTtl, startNameService, VIEW_POLL_MS } from "./name-service.ts";

/** Options shared by `concoord replica` and `concoord acceptor`. */
export interface NodeCommandOptions {
  /** Seconds after which the leader removes an unreachable member (`--remove-after`). */
  readonly removeAfter?: string;
  /** Slots between snapshots (`--snapshot-interval`). */
  readonly snapshotInterval?: string;
  /** Join a running cluster through these nodes (`-b HOST:PORT[,...]`). */
  readonly bootstrap?: string;
  readonly file?: string;
  readonly className?: string;
  /** Library objects (`-o`). */
  readonly library?: readonly string[];
  /** Named objects (`--object NAME=FILE:CLASS` or `NAME=Lock`). */
  readonly objects?: readonly string[];
  /** Refuse objects that fail the static safety check. */
  readonly safe?: boolean;
  readonly addr?: string;
  readonly port?: string;
  readonly peers?: string;
  readonly acceptors?: string;
  readonly dataDir?: string;
  readonly inMemory?: boolean;
  readonly logger?: string;
  readonly debug?: boolean;
  /** `-n DOMAIN`: also serve DNS for the cluster (or publish it, with `-r`: Route53). */
  readonly domain?: string;
  readonly dnsAddr?: string;
  readonly dnsPort?: string;
  readonly dnsTtl?: string;
  /** `-r`: publish the view to Route53 instead of serving it. */
  readonly route53?: boolean;
  /** The name server that resolves a domain given to `-b`. */
  readonly dnsServer?: string;
}

/**
 * Starts a node process and runs until SIGINT/SIGTERM: a replica hosting the object of `-f/-c`, or an
 * acceptor that only votes and stores accepted values.
 *
 * @example
 * ```ts
 * await runNode("replica", { file: "counter.ts", className: "Counter", port: "14000" });
 * ```
 */
export async function runNode(role: "replica" | "acceptor", options: NodeCommandOptions): Promise<number> {
  const host = options.addr ?? "127.0.0.1";
  const port = options.port === undefined ? await findFreePort(host) : parsePort(options.port);
  if (options.port !== undefined && !(await canBind(host, port))) {
    throw new CliError(`port ${port} on ${host} is in use (or not bindable); pick another with -p`);
  }
  const self: Address = { host, port };
  const selfText = formatAddress(self);
  if (options.bootstrap && (options.peers || options.acceptors)) {
    throw new CliError(
      "choose --peers/--acceptors (a new fixed cluster) or -b (join a running one), not both",
    );
  }
  const dnsListen = options.domain
    ? { host: options.dnsAddr ?? host, port: parseDnsPort(options.dnsPort) }
    : null;
  // A member that serves DNS says where, so every name server lists the others (not for `-r`: Route53 serves).
  const dnsText = dnsListen && !options.route53 ? formatAddress(dnsListen) : undefined;
  const joining = options.bootstrap
    ? await lookUpCluster(options.bootstrap, selfText, options.dnsServer)
    : null;
  let members: Member[];
  let me: Member;
  if (joining) {
    // The node learns the membership from the cluster (by snapshot); it starts knowing nobody.
    members = [];
    me = joining.existing ?? {
      id: joining.nextId,
      replica: role === "replica",
      acceptor: true,
      address: selfText,
      ...(dnsText ? { dns: dnsText } : {}),
    };
    if (me.replica !== (role === "replica")) {
      throw new CliError(
        `${selfText} is already member ${me.id} as ${me.replica ? "a replica" : "an acceptor"}`,
      );
    }
  } else {
    const replicas = options.peers ? parseList(options.peers, "--peers") : role === "replica" ? [self] : [];
    const acceptors = options.acceptors
      ? parseList(options.acceptors, "--acceptors")
      : role === "acceptor"
        ? [self]
        : [];
    try {
      members = initialMembers({ replicas, acceptors });
    } catch (error) {
      throw new CliError(`--peers/--acceptors: ${(error as Error).message}`);
    }
    const found = members.find((m) => m.address === selfText);
    if (!found) {
      const list = role === "replica" ? "--peers" : "--acceptors";
      throw new CliError(
        `this node's address ${selfText} is not in ${list} (${members.map((m) => m.address).join(",")})`,
      );
    }
    if (found.replica !== (role === "replica")) {
      throw new CliError(
        `${selfText} is listed as ${found.replica ? "a replica (--peers)" : "an acceptor (--acceptors)"}`,
      );
    }
    me = found;
    if (dnsText && !options.peers && !options.acceptors) {
      // A cluster of one: its own entry may say where it serves DNS (a --peers list is the same on every
      // node, so there each name server lists only itself beyond what joined members announce).
      me = { ...found, dns: dnsText };
      members = [me];
    }
  }

  let machine: StateMachine;
  let objects: ObjectInfo[] = [];
  let codeHash: string | null = null;
  if (role === "replica") {
    const specs = await objectSpecs(options);
    if (options.safe) await refuseUnsafe(specs.map((spec) => spec.file));
    const { loadObjectFile, ObjectMachine } = await import("../../object/index.ts");
    const loaded = new Map<string, Awaited<ReturnType<typeof loadObjectFile>>>();
    for (const spec of specs)
      loaded.set(spec.name, await loadObjectFile({ file: spec.file, className: spec.className }));
    const objectMachine = new ObjectMachine(loaded);
    machine = objectMachine;
    objects = objectMachine.info();
    // The cluster's identity covers every hosted object's name and code.
    const hashes = [...loaded].map(([name, l]) => [name, l.codeHash]).sort(([a], [b]) => (a! < b! ? -1 : 1));
    codeHash = createHash("sha256").update(JSON.stringify(hashes)).digest("hex");
  } else {
    machine = new AcceptorMachine();
  }

  const identity = joining ? joinedIdentity(joining.identity, codeHash) : clusterIdentity(members, codeHash);
  const log = createLogger({
    name: role,
    debug: options.debug ?? false,
    ...(options.logger ? { remote: options.logger } : {}),
  });
  const storageModule = await import("../../storage/index.ts");
  let dataDir: string | null = null;
  let storage:
    | InstanceType<typeof storageModule.MemoryStorage>
    | InstanceType<typeof storageModule.FileStorage>;
  if (options.inMemory) {
    if (options.dataDir) throw new CliError("choose either --data-dir or --in-memory");
    log.warn("running in memory: a crash of a majority of the nodes loses the data");
    process.stderr.write(
      "concoord: --in-memory: nothing is written to disk; a crash of a majority loses data\n",
    );
    storage = new storageModule.MemoryStorage();
  } else {
    dataDir = resolve(options.dataDir ?? `concoord-data/${host}-${port}`);
    storage = new storageModule.FileStorage({ dir: dataDir, identity });
  }

  // The name server binds first: a port it cannot have (53 without privileges) stops the node before it
  // joins anything.
  const domain = options.domain ? parseDomain(options.domain) : null;
  const nameService =
    domain && dnsListen
      ? await startNameService(
          {
            domain,
            type: options.route53 ? 3 : 1,
            listen: dnsListen,
            ttlSeconds: parseTtl(options.dnsTtl),
            config: {},
            log,
          },
          viewFromMembers({ domain, members, nameservers: options.route53 ? [] : [dnsListen] }),
        )
      : null;

  let node: NodeHost;
  try {
    node = await NodeHost.start({
      id: me.id,
      members,
      listen: self,
      machine,
      objects,
      storage,
      identity,
      logger: log,
      limits: {
        ...(options.snapshotInterval
          ? { snapshotIntervalSlots: parseSnapshotInterval(options.snapshotInterval) }
          : {}),
        ...(options.removeAfter ? { removeAfterTicks: parseRemoveAfter(options.removeAfter) } : {}),
      },
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE")
      throw new CliError(`port ${port} on ${host} is in use; pick another with -p`);
    await nameService?.close();
    if (e.code === "EADDRNOTAVAIL") throw new CliError(`${host} is not an address of this machine (-a)`);
    throw error;
  }
  const viewTimer =
    domain && dnsListen && nameService
      ? setInterval(() => {
          const nameservers = options.route53 ? [] : [dnsListen];
          nameService.publish(viewFromMembers({ domain, members: node.members(), nameservers }));
        }, VIEW_POLL_MS)
      : null;
  if (joining && !joining.existing) {
    try {
      await joinThrough(joining, me);
    } catch (error) {
      if (viewTimer) clearInterval(viewTimer);
      await nameService?.close();
      await node.stop();
      throw error;
    }
  }
  process.stdout.write(
    `concoord ${role} ${me.id} ${joining ? `joined the cluster at ${joining.bootstrap}, ` : ""}listening on ${selfText}${dataDir ? ` (data dir ${dataDir})` : " (in memory)"}\n`,
  );
  if (domain && nameService) {
    process.stdout.write(
      nameService.port === null
        ? `concoord ${role} ${me.id} publishes ${domain} to Route53\n`
        : `concoord ${role} ${me.id} serves DNS for ${domain} on ${dnsListen!.host}:${nameService.port}\n`,
    );
  }
  return await new Promise<number>((done) => {
    const stop = (signal: string): void => {
      log.info({ signal }, "stopping");
      if (viewTimer) clearInterval(viewTimer);
      void Promise.all([node.stop(), nameService?.close()]).then(() => done(0));
    };
    // Fail-stop: after a failed fsync the process exits rather than serve with unknown durable state.
    node.onFatal(() => {
      process.exitCode = 1;
      process.exit(1);
    });
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

/** What a joining node learns from the cluster before it starts. */
interface ClusterLookup {
  readonly bootstrap: string;
  readonly dnsServer: string | undefined;
  readonly identity: string;
  /** This address's membership, when the node was a member already (a restart, or `member add`). */
  readonly existing: Member | undefined;
  readonly nextId: number;
}

async function lookUpCluster(
  bootstrap: string,
  selfText: string,
  dnsServer?: string,
): Promise<ClusterLookup> {
  const { connect } = await import("../../client/client.ts");
  let client: Awaited<ReturnType<typeof connect>>;
  try {
    client = await connect(bootstrap, { timeoutMs: 10_000, ...(dnsServer ? { dnsServer } : {}) });
  } catch (error) {
    throw new CliError(`-b ${bootstrap}: ${(error as Error).message}`);
  }
  const members = client.view.members;
  const identity = client.identity;
  await client.close();
  return {
    bootstrap,
    dnsServer,
    identity,
    existing: members.find((m) => m.address === selfText),
    nextId: Math.max(0, ...members.map((m) => m.id)) + 1,
  };
}

/**
 * The identity a joining node states: the cluster's membership part, and its own code hash — which the
 * replicas compare with theirs, so code that differs is refused with a message rather than served.
 */
function joinedIdentity(clusterIdentityText: string, codeHash: string | null): string {
  const [membersPart, clusterCode] = clusterIdentityText.split(":");
  if (codeHash !== null && clusterCode !== undefined && clusterCode !== codeHash.slice(0, 16)) {
    throw new CliError(
      "the cluster hosts different object code (its code hash differs from this node's -f/-c/--object)",
    );
  }
  return codeHash === null ? membersPart! : `${membersPart}:${codeHash.slice(0, 16)}`;
}

/** Asks the cluster to add this node; retries while another membership change is in progress. */
async function joinThrough(cluster: ClusterLookup, me: Member): Promise<void> {
  const { connect } = await import("../../client/client.ts");
  const dns = cluster.dnsServer ? { dnsServer: cluster.dnsServer } : {};
  const client = await connect(cluster.bootstrap, { timeoutMs: 10_000, ...dns });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.reconfigure({ kind: "add", member: me });
        return;
      } catch (error) {
        const message = (error as Error).message;
        if (!/in progress/.test(message) || attempt >= JOIN_RETRIES_MAX)
          throw new CliError(`joining: ${message}`);
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
  } finally {
    await client.close();
  }
}

/** How often a join waits for another membership change to finish. */
const JOIN_RETRIES_MAX = 20;

/** `--safe`: the static check must find nothing in any object file. */
async function refuseUnsafe(files: readonly string[]): Promise<void> {
  const { checkObjectSafety, formatFinding } = await import("../../safety/index.ts");
  const findings = (await Promise.all(files.map((file) => checkObjectSafety({ file })))).flat();
  if (findings.length === 0) return;
  for (const f of findings) process.stderr.write(`${formatFinding(f)}\n`);
  throw new CliError(`--safe: ${findings.length} finding(s) in the object code; not starting`);
}

/** Seconds to ticks of the host's 10 ms clock. */
function parseRemoveAfter(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError(`--remove-after: "${text}" is not a number of seconds`);
  return Math.ceil((seconds * 1000) / HOST_TICK_MS);
}

/** The host's tick (see NodeHostOptions.tickMs). */
const HOST_TICK_MS = 10;

function parseSnapshotInterval(text: string): number {
  const slots = Number(text);
  if (!Number.isInteger(slots) || slots < 1)
    throw new CliError(`--snapshot-interval: "${text}" is not a number of slots`);
  return slots;
}

function parseDomain(text: string): string {
  try {
    return normalizeDomain(text);
  } catch (error) {
    throw new CliError(`-n: ${(error as Error).message}`);
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`-p: "${text}" is not a port (1-65535)`);
  return port;
}

function parseList(text: string, flag: string): Address[] {
  try {
    return parseAddressList(text);
  } catch (error) {
    throw new CliError(`${flag}: ${(error as Error).message}`);
  }
}

/**
 * An acceptor-only node never applies commands for clients (it is not a replica and never answers a
 * learner), but the core keeps the membership in its replicated state, which needs a machine.
 */
class AcceptorMachine implements StateMachine {
  apply(): Uint8Array {
    return new Uint8Array(0);
  }
  query(): Uint8Array {
    return new Uint8Array(0);
  }
  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }
  restore(): void {}
}
