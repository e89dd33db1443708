import { parseArgs } from "node:util";
import type { PlantedBug } from "../core/planted-bugs.ts";
import { parsePlantedBug } from "../core/planted-bugs.ts";
import { runSeed } from "./run-seed.ts";
import { defaultWorkers, runSeeds } from "./seed-pool.ts";
import { SimTrace } from "./trace.ts";

const USAGE = `usage: npm run sim -- [--seeds N] [--first-seed F] [--seed S] [--ops M] [--bug NAME] [--workers W]
                    [--seed S --trace [--trace-slot SLOT]]

Runs the deterministic simulation: N seeds (default 100) starting at F (default 1), or the one seed S,
each with M client operations (default 500) under network, disk and process faults, every history
checked for linearizability. --bug plants a protocol bug (${"ack-before-persist, accept-lower-ballot, read-without-quorum, no-dedup, no-alpha-window"}).
--trace (with --seed) prints the seed's story to stderr; --trace-slot adds every message about one slot.
Exit status 1 when any seed shows a violation.`;

/**
 * `npm run sim` and `concoord sim`: prints one line per failing seed with the command that replays it,
 * then a summary; resolves to the exit status.
 *
 * @example
 * ```ts
 * process.exitCode = await simCommand(["--seeds", "10"]);
 * ```
 */
export async function simCommand(argv: string[]): Promise<number> {
  try {
    return await runSimulation(parse(argv).values);
  } catch (error) {
    // Wrong flags are the caller's to fix: say what is wrong, show the usage, exit 2.
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    console.error(`sim: ${error.message}\n${USAGE}`);
    return 2;
  }
}

async function runSimulation(values: ReturnType<typeof parse>["values"]): Promise<number> {
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = positiveInt(values.seeds ?? "100", "--seeds");
  const first = positiveInt(values["first-seed"] ?? "1", "--first-seed");
  const ops = positiveInt(values.ops ?? "500", "--ops");
  const workers = positiveInt(values.workers ?? String(defaultWorkers()), "--workers");
  const bugs: PlantedBug[] = (values.bug ?? []).map((name) => {
    try {
      return parsePlantedBug(name);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  });
  const seeds =
    values.seed !== undefined
      ? [positiveInt(values.seed, "--seed")]
      : Array.from({ length: count }, (_, i) => first + i);
  const bugFlags = bugs.map((b) => ` --bug ${b}`).join("");
  if (values.trace) {
    if (values.seed === undefined) throw new UsageError("--trace needs --seed");
    const slot =
      values["trace-slot"] === undefined ? null : positiveInt(values["trace-slot"], "--trace-slot");
    const trace = new SimTrace({ sink: (line) => console.error(line), slot });
    const result = runSeed({ seed: seeds[0]!, ops, bugs: new Set(bugs), trace });
    for (const v of result.violations) console.log(`seed ${result.seed}: ${v}`);
    console.log(
      `sim: 1 seeds, ${result.ops} ops, ${result.violations.length} violations ${JSON.stringify(result.stats)}`,
    );
    return result.violations.length > 0 ? 1 : 0;
  }
  const started = performance.now();
  let checked = 0;
  let violations = 0;
  await runSeeds({
    seeds,
    ops,
    bugs,
    workers,
    onResult: (result) => {
      checked += result.ops;
      if (result.violations.length === 0) return;
      violations += result.violations.length;
      for (const v of result.violations) console.log(`seed ${result.seed}: ${v}`);
      console.log(`  replay: npm run sim -- --seed ${result.seed} --ops ${ops}${bugFlags}`);
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `sim: ${seeds.length} seeds, ${checked} ops, ${violations} violations (${seconds} s, ${workers} workers)`,
  );
  return violations > 0 ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      seeds: { type: "string" },
      "first-seed": { type: "string" },
      seed: { type: "string" },
      ops: { type: "string" },
      bug: { type: "string", multiple: true },
      workers: { type: "string" },
      trace: { type: "boolean" },
      "trace-slot": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

/** A mistake in the command line. */
class UsageError extends Error {}
