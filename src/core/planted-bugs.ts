/**
 * Deliberate protocol bugs, switched on only by the simulator to prove that it catches them (mutation
 * testing). Production nodes always run with none.
 *
 * - `ack-before-persist`: the host sends replies and votes before the batch is durable.
 * - `accept-lower-ballot`: acceptors accept values from ballots below their promise.
 * - `read-without-quorum`: leaders answer reads without confirming their ballot with a quorum.
 * - `no-dedup`: replicas apply a retried command again instead of answering from the session.
 * - `no-alpha-window`: leaders propose beyond `executed + alpha`, using a config they cannot know yet.
 */
export const PLANTED_BUGS = [
  "ack-before-persist",
  "accept-lower-ballot",
  "read-without-quorum",
  "no-dedup",
  "no-alpha-window",
] as const;

export type PlantedBug = (typeof PLANTED_BUGS)[number];

export type PlantedBugs = ReadonlySet<PlantedBug>;

/** The empty set: what every real node runs with. */
export const NO_BUGS: PlantedBugs = new Set();

/** Parses a bug name given on the command line. */
export function parsePlantedBug(name: string): PlantedBug {
  const found = PLANTED_BUGS.find((b) => b === name);
  if (!found) throw new Error(`unknown planted bug "${name}"; known: ${PLANTED_BUGS.join(", ")}`);
  return found;
}
