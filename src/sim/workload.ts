import type {
  CounterInput,
  CounterOutput,
  Operation,
  QueueInput,
  QueueOutput,
  RegisterInput,
  RegisterOutput,
} from "../check/index.ts";
import type { EventQueue } from "./event-queue.ts";
import type { KvOp, KvQuery } from "./kv-machine.ts";
import { decodeJson, encodeJson } from "./kv-machine.ts";
import type { Prng } from "./prng.ts";
import type { CallOutcome, SimClient } from "./sim-client.ts";

export const COUNTER_KEYS = ["c0", "c1"] as const;
export const REGISTER_KEYS = ["r0", "r1", "r2"] as const;
export const QUEUE_KEYS = ["q0", "q1", "q2"] as const;

/** The recorded history, one list per model. */
export interface WorkloadHistory {
  counters: Operation<CounterInput, CounterOutput>[];
  registers: Operation<RegisterInput, RegisterOutput>[];
  queues: Operation<QueueInput, QueueOutput>[];
}

/** Hands out operations to clients until a phase's budget runs out. */
export class OpBudget {
  constructor(public remaining: number) {}
  take(): boolean {
    if (this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }
}

type Planned =
  | { write: true; op: KvOp; record: (out: CallOutcome, call: number, ret: number) => void; parks?: boolean }
  | { write: false; query: KvQuery; record: (out: CallOutcome, call: number, ret: number) => void };

/**
 * Drives one client through a mixed workload — counter increments and reads, register writes, reads
 * and compare-and-sets — and records each call as an operation for the linearizability checker.
 * Reads whose outcome is unknown are left out (they change nothing); writes whose outcome is unknown
 * stay in with an open end.
 *
 * @example
 * ```ts
 * const driver = new WorkloadDriver({ client, queue, rng, history, thinkMsMax: 20 });
 * driver.run(budget, () => console.log("budget spent"));
 * ```
 */
export class WorkloadDriver {
  readonly #client: SimClient;
  readonly #queue: EventQueue;
  readonly #rng: Prng;
  readonly #history: WorkloadHistory;
  readonly #thinkMsMax: number;
  readonly #index: number;
  #nextOpId: () => number;
  #writeCounter = 0;
  unknownCalls = 0;

  constructor(options: {
    client: SimClient;
    index: number;
    queue: EventQueue;
    rng: Prng;
    history: WorkloadHistory;
    thinkMsMax: number;
    nextOpId: () => number;
  }) {
    this.#client = options.client;
    this.#index = options.index;
    this.#queue = options.queue;
    this.#rng = options.rng;
    this.#history = options.history;
    this.#thinkMsMax = options.thinkMsMax;
    this.#nextOpId = options.nextOpId;
  }

  /** Runs operations while `budget` lasts, then calls `done`. */
  run(budget: OpBudget, done: () => void): void {
    const next = (): void => {
      if (this.#client.sessionId === 0) {
        this.#client.openSession(() => this.#queue.after(this.#think(), next));
        return;
      }
      if (!budget.take()) {
        done();
        return;
      }
      this.#perform(this.#plan(), () => this.#queue.after(this.#think(), next));
    };
    next();
  }

