/**
 * Ballots order leaders. `(round, nodeId)` compared round first, then node id as a number: two candidates
 * never share a ballot, and the order does not depend on how addresses sort as strings.
 *
 * @example
 * ```ts
 * compareBallots({ round: 2, nodeId: 1 }, { round: 1, nodeId: 9 }) > 0; // true
 * ```
 */
export interface Ballot {
  readonly round: number;
  readonly nodeId: number;
}

/** The ballot below every real ballot; acceptors start promised to it. */
export const BALLOT_ZERO: Ballot = Object.freeze({ round: 0, nodeId: 0 });

/** Negative when `a < b`, zero when equal, positive when `a > b`. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round - b.round;
  return a.nodeId - b.nodeId;
}

/** True when both ballots are the same. */
export function ballotsEqual(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.nodeId === b.nodeId;
}

/** The larger of two ballots. */
export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** Short text for logs and status output, e.g. `3.1`. */
export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.nodeId}`;
}
