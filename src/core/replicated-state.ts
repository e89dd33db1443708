import { assert } from "./assert.ts";
import type { Batch, Command, Reply } from "./command.ts";
import type { Config } from "./config.ts";
import { applyConfChange } from "./config.ts";
import type { Limits } from "./limits.ts";
import type { PlantedBugs } from "./planted-bugs.ts";
import type { ConfigEpoch, SessionState, Snapshot } from "./snapshot.ts";
import type { ApplyContext, StateMachine, Wake } from "./state-machine.ts";

interface Session {
  readonly id: number;
  ackedThrough: number;
  lastActiveMs: number;
  readonly ttlMs: number;
  readonly replies: Map<number, Reply>;
  /** Parked calls by seq, with their deadline in agreed time (Infinity: until woken). */
  readonly parked: Map<number, number>;
}

/** A reply for a client's call: the command's own, or one a later command produced by waking it. */
export interface CommandOutcome {
  readonly clientId: number;
  readonly seq: number;
  readonly reply: Reply;
}

/** How often (agreed time) sessions are checked for expiry. */
const SESSION_SWEEP_PERIOD_MS = 100;
/** The shortest lease a client may ask for. */
const SESSION_TTL_MS_MIN = 200;

/**
 * Everything that is decided through the log and identical on every replica: the application, the
 * client sessions (at-most-once execution, leases, parked calls), the membership history and the
 * agreed clock.
 *
 * @example
 * ```ts
 * const state = new ReplicatedState({ machine, limits, bugs, config });
 * const outcomes = state.applyBatch(1, batch);
 * ```
 */
export class ReplicatedState {
  readonly #machine: StateMachine;
  readonly #limits: Limits;
  readonly #bugs: PlantedBugs;
  #configs: ConfigEpoch[];
  #clockMs = 0;
  #nextSessionId = 1;
  #sessions = new Map<number, Session>();
  #executed = 0;
  /** The earliest parked deadline (a lower bound: it is recomputed when reached). */
  #nextParkDeadlineMs = Number.POSITIVE_INFINITY;
  /** The earliest session expiry seen at the last sweep (a hint for the leader; never used to decide). */
  #nextSessionExpiryMs = Number.POSITIVE_INFINITY;
  /** Outcomes of the slot being applied. */
  #outcomes: CommandOutcome[] = [];

  constructor(options: { machine: StateMachine; limits: Limits; bugs: PlantedBugs; config: Config }) {
    this.#machine = options.machine;
    this.#limits = options.limits;
    this.#bugs = options.bugs;
    this.#configs = [{ fromSlot: 1, config: options.config }];
  }

  /** The last slot applied. */
  get executed(): number {
    return this.#executed;
  }

