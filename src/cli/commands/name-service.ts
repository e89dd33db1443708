import type { DnsServer } from "../../dns/server.ts";
import type { ClusterView } from "../../dns/view.ts";
import type { Address } from "../../host/address.ts";
import { parseAddress } from "../../host/address.ts";
import type { Logger } from "../../log/logger.ts";
import { CliError } from "../cli-error.ts";
import type { NameServiceConfig } from "./name-service-config.ts";

/** How a name service publishes the view: 1 serves it, 2 updates a master, 3 updates Route53. */
export type NameServiceType = 1 | 2 | 3;

/** How often the view is read again: answers follow a membership change well within a second. */
export const VIEW_POLL_MS = 200;

/** Options of {@link startNameService}. */
export interface NameServiceOptions {
  readonly domain: string;
  readonly type: NameServiceType;
  /** Where type 1 listens (the address is also this name server's entry in the view). */
  readonly listen: Address;
  readonly ttlSeconds: number;
  /** Type 2: the master's `HOST:PORT` (port 53 when omitted). */
  readonly master?: string;
  /** `-o CONFIG`: the TSIG key (type 2) and Route53 settings (type 3). */
  readonly config: NameServiceConfig;
  readonly log: Logger;
}

/** A running name service. */
export interface NameService {
  /** Publishes `view` if it differs from the last one. */
  publish(view: ClusterView): void;
  /** The port type 1 serves on. */
  readonly port: number | null;
  close(): Promise<void>;
}

/**
 * Starts the name service of `-n DOMAIN`: an authoritative server (type 1), or a publisher to a master
 * by RFC 2136 UPDATE with TSIG (type 2), or to Route53 (type 3, whose SDK loads only here).
 *
 * @example
 * ```ts
 * const service = await startNameService({ domain, type: 1, listen, ttlSeconds: 30, config: {}, log });
 * service.publish(view);
 * ```
 */
export async function startNameService(
  options: NameServiceOptions,
  first: ClusterView,
): Promise<NameService> {
  if (options.type === 1) {
    const { DnsServer: Server } = await import("../../dns/server.ts");
    let server: DnsServer;
    try {
      server = await Server.start({
        host: options.listen.host,
        port: options.listen.port,
        view: first,
        ttlSeconds: options.ttlSeconds,
        log: options.log,
      });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    return {
      port: server.port,
      // The server compares views itself: the serial grows only when the records change.
      publish: (view) => server.update(view),
      close: () => server.close(),
    };
  }
  if (options.type === 2) {
    if (!options.master) throw new CliError("-t 2 (slave) needs the master: -m HOST[:PORT]");
    const key = options.config.tsig;
    if (!key)
      throw new CliError("-t 2 (slave) needs a TSIG key: `tsig: { name, secret }` in the -o CONFIG file");
    const { DnsUpdatePublisher } = await import("../../dns/update.ts");
    const { parseTsigSecret } = await import("../../dns/tsig.ts");
    const master = parseMaster(options.master);
    const publisher = new DnsUpdatePublisher({
      master,
      key: { name: key.name, algorithm: "hmac-sha256", secret: parseTsigSecret(key.secret) },
      ttlSeconds: options.ttlSeconds,
      log: options.log,
    });
    return pushing(publisher, first);
  }
  const { Route53Publisher } = await import("../../dns/route53.ts");
  const { loadRoute53Credentials } = await import("../../dns/route53-credentials.ts");
  const settings = options.config.route53 ?? {};
  let credentials: Awaited<ReturnType<typeof loadRoute53Credentials>>;
  try {
    credentials = await loadRoute53Credentials();
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const publisher = new Route53Publisher({
    domain: options.domain,
    log: options.log,
    ...(credentials ? { credentials } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.region ? { region: settings.region } : {}),
  });
  return pushing(publisher, first);
}

/**
 * A service that pushes each view elsewhere (to a master, or to Route53) and serves nothing. The
 * publishers skip a view whose records did not change themselves, so every poll may hand its view on.
 */
function pushing(
  publisher: { publish(view: ClusterView): void; close(): unknown },
  first: ClusterView,
): NameService {
  publisher.publish(first);
  return {
    port: null,
    publish: (view) => publisher.publish(view),
    close: async () => {
      await publisher.close();
    },
  };
}

function parseMaster(text: string): Address {
  try {
    return parseAddress(text.includes(":") ? text : `${text}:53`);
  } catch (error) {
    throw new CliError(`-m: ${(error as Error).message}`);
  }
}

/** Parses `-t`. */
export function parseNameServiceType(text: string | undefined): NameServiceType {
  if (text === undefined) return 1;
  if (text === "1" || text === "2" || text === "3") return Number(text) as NameServiceType;
  throw new CliError(`-t: "${text}" is not a name server type (1 standalone, 2 slave of -m, 3 Route53)`);
}

/** Parses `--dns-port` (53 by default). */
export function parseDnsPort(text: string | undefined): number {
  if (text === undefined) return 53;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--dns-port: "${text}" is not a port`);
  return port;
}

/** Parses `--dns-ttl` (30 s by default, as the original). */
export function parseTtl(text: string | undefined): number {
  if (text === undefined) return 30;
  const ttl = Number(text);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 86_400)
    throw new CliError(`--dns-ttl: "${text}" is not 0-86400 seconds`);
  return ttl;
}
