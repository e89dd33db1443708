import type { CounterInput, CounterOutput, Operation } from "../../src/check/index.ts";
import { fetchStatus } from "../../src/cli/commands/status.ts";
import { connect } from "../../src/client/client.ts";
import type { Counter } from "../../src/objects/counter.ts";
import type { ProcessCluster } from "./process-cluster.ts";

/** The index of the node that leads (asked of every node in turn, for up to 10 s). */
export async function leaderIndex(cluster: ProcessCluster): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (let i = 0; i < cluster.ports.length; i++) {
      try {
        const status = await fetchStatus(cluster.address(i), 500);
        if (status.role === "leader") return i;
      } catch {
        // down or busy: ask the next one
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no leader");
}

/** Runs increments from `clients` clients until `stop()` says so, recording a history for the checker. */
export async function incrementLoad(
  connectString: string,
  options: { clients: number; until: () => boolean; history: Operation<CounterInput, CounterOutput>[] },
): Promise<{ acked: number; unknown: number }> {
  let acked = 0;
  let unknown = 0;
  let opId = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: options.clients }, async (_, c) => {
      const client = await connect(connectString, { timeoutMs: 4000 });
      const counter = client.object<Counter>();
      try {
        while (!options.until()) {
          const callTime = performance.now() - start;
          const id = opId++;
          try {
            const value = await counter.increment();
            acked++;
            options.history.push({
              id,
              clientId: c,
              input: { kind: "inc", key: "c" },
              output: value,
              callTime,
              returnTime: performance.now() - start,
            });
          } catch {
            unknown++;
            options.history.push({
              id,
              clientId: c,
              input: { kind: "inc", key: "c" },
              output: undefined,
              callTime,
              returnTime: Number.POSITIVE_INFINITY,
            });
          }
        }
      } finally {
        await client.close();
      }
    }),
  );
  return { acked, unknown };
}
