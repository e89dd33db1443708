import { Acceptor } from "./acceptor.ts";
import { assert } from "./assert.ts";
import type { Ballot } from "./ballot.ts";
import { ballotsEqual, compareBallots, formatBallot } from "./ballot.ts";
import type { Batch, Command, Reply } from "./command.ts";
import { batchBytes, commandBytes } from "./command.ts";
import type { Config, Member } from "./config.ts";
import { acceptorIds, findMember, formatConfig, quorumSize, replicaIds } from "./config.ts";
import type { DurableState } from "./durable.ts";
import { emptyDurableState } from "./durable.ts";
import { LeaderState } from "./leader.ts";
import type { Limits } from "./limits.ts";
import { resolveLimits, SNAPSHOT_DEFER_INTERVALS_MAX } from "./limits.ts";
import type {
  AcceptedMessage,
  AcceptMessage,
  HeartbeatAckMessage,
  HeartbeatMessage,
  LearnMessage,
  LearnRequestMessage,
  Message,
  NackMessage,
  PromiseMessage,
  SlotValue,
} from "./messages.ts";
import type { PlantedBugs } from "./planted-bugs.ts";
import { NO_BUGS } from "./planted-bugs.ts";
import type { Ready } from "./ready.ts";
import { Outbox } from "./ready.ts";
import { ReplicatedState } from "./replicated-state.ts";
import { RequestRoutes } from "./routes.ts";
import type { Snapshot } from "./snapshot.ts";
import type { StateMachine } from "./state-machine.ts";

/** How a node is built. */
export interface NodeOptions {
  readonly id: number;
  /** Membership at slot 1; a node joining a running cluster passes an empty config and learns the real one. */
  readonly config: Config;
  readonly machine: StateMachine;
  /** State recovered from disk; a new node starts empty. */
  readonly durable?: DurableState;
  /** A seeded source of numbers in [0, 1) for election jitter: the core owns no randomness of its own. */
  readonly random: () => number;
  readonly limits?: Partial<Limits>;
  readonly bugs?: PlantedBugs;
  /**
   * Makes the value of a slot this node proposes from its fields; a host may return a batch that holds
   * its own encoding (and reads the same). The plain object by default.
   */
  readonly makeBatch?: (batch: Batch) => Batch;
}

/** The role a node plays right now. */
export type Role = "follower" | "candidate" | "leader";

/** A node's view of itself, for status output and tests. */
export interface NodeStatus {
  readonly id: number;
  readonly role: Role;
  readonly ballot: string | null;
  readonly promised: string;
  readonly leaderId: number | null;
  readonly executed: number;
  readonly snapshotSlot: number;
  /** Snapshots this node installed from another replica to catch up (since it started). */
  readonly snapshotsInstalled: number;
  readonly truncatedThrough: number;
  readonly config: string;
  readonly sessions: number;
  readonly clockMs: number;
}

/** A leader's commit point as a follower heard it (see `PaxosNode#heardCommit`). */
interface HeardCommit {
  readonly leaderId: number;
  readonly ballot: Ballot;
  commitThrough: number;
  compactThrough: number;
  /** Whether a `ready()` already put it off because it had records to persist. */
  putOff: boolean;
}

/**
 * One concoord node: acceptor, replica and (when elected) leader of Multi-Paxos after "Paxos Made
 * Moderately Complex". It is pure and synchronous: inputs are `tick`, `step`, `propose` and `read`;
 * outputs come from `ready()` as one batch of effects with a strict order (see {@link Ready}).
 *
 * @example
 * ```ts
 * const node = new PaxosNode({ id: 1, config, machine, random: seededRandom(7) });
 * node.tick(nowMs);
 * node.propose(requestId, command);
 * const ready = node.ready(); // persist, then send and reply
 * ```
 */
export class PaxosNode {
  readonly id: number;
  readonly limits: Limits;
  readonly #bugs: PlantedBugs;
  readonly #random: () => number;
  readonly #makeBatch: (batch: Batch) => Batch;
  readonly #outbox: Outbox;
  readonly #acceptor: Acceptor;
  readonly #state: ReplicatedState;

  #tick = 0;
  #nowMs = 0;
  #campaignRound: number;
  #maxRoundSeen = 0;

  #role: Role = "follower";
  #leader: LeaderState | null = null;
  #leaderId: number | null = null;
  #leaderContactTick = Number.NEGATIVE_INFINITY;
  #electionElapsed = 0;
  #electionTimeout: number;

  /** Decided values not yet compacted: executed ones serve learners, later ones wait for their turn. */
  readonly #decided = new Map<number, Batch>();
  /** The lowest slot still held in `#decided` once executed; older ones exist only in the snapshot. */
  #logStart: number;
  #snapshotSlot = 0;
  /** Bytes of the slots executed since the last snapshot (see `snapshotLogBytesMax`). */
  #logBytes = 0;
  /** Bytes of the last snapshot's application state (see `SNAPSHOT_DEFER_INTERVALS_MAX`). */
  #snapshotBytes = 0;
  #learnRequestedTick = Number.NEGATIVE_INFINITY;
  /** Requests this node must answer, by `(clientId, seq)`. */
  readonly #routes = new RequestRoutes();
  #pumpWanted = false;
  /**
   * The leader's latest commit point, heard with an accept or a heartbeat and not yet learned. A follower
   * acknowledges an accept before it applies what the accept's commit point decided: the acknowledgement
   * is on the leader's (and its client's) critical path, the application is not. See `ready()`.
   */
  #heardCommit: HeardCommit | null = null;
  /** Snapshots being sent, by learner (bounded by SNAPSHOT_TRANSFERS_MAX). */
  readonly #transfers = new Map<number, Snapshot>();
  /** A snapshot being received in parts. */
  #incoming: { slot: number; app: Uint8Array; received: number } | null = null;
  /** Who answered our last learn request: the next part is asked of the same node. */
  #learnSource: number | null = null;
  #snapshotsInstalled = 0;
  /** The commit point last written to disk. */
  #persistedCommit = 0;

