import { parseArgs } from "node:util";
import type { PlantedBug } from "../core/planted-bugs.ts";
import { parsePlantedBug } from "../core/planted-bugs.ts";
import { defaultWorkers, runSeeds } from "./seed-pool.ts";

const USAGE = `usage: npm run sim -- [--seeds N] [--first-seed F] [--seed S] [--ops M] [--bug NAME] [--workers W]

Runs the deterministic simulation: N seeds (default 100) starting at F (default 1), or the one seed S,
each with M client operations (default 500) under network, disk and process faults, every history
checked for linearizability. --bug plants a protocol bug (${"ack-before-persist, accept-lower-ballot, read-without-quorum, no-dedup, no-alpha-window"}).
Exit status 1 when any seed shows a violation.`;

/** `npm run sim`: prints one line per failing seed with the command that replays it, then a summary. */
async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    console.error(`sim: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = positiveInt(values.seeds ?? "100", "--seeds");
  const first = positiveInt(values["first-seed"] ?? "1", "--first-seed");
  const ops = positiveInt(values.ops ?? "500", "--ops");
  const workers = positiveInt(values.workers ?? String(defaultWorkers()), "--workers");
  const bugs: PlantedBug[] = (values.bug ?? []).map(parsePlantedBug);
  const seeds =
    values.seed !== undefined
      ? [positiveInt(values.seed, "--seed")]
      : Array.from({ length: count }, (_, i) => first + i);
  const bugFlags = bugs.map((b) => ` --bug ${b}`).join("");
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

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error instanceof Error && error.message.startsWith("unknown planted bug"))
    ) {
      console.error(`sim: ${error.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(error);
    process.exitCode = 1;
  },
);
