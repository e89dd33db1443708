import type { Member } from "../../core/config.ts";
import { parseAddressList } from "../../host/address.ts";
import { dialNode } from "../../net/dial.ts";
import { CliError } from "../cli-error.ts";
import type { NodeStatusReport } from "./status.ts";
import { fetchStatus } from "./status.ts";

/** One member's health as `concoord health` reports it. */
export interface MemberHealth {
  readonly id: number;
  readonly address: string;
  readonly replica: boolean;
  readonly healthy: boolean;
  readonly reason: string;
  readonly role: string | null;
}

/** The cluster's health: every member, and the verdict. */
export interface ClusterHealth {
  readonly members: readonly MemberHealth[];
  readonly cluster: "healthy" | "degraded" | "unavailable";
}

/** How long one member may take to answer. */
const MEMBER_TIMEOUT_MS = 1000;

/**
 * Asks every member for its status, like `etcdctl cluster-health`. A member is healthy when it answers
 * and knows a leader. The cluster is healthy when every member is, degraded when a quorum of acceptors
 * is healthy and a leader exists but someone is not, and unavailable otherwise.
 *
 * @example
 * ```ts
 * const health = await clusterHealth("127.0.0.1:14000");
 * health.cluster; // "healthy"
 * ```
 */
export async function clusterHealth(bootstrap: string): Promise<ClusterHealth> {
  const members = await discoverMembers(bootstrap);
  const reports = await Promise.all(
    members.map(async (m): Promise<MemberHealth> => {
      const address = m.address ?? "";
      let status: NodeStatusReport;
      try {
        status = await fetchStatus(address, MEMBER_TIMEOUT_MS);
      } catch (error) {
        return {
          id: m.id,
          address,
          replica: m.replica,
          healthy: false,
          reason: (error as Error).message,
          role: null,
        };
      }
      const healthy = status.leaderId !== null;
      const reason = healthy
        ? `got healthy result from tcp://${address}`
        : "it knows no leader (no quorum reachable from it)";
      return { id: m.id, address, replica: m.replica, healthy, reason, role: status.role };
    }),
  );
  const acceptors = members.filter((m) => m.acceptor);
  const healthyAcceptors = reports.filter((r) => r.healthy && acceptors.some((a) => a.id === r.id)).length;
  const leaderUp = reports.some((r) => r.role === "leader");
  const quorum = Math.floor(acceptors.length / 2) + 1;
  const cluster =
    reports.every((r) => r.healthy) && leaderUp
      ? "healthy"
      : healthyAcceptors >= quorum && leaderUp
        ? "degraded"
        : "unavailable";
  return { members: reports, cluster };
}

/** The members as the first reachable node of `bootstrap` describes them. */
async function discoverMembers(bootstrap: string): Promise<readonly Member[]> {
  const errors: string[] = [];
  for (const address of parseAddressList(bootstrap)) {
    try {
      const { conn, welcome } = await dialNode(address, {
        timeoutMs: MEMBER_TIMEOUT_MS,
        onFrame: () => {},
        onClose: () => {},
      });
      conn.close();
      return welcome.members;
    } catch (error) {
      errors.push(`${address.host}:${address.port}: ${(error as Error).message}`);
    }
  }
  throw new CliError(`cannot reach any node to list the members (${errors.join("; ")})`);
}

/** `concoord health -b BOOTSTRAP [--json]`: exit 0 only when the cluster is healthy. */
export async function runHealth(options: { bootstrap: string; json?: boolean }): Promise<number> {
  const health = await clusterHealth(options.bootstrap);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(health)}\n`);
  } else {
    for (const m of health.members) {
      const state = m.healthy ? "healthy" : m.role === null ? "unreachable" : "unhealthy";
      process.stdout.write(`member ${m.id} is ${state}: ${m.reason}\n`);
    }
    process.stdout.write(`cluster is ${health.cluster}\n`);
  }
  return health.cluster === "healthy" ? 0 : 1;
}