  constructor(options: NodeOptions) {
    assert(Number.isInteger(options.id) && options.id > 0, "node id must be a positive integer");
    this.id = options.id;
    this.#outbox = new Outbox(options.id);
    this.limits = resolveLimits(options.limits);
    this.#bugs = options.bugs ?? NO_BUGS;
    this.#random = options.random;
    this.#makeBatch = options.makeBatch ?? ((batch) => batch);
    const durable = options.durable ?? emptyDurableState();
    this.#acceptor = new Acceptor({ durable, bugs: this.#bugs, outbox: this.#outbox });
    this.#campaignRound = durable.campaignRound;
    this.#maxRoundSeen = Math.max(durable.campaignRound, durable.promised.round);
    this.#state = new ReplicatedState({
      machine: options.machine,
      limits: this.limits,
      bugs: this.#bugs,
      config: options.config,
    });
    if (durable.snapshot) {
      this.#state.restore(durable.snapshot);
      this.#noteSnapshot(durable.snapshot);
    }
    this.#logStart = this.#state.executed + 1;
    this.#electionTimeout = this.#randomElectionTimeout();
    this.#persistedCommit = durable.committedThrough;
    this.#replayCommitted(durable);
  }

  /** Re-applies the slots this node knew were decided before it stopped, from its own disk. */
  #replayCommitted(durable: DurableState): void {
    for (let slot = this.#state.executed + 1; slot <= durable.committedThrough; slot++) {
      const value = durable.decided.get(slot) ?? durable.accepted.get(slot)?.value;
      // Compaction may have dropped values of a node that is no longer a replica; it learns instead.
      if (value === undefined && slot <= durable.truncatedThrough) break;
      assert(value !== undefined, `committed slot ${slot} has no value on disk`);
      this.#decided.set(slot, value);
    }
    this.#execute();
  }

  // ---- inputs ---------------------------------------------------------------------------------------

  /** Advances logical time by one tick; `nowMs` is the host's clock, used only to stamp batches. */
  tick(nowMs: number): void {
    this.#tick++;
    this.#nowMs = Math.max(this.#nowMs, nowMs);
    if (this.#role === "leader") {
      this.#leaderTick();
      return;
    }
    if (this.#isReplicaMember()) this.#electionElapsed++;
    if (this.#electionElapsed >= this.#electionTimeout && this.#isReplicaMember()) {
      this.#campaign();
    } else if (this.#role === "candidate") {
      this.#retransmitPrepares();
    }
  }

  /** Handles a message from node `from`. */
  step(from: number, message: Message): void {
    switch (message.type) {
      case "prepare": {
        const sticky =
          message.handover !== true &&
          this.#leaderId !== null &&
          this.#leaderId !== message.ballot.nodeId &&
          this.#tick - this.#leaderContactTick < this.limits.electionTicks;
        this.#noteBallot(message.ballot);
        const reply = this.#acceptor.onPrepare(
          message.ballot,
          message.fromSlot,
          sticky,
          this.limits.messageBytesMax,
        );
        this.#outbox.send(from, reply);
        break;
      }
      case "promise":
        this.#onPromise(from, message);
        break;
      case "accept":
        this.#onAccept(from, message);
        break;
      case "accepted":
        this.#onAccepted(from, message);
        break;
      case "nack":
        this.#onNack(message);
        break;
      case "heartbeat":
        this.#onHeartbeat(from, message);
        break;
      case "heartbeat-ack":
        this.#onHeartbeatAck(from, message);
        break;
      case "learn-request":
        this.#onLearnRequest(from, message);
        break;
      case "learn":
        this.#learnSource = from;
        this.#onLearn(message);
        break;
      case "take-over":
        // Only the leader we follow may hand over; anyone else is ignored.
        if (from === this.#leaderId && this.#role === "follower" && this.#isReplicaMember())
          this.#campaign(true);
        break;
    }
    this.#stepDownIfPreempted();
  }

  /**
   * Submits a client command; the reply comes later as a `replies` effect for `requestId`. Followers
   * answer `NotLeader` with a hint, so clients go to the leader instead of trying nodes in turn.
   */
  propose(requestId: number, command: Command): void {
    const leader = this.#leader;
    if (this.#role !== "leader" || !leader) {
      this.#outbox.reply(requestId, this.#notLeader());
      return;
    }
    if (command.body.kind === "keepalive" || (command.clientId === 0 && command.body.kind !== "open")) {
      // Session-less commands other than `open` are the leader's own (keepalives, removals).
      this.#outbox.reply(requestId, { ok: false, error: "BadCommand", message: "a command needs a session" });
      return;
    }
    if (command.body.kind === "op" && command.body.op.byteLength > this.limits.commandBytesMax) {
      this.#outbox.reply(requestId, {
        ok: false,
        error: "TooLarge",
        message: `operation of ${command.body.op.byteLength} bytes exceeds commandBytesMax ${this.limits.commandBytesMax}`,
      });
      return;
    }
    const dedup = !this.#bugs.has("no-dedup");
    if (dedup && command.clientId !== 0) {
      const cached = this.#state.cachedReply(command.clientId, command.seq);
      if (cached) {
        this.#outbox.reply(requestId, cached);
        return;
      }
    }
    if (dedup && this.#routes.has(command.clientId, command.seq)) {
      // A retry of a command already in flight: answer the newest request, propose nothing new.
      this.#routes.set(command.clientId, command.seq, requestId);
      return;
    }
    if (leader.pending.length >= this.limits.pendingCommandsMax) {
      this.#outbox.reply(requestId, {
        ok: false,
        error: "Busy",
        message: `leader queue full (pendingCommandsMax ${this.limits.pendingCommandsMax})`,
      });
      return;
    }
    this.#routes.set(command.clientId, command.seq, requestId);
    leader.pending.push(command);
    // Proposing waits for `ready()`, so every command the host hands over in one turn shares a slot.
    this.#pumpWanted = true;
  }

  /**
   * A linearizable read without a log write: the leader records its commit point, confirms its ballot
   * with a quorum of acceptors by a heartbeat round that starts after the read arrived, and answers
   * once it has applied through that point.
   */
  read(requestId: number, query: Uint8Array): void {
    const leader = this.#leader;
    if (this.#role !== "leader" || !leader) {
      this.#outbox.reply(requestId, this.#notLeader());
      return;
    }
    if (this.#bugs.has("read-without-quorum")) {
      this.#outbox.reply(requestId, { ok: true, result: this.#state.query(query) });
      return;
    }
    if (leader.reads.length >= this.limits.pendingReadsMax) {
      this.#outbox.reply(requestId, {
        ok: false,
        error: "Busy",
        message: `leader read queue full (pendingReadsMax ${this.limits.pendingReadsMax})`,
      });
      return;
    }
    leader.reads.push({ requestId, query, round: leader.readRound + 1 });
    if (!leader.readRoundInFlight) this.#sendHeartbeats(leader, true);
  }

  /**
   * A client's sign of life for its session. The leader gathers them and records them through the log
   * every `keepaliveIntervalTicks`, so leases are agreed by every replica and survive leader changes.
   */
  keepalive(sessionId: number): void {
    const leader = this.#leader;
    if (this.#role !== "leader" || !leader) return;
    if (!this.#state.hasSession(sessionId) || leader.alive.size >= this.limits.sessionsMax) return;
    leader.alive.add(sessionId);
  }

  /** Proposes what was submitted since the last call, then drains the effects. */
  ready(): Ready {
    if (this.#pumpWanted) {
      this.#pumpWanted = false;
      this.#pump();
    }
    const heard = this.#heardCommit;
    // Put off by one `ready()` at most, so that a follower under steady load still applies.
    if (heard !== null && (this.#outbox.persist.length === 0 || heard.putOff)) this.#learnHeardCommit();
    else if (heard !== null) heard.putOff = true;
    if (this.#outbox.persist.length > 0) this.#persistCommit();
    return this.#outbox.drain();
  }

  /** True when `ready()` would return something (or learn a commit point it put off). */
  hasReady(): boolean {
    return this.#pumpWanted || this.#heardCommit !== null || !this.#outbox.empty;
  }

  status(): NodeStatus {
    return {
      id: this.id,
      role: this.#role,
      ballot: this.#leader ? formatBallot(this.#leader.ballot) : null,
      promised: formatBallot(this.#acceptor.promised),
      leaderId: this.#leaderId,
      executed: this.#state.executed,
      snapshotSlot: this.#snapshotSlot,
      snapshotsInstalled: this.#snapshotsInstalled,
      truncatedThrough: this.#acceptor.truncatedThrough,
      config: formatConfig(this.#state.latestConfig()),
      sessions: this.#state.sessionCount,
      clockMs: this.#state.clockMs,
    };
  }

  get role(): Role {
    return this.#role;
  }

  get executed(): number {
    return this.#state.executed;
  }

  /** The replicated state's snapshot as of `executed` (for convergence checks). */
  snapshotNow(): ReturnType<ReplicatedState["snapshot"]> {
    return this.#state.snapshot();
  }

  /** The membership known to this node, including a change not yet in effect. */
  latestConfig(): Config {
    return this.#state.latestConfig();
  }

  /**
   * Every member this node must be able to reach: those of the configs that govern the window, and of
   * a decided change not yet in effect. Hosts keep their connections to exactly these.
   */
  knownMembers(): Member[] {
    const byId = new Map<number, Member>();
    for (const config of [...this.#state.windowConfigs(), this.#state.latestConfig()]) {
      for (const m of config.members) byId.set(m.id, m);
    }
    return [...byId.values()].sort((a, b) => a.id - b.id);
  }

  // ---- election --------------------------------------------------------------------------------------

  #isReplicaMember(): boolean {
    return findMember(this.#state.configAt(this.#state.executed + 1), this.id)?.replica === true;
  }

  /** A 32-bit seed for a batch's agreed randomness. */
  #seed(): number {
    return Math.floor(this.#random() * 0x1_0000_0000) >>> 0;
  }

  #randomElectionTimeout(): number {
    const jitter = Math.floor(this.#random() * this.limits.electionTicks);
    return this.limits.electionTicks + Math.min(jitter, this.limits.electionTicks - 1);
  }

  #noteBallot(ballot: Ballot): void {
    if (ballot.round > this.#maxRoundSeen) this.#maxRoundSeen = ballot.round;
  }

  #campaign(handover = false): void {
    const round = Math.max(this.#campaignRound, this.#maxRoundSeen, this.#acceptor.promised.round) + 1;
    assert(round > this.#campaignRound && round > this.#acceptor.promised.round, "ballots only grow");
    this.#campaignRound = round;
    this.#maxRoundSeen = round;
    // Durable before any prepare leaves: a restarted node must never reuse a ballot it may have used.
    this.#outbox.persist.push({ kind: "campaign", round });
    this.#failRoutes();
    this.#leader = new LeaderState({
      ballot: { round, nodeId: this.id },
      fromSlot: this.#state.executed + 1,
      handover,
    });
    this.#role = "candidate";
    this.#leaderId = null;
    this.#electionElapsed = 0;
    this.#electionTimeout = this.#randomElectionTimeout();
    this.#retransmitPrepares();
  }

  /** Sends prepares to acceptors of the window's configs that have not covered the next slot. */
  #retransmitPrepares(): void {
    const leader = this.#leader;
    if (!leader) return;
    for (const config of this.#state.windowConfigs()) {
      for (const id of leader.missingCoverage(config, leader.nextSlot)) {
        if (id === this.id && !this.#selfPrepareDue(leader, config)) continue;
        const sent = leader.prepareSentTick.get(id);
        if (sent !== undefined && this.#tick - sent < this.limits.retransmitTicks) continue;
        leader.prepareSentTick.set(id, this.#tick);
        const covered = leader.promises.get(id)?.coveredThrough;
        const fromSlot = covered === undefined ? leader.fromSlot : Math.max(leader.fromSlot, covered + 1);
        this.#outbox.send(id, {
          type: "prepare",
          ballot: leader.ballot,
          fromSlot,
          ...(leader.handover ? { handover: true } : {}),
        });
      }
    }
  }

  /**
   * A candidate asks its own acceptor last, once the others' promises would make a quorum with it. A
   * node cut off from the cluster then never raises its own promise, so when it comes back its higher
   * ballot does not depose a leader everybody else still follows (the job PreVote does in Raft).
   */
  #selfPrepareDue(leader: LeaderState, config: Config): boolean {
    let others = 0;
    for (const id of acceptorIds(config)) if (id !== this.id && leader.promises.has(id)) others++;
    return others + 1 >= quorumSize(config);
  }

  #onPromise(from: number, message: PromiseMessage): void {
    this.#noteBallot(message.ballot);
    const leader = this.#leader;
    if (!leader || !ballotsEqual(leader.ballot, message.ballot)) return;
    if (message.truncatedThrough >= leader.fromSlot) {
      // Slots this candidate has not applied were decided and compacted away: it must learn them from
      // a replica, never propose there.
      this.#stepDown(null);
      this.#requestLearn(null);
      return;
    }
    leader.recordPromise(from, message, this.#tick);
    if (from !== this.id && !leader.promises.has(this.id)) this.#retransmitPrepares();
    if (Number.isFinite(message.coveredThrough)) {
      // The report stopped at the message limit: ask for the next part now rather than at a retransmit.
      leader.prepareSentTick.set(from, this.#tick);
      this.#outbox.send(from, {
        type: "prepare",
        ballot: leader.ballot,
        fromSlot: message.coveredThrough + 1,
      });
    }
    const slot = Math.max(leader.nextSlot, this.#state.executed + 1);
    if (this.#role === "candidate" && leader.preparedFor(this.#configForProposal(slot), slot)) {
      this.#role = "leader";
      this.#leaderId = this.id;
      leader.active = true;
      leader.electedTick = this.#tick;
      this.#sendHeartbeats(leader, false);
    }
    if (this.#role === "leader") this.#pump();
  }

  #onNack(message: NackMessage): void {
    this.#noteBallot(message.promised);
    const leader = this.#leader;
    if (!leader || !ballotsEqual(leader.ballot, message.ballot)) return;
    // A refusal by stickiness (promised not above us) only means: not yet. A higher promise preempts us.
    if (compareBallots(message.promised, leader.ballot) > 0) {
      this.#stepDown(message.promised.nodeId);
      return;
    }
    // The acceptor follows a live leader we do not hear: we may have been removed, or be far behind.
    if (this.#role === "candidate" && message.promised.nodeId !== this.id && message.promised.round > 0) {
      this.#requestLearn(message.promised.nodeId);
    }
  }

  #stepDownIfPreempted(): void {
    const leader = this.#leader;
    if (leader && compareBallots(this.#acceptor.promised, leader.ballot) > 0) {
      this.#stepDown(this.#acceptor.promised.nodeId);
    }
  }

  #stepDown(leaderHint: number | null): void {
    this.#leader = null;
    this.#role = "follower";
    this.#leaderId = leaderHint;
    this.#electionElapsed = 0;
    this.#electionTimeout = this.#randomElectionTimeout();
    this.#failRoutes();
  }

  /** Answers every request this node holds with NotLeader; clients retry the same (clientId, seq). */
  #failRoutes(): void {
    const leader = this.#leader;
    if (leader) {
      for (const read of leader.reads) this.#outbox.reply(read.requestId, this.#notLeader());
      leader.reads.length = 0;
    }
    for (const requestId of this.#routes.drain()) this.#outbox.reply(requestId, this.#notLeader());
  }

  #notLeader(): Reply {
    const hint = this.#leaderId ?? undefined;
    return {
      ok: false,
      error: "NotLeader",
      message: hint === undefined ? "no known leader" : `node ${hint} is the leader`,
      ...(hint === undefined ? {} : { leaderId: hint }),
    };
  }

  // ---- leader ----------------------------------------------------------------------------------------

  #leaderTick(): void {
    const leader = this.#leader;
    assert(leader?.active === true, "leader tick without leader state");
    const configs = this.#state.windowConfigs();
    // Check quorum: a leader cut off from a majority stops, so clients go to the side that can decide.
    if (!leader.hasQuorumContact(configs, this.#tick, this.limits.electionTicks)) {
      this.#stepDown(null);
      return;
    }
    this.#retransmitPrepares();
    this.#retransmitAccepts(leader);
    this.#proposeHousekeeping(leader);
    this.#pump();
    leader.heartbeatElapsed++;
    if (leader.heartbeatElapsed >= this.limits.heartbeatTicks) {
      this.#sendHeartbeats(leader, leader.reads.length > 0);
    }
  }

  /**
   * Leases and parked-call timeouts are decided when a slot with a later agreed time is applied. The
   * leader records keepalives periodically, and proposes an empty keepalive when something falls due
   * while no client writes, so that expiry never waits for traffic.
   */
  #proposeHousekeeping(leader: LeaderState): void {
    this.#removeUnreachable(leader);
    leader.keepaliveElapsed++;
    // A decided membership change takes effect α slots later; with no traffic, fill them with no-ops
    // so that it does (and its requester hears back) promptly.
    const due = this.#state.nextDeadlineMs() <= this.#nowMs || this.#state.reconfigPending;
    const periodic = leader.keepaliveElapsed >= this.limits.keepaliveIntervalTicks && leader.alive.size > 0;
    if (!periodic && !(due && leader.pending.length === 0 && leader.proposals.size === 0)) return;
    leader.keepaliveElapsed = 0;
    const sessions = [...leader.alive].sort((a, b) => a - b);
    leader.alive.clear();
    leader.pending.push({ clientId: 0, seq: 0, ackedThrough: 0, body: { kind: "keepalive", sessions } });
  }

  /**
   * `removeAfterTicks`: proposes the removal of one member the leader has not heard from for that long,
   * when no other change is on its way (one at a time).
   */
  #removeUnreachable(leader: LeaderState): void {
    const after = this.limits.removeAfterTicks;
    if (after === 0 || this.#state.reconfigPending) return;
    if (leader.pending.some((c) => c.body.kind === "reconfig")) return;
    for (const p of leader.proposals.values())
      if (p.value.commands.some((c) => c.body.kind === "reconfig")) return;
    const config = this.#state.configAt(this.#state.executed + 1);
    const silent = config.members.find(
      (m) =>
        m.acceptor &&
        m.id !== this.id &&
        this.#tick - (leader.lastAckTick.get(m.id) ?? leader.electedTick) >= after,
    );
    if (!silent) return;
    leader.pending.push({
      clientId: 0,
      seq: 0,
      ackedThrough: 0,
      body: { kind: "reconfig", change: { kind: "remove", id: silent.id } },
    });
  }

  #sendHeartbeats(leader: LeaderState, newReadRound: boolean): void {
    leader.heartbeatElapsed = 0;
    if (newReadRound) {
      leader.readRound++;
      leader.readRoundInFlight = true;
    }
    const message: HeartbeatMessage = {
      type: "heartbeat",
      ballot: leader.ballot,
      commitThrough: this.#state.executed,
      compactThrough: this.#compactThrough(leader),
      readRound: leader.readRound,
    };
    for (const id of this.#windowMembers()) this.#outbox.send(id, message);
  }

  /** Every member of the window's configs: acceptors vote, replicas learn the commit point. */
  #windowMembers(): number[] {
    const ids = new Set<number>();
    for (const config of this.#state.windowConfigs()) for (const m of config.members) ids.add(m.id);
    ids.add(this.id);
    return [...ids].sort((a, b) => a - b);
  }

  /**
   * The slot through which acceptors may drop accepted values: decided and inside the durable snapshot
   * of every replica of the window. Then even a power loss of the whole cluster leaves every replica
   * able to restart from its own disk. The price: a replica that stays down holds compaction back, so
   * acceptors keep their values until it returns or is removed.
   */
  #compactThrough(leader: LeaderState): number {
    let through = this.#snapshotSlot;
    for (const config of this.#state.windowConfigs()) {
      for (const id of replicaIds(config)) {
        if (id !== this.id) through = Math.min(through, leader.replicaSnapshotSlot.get(id) ?? 0);
      }
    }
    return through;
  }

  /** Proposes as many slots as the window, phase 1 and the limits allow, then sends them in one go. */
  #pump(): void {
    const leader = this.#leader;
    if (!leader || this.#role !== "leader") return;
    // Slots this node learned as a follower while it campaigned are decided; never propose there.
    if (leader.nextSlot <= this.#state.executed) leader.nextSlot = this.#state.executed + 1;
    const fresh: SlotValue[] = [];
    const windowEnd = this.#bugs.has("no-alpha-window")
      ? Number.POSITIVE_INFINITY
      : this.#state.executed + this.limits.alpha;
    for (let guard = 0; guard < this.limits.alpha + 1; guard++) {
      const slot = leader.nextSlot;
      if (slot > windowEnd) break;
      assert(this.#bugs.has("no-alpha-window") || slot <= this.#state.executed + this.limits.alpha, "window");
      const config = this.#configForProposal(slot);
      if (!leader.preparedFor(config, slot)) break;
      const value = this.#nextValue(leader, slot);
      if (!value) break;
      const bytes = batchBytes(value);
      leader.proposals.set(slot, { value, bytes, accepts: new Set(), sentTick: this.#tick, decided: false });
      leader.uncommittedBytes += bytes;
      leader.nextSlot++;
      fresh.push({ slot, value });
    }
    if (fresh.length > 0) this.#sendAccepts(leader, fresh, this.#freshAcceptTargets(leader));
  }

  /** The config that decides `slot`; the planted `no-alpha-window` bug guesses it from what it knows. */
  #configForProposal(slot: number): Config {
    if (slot <= this.#state.executed + this.limits.alpha) return this.#state.configAt(slot);
    return this.#state.latestConfig();
  }

  #nextValue(leader: LeaderState, slot: number): Batch | null {
    const reported = leader.reported.get(slot);
    if (reported) return reported.value;
    if (slot <= leader.maxReportedSlot) return this.#batchOf([]);
    if (leader.pending.length === 0) return null;
    if (leader.uncommittedBytes >= this.limits.uncommittedBytesMax) return null;
    const commands: Command[] = [];
    let bytes = 16;
    while (leader.pending.length > 0 && commands.length < this.limits.batchCommandsMax) {
      const size = commandBytes(leader.pending[0]!);
      if (commands.length > 0 && bytes + size > this.limits.batchBytesMax) break;
      commands.push(leader.pending.shift()!);
      bytes += size;
    }
    return this.#batchOf(commands);
  }

  #batchOf(commands: readonly Command[]): Batch {
    const batch = this.#makeBatch({ timeMs: this.#nowMs, seed: this.#seed(), commands });
    assert(
      batch.timeMs === this.#nowMs && batch.commands === commands,
      "the host's batch holds the fields given",
    );
    return batch;
  }

  /** Sends accepts to `targets`, split to respect the message limit. */
  #sendAccepts(leader: LeaderState, entries: readonly SlotValue[], targets: readonly number[]): void {
    const chunks: SlotValue[][] = [];
    let chunk: SlotValue[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = batchBytes(entry.value) + 16;
      if (chunk.length > 0 && bytes + size > this.limits.messageBytesMax / 2) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(entry);
      bytes += size;
    }
    if (chunk.length > 0) chunks.push(chunk);
    for (const part of chunks) {
      const message: AcceptMessage = {
        type: "accept",
        ballot: leader.ballot,
        entries: part,
        commitThrough: this.#state.executed,
        compactThrough: this.#compactThrough(leader),
      };
      for (const id of targets) this.#outbox.send(id, message);
    }
  }

  /**
   * Who gets a fresh slot's accepts: a quorum (and `freshAcceptSpares` more), not every acceptor. Only a
   * quorum's syncs decide a slot; the other acceptors' syncs, reads and writes would compete with them
   * for the disk and the CPUs (on a two-vCPU machine three members syncing one disk took 250–330 µs each,
   * one alone ~110 µs). The quorum is this node and the followers that acknowledged an accept most
   * recently, within `retransmitTicks`; the other replicas learn the decided slots from the commit point
   * of the heartbeats. A new leader, a chosen follower gone quiet or a membership change in the window
   * sends to all: a quiet follower's slots go again to the others after `retransmitTicks` (see
   * `#retransmitAccepts`), and those that answer become the quorum.
   *
   * Safety does not depend on it (any acceptor may miss any accept); liveness and latency do.
   */
  #freshAcceptTargets(leader: LeaderState): number[] {
    const configs = this.#state.windowConfigs();
    const all = (): number[] => this.#windowAcceptors(configs);
    if (configs.length !== 1) return all();
    const acceptors = acceptorIds(configs[0]!);
    const wanted = quorumSize(configs[0]!) + this.limits.freshAcceptSpares;
    if (wanted >= acceptors.length) return all();
    // Plain loops over a handful of members: this runs for every slot, on the way to the first send.
    const chosen = acceptors.includes(this.id) ? [this.id] : [];
    while (chosen.length < wanted) {
      let best = -1;
      let bestTick = Number.NEGATIVE_INFINITY;
      for (const id of acceptors) {
        const at = leader.acceptAckTick.get(id);
        if (at === undefined || this.#tick - at >= this.limits.retransmitTicks || chosen.includes(id))
          continue;
        if (at > bestTick || (at === bestTick && id < best)) {
          best = id;
          bestTick = at;
        }
      }
      if (best < 0) return all();
      chosen.push(best);
    }
    assert(
      chosen.length === wanted && wanted < acceptors.length,
      "fresh accepts go to a quorum of the window's acceptors",
    );
    return chosen.sort((a, b) => a - b);
  }

  #windowAcceptors(configs: readonly Config[] = this.#state.windowConfigs()): number[] {
    const ids = new Set<number>();
    for (const config of configs) for (const id of acceptorIds(config)) ids.add(id);
    return [...ids].sort((a, b) => a - b);
  }

  #retransmitAccepts(leader: LeaderState): void {
    const byAcceptor = new Map<number, SlotValue[]>();
    for (const [slot, proposal] of leader.proposals) {
      if (proposal.decided || this.#tick - proposal.sentTick < this.limits.retransmitTicks) continue;
      proposal.sentTick = this.#tick;
      for (const id of this.#windowAcceptors()) {
        if (proposal.accepts.has(id)) continue;
        const list = byAcceptor.get(id) ?? [];
        list.push({ slot, value: proposal.value });
        byAcceptor.set(id, list);
      }
    }
    for (const [id, entries] of byAcceptor) this.#sendAccepts(leader, entries, [id]);
  }

  #onAccepted(from: number, message: AcceptedMessage): void {
    const leader = this.#leader;
    if (!leader || !ballotsEqual(leader.ballot, message.ballot)) return;
    leader.lastAckTick.set(from, this.#tick);
    leader.acceptAckTick.set(from, this.#tick);
    for (const slot of message.slots) {
      const proposal = leader.proposals.get(slot);
      if (!proposal || proposal.decided) continue;
      proposal.accepts.add(from);
      if (slot <= this.#state.executed) continue;
      const config = this.#configForProposal(slot);
      const voters = new Set([...proposal.accepts].filter((id) => findMember(config, id)?.acceptor));
      if (voters.size >= quorumSize(config)) {
        proposal.decided = true;
        this.#decide(slot, proposal.value);
      }
    }
    this.#execute();
    this.#pump();
  }

  #onHeartbeatAck(from: number, message: HeartbeatAckMessage): void {
    const leader = this.#leader;
    if (!leader || !ballotsEqual(leader.ballot, message.ballot)) return;
    leader.lastAckTick.set(from, this.#tick);
    if (message.snapshotSlot >= 0) leader.replicaSnapshotSlot.set(from, message.snapshotSlot);
    leader.readAcks.set(from, Math.max(leader.readAcks.get(from) ?? 0, message.readRound));
    this.#serveReads(leader);
  }

  #serveReads(leader: LeaderState): void {
    if (leader.reads.length === 0) {
      leader.readRoundInFlight = false;
      return;
    }
    const confirmed = leader.confirmedReadRound(this.#state.windowConfigs());
    if (confirmed >= leader.readRound) leader.readRoundInFlight = false;
    const caughtUp = this.#caughtUp(leader);
    const waiting = [];
    for (const read of leader.reads) {
      if (caughtUp && read.round <= confirmed) {
        this.#outbox.reply(read.requestId, { ok: true, result: this.#state.query(read.query) });
      } else {
        waiting.push(read);
      }
    }
    leader.reads.length = 0;
    leader.reads.push(...waiting);
    // Reads that arrived during the last round need a round of their own; start it now, not at the
    // next heartbeat, so a read costs one round trip.
    if (!leader.readRoundInFlight && waiting.some((r) => r.round > leader.readRound)) {
      this.#sendHeartbeats(leader, true);
    }
  }

  /**
   * True when no slot beyond `executed` can hold a write a previous leader acknowledged: every slot of
   * the window is covered by a quorum's promises and nothing was reported beyond what was applied. A
   * previous (lower-ballot) leader acknowledged only applied slots, at most `alpha` ahead of this one's
   * window start; any of them would have been reported by the intersecting quorum.
   */
  #caughtUp(leader: LeaderState): boolean {
    const executed = this.#state.executed;
    if (leader.maxReportedSlot > executed) return false;
    for (let slot = executed + 1; slot <= executed + this.limits.alpha; slot++) {
      if (!leader.preparedFor(this.#state.configAt(slot), slot)) return false;
    }
    return true;
  }

  // ---- acceptor + follower ----------------------------------------------------------------------------

  /** Messages from a leader's ballot: raise the promise, remember the leader, and reset the election timer. */
  #followLeader(ballot: Ballot): boolean {
    this.#noteBallot(ballot);
    if (compareBallots(ballot, this.#acceptor.promised) < 0) return false;
    this.#acceptor.raise(ballot);
    this.#leaderId = ballot.nodeId;
    this.#leaderContactTick = this.#tick;
    if (ballot.nodeId !== this.id) {
      this.#electionElapsed = 0;
      // A live leader this node's acceptor accepts ends a campaign, and deposes a lower-ballot leader.
      const leader = this.#leader;
      if (leader && (this.#role === "candidate" || compareBallots(ballot, leader.ballot) > 0)) {
        this.#stepDown(ballot.nodeId);
      }
    }
    return true;
  }

  #onAccept(from: number, message: AcceptMessage): void {
    const current = this.#followLeader(message.ballot);
    this.#outbox.send(from, this.#acceptor.onAccept(message.ballot, message.entries));
    if (!current) return;
    this.#hearCommit(from, message);
  }

  #onHeartbeat(from: number, message: HeartbeatMessage): void {
    if (!this.#followLeader(message.ballot)) {
      this.#outbox.send(from, { type: "nack", ballot: message.ballot, promised: this.#acceptor.promised });
      return;
    }
    this.#hearCommit(from, message);
    this.#outbox.send(from, {
      type: "heartbeat-ack",
      ballot: message.ballot,
      readRound: message.readRound,
      snapshotSlot: findMember(this.#state.latestConfig(), this.id)?.replica ? this.#snapshotSlot : -1,
    });
  }

  /** Notes the commit point of an accept or heartbeat from the leader this node follows (see `#heardCommit`). */
  #hearCommit(leaderId: number, message: AcceptMessage | HeartbeatMessage): void {
    const heard = this.#heardCommit;
    if (heard !== null && heard.leaderId === leaderId && ballotsEqual(heard.ballot, message.ballot)) {
      heard.commitThrough = Math.max(heard.commitThrough, message.commitThrough);
      heard.compactThrough = Math.max(heard.compactThrough, message.compactThrough);
      return;
    }
    // Another leader's word: what the previous one said is learned first, not dropped.
    if (heard !== null) this.#learnHeardCommit();
    this.#heardCommit = {
      leaderId,
      ballot: message.ballot,
      commitThrough: message.commitThrough,
      compactThrough: message.compactThrough,
      putOff: false,
    };
  }

  #learnHeardCommit(): void {
    const heard = this.#heardCommit;
    assert(heard !== null, "no commit point to learn");
    this.#heardCommit = null;
    this.#acceptor.compact(Math.min(heard.compactThrough, heard.commitThrough));
    this.#learnCommit(heard.leaderId, heard.ballot, heard.commitThrough);
  }

  /**
   * The leader of `ballot` applied everything through `commitThrough`, each slot with the value it
   * proposed in that ballot; so a value this node accepted in the same ballot is the decided one.
   * Anything else must be learned.
   */
  #learnCommit(leaderId: number, ballot: Ballot, commitThrough: number): void {
    if (leaderId === this.id) return;
    if (this.#state.latestConfig().members.length === 0) {
      this.#requestLearn(leaderId);
      return;
    }
    let missing = false;
    for (let slot = this.#state.executed + 1; slot <= commitThrough; slot++) {
      if (this.#decided.has(slot)) continue;
      const pvalue = this.#acceptor.acceptedAt(slot);
      if (!pvalue || !ballotsEqual(pvalue.ballot, ballot)) {
        missing = true;
        break;
      }
      this.#decide(slot, pvalue.value);
    }
    this.#execute();
    if (missing) this.#requestLearn(leaderId);
  }

  #requestLearn(target: number | null): void {
    if (this.#tick - this.#learnRequestedTick < this.limits.retransmitTicks) return;
    this.#learnRequestedTick = this.#tick;
    if (
      this.#incoming &&
      this.#incoming.slot <= this.#state.executed &&
      this.#state.latestConfig().members.length > 0
    ) {
      this.#incoming = null;
    }
    const incoming = this.#incoming;
    // A transfer in progress continues where it stopped (this doubles as the retransmit of a lost part).
    const message: LearnRequestMessage = {
      type: "learn-request",
      fromSlot: this.#state.executed + 1,
      wantSnapshot: this.#state.latestConfig().members.length === 0,
      ...(incoming ? { snapshotSlot: incoming.slot, snapshotOffset: incoming.received } : {}),
    };
    if (target !== null) {
      this.#outbox.send(target, message);
      return;
    }
    for (const id of replicaIds(this.#state.latestConfig()))
      if (id !== this.id) this.#outbox.send(id, message);
  }

  #onLearnRequest(from: number, request: LearnRequestMessage): void {
    const { fromSlot, wantSnapshot } = request;
    // Only replicas hold the application's state; an acceptor-only node has nothing to teach.
    if (findMember(this.#state.latestConfig(), this.id)?.replica !== true) return;
    if (fromSlot > this.#state.executed && !wantSnapshot) return;
    if (fromSlot < this.#logStart || wantSnapshot || request.snapshotSlot !== undefined) {
      this.#sendSnapshotPart(from, request);
      return;
    }
    const entries: SlotValue[] = [];
    let bytes = 0;
    for (let slot = fromSlot; slot <= this.#state.executed; slot++) {
      const value = this.#decided.get(slot);
      assert(value !== undefined, `executed slot ${slot} missing from the log`);
      bytes += batchBytes(value) + 16;
      if (entries.length > 0 && bytes > this.limits.messageBytesMax / 2) break;
      entries.push({ slot, value });
    }
    this.#outbox.send(from, { type: "learn", snapshot: null, entries });
  }

  /**
   * Sends the part of a snapshot the learner asks for. The snapshot is kept for the transfer (a few at
   * a time) so that every part comes from the same state; a request for another slot starts afresh.
   */
  #sendSnapshotPart(to: number, request: LearnRequestMessage): void {
    let snapshot = this.#transfers.get(to);
    if (!snapshot || request.snapshotSlot === undefined || request.snapshotSlot !== snapshot.slot) {
      snapshot = this.#state.snapshot();
      this.#transfers.delete(to);
      if (this.#transfers.size >= SNAPSHOT_TRANSFERS_MAX)
        this.#transfers.delete(this.#transfers.keys().next().value!);
      this.#transfers.set(to, snapshot);
    }
    const total = snapshot.app.byteLength;
    const offset = request.snapshotSlot === snapshot.slot ? Math.min(request.snapshotOffset ?? 0, total) : 0;
    const end = Math.min(total, offset + this.limits.snapshotChunkBytes);
    if (end === total) this.#transfers.delete(to);
    this.#outbox.send(to, {
      type: "learn",
      snapshot: { ...snapshot, app: snapshot.app.subarray(offset, end) },
      snapshotPart: { offset, total },
      entries: [],
    });
  }

  #onLearn(message: LearnMessage): void {
    // A leader decides only through its own quorums: its commit point tells followers that what they
    // accepted in its ballot is decided, which holds only for slots it decided itself. A candidate has
    // proposed nothing yet, so it may learn.
    if (this.#role === "leader") return;
    this.#learnRequestedTick = Number.NEGATIVE_INFINITY;
    const snapshot = message.snapshotPart && message.snapshot ? this.#assemble(message) : message.snapshot;
    const joining = this.#state.latestConfig().members.length === 0;
    if (snapshot && (snapshot.slot > this.#state.executed || joining)) {
      this.#state.restore(snapshot);
      for (const slot of [...this.#decided.keys()]) if (slot <= snapshot.slot) this.#decided.delete(slot);
      this.#logStart = snapshot.slot + 1;
      this.#noteSnapshot(snapshot);
      this.#snapshotsInstalled++;
      this.#outbox.persist.push({ kind: "snapshot", snapshot });
    }
    // A joiner that got entries instead of a snapshot cannot apply them: its starting membership is unknown.
    if (this.#state.latestConfig().members.length === 0) return;
    for (const entry of message.entries)
      if (entry.slot > this.#state.executed) this.#decide(entry.slot, entry.value);
    this.#execute();
  }

  /**
   * Collects the parts of a snapshot; returns the whole snapshot once the last part arrived, else asks
   * for the next part at once and returns null.
   */
  #assemble(message: LearnMessage): Snapshot | null {
    const part = message.snapshotPart!;
    const snapshot = message.snapshot!;
    if (snapshot.slot <= this.#state.executed && this.#state.latestConfig().members.length > 0) {
      // Behind what this node already applied: drop the transfer, so it is not asked for again.
      this.#incoming = null;
      return null;
    }
    let incoming = this.#incoming;
    if (
      part.offset === 0 ||
      !incoming ||
      incoming.slot !== snapshot.slot ||
      incoming.app.byteLength !== part.total
    ) {
      incoming = { slot: snapshot.slot, app: new Uint8Array(part.total), received: 0 };
      this.#incoming = incoming;
    }
    if (part.offset !== incoming.received) return null;
    incoming.app.set(snapshot.app, part.offset);
    incoming.received += snapshot.app.byteLength;
    assert(incoming.received <= part.total, "snapshot parts overrun their total");
    if (incoming.received < part.total) {
      this.#outbox.send(this.#learnSource ?? this.#leaderId ?? this.id, {
        type: "learn-request",
        fromSlot: this.#state.executed + 1,
        wantSnapshot: this.#state.latestConfig().members.length === 0,
        snapshotSlot: incoming.slot,
        snapshotOffset: incoming.received,
      });
      return null;
    }
    this.#incoming = null;
    return { ...snapshot, app: incoming.app };
  }

  // ---- replica ---------------------------------------------------------------------------------------

  #persistCommit(): void {
    if (this.#state.executed <= this.#persistedCommit) return;
    this.#persistedCommit = this.#state.executed;
    this.#outbox.persist.push({ kind: "commit", throughSlot: this.#state.executed });
  }

  #decide(slot: number, value: Batch): void {
    if (slot <= this.#state.executed) return;
    const known = this.#decided.get(slot);
    if (known) {
      assert(sameBatch(known, value), `slot ${slot} decided twice with different values`);
      return;
    }
    this.#decided.set(slot, value);
    // The commit record says "the value is on this disk": write it out where the acceptor lacks it.
    const local = this.#acceptor.acceptedAt(slot);
    if (!local || !sameBatch(local.value, value)) this.#outbox.persist.push({ kind: "decide", slot, value });
  }

  /** Applies decided slots strictly in order, answers the requests this node holds, snapshots on schedule. */
  #execute(): void {
    const leader = this.#leader;
    for (
      let next = this.#decided.get(this.#state.executed + 1);
      next;
      next = this.#decided.get(this.#state.executed + 1)
    ) {
      const slot = this.#state.executed + 1;
      const outcomes = this.#state.applyBatch(slot, next);
      this.#outbox.applied.push({ slot, batch: next });
      // A follower holds no requests: no lookups for it.
      if (this.#routes.size > 0) {
        for (const { clientId, seq, reply } of outcomes) {
          const requestId = this.#routes.take(clientId, seq);
          if (requestId !== undefined) this.#outbox.reply(requestId, reply);
        }
      }
      if (leader) {
        const proposal = leader.proposals.get(slot);
        if (proposal) {
          leader.uncommittedBytes -= proposal.bytes;
          leader.proposals.delete(slot);
        }
      }
      this.#logBytes += batchBytes(next);
      if (this.#snapshotDue(slot)) this.#takeSnapshot();
    }
    assert(!leader || leader.uncommittedBytes >= 0, "negative uncommitted bytes");
    // A commit record only spares a restarted replica asking its peers again, so it rides along with
    // records that are synced anyway (see ready()); on its own it costs a sync in every write's path.
    if (this.#state.executed - this.#persistedCommit >= this.limits.commitRecordSlotsMax)
      this.#persistCommit();
    if (leader && this.#role === "leader") {
      if (!this.#isReplicaMember()) {
        // Removed: hand leadership to a replica of the new membership rather than make the cluster
        // wait an election timeout.
        const next = replicaIds(this.#state.configAt(this.#state.executed + 1)).find((id) => id !== this.id);
        this.#stepDown(next ?? null);
        if (next !== undefined) this.#outbox.send(next, { type: "take-over" });
        return;
      }
      this.#serveReads(leader);
    }
  }

  /** Whether to snapshot after executing `slot` (see `snapshotIntervalSlots` and `snapshotLogBytesMax`). */
  #snapshotDue(slot: number): boolean {
    const slots = slot - this.#snapshotSlot;
    const interval = this.limits.snapshotIntervalSlots;
    if (slots >= interval * SNAPSHOT_DEFER_INTERVALS_MAX) return true;
    if (this.#logBytes < this.#snapshotBytes) return false;
    return slots >= interval || this.#logBytes >= this.limits.snapshotLogBytesMax;
  }

  #takeSnapshot(): void {
    const snapshot = this.#state.snapshot();
    this.#outbox.persist.push({ kind: "snapshot", snapshot });
    this.#noteSnapshot(snapshot);
    for (const slot of [...this.#decided.keys()]) if (slot <= snapshot.slot) this.#decided.delete(slot);
    this.#logStart = snapshot.slot + 1;
  }

  /** The log since `snapshot` starts empty: it was restored, installed or taken. */
  #noteSnapshot(snapshot: Snapshot): void {
    this.#snapshotSlot = snapshot.slot;
    this.#logBytes = 0;
    this.#snapshotBytes = snapshot.app.byteLength;
  }
}

/** Learners a node sends snapshots to at once; the oldest transfer is dropped past it (it restarts). */
const SNAPSHOT_TRANSFERS_MAX = 4;

/** Cheap structural equality of two batches: same time and the same commands by identity. */
function sameBatch(a: Batch, b: Batch): boolean {
  if (a === b) return true;
  if (a.timeMs !== b.timeMs || a.commands.length !== b.commands.length) return false;
  return a.commands.every((c, i) => {
    const d = b.commands[i]!;
    return c.clientId === d.clientId && c.seq === d.seq && c.body.kind === d.body.kind;
  });
}
