/**
 * The application a replica runs. It must be deterministic: the same operations in the same order give
 * the same results and the same snapshot bytes on every replica. Time comes from `ctx.timeMs`, agreed
 * through the log, never from the host's clock.
 *
 * @example
 * ```ts
 * class CounterMachine implements StateMachine {
 *   value = 0;
 *   apply() { this.value++; return Uint8Array.of(this.value); }
 *   query() { return Uint8Array.of(this.value); }
 *   snapshot() { return Uint8Array.of(this.value); }
 *   restore(b: Uint8Array) { this.value = b[0] ?? 0; }
 * }
 * ```
 */
export interface StateMachine {
  /** Runs an operation: its result, or an outcome that parks the call and/or wakes parked ones. */
  apply(op: Uint8Array, ctx: ApplyContext): Uint8Array | ApplyOutcome;
  /** A parked call's deadline passed (its client gets a Timeout): forget it. May wake other calls. */
  expireParked?(waiter: { clientId: number; seq: number }, ctx: ApplyContext): readonly Wake[];
  /** A client's session ended (its lease expired, or it was evicted): release what it held. May wake others. */
  sessionExpired?(clientId: number, ctx: ApplyContext): readonly Wake[];
  /** A read that must not change state. */
  query(query: Uint8Array): Uint8Array;
  snapshot(): Uint8Array;
  restore(bytes: Uint8Array): void;
}

/** Where in the log an operation runs and on whose behalf. */
export interface ApplyContext {
  readonly slot: number;
  /** Position of the command in its slot's batch. */
  readonly index: number;
  /** Agreed time of the slot: the same on every replica, never decreasing. */
  readonly timeMs: number;
  readonly clientId: number;
  readonly seq: number;
  /** Randomness the leader fixed for this command: the same on every replica. */
  readonly randomSeed: number;
  /** The client's deadline for this call, if it gave one: the longest the call may stay parked. */
  readonly timeoutMs: number | undefined;
}

/** What an operation did beyond returning a value: park its caller, wake others. */
export interface ApplyOutcome {
  /** The caller's result, or null: the call is parked until a later operation wakes it. */
  readonly result: Uint8Array | null;
  /** For a parked call: how long (agreed time) before it fails with Timeout; none means until woken. */
  readonly parkTimeoutMs?: number;
  /** Parked calls this operation completes, each with its own result. */
  readonly wakes?: readonly Wake[];
}

/** A parked call to complete, and its result. */
export interface Wake {
  readonly clientId: number;
  readonly seq: number;
  readonly result: Uint8Array;
}
