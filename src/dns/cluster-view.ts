import type { Member } from "../core/config.ts";
import type { Address } from "../host/address.ts";
import { parseAddress } from "../host/address.ts";
import type { ClusterView, ViewNode } from "./view.ts";

/**
 * The view a name server publishes for a membership: replicas and acceptor-only nodes from the decided
 * config, and as name servers the members that announced one (`dns`) plus the servers given (this one).
 * A member without a usable address is left out rather than published wrong.
 *
 * @example
 * ```ts
 * viewFromMembers({ domain: "counterdomain.test", members: node.members(), nameservers: [{ host: "127.0.0.1", port: 5353 }] });
 * ```
 */
export function viewFromMembers(options: {
  readonly domain: string;
  readonly members: readonly Member[];
  readonly nameservers: readonly Address[];
}): ClusterView {
  const nodes: ViewNode[] = [];
  const add = (role: ViewNode["role"], text: string | undefined): void => {
    const address = text === undefined ? null : tryParse(text);
    if (
      address &&
      !nodes.some((n) => n.role === role && n.host === address.host && n.port === address.port)
    ) {
      nodes.push({ role, host: address.host, port: address.port });
    }
  };
  for (const m of options.members) {
    add(m.replica ? "REPLICA" : "ACCEPTOR", m.address);
    add("NAMESERVER", m.dns);
  }
  for (const ns of options.nameservers) add("NAMESERVER", `${ns.host}:${ns.port}`);
  return { domain: options.domain, nodes };
}

function tryParse(text: string): Address | null {
  try {
    return parseAddress(text);
  } catch {
    return null;
  }
}
