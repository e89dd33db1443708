import { createHash } from "node:crypto";
import type { Member } from "../core/config.ts";
import type { Address } from "./address.ts";
import { compareAddresses, formatAddress } from "./address.ts";

/**
 * The fixed initial membership given on the command line: replicas (`--peers`) and acceptor-only nodes
 * (`--acceptors`). Every node must be given the same lists; ids follow the sorted addresses, so the
 * order in which they were typed does not matter.
 *
 * @example
 * ```ts
 * const members = initialMembers({ replicas: [a, b, c], acceptors: [] }); // ids 1, 2, 3
 * ```
 */
export function initialMembers(options: {
  replicas: readonly Address[];
  acceptors: readonly Address[];
}): Member[] {
  const all = [
    ...options.replicas.map((address) => ({ address, replica: true })),
    ...options.acceptors.map((address) => ({ address, replica: false })),
  ].sort((x, y) => compareAddresses(x.address, y.address));
  for (let i = 1; i < all.length; i++) {
    if (compareAddresses(all[i - 1]!.address, all[i]!.address) === 0) {
      throw new Error(`${formatAddress(all[i]!.address)} is listed twice`);
    }
  }
  return all.map((m, i) => ({
    id: i + 1,
    replica: m.replica,
    acceptor: true,
    address: formatAddress(m.address),
  }));
}

/**
 * The cluster's identity as a node states it in `hello`: a hash of the initial membership, and for
 * replicas the hash of the hosted objects' code after a colon. Nodes refuse peers whose membership hash
 * differs, and replicas refuse replicas running other code.
 */
export function clusterIdentity(members: readonly Member[], codeHash: string | null): string {
  const membersHash = createHash("sha256")
    .update(JSON.stringify(members.map((m) => [m.id, m.address, m.replica, m.acceptor])))
    .digest("hex")
    .slice(0, 16);
  return codeHash === null ? membersHash : `${membersHash}:${codeHash.slice(0, 16)}`;
}

/** Null when `theirs` may talk to a node of identity `ours`, else the reason. */
export function identityConflict(ours: string, theirs: string): string | null {
  const [ourMembers, ourCode] = ours.split(":");
  const [theirMembers, theirCode] = theirs.split(":");
  if (ourMembers !== theirMembers) return "it was started with a different membership (--peers/--acceptors)";
  if (ourCode !== undefined && theirCode !== undefined && ourCode !== theirCode) {
    return "it hosts a different object (its code hash differs)";
  }
  return null;
}
