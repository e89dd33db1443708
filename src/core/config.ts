import { assert } from "./assert.ts";

/**
 * Cluster membership. A member holds a replica (runs the state machine, may lead), an acceptor (votes
 * in quorums, stores accepted values), or both — the default.
 *
 * @example
 * ```ts
 * const config = makeConfig([{ id: 1, replica: true, acceptor: true }]);
 * quorumSize(config); // 1
 * ```
 */
export interface Member {
  readonly id: number;
  readonly replica: boolean;
  readonly acceptor: boolean;
  /** Where the host reaches the member (`host:port`); the core never reads it. */
  readonly address?: string;
  /** Where the member serves DNS for the cluster's domain (`host:port`), if it does; the core never reads it. */
  readonly dns?: string;
}

/** The members of the cluster, sorted by id. */
export interface Config {
  readonly members: readonly Member[];
}

/** A membership change, proposed through the log. */
export type ConfChange = { kind: "add"; member: Member } | { kind: "remove"; id: number };

/** Builds a config, checking ids are unique positive integers and every member has a role. */
export function makeConfig(members: readonly Member[]): Config {
  const sorted = [...members].sort((a, b) => a.id - b.id);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i]!;
    assert(Number.isInteger(m.id) && m.id > 0, `member id must be a positive integer: ${m.id}`);
    assert(m.replica || m.acceptor, `member ${m.id} has no role`);
    assert(i === 0 || sorted[i - 1]!.id !== m.id, `member ${m.id} listed twice`);
  }
  return { members: sorted };
}

/** Ids of the config's acceptors. */
export function acceptorIds(config: Config): number[] {
  return config.members.filter((m) => m.acceptor).map((m) => m.id);
}

/** Ids of the config's replicas. */
export function replicaIds(config: Config): number[] {
  return config.members.filter((m) => m.replica).map((m) => m.id);
}

/** Acceptors needed for a majority. */
export function quorumSize(config: Config): number {
  return Math.floor(acceptorIds(config).length / 2) + 1;
}

/** True when the acceptors among `ids` form a majority of the config's acceptors. */
export function isQuorum(config: Config, ids: ReadonlySet<number>): boolean {
  let count = 0;
  for (const id of acceptorIds(config)) if (ids.has(id)) count++;
  return count >= quorumSize(config);
}

/** The member with `id`, if any. */
export function findMember(config: Config, id: number): Member | undefined {
  return config.members.find((m) => m.id === id);
}

/**
 * Applies a change, or returns the reason it is refused. A change that would leave no replica or no
 * acceptor is refused, since such a cluster can never decide again.
 */
export function applyConfChange(config: Config, change: ConfChange): Config | string {
  if (change.kind === "add") {
    if (findMember(config, change.member.id)) return `member ${change.member.id} already exists`;
    const address = change.member.address;
    const holder = address === undefined ? undefined : config.members.find((m) => m.address === address);
    if (holder) return `address ${address} is already member ${holder.id}'s`;
    if (!change.member.replica && !change.member.acceptor) return `member ${change.member.id} has no role`;
    return makeConfig([...config.members, change.member]);
  }
  if (!findMember(config, change.id)) return `member ${change.id} does not exist`;
  const next = makeConfig(config.members.filter((m) => m.id !== change.id));
  if (replicaIds(next).length === 0) return "cannot remove the last replica";
  if (acceptorIds(next).length === 0) return "cannot remove the last acceptor";
  return next;
}

/** Short text for logs, e.g. `1ra,2ra,3a`. */
export function formatConfig(config: Config): string {
  return config.members.map((m) => `${m.id}${m.replica ? "r" : ""}${m.acceptor ? "a" : ""}`).join(",");
}
