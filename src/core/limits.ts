/**
 * Every bound the core enforces, by name. Each one protects something specific: memory of a leader that
 * cannot reach a quorum, the size of a frame on the wire, the replicated session table, the time a
 * lagging replica may need to catch up.
 *
 * @example
 * ```ts
 * const limits = resolveLimits({ alpha: 8 });
 * ```
 */
export interface Limits {
  /**
   * The window α: a leader never proposes beyond `executed + alpha`, and a reconfiguration decided at
   * slot s governs slots from `s + alpha` on. It must be the same on every member.
   */
  alpha: number;
  /** Commands that may share one slot. */
  batchCommandsMax: number;
  /** Bytes of commands that may share one slot. */
  batchBytesMax: number;
  /** Bytes a leader holds in proposed but undecided slots. */
  uncommittedBytesMax: number;
  /** Client commands a leader queues before it answers `Busy`. */
  pendingCommandsMax: number;
  /** Linearizable reads a leader queues before it answers `Busy`. */
  pendingReadsMax: number;
  /** Size of one command's operation bytes. */
  commandBytesMax: number;
  /** Client sessions kept in the replicated state; the least recently used one is evicted past it. */
  sessionsMax: number;
  /** Replies kept per session, i.e. the calls one client may have in flight. */
  sessionRepliesMax: number;
  /**
   * The longest lease a session may have, and the lease of a session that asks for none: a session
   * without a sign of life (a command or a keepalive) for its lease expires through the log.
   */
  sessionTimeoutMs: number;
  /** Ticks between the leader's records of client keepalives. */
  keepaliveIntervalTicks: number;
  /**
   * When positive, the leader removes a member it has not heard from for this many ticks (ConCoord did,
   * after 10 s). Off (0) by default: under a partition it shrinks the cluster to the side the leader is
   * on, so a later failure there can cost the quorum that the removed members would have provided.
   */
  removeAfterTicks: number;
  /** Bytes of entries one message may carry (accept, promise, learn). */
  messageBytesMax: number;
  /**
   * A replica snapshots its state every this many executed slots — once those slots hold at least as
   * many bytes as its last snapshot did, and at the latest after {@link SNAPSHOT_DEFER_INTERVALS_MAX}
   * intervals.
   */
  snapshotIntervalSlots: number;
  /**
   * A replica also snapshots once the slots executed since its last snapshot hold this many bytes of
   * commands (wire size, see `batchBytes`), or as many as its last snapshot if that is more: until a
   * snapshot covers them, decided values stay in memory for learners and the acceptor, so a slot count
   * alone would let 4096 full batches pin gigabytes.
   */
  snapshotLogBytesMax: number;
  /** Bytes of application state one catch-up message carries; a larger snapshot goes in parts. */
  snapshotChunkBytes: number;
  /**
   * Executed slots a replica may run ahead of its last durable commit record before it writes one on
   * its own (otherwise commit records ride along with records synced anyway): a restarted replica
   * re-learns at most this many decided slots from its peers.
   */
  commitRecordSlotsMax: number;
  /** Ticks without hearing the leader before a replica campaigns (randomised up to twice this). */
  electionTicks: number;
  /** Ticks between a leader's heartbeats. */
  heartbeatTicks: number;
  /** Ticks before an unanswered prepare, accept or learn request is sent again. */
  retransmitTicks: number;
  /**
   * Acceptors beyond a quorum that get a fresh slot's accepts at once: 0 sends them to a quorum only (the
   * leader and the followers that answered last), and the other replicas learn the decided slots from the
   * heartbeats' commit point; as many as the other acceptors sends to every acceptor.
   */
  freshAcceptSpares: number;
}

/** Defaults for a node on a local network with a 10 ms tick. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  alpha: 32,
  batchCommandsMax: 1024,
  batchBytesMax: 1024 * 1024,
  uncommittedBytesMax: 8 * 1024 * 1024,
  pendingCommandsMax: 16384,
  pendingReadsMax: 16384,
  commandBytesMax: 256 * 1024,
  sessionsMax: 10000,
  sessionRepliesMax: 1024,
  sessionTimeoutMs: 60_000,
  keepaliveIntervalTicks: 50,
  removeAfterTicks: 0,
  messageBytesMax: 4 * 1024 * 1024,
  snapshotIntervalSlots: 4096,
  snapshotLogBytesMax: 16 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  commitRecordSlotsMax: 256,
  electionTicks: 30,
  heartbeatTicks: 5,
  retransmitTicks: 10,
  freshAcceptSpares: 0,
});

/** Limits that may be 0: 0 turns the removal off, or sends fresh accepts to a quorum only. */
const ZERO_ALLOWED: ReadonlySet<string> = new Set(["removeAfterTicks", "freshAcceptSpares"]);

/**
 * A snapshot encodes the whole state, so a replica whose state outweighs the log written since its last
 * snapshot puts the next one off until the log has caught up (the cost of snapshots stays proportional to
 * what is written, not to the state times the writes); it puts it off for at most this many
 * `snapshotIntervalSlots`, which bounds the slots held in memory whatever their size.
 */
export const SNAPSHOT_DEFER_INTERVALS_MAX = 16;

/** Fills in defaults and checks that the limits are coherent. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < (ZERO_ALLOWED.has(name) ? 0 : 1))
      throw new RangeError(
        `limit ${name} must be a ${ZERO_ALLOWED.has(name) ? "non-negative" : "positive"} integer`,
      );
  }
  if (limits.commandBytesMax > limits.batchBytesMax) {
    throw new RangeError("limit commandBytesMax must not exceed batchBytesMax");
  }
  if (limits.batchBytesMax > limits.messageBytesMax / 2) {
    throw new RangeError("limit batchBytesMax must be at most half of messageBytesMax");
  }
  if (limits.heartbeatTicks >= limits.electionTicks) {
    throw new RangeError("limit heartbeatTicks must be below electionTicks");
  }
  return limits;
}
