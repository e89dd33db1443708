import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PlantedBug } from "../core/planted-bugs.ts";
import type { SeedResult } from "./run-seed.ts";
import { runSeed } from "./run-seed.ts";

/** Which seeds to run and how. */
export interface PoolOptions {
  readonly seeds: readonly number[];
  readonly ops: number;
  readonly bugs: readonly PlantedBug[];
  /** Worker threads; 1 runs in this thread. */
  readonly workers?: number;
  /** Stop handing out seeds once one of them found a violation. */
  readonly stopOnViolation?: boolean;
  readonly onResult?: (result: SeedResult) => void;
}

/** The worker threads this machine can use, at most `limit`. */
export function defaultWorkers(limit = 8): number {
  return Math.max(1, Math.min(limit, availableParallelism()));
}

/**
 * Runs seeds on worker threads (each seed is independent and deterministic, so the order of completion
 * does not change any result). Results come back sorted by seed.
 *
 * @example
 * ```ts
 * const results = await runSeeds({ seeds: [1, 2, 3], ops: 500, bugs: [] });
 * ```
 */
export async function runSeeds(options: PoolOptions): Promise<SeedResult[]> {
  const workers = Math.min(options.workers ?? defaultWorkers(), options.seeds.length);
  const results: SeedResult[] = [];
  let next = 0;
  let stop = false;
  const accept = (result: SeedResult): void => {
    results.push(result);
    if (result.violations.length > 0 && options.stopOnViolation) stop = true;
    options.onResult?.(result);
  };
  if (workers <= 1) {
    for (const seed of options.seeds) {
      if (stop) break;
      accept(runSeed({ seed, ops: options.ops, bugs: new Set(options.bugs) }));
    }
    return results.sort((a, b) => a.seed - b.seed);
  }
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const worker = startWorker();
      try {
        while (!stop && next < options.seeds.length) {
          const seed = options.seeds[next++]!;
          accept(await runInWorker(worker, { seed, ops: options.ops, bugs: options.bugs }));
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  return results.sort((a, b) => a.seed - b.seed);
}

/**
 * Starts a seed worker. Run from TypeScript sources (tests, `npm run sim`), the worker registers the
 * same TypeScript loader first, since loader hooks of this thread do not reach workers on Node 20.
 */
function startWorker(): Worker {
  const fromSources = import.meta.url.endsWith(".ts");
  const url = new URL(`./seed-worker.${fromSources ? "ts" : "js"}`, import.meta.url);
  if (!fromSources) return new Worker(url);
  const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

function runInWorker(
  worker: Worker,
  request: { seed: number; ops: number; bugs: readonly PlantedBug[] },
): Promise<SeedResult> {
  return new Promise((resolve, reject) => {
    const onMessage = (result: SeedResult): void => {
      worker.off("error", onError);
      resolve(result);
    };
    const onError = (error: Error): void => {
      worker.off("message", onMessage);
      reject(error);
    };
    worker.once("message", onMessage);
    worker.once("error", onError);
    worker.postMessage(request);
  });
}