  get clockMs(): number {
    return this.#clockMs;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Whether `sessionId` is a live session (the leader only forwards keepalives of those). */
  hasSession(sessionId: number): boolean {
    return this.#sessions.has(sessionId);
  }

  /**
   * The agreed time at which something falls due — a parked call's timeout or a session's expiry — so
   * the leader can propose a slot then, even when no client writes: expiry is decided through the log.
   */
  nextDeadlineMs(): number {
    return Math.min(this.#nextParkDeadlineMs, this.#nextSessionExpiryMs);
  }

  /** The membership that governs `slot`; known only up to `executed + alpha`. */
  configAt(slot: number): Config {
    assert(slot > this.#executed, `config asked for applied slot ${slot}`);
    assert(slot <= this.#executed + this.#limits.alpha, `config of slot ${slot} is not known yet`);
    let found: Config | undefined;
    for (const epoch of this.#configs) if (epoch.fromSlot <= slot) found = epoch.config;
    assert(found !== undefined, `no config for slot ${slot}`);
    return found;
  }

  /** Configs that govern some slot of the window `(executed, executed + alpha]`. */
  windowConfigs(): Config[] {
    const last = this.#executed + this.#limits.alpha;
    return this.#configs.filter((e) => e.fromSlot <= last).map((e) => e.config);
  }

  /** The most recent config, including one that is not in effect yet. */
  latestConfig(): Config {
    return this.#configs[this.#configs.length - 1]!.config;
  }

  /** Runs a read-only query against the application as of `executed`. */
  query(query: Uint8Array): Uint8Array {
    return this.#machine.query(query);
  }

  /** A cached reply for a command already applied, if the session still holds it. */
  cachedReply(clientId: number, seq: number): Reply | undefined {
    return this.#sessions.get(clientId)?.replies.get(seq);
  }

  /** True when the call `(clientId, seq)` is parked: a retry re-attaches to it instead of running again. */
  isParked(clientId: number, seq: number): boolean {
    return this.#sessions.get(clientId)?.parked.has(seq) ?? false;
  }

  /** Applies the batch decided in `slot`, which must be the next slot; returns the replies it produced. */
  applyBatch(slot: number, batch: Batch): CommandOutcome[] {
    assert(slot === this.#executed + 1, `applying slot ${slot} after ${this.#executed}`);
    this.#outcomes = [];
    const previousClockMs = this.#clockMs;
    this.#clockMs = Math.max(this.#clockMs, batch.timeMs);
    const internal = this.#context(slot, -1, batch.seed, 0, 0, undefined);
    this.#expireParkedCalls(internal);
    this.#sweepSessions(previousClockMs, internal);
    batch.commands.forEach((command, index) => {
      const ctx = this.#context(slot, index, batch.seed, command.clientId, command.seq, command.timeoutMs);
      const reply = this.#applyCommand(ctx, command);
      if (reply) this.#outcomes.push({ clientId: command.clientId, seq: command.seq, reply });
    });
    this.#executed = slot;
    this.#completeReconfig(slot);
    // Epochs that no longer govern any slot after `executed` are history.
    while (this.#configs.length > 1 && this.#configs[1]!.fromSlot <= slot + 1) this.#configs.shift();
    const outcomes = this.#outcomes;
    this.#outcomes = [];
    return outcomes;
  }

  #context(
    slot: number,
    index: number,
    seed: number,
    clientId: number,
    seq: number,
    timeoutMs: number | undefined,
  ): ApplyContext {
    // Each command gets its own stream of agreed randomness, derived from the leader's seed.
    const randomSeed = (seed ^ Math.imul(index + 2, 0x9e3779b1) ^ Math.imul(slot, 0x85ebca6b)) >>> 0;
    return { slot, index, timeMs: this.#clockMs, clientId, seq, randomSeed, timeoutMs };
  }

  /** The reply to `command`, or null when the call is parked (its reply comes with a later wake). */
  #applyCommand(ctx: ApplyContext, command: Command): Reply | null {
    const body = command.body;
    if (body.kind === "open") return { ok: true, sessionId: this.#openSession(ctx, body.ttlMs) };
    if (body.kind === "keepalive") {
      for (const id of body.sessions) {
        const session = this.#sessions.get(id);
        if (session) session.lastActiveMs = this.#clockMs;
      }
      return null;
    }
    if (command.clientId === 0 && body.kind === "reconfig") {
      // The leader's own change (`removeAfterTicks`): nobody to answer, a refusal is simply dropped.
      this.#reconfigure(ctx.slot, body.change, null);
      return null;
    }
    const session = this.#sessions.get(command.clientId);
    if (!session) {
      return {
        ok: false,
        error: "SessionExpired",
        message: `session ${command.clientId} expired or unknown`,
      };
    }
    session.lastActiveMs = this.#clockMs;
    if (command.ackedThrough > session.ackedThrough) {
      forgetAcknowledged(session.replies, session.ackedThrough, command.ackedThrough);
      session.ackedThrough = command.ackedThrough;
    }
    if (command.seq <= session.ackedThrough) {
      return { ok: false, error: "SessionExpired", message: `seq ${command.seq} was already acknowledged` };
    }
    // A retry of a parked call (e.g. after a leader change) re-attaches to it: it must not run twice.
    if (session.parked.has(command.seq)) return null;
    const cached = session.replies.get(command.seq);
    if (cached && !this.#bugs.has("no-dedup")) return cached;
    if (!cached && session.replies.size + session.parked.size >= this.#limits.sessionRepliesMax) {
      return {
        ok: false,
        error: "TooManyInFlight",
        message: `more than ${this.#limits.sessionRepliesMax} unacknowledged calls in session ${session.id}`,
      };
    }
    if (body.kind === "reconfig") {
      const refusal = this.#reconfigure(ctx.slot, body.change, {
        clientId: command.clientId,
        seq: command.seq,
      });
      if (refusal) {
        session.replies.set(command.seq, refusal);
        return refusal;
      }
      // Answered when the change takes effect (`#completeReconfig`): an operator who then turns the
      // removed machine off cannot strand slots that still needed its vote.
      session.parked.set(command.seq, Number.POSITIVE_INFINITY);
      return null;
    }
    const outcome = this.#machine.apply(body.op, ctx);
    const result = outcome instanceof Uint8Array ? outcome : outcome.result;
    if (!(outcome instanceof Uint8Array)) this.#wake(outcome.wakes ?? []);
    if (result === null) {
      const timeoutMs = outcome instanceof Uint8Array ? undefined : outcome.parkTimeoutMs;
      const deadlineMs =
        timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.#clockMs + Math.max(0, timeoutMs);
      session.parked.set(command.seq, deadlineMs);
      this.#nextParkDeadlineMs = Math.min(this.#nextParkDeadlineMs, deadlineMs);
      return null;
    }
    const reply: Reply = { ok: true, result };
    session.replies.set(command.seq, reply);
    return reply;
  }

  /** Completes parked calls; a wake for a call that is not parked (gone, or woken already) is ignored. */
  #wake(wakes: readonly Wake[]): void {
    for (const wake of wakes) this.#complete(wake.clientId, wake.seq, { ok: true, result: wake.result });
  }

  #complete(clientId: number, seq: number, reply: Reply): void {
    const session = this.#sessions.get(clientId);
    if (!session?.parked.delete(seq)) return;
    // Only replies the client may still ask for are kept: `forgetAcknowledged` relies on none being at or
    // below `ackedThrough` (a client may acknowledge past a call of its own that is still parked).
    if (seq > session.ackedThrough) session.replies.set(seq, reply);
    this.#outcomes.push({ clientId, seq, reply });
  }

  /** Parked calls whose deadline passed fail with Timeout; the objects are told first. */
  #expireParkedCalls(ctx: ApplyContext): void {
    if (this.#clockMs < this.#nextParkDeadlineMs) return;
    let next = Number.POSITIVE_INFINITY;
    for (const session of [...this.#sessions.values()].sort((a, b) => a.id - b.id)) {
      for (const [seq, deadlineMs] of [...session.parked].sort((a, b) => a[0] - b[0])) {
        if (deadlineMs > this.#clockMs) {
          next = Math.min(next, deadlineMs);
          continue;
        }
        this.#wake(this.#machine.expireParked?.({ clientId: session.id, seq }, ctx) ?? []);
        this.#complete(session.id, seq, {
          ok: false,
          error: "Timeout",
          message: "the call waited longer than its timeout; it was withdrawn and will not complete",
        });
      }
    }
    this.#nextParkDeadlineMs = next;
  }

  /** Records a change effective α slots later, or returns why it is refused. */
  #reconfigure(
    slot: number,
    change: Parameters<typeof applyConfChange>[1],
    requester: { clientId: number; seq: number } | null,
  ): Reply | null {
    const latest = this.#configs[this.#configs.length - 1]!;
    if (latest.fromSlot > slot) {
      return { ok: false, error: "ReconfigRefused", message: "another membership change is in progress" };
    }
    const next = applyConfChange(latest.config, change);
    if (typeof next === "string") return { ok: false, error: "ReconfigRefused", message: next };
    this.#configs.push({
      fromSlot: slot + this.#limits.alpha,
      config: next,
      ...(requester ? { requester } : {}),
    });
    return null;
  }

