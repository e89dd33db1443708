import { assert } from "./assert.ts";
import type { Batch, Command, Reply } from "./command.ts";
import type { Config } from "./config.ts";
import { applyConfChange } from "./config.ts";
import type { Limits } from "./limits.ts";
import type { PlantedBugs } from "./planted-bugs.ts";
import type { ConfigEpoch, SessionState, Snapshot } from "./snapshot.ts";
import type { StateMachine } from "./state-machine.ts";

interface Session {
  readonly id: number;
  ackedThrough: number;
  lastActiveMs: number;
  readonly replies: Map<number, Reply>;
}

/** One applied command and what its client gets back. */
export interface CommandOutcome {
  readonly command: Command;
  readonly reply: Reply;
}

/**
 * Everything that is decided through the log and identical on every replica: the application, the
 * client sessions (for at-most-once execution), the membership history and the agreed clock.
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

  /** Applies the batch decided in `slot`, which must be the next slot. */
  applyBatch(slot: number, batch: Batch): CommandOutcome[] {
    assert(slot === this.#executed + 1, `applying slot ${slot} after ${this.#executed}`);
    const previousClockMs = this.#clockMs;
    this.#clockMs = Math.max(this.#clockMs, batch.timeMs);
    this.#expireIdleSessions(previousClockMs);
    const outcomes: CommandOutcome[] = [];
    batch.commands.forEach((command, index) => {
      outcomes.push({ command, reply: this.#applyCommand(slot, index, command) });
    });
    this.#executed = slot;
    // Epochs that no longer govern any slot after `executed` are history.
    while (this.#configs.length > 1 && this.#configs[1]!.fromSlot <= slot + 1) this.#configs.shift();
    return outcomes;
  }

  #applyCommand(slot: number, index: number, command: Command): Reply {
    if (command.body.kind === "open") return { ok: true, sessionId: this.#openSession() };
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
      session.ackedThrough = command.ackedThrough;
      for (const seq of session.replies.keys()) if (seq <= command.ackedThrough) session.replies.delete(seq);
    }
    if (command.seq <= session.ackedThrough) {
      return { ok: false, error: "SessionExpired", message: `seq ${command.seq} was already acknowledged` };
    }
    const cached = session.replies.get(command.seq);
    if (cached && !this.#bugs.has("no-dedup")) return cached;
    if (!cached && session.replies.size >= this.#limits.sessionRepliesMax) {
      return {
        ok: false,
        error: "TooManyInFlight",
        message: `more than ${this.#limits.sessionRepliesMax} unacknowledged calls in session ${session.id}`,
      };
    }
    const reply = this.#execute(slot, index, command);
    session.replies.set(command.seq, reply);
    return reply;
  }

  #execute(slot: number, index: number, command: Command): Reply {
    const body = command.body;
    if (body.kind === "op") {
      const ctx = { slot, index, timeMs: this.#clockMs, clientId: command.clientId, seq: command.seq };
      return { ok: true, result: this.#machine.apply(body.op, ctx) };
    }
    assert(body.kind === "reconfig", "unexpected command kind");
    const latest = this.#configs[this.#configs.length - 1]!;
    if (latest.fromSlot > slot) {
      return { ok: false, error: "ReconfigRefused", message: "another membership change is in progress" };
    }
    const next = applyConfChange(latest.config, body.change);
    if (typeof next === "string") return { ok: false, error: "ReconfigRefused", message: next };
    this.#configs.push({ fromSlot: slot + this.#limits.alpha, config: next });
    return { ok: true, reconfigured: true };
  }

  #openSession(): number {
    if (this.#sessions.size >= this.#limits.sessionsMax) {
      // Evict the least recently used session; ties go to the oldest id, so every replica picks the same.
      let victim: Session | undefined;
      for (const s of this.#sessions.values()) {
        if (!victim || s.lastActiveMs < victim.lastActiveMs) victim = s;
      }
      this.#sessions.delete(victim!.id);
    }
    const id = this.#nextSessionId++;
    this.#sessions.set(id, { id, ackedThrough: 0, lastActiveMs: this.#clockMs, replies: new Map() });
    return id;
  }

  /**
   * Sweeps idle sessions each time the agreed clock crosses a period boundary. The boundary is derived
   * from the clock alone, so replicas restored from snapshots sweep at the same slots as the rest.
   */
  #expireIdleSessions(previousClockMs: number): void {
    const periodMs = Math.max(1, Math.floor(this.#limits.sessionTimeoutMs / 4));
    if (Math.floor(previousClockMs / periodMs) === Math.floor(this.#clockMs / periodMs)) return;
    for (const s of [...this.#sessions.values()]) {
      if (this.#clockMs - s.lastActiveMs > this.#limits.sessionTimeoutMs) this.#sessions.delete(s.id);
    }
  }

  /** Captures the state as of `executed`. */
  snapshot(): Snapshot {
    const sessions: SessionState[] = [...this.#sessions.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({
        id: s.id,
        ackedThrough: s.ackedThrough,
        lastActiveMs: s.lastActiveMs,
        replies: [...s.replies.entries()].sort((a, b) => a[0] - b[0]),
      }));
    return {
      slot: this.#executed,
      app: this.#machine.snapshot(),
      sessions,
      configs: this.#configs.map((e) => ({ fromSlot: e.fromSlot, config: e.config })),
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
        { id: s.id, ackedThrough: s.ackedThrough, lastActiveMs: s.lastActiveMs, replies: new Map(s.replies) },
      ]),
    );
    this.#configs = snapshot.configs.map((e) => ({ fromSlot: e.fromSlot, config: e.config }));
    this.#clockMs = snapshot.clockMs;
    this.#nextSessionId = snapshot.nextSessionId;
    this.#executed = snapshot.slot;
  }
}
