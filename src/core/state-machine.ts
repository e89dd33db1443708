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
  apply(op: Uint8Array, ctx: ApplyContext): Uint8Array;
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
}