  /** A change whose first governed slot is the next one is in effect: answer the call that asked for it. */
  #completeReconfig(slot: number): void {
    for (const epoch of this.#configs) {
      if (epoch.requester && epoch.fromSlot === slot + 1) {
        this.#complete(epoch.requester.clientId, epoch.requester.seq, { ok: true, reconfigured: true });
      }
    }
  }

  /** True while a decided membership change has not taken effect yet (the leader hurries it along). */
  get reconfigPending(): boolean {
    return this.#configs[this.#configs.length - 1]!.fromSlot > this.#executed + 1;
  }

  #openSession(ctx: ApplyContext, ttlMs: number | undefined): number {
    if (this.#sessions.size >= this.#limits.sessionsMax) {
      // Evict the least recently used session; ties go to the oldest id, so every replica picks the same.
      let victim: Session | undefined;
      for (const s of this.#sessions.values()) {
        if (!victim || s.lastActiveMs < victim.lastActiveMs) victim = s;
      }
      this.#endSession(victim!, ctx);
    }
    const id = this.#nextSessionId++;
    const ttl = Math.min(
      Math.max(ttlMs ?? this.#limits.sessionTimeoutMs, SESSION_TTL_MS_MIN),
      this.#limits.sessionTimeoutMs,
    );
    this.#sessions.set(id, {
      id,
      ackedThrough: 0,
      lastActiveMs: this.#clockMs,
      ttlMs: ttl,
      replies: new Map(),
      parked: new Map(),
    });
    this.#nextSessionExpiryMs = Math.min(this.#nextSessionExpiryMs, this.#clockMs + ttl);
    return id;
  }

  /**
   * A session ends: its parked calls are answered SessionExpired (so a client that is in fact alive, or a
   * node holding its request, is not left waiting forever) and the objects are told.
   */
  #endSession(session: Session, ctx: ApplyContext): void {
    this.#sessions.delete(session.id);
    for (const seq of [...session.parked.keys()].sort((a, b) => a - b)) {
      this.#outcomes.push({
        clientId: session.id,
        seq,
        reply: {
          ok: false,
          error: "SessionExpired",
          message: `session ${session.id} expired while the call waited`,
        },
      });
    }
    this.#wake(this.#machine.sessionExpired?.(session.id, ctx) ?? []);
  }

  /**
   * Expires sessions whose lease ran out, each time the agreed clock crosses a sweep boundary. The
   * boundary is derived from the clock alone, so replicas restored from snapshots sweep at the same
   * slots as the rest.
   */
  #sweepSessions(previousClockMs: number, ctx: ApplyContext): void {
    if (
      Math.floor(previousClockMs / SESSION_SWEEP_PERIOD_MS) ===
      Math.floor(this.#clockMs / SESSION_SWEEP_PERIOD_MS)
    ) {
      return;
    }
    let next = Number.POSITIVE_INFINITY;
    for (const s of [...this.#sessions.values()].sort((a, b) => a.id - b.id)) {
      if (this.#clockMs - s.lastActiveMs > s.ttlMs) this.#endSession(s, ctx);
      else next = Math.min(next, s.lastActiveMs + s.ttlMs + 1);
    }
    this.#nextSessionExpiryMs = next;
  }

  /** Captures the state as of `executed`. */
  snapshot(): Snapshot {
    const sessions: SessionState[] = [...this.#sessions.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({
        id: s.id,
        ackedThrough: s.ackedThrough,
        lastActiveMs: s.lastActiveMs,
        ttlMs: s.ttlMs,
        replies: [...s.replies.entries()].sort((a, b) => a[0] - b[0]),
        parked: [...s.parked.entries()].sort((a, b) => a[0] - b[0]),
      }));
    return {
      slot: this.#executed,
      app: this.#machine.snapshot(),
      sessions,
      configs: this.#configs.map((e) => ({
        fromSlot: e.fromSlot,
        config: e.config,
        ...(e.requester ? { requester: e.requester } : {}),
      })),
      clockMs: this.#clockMs,
      nextSessionId: this.#nextSessionId,
    };
  }

  /** Replaces the state with a snapshot taken at a later slot. */
  restore(snapshot: Snapshot): void {
    assert(snapshot.slot >= this.#executed, `restoring snapshot ${snapshot.slot} behind ${this.#executed}`);
    assert(snapshot.configs.length > 0, "snapshot without config");
    this.#machine.restore(snapshot.app);
    this.#sessions = new Map(
      snapshot.sessions.map((s) => [
        s.id,
        {
          id: s.id,
          ackedThrough: s.ackedThrough,
          lastActiveMs: s.lastActiveMs,
          ttlMs: s.ttlMs,
          replies: new Map(s.replies),
          parked: new Map(s.parked),
        },
      ]),
    );
    this.#configs = snapshot.configs.map((e) => ({
      fromSlot: e.fromSlot,
      config: e.config,
      ...(e.requester ? { requester: e.requester } : {}),
    }));
    this.#clockMs = snapshot.clockMs;
    this.#nextSessionId = snapshot.nextSessionId;
    this.#executed = snapshot.slot;
    this.#nextParkDeadlineMs = Math.min(
      Number.POSITIVE_INFINITY,
      ...snapshot.sessions.flatMap((s) => s.parked.map(([, deadline]) => deadline)),
    );
    this.#nextSessionExpiryMs = Math.min(
      Number.POSITIVE_INFINITY,
      ...snapshot.sessions.map((s) => s.lastActiveMs + s.ttlMs + 1),
    );
  }
}

/**
 * Drops the cached replies of seqs in `(fromSeq, throughSeq]`. Every command of a pipelined client moves
 * its acknowledgement on, so scanning the whole cache each time cost a node O(calls in flight) per
 * command; walking whichever is shorter — the newly acknowledged range or the cache — costs O(1) per
 * reply over time, and a client that acknowledges far ahead in one step costs no more than its cache.
 */
function forgetAcknowledged(replies: Map<number, Reply>, fromSeq: number, throughSeq: number): void {
  if (throughSeq - fromSeq <= replies.size) {
    for (let seq = fromSeq + 1; seq <= throughSeq; seq++) replies.delete(seq);
    return;
  }
  for (const seq of replies.keys()) if (seq <= throughSeq) replies.delete(seq);
}
