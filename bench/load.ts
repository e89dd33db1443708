import { machineCpuMs, processCpuMs } from "./processes.ts";
import type { BenchClient } from "./systems/system.ts";

/** Latency samples kept per run; beyond it every other sample is dropped (the percentiles hold). */
const SAMPLES_MAX = 2_000_000;

/** What one workload run measured. */
export interface LoadResult {
  readonly ops: number;
  readonly failed: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Server CPU (all members summed) per 1,000 operations. */
  readonly cpuMsPer1k: number;
  /** CPU that neither the harness's servers nor the load generator used, as a share of one core's time. */
  readonly foreignCpuShare: number;
  /** Writes per log slot in the measured phase, for a system that says how many slots it executed. */
  readonly commandsPerSlot?: number;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  readonly clients: readonly BenchClient[];
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The operation; `n` counts this worker's operations. */
  readonly op: (client: BenchClient, worker: number, n: number) => Promise<void>;
  readonly serverPids: () => number[];
  /** Every server process the harness started (idle anchors included): not foreign load. */
  readonly harnessPids?: () => number[];
  /** Called once the measured phase has begun (the failover workload kills a leader from here). */
  readonly onMeasuring?: (startMs: number) => void;
  /** Told of every acknowledged operation with its start and end (the failover workload). */
  readonly onAck?: (startMs: number, endMs: number, worker: number, n: number) => void;
}

/**
 * A closed-loop load: `concurrency` workers, each with one request in flight, spread over the clients.
 * Only operations that start after the warm-up and end before the deadline count.
 *
 * @example
 * ```ts
 * const r = await runLoad({ clients, concurrency: 64, warmupMs: 1000, durationMs: 10_000, op: (c, w, n) => c.put(`k${n}`, "v"), serverPids });
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.clients.length === 0 || options.concurrency < 1)
    throw new Error("runLoad needs clients and workers");
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  let samples: number[] = [];
  let keepEvery = 1;
  let failed = 0;
  let ops = 0;
  let cpuAtStart: { servers: number; machine: number; own: number } | null = null;
  const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const cpuNow = () => ({
    servers: cpuOf(options.serverPids()),
    harness: cpuOf(options.harnessPids?.() ?? options.serverPids()),
    machine: machineCpuMs(),
    own: ownCpuMs(),
  });
  const measureTimer = setTimeout(() => {
    cpuAtStart = cpuNow();
    options.onMeasuring?.(performance.now());
  }, options.warmupMs);
  const worker = async (w: number): Promise<void> => {
    const client = options.clients[w % options.clients.length]!;
    for (let n = 0; performance.now() < measureTo; n++) {
      const t0 = performance.now();
      try {
        await options.op(client, w, n);
      } catch {
        if (t0 >= measureFrom) failed++;
        continue;
      }
      const t1 = performance.now();
      options.onAck?.(t0, t1, w, n);
      if (t0 < measureFrom || t1 > measureTo) continue;
      ops++;
      if (ops % keepEvery === 0) samples.push(t1 - t0);
      if (samples.length >= SAMPLES_MAX) {
        samples = samples.filter((_, i) => i % 2 === 0);
        keepEvery *= 2;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  clearTimeout(measureTimer);
  const end = cpuNow();
  const begin = cpuAtStart ?? end;
  const serversMs = end.servers - begin.servers;
  const harnessMs = end.harness - begin.harness;
  const foreignMs = Math.max(0, end.machine - begin.machine - harnessMs - (end.own - begin.own));
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples.length === 0
      ? Number.NaN
      : samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return {
    ops,
    failed,
    opsPerSec: ops / (options.durationMs / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: samples.length === 0 ? Number.NaN : samples[samples.length - 1]!,
    cpuMsPer1k: ops === 0 ? Number.NaN : (serversMs / ops) * 1000,
    foreignCpuShare: foreignMs / options.durationMs,
  };
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
