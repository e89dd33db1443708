import type { LoadResult } from "./load.ts";
import { runLoad } from "./load.ts";
import type { BenchClient, BenchSystem } from "./systems/system.ts";

/** The shape of a workload's figures, per system. */
export type WorkloadName = "put" | "increment" | "get";

/** Keys a put or get workload touches: a bounded key space, so that ZooKeeper's znodes stay few. */
const KEY_SPACE = 1024;
/** A 16-byte value, as the issue asks. */
const VALUE_16_BYTES = "0123456789abcdef";
/** Clients (connections) a workload spreads its workers over; one for C = 1. */
const CLIENTS_MAX = 4;

/** How long and how hard one run goes. */
export interface RunShape {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Every server process of every system started (their idle CPU is not foreign load). */
  readonly harnessPids: () => number[];
}

/**
 * One run of `workload` at `concurrency` against a started system.
 *
 * @example
 * ```ts
 * const r = await runWorkload(system, "put", 64, { warmupMs: 1000, durationMs: 10_000 });
 * ```
 */
export async function runWorkload(
  system: BenchSystem,
  workload: WorkloadName,
  concurrency: number,
  shape: RunShape,
): Promise<LoadResult> {
  const clients = await connectClients(system, concurrency);
  try {
    if (workload === "get") {
      // Reads find their keys written.
      await Promise.all(
        Array.from({ length: KEY_SPACE }, (_, k) =>
          clients[k % clients.length]!.put(`k${k}`, VALUE_16_BYTES),
        ),
      );
    }
    const op = {
      put: (c: BenchClient, w: number, n: number) => c.put(`k${(w * 7919 + n) % KEY_SPACE}`, VALUE_16_BYTES),
      increment: (c: BenchClient) => c.increment(),
      get: async (c: BenchClient, w: number, n: number) => {
        await c.get(`k${(w * 7919 + n) % KEY_SPACE}`);
      },
    }[workload];
    // Writes only: a linearizable read takes no slot.
    const countSlots = workload !== "get" && system.slotsExecuted !== undefined;
    let slotsAtStart: Promise<number> | null = null;
    // Once before the window: a system may find its leader then, not in the window's first count.
    if (countSlots) await slotsOrNaN(system);
    const result = await runLoad({
      clients,
      concurrency,
      ...shape,
      op,
      serverPids: () => system.pids(),
      // A status that cannot be had leaves the figure out (NaN), never the run.
      ...(countSlots
        ? {
            onMeasuring: () => {
              slotsAtStart = slotsOrNaN(system);
            },
          }
        : {}),
    });
    if (slotsAtStart === null) return result;
    const slots = (await slotsOrNaN(system)) - (await slotsAtStart);
    return slots > 0 ? { ...result, commandsPerSlot: result.ops / slots } : result;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

function slotsOrNaN(system: BenchSystem): Promise<number> {
  return system.slotsExecuted!().catch(() => Number.NaN);
}

/** What the failover workload measured. */
export interface FailoverResult {
  /** From the leader's kill -9 to the first write that started after it and was acknowledged. */
  readonly recoveryMs: number;
  readonly failedCalls: number;
  /** Acknowledged writes missing or different when read back afterwards. */
  readonly lostWrites: number;
}

/**
 * `put` at C = 64 with unique keys; a second into the measured phase the leader is killed with -9. Every
 * acknowledged key is read back afterwards, then the killed member is started again.
 *
 * @example
 * ```ts
 * const r = await runFailover(system, { warmupMs: 1000, durationMs: 5000 });
 * ```
 */
export async function runFailover(system: BenchSystem, shape: RunShape): Promise<FailoverResult> {
  const concurrency = 64;
  const clients = await connectClients(system, concurrency);
  const acked = new Map<string, string>();
  let killedAtMs = Number.POSITIVE_INFINITY;
  let recoveredAtMs = Number.POSITIVE_INFINITY;
  let killed = -1;
  let killing: Promise<void> | null = null;
  const run = `f${Date.now().toString(36)}`;
  try {
    const result = await runLoad({
      clients,
      concurrency,
      ...shape,
      serverPids: () => system.pids(),
      op: (c, w, n) => c.put(`${run}-${w}-${n}`, VALUE_16_BYTES),
      onMeasuring: () => {
        setTimeout(
          () => {
            killing = system.leaderIndex().then(async (index) => {
              killed = index;
              killedAtMs = performance.now();
              await system.kill(index);
            });
          },
          Math.min(1000, shape.durationMs / 4),
        );
      },
      onAck: (startMs, endMs, w, n) => {
        acked.set(`${run}-${w}-${n}`, VALUE_16_BYTES);
        if (startMs > killedAtMs && endMs < recoveredAtMs) recoveredAtMs = endMs;
      },
    });
    // A leader that could not be found or killed makes the figure meaningless: say why.
    if (!killing) throw new Error(`${system.name}: the measured phase ended before the leader was killed`);
    await killing;
    // The killed member comes back first: a client may keep routing some calls to it until it answers.
    if (killed >= 0) {
      await system.restart(killed);
      killed = -1;
    }
    let lost = 0;
    const keys = [...acked.keys()];
    // Read back with every client in parallel, in bounded batches.
    for (let i = 0; i < keys.length; i += 256) {
      const batch = keys.slice(i, i + 256);
      const values = await Promise.all(batch.map((k, j) => readBack(clients[j % clients.length]!, k)));
      lost += values.filter((v) => v !== VALUE_16_BYTES).length;
    }
    return { recoveryMs: recoveredAtMs - killedAtMs, failedCalls: result.failed, lostWrites: lost };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    if (killed >= 0) await system.restart(killed);
  }
}

/** Attempts of one read-back (100 ms apart): a client may still route some calls to a recovering member. */
const READ_BACK_ATTEMPTS_MAX = 100;

async function readBack(client: BenchClient, key: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.get(key);
    } catch (error) {
      if (attempt >= READ_BACK_ATTEMPTS_MAX) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function connectClients(system: BenchSystem, concurrency: number): Promise<BenchClient[]> {
  const count = Math.min(CLIENTS_MAX, concurrency);
  return await Promise.all(Array.from({ length: count }, () => system.connect()));
}