  /** Reads every key until each read succeeds, so lost writes become visible to the checker. */
  finalReads(done: () => void): void {
    const keys = [...COUNTER_KEYS, ...REGISTER_KEYS];
    const next = (): void => {
      const key = keys[0];
      if (key === undefined) {
        done();
        return;
      }
      const planned = this.#planRead(key);
      this.#perform(planned, (outcome) => {
        if (outcome.kind === "ok") keys.shift();
        this.#queue.after(1, next);
      });
    };
    next();
  }

  #think(): number {
    return this.#rng.float(0, this.#thinkMsMax);
  }

  #perform(planned: Planned, after: (outcome: CallOutcome) => void): void {
    const callTime = this.#queue.now;
    const finish = (outcome: CallOutcome): void => {
      if (outcome.kind === "unknown") this.unknownCalls++;
      // A call the cluster withdrew did not happen: it is not part of the history.
      if (outcome.kind !== "fail") planned.record(outcome, callTime, this.#queue.now);
      after(outcome);
    };
    if (planned.write) {
      const parkMs = planned.parks ? this.#parkTimeoutMs() : undefined;
      this.#client.command({ kind: "op", op: encodeJson(planned.op) }, finish, parkMs);
    } else this.#client.read(encodeJson(planned.query), finish);
  }

  #plan(): Planned {
    const roll = this.#rng.next();
    if (roll < 0.2) {
      const key = this.#rng.pick(COUNTER_KEYS);
      return { write: true, op: { t: "inc", k: key }, record: this.#counterRecorder({ kind: "inc", key }) };
    }
    if (roll < 0.42) return this.#planRead(this.#rng.pick([...COUNTER_KEYS, ...REGISTER_KEYS]));
    if (roll < 0.54) {
      const key = this.#rng.pick(QUEUE_KEYS);
      if (this.#rng.chance(0.5)) {
        const value = this.#uniqueValue();
        return {
          write: true,
          op: { t: "put", k: key, v: value },
          record: this.#queueRecorder({ kind: "put", key, value }),
        };
      }
      return {
        write: true,
        op: { t: "take", k: key },
        record: this.#queueRecorder({ kind: "take", key }),
        parks: true,
      };
    }
    const key = this.#rng.pick(REGISTER_KEYS);
    if (roll < 0.77) {
      const value = this.#uniqueValue();
      return {
        write: true,
        op: { t: "write", k: key, v: value },
        record: this.#registerRecorder({ kind: "write", key, value }),
      };
    }
    const expected = this.#rng.chance(0.3)
      ? null
      : this.#rng.int(0, this.#writeCounter) + this.#index * 100_000;
    const value = this.#uniqueValue();
    return {
      write: true,
      op: { t: "cas", k: key, e: expected, v: value },
      record: this.#registerRecorder({ kind: "cas", key, expected, value }),
    };
  }

  #planRead(key: string): Planned {
    const query: KvQuery = { t: "get", k: key };
    if (key.startsWith("c"))
      return { write: false, query, record: this.#counterRecorder({ kind: "read", key }) };
    return { write: false, query, record: this.#registerRecorder({ kind: "read", key }) };
  }

  /** How long the cluster may keep a take parked: within the client's own deadline. */
  #parkTimeoutMs(): number {
    const deadline = this.#client.timing.callDeadlineMs;
    return Number.isFinite(deadline) ? Math.floor(deadline * 0.8) : 1000;
  }

  #queueRecorder(input: QueueInput): Planned["record"] {
    return (outcome, callTime, returnTime) => {
      const output =
        outcome.kind === "ok" && "result" in outcome.reply
          ? decodeJson<QueueOutput>(outcome.reply.result)
          : undefined;
      this.#history.queues.push(this.#operation(input, output, callTime, returnTime, outcome));
    };
  }

  #uniqueValue(): number {
    return this.#index * 100_000 + ++this.#writeCounter;
  }

  #counterRecorder(input: CounterInput): Planned["record"] {
    return (outcome, callTime, returnTime) => {
      if (outcome.kind === "unknown" && input.kind === "read") return;
      const output =
        outcome.kind === "ok" && "result" in outcome.reply
          ? ((decodeJson<number | null>(outcome.reply.result) ?? 0) as number)
          : undefined;
      this.#history.counters.push(this.#operation(input, output, callTime, returnTime, outcome));
    };
  }

  #registerRecorder(input: RegisterInput): Planned["record"] {
    return (outcome, callTime, returnTime) => {
      if (outcome.kind === "unknown" && input.kind === "read") return;
      const output =
        outcome.kind === "ok" && "result" in outcome.reply
          ? decodeJson<RegisterOutput>(outcome.reply.result)
          : undefined;
      this.#history.registers.push(this.#operation(input, output, callTime, returnTime, outcome));
    };
  }

  #operation<I, O>(
    input: I,
    output: O | undefined,
    callTime: number,
    returnTime: number,
    outcome: CallOutcome,
  ): Operation<I, O> {
    return {
      id: this.#nextOpId(),
      clientId: this.#index,
      input,
      output,
      callTime,
      returnTime: outcome.kind === "ok" ? returnTime : Number.POSITIVE_INFINITY,
    };
  }
}
