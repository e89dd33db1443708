import type { Ballot } from "./ballot.ts";
import { compareBallots } from "./ballot.ts";
import type { Batch, Command } from "./command.ts";
import type { Config } from "./config.ts";
import { acceptorIds, isQuorum } from "./config.ts";
import type { PromiseMessage, PValue } from "./messages.ts";

/** What one acceptor promised this leader's ballot. */
export interface PromiseRecord {
  readonly coveredThrough: number;
  readonly truncatedThrough: number;
}

/** A slot this leader proposed and has not applied yet. */
export interface Proposal {
  readonly value: Batch;
  readonly bytes: number;
  readonly accepts: Set<number>;
  sentTick: number;
  decided: boolean;
}

/** A linearizable read waiting for a confirmation round that started after it arrived. */
export interface PendingRead {
  readonly requestId: number;
  readonly query: Uint8Array;
  readonly round: number;
}

/**
 * The bookkeeping of a candidate or leader for one ballot: promises (phase 1 may grow as the window
 * reaches configs with new acceptors), proposals in flight, queued commands and reads.
 *
 * @example
 * ```ts
 * const leader = new LeaderState({ ballot, fromSlot: executed + 1, tick });
 * leader.recordPromise(from, promise, tick);
 * leader.preparedFor(config, slot);
 * ```
 */
export class LeaderState {
  readonly ballot: Ballot;
  /** First slot this ballot may propose in: everything before it was applied when it campaigned. */
  readonly fromSlot: number;
  active = false;
  /** The tick this ballot started to lead: members unheard of since count from here. */
  electedTick = 0;
  readonly promises = new Map<number, PromiseRecord>();
  readonly prepareSentTick = new Map<number, number>();
  /** The highest-ballot value reported for each slot by any acceptor that promised. */
  readonly reported = new Map<number, PValue>();
  maxReportedSlot = 0;
  nextSlot: number;
  readonly proposals = new Map<number, Proposal>();
  uncommittedBytes = 0;
  readonly pending: Command[] = [];
  readonly lastAckTick = new Map<number, number>();
  /** The last tick each follower acknowledged an accept: who gets a new slot's accepts (see `PaxosNode`). */
  readonly acceptAckTick = new Map<number, number>();
  /** Durable snapshot slot each replica reported. */
  readonly replicaSnapshotSlot = new Map<number, number>();
  heartbeatElapsed = 0;
  keepaliveElapsed = 0;
  /** Sessions whose clients showed a sign of life since the last keepalive was proposed. */
  readonly alive = new Set<number>();
  readRound = 0;
  readRoundInFlight = false;
  readonly readAcks = new Map<number, number>();
  readonly reads: PendingRead[] = [];

  /** This candidacy was handed over by the previous leader (its prepares say so). */
  readonly handover: boolean;

  constructor(options: { ballot: Ballot; fromSlot: number; handover?: boolean }) {
    this.ballot = options.ballot;
    this.fromSlot = options.fromSlot;
    this.handover = options.handover ?? false;
    this.nextSlot = options.fromSlot;
  }

  /** Folds a promise into the phase-1 view. */
  recordPromise(from: number, promise: PromiseMessage, tick: number): void {
    this.promises.set(from, {
      coveredThrough: promise.coveredThrough,
      truncatedThrough: promise.truncatedThrough,
    });
    this.lastAckTick.set(from, tick);
    for (const pvalue of promise.accepted) {
      if (pvalue.slot < this.fromSlot) continue;
      const known = this.reported.get(pvalue.slot);
      if (!known || compareBallots(pvalue.ballot, known.ballot) > 0) this.reported.set(pvalue.slot, pvalue);
      if (pvalue.slot > this.maxReportedSlot) this.maxReportedSlot = pvalue.slot;
    }
  }

  /**
   * True when a quorum of `config`'s acceptors promised and reported completely through `slot`, so the
   * highest-ballot report for `slot` is the only value that may have been chosen there.
   */
  preparedFor(config: Config, slot: number): boolean {
    const covering = new Set<number>();
    for (const id of acceptorIds(config)) {
      const p = this.promises.get(id);
      if (p && p.coveredThrough >= slot && p.truncatedThrough < slot) covering.add(id);
    }
    return isQuorum(config, covering);
  }

  /** Acceptors of `config` whose promise does not yet cover `slot`. */
  missingCoverage(config: Config, slot: number): number[] {
    return acceptorIds(config).filter((id) => {
      const p = this.promises.get(id);
      return !p || p.coveredThrough < slot;
    });
  }

  /** True when a quorum of each config acknowledged a heartbeat within `windowTicks` of `tick`. */
  hasQuorumContact(configs: readonly Config[], tick: number, windowTicks: number): boolean {
    return configs.every((config) => {
      const fresh = new Set<number>();
      for (const [id, at] of this.lastAckTick) if (tick - at < windowTicks) fresh.add(id);
      return isQuorum(config, fresh);
    });
  }

  /** The highest read round a quorum of each config has confirmed. */
  confirmedReadRound(configs: readonly Config[]): number {
    let confirmed = Number.POSITIVE_INFINITY;
    for (const config of configs) {
      const rounds = acceptorIds(config)
        .map((id) => this.readAcks.get(id) ?? 0)
        .sort((a, b) => b - a);
      const quorum = Math.floor(rounds.length / 2) + 1;
      confirmed = Math.min(confirmed, rounds[quorum - 1] ?? 0);
    }
    return confirmed === Number.POSITIVE_INFINITY ? 0 : confirmed;
  }
}
