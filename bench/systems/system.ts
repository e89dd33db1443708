/** One connection's worth of operations, the same shape for every system. */
export interface BenchClient {
  /** An independent 16-byte write. */
  put(key: string, value: string): Promise<void>;
  /** Adds one to the shared counter (a command in concoord, a compare-and-swap loop elsewhere). */
  increment(): Promise<void>;
  /** A read of `key` (linearizable where the system offers it). */
  get(key: string): Promise<unknown>;
  close(): Promise<void>;
}

/** A three-member cluster the harness starts, loads and stops. */
export interface BenchSystem {
  readonly name: SystemName;
  /** Starts every member with its own data dir and waits until the cluster serves writes. */
  start(): Promise<void>;
  /** The members' pids (for CPU accounting). */
  pids(): number[];
  connect(): Promise<BenchClient>;
  /** Which member leads now (an index into the members). */
  leaderIndex(): Promise<number>;
  /**
   * Log slots the cluster has executed so far (concoord only; the anchors do not say): over a run, the
   * writes divided by the slots they took is how many commands shared a slot, the batching the
   * per-slot costs (syncs, messages) are spread over.
   */
  slotsExecuted?(): Promise<number>;
  /** kill -9 of one member. */
  kill(index: number): Promise<void>;
  /** Starts a killed member again on its data dir. */
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

export type SystemName = "concoord" | "etcd" | "zookeeper";
