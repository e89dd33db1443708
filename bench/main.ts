import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BarePipelineFigure, measureBarePipeline } from "./bare-pipeline.ts";
import type { LoadResult } from "./load.ts";
import { IDLE_PAUSE_MS, type MachineFloor, measureMachineFloor } from "./machine-floor.ts";
import { median, pairedRatio } from "./stats.ts";
import { ConcoordSystem } from "./systems/concoord.ts";
import { EtcdSystem } from "./systems/etcd.ts";
import type { BenchSystem, SystemName } from "./systems/system.ts";
import { ZookeeperSystem } from "./systems/zookeeper.ts";
import type { FailoverResult, WorkloadName } from "./workloads.ts";
import { runFailover, runWorkload } from "./workloads.ts";

const USAGE = `usage: npm run bench -- [--quick] [--runs N] [--seconds S] [--systems concoord,etcd,zookeeper]

Starts a three-member concoord cluster, a three-member etcd cluster and a three-server ZooKeeper ensemble
on loopback (data dirs on disk, fsync on), drives them with the same Node load generator, and writes
bench/results/latest.md and latest.json. --quick: 1 s per workload, one run, concoord and etcd only
(written to bench/results/quick.*). A missing anchor is skipped with a line saying so.`;

/** The bare pipeline's concurrencies: those of the put figures. */
const BARE_CONCURRENCIES = [1, 64, 256];

/** A run in which other processes used more than this share of one core is run again. */
const FOREIGN_CPU_SHARE_MAX = 0.25;
/** Times a disturbed run is repeated before its figure is kept anyway (and marked). */
const DISTURBED_REPEATS_MAX = 2;

const FIGURES: readonly { workload: WorkloadName; concurrency: number }[] = [
  { workload: "put", concurrency: 1 },
  { workload: "put", concurrency: 64 },
  { workload: "put", concurrency: 256 },
  { workload: "increment", concurrency: 64 },
  { workload: "get", concurrency: 64 },
];

interface Figure {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMsPer1k: number;
  foreignCpuShare: number;
  failed: number;
  /** Writes per log slot (concoord's writes; NaN where the system does not say). */
  commandsPerSlot: number;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      runs: { type: "string" },
      seconds: { type: "string" },
      systems: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const quick = values.quick === true;
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const seconds = Number(values.seconds ?? (quick ? 1 : 10));
  if (!Number.isInteger(runs) || runs < 1 || !(seconds > 0)) {
    console.error(`bench: --runs must be a positive integer and --seconds positive\n${USAGE}`);
    return 2;
  }
  const wanted = (values.systems ?? (quick ? "concoord,etcd" : "concoord,etcd,zookeeper")).split(",");
  const systems: BenchSystem[] = [];
  const harnessPids = (): number[] => systems.flatMap((s) => s.pids());
  const shape = { warmupMs: quick ? 300 : 2000, durationMs: seconds * 1000, harnessPids };
  const dataRoot = join(new URL(".", import.meta.url).pathname, `.data-${process.pid}`);
  mkdirSync(dataRoot, { recursive: true });

  const stopAll = async (): Promise<void> => {
    await Promise.all(systems.map((s) => s.stop()));
    rmSync(dataRoot, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    for (const name of wanted) {
      const system = makeSystem(name as SystemName, dataRoot);
      if (!system) continue;
      console.log(`bench: starting ${name} (3 members)`);
      await system.start();
      systems.push(system);
    }
    if (!systems.some((s) => s.name === "concoord")) throw new Error("concoord did not start");
    // The floor is context for the figures, not one of them: a failed probe is said, and the runs go on.
    const floor = await measureMachineFloor({ dataDir: dataRoot }).catch((error: Error) => error);
    console.log(`bench: ${describeFloor(floor)}`);
    const figures = new Map<string, Map<SystemName, Figure[]>>();
    const failovers = new Map<SystemName, FailoverResult[]>();
    const bareRuns: BarePipelineFigure[][] = [];
    for (let run = 0; run < runs; run++) {
      // The ceiling, once per run, so that it meets the same state of the machine as the figures.
      const bare = await measureBarePipeline({
        dataDir: dataRoot,
        concurrencies: BARE_CONCURRENCIES,
        durationMs: quick ? 300 : 2000,
      }).catch((error: Error) => error);
      if (bare instanceof Error)
        console.log(`bench: run ${run + 1} bare pipeline: not measured (${bare.message})`);
      else bareRuns.push(bare);
      for (const { workload, concurrency } of FIGURES) {
        // Interleave the systems, in a rotating order, so that drift in the machine hits all alike.
        const order = systems.map((_, i) => systems[(i + run) % systems.length]!);
        for (const system of order) {
          const result = await undisturbed(() => runWorkload(system, workload, concurrency, shape));
          const key = `${workload}/${concurrency}`;
          const bySystem = figures.get(key) ?? new Map<SystemName, Figure[]>();
          figures.set(key, bySystem);
          bySystem.set(system.name, [...(bySystem.get(system.name) ?? []), toFigure(result)]);
          console.log(`bench: run ${run + 1} ${key} ${system.name}: ${describe(result)}`);
        }
      }
    }
    // The failovers come after every measured run: each leaves its own unique keys behind (a few hundred
    // thousand), a member that caught up after a restart and a leader moved, and a later run's `put` would
    // measure that state rather than the 1,024 keys ZooKeeper's znodes (and its own) are held to.
    for (let run = 0; run < runs; run++) {
      for (const system of systems.filter((s) => s.name !== "zookeeper")) {
        const result = await runFailover(system, { ...shape, durationMs: Math.max(3000, shape.durationMs) });
        failovers.set(system.name, [...(failovers.get(system.name) ?? []), result]);
        console.log(
          `bench: run ${run + 1} failover ${system.name}: ${result.recoveryMs.toFixed(0)} ms to the next acknowledged write, ${result.failedCalls} failed calls, ${result.lostWrites} lost writes`,
        );
      }
    }
    const report = buildReport(
      figures,
      failovers,
      systems.map((s) => s.name),
    );
    const outDir = join(new URL(".", import.meta.url).pathname, "results");
    mkdirSync(outDir, { recursive: true });
    const base = quick ? "quick" : "latest";
    writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify(report.json, null, 2)}\n`);
    const header = `# Benchmark (${quick ? "quick: " : ""}${runs} run(s) × ${seconds} s per workload, median)\n\n`;
    const context = `${describeFloor(floor)}\n\n${describeBare(bareRuns, figures)}`;
    writeFileSync(join(outDir, `${base}.md`), `${header}${report.markdown}\n\n${context}\n`);
    console.log(`bench: ${describeBare(bareRuns, figures)}`);
    console.log(`\n${report.markdown}`);
    console.log(`bench: wrote bench/results/${base}.md and ${base}.json`);
    return report.broken ? 1 : 0;
  } finally {
    await stopAll();
  }
}

function makeSystem(name: SystemName, dataRoot: string): BenchSystem | null {
  switch (name) {
    case "concoord":
      return new ConcoordSystem({ dataRoot });
    case "etcd":
      if (EtcdSystem.available()) return new EtcdSystem({ dataRoot });
      console.log("bench: etcd skipped: /usr/bin/etcd is not installed (npm run bench:setup)");
      return null;
    case "zookeeper":
      if (ZookeeperSystem.available()) return new ZookeeperSystem({ dataRoot });
      console.log(
        "bench: zookeeper skipped: Debian's zookeeper package is not installed (npm run bench:setup)",
      );
      return null;
    default:
      throw new Error(`unknown system "${name}" (concoord, etcd, zookeeper)`);
  }
}

/** Runs `body` again while other processes took more than their share of the CPU (bounded). */
async function undisturbed(body: () => Promise<LoadResult>): Promise<LoadResult> {
  let result = await body();
  for (
    let repeat = 0;
    repeat < DISTURBED_REPEATS_MAX && result.foreignCpuShare > FOREIGN_CPU_SHARE_MAX;
    repeat++
  ) {
    console.log(
      `bench: other processes used ${(result.foreignCpuShare * 100).toFixed(0)}% of a core: running again`,
    );
    result = await body();
  }
  return result;
}

function toFigure(r: LoadResult): Figure {
  return {
    opsPerSec: r.opsPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    maxMs: r.maxMs,
    cpuMsPer1k: r.cpuMsPer1k,
    foreignCpuShare: r.foreignCpuShare,
    failed: r.failed,
    commandsPerSlot: r.commandsPerSlot ?? Number.NaN,
  };
}

function describe(r: LoadResult): string {
  const perSlot = r.commandsPerSlot === undefined ? "" : `, ${r.commandsPerSlot.toFixed(1)} writes per slot`;
  return `${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.cpuMsPer1k.toFixed(0)} CPU ms/1k, ${r.failed} failed${perSlot}`;
}

function describeFloor(floor: MachineFloor | Error): string {
  if (floor instanceof Error) return `machine floor: not measured (${floor.message})`;
  return (
    `machine floor, measured before the runs: fdatasync of a 200-byte overwrite p50 ${floor.fdatasyncP50Ms.toFixed(3)} ms; ` +
    `loopback round trip between two Node processes p50 ${floor.echoBusyP50Ms.toFixed(3)} ms back to back, ` +
    `${floor.echoIdleP50Ms.toFixed(3)} ms after ${IDLE_PAUSE_MS} ms idle`
  );
}

/**
 * The bare pipeline's medians over the runs, beside concoord's put figures of the same runs: how far
 * concoord is from what plain Node does on this machine with no consensus, encoding or application.
 */
function describeBare(
  bareRuns: readonly BarePipelineFigure[][],
  figures: Map<string, Map<SystemName, Figure[]>>,
): string {
  if (bareRuns.length === 0) return "bare pipeline: not measured";
  const parts = BARE_CONCURRENCIES.map((concurrency, i) => {
    const at = bareRuns.map((run) => run[i]!);
    const bare = {
      opsPerSec: median(at.map((f) => f.opsPerSec)),
      p50Ms: median(at.map((f) => f.p50Ms)),
      cpuUsPerOp: median(at.map((f) => f.serverCpuUsPerOp)),
    };
    const put = figures.get(`put/${concurrency}`)?.get("concoord");
    const ours = put ? medianFigure(put) : null;
    const beside = ours
      ? ` (concoord: ${ours.opsPerSec.toFixed(0)} ops/s, p50 ${ours.p50Ms.toFixed(2)} ms, ${ours.cpuMsPer1k.toFixed(1)} µs)`
      : "";
    return `C=${concurrency} ${bare.opsPerSec.toFixed(0)} ops/s, p50 ${bare.p50Ms.toFixed(2)} ms, ${bare.cpuUsPerOp.toFixed(1)} µs server CPU per op${beside}`;
  });
  return (
    `bare pipeline (plain Node: a leader batching each event-loop turn, two followers, one write and fdatasync per batch on each, ` +
    `answers once the leader and one follower are durable; median of ${bareRuns.length} run(s)): ${parts.join("; ")}`
  );
}

function medianFigure(runs: readonly Figure[]): Figure {
  const m = (k: keyof Figure) => median(runs.map((r) => r[k]));
  return {
    opsPerSec: m("opsPerSec"),
    p50Ms: m("p50Ms"),
    p99Ms: m("p99Ms"),
    maxMs: m("maxMs"),
    cpuMsPer1k: m("cpuMsPer1k"),
    foreignCpuShare: m("foreignCpuShare"),
    failed: m("failed"),
    // Only runs that could count their slots (a status that failed leaves NaN, which sorts nowhere).
    commandsPerSlot: median(runs.map((r) => r.commandsPerSlot).filter(Number.isFinite)),
  };
}

function buildReport(
  figures: Map<string, Map<SystemName, Figure[]>>,
  failovers: Map<SystemName, FailoverResult[]>,
  names: readonly SystemName[],
): { json: unknown[]; markdown: string; broken: boolean } {
  const json: unknown[] = [];
  const rows: string[] = [
    "| workload | C | system | ops/s | p50 ms | p99 ms | max ms | server CPU ms / 1k ops | other CPU | failed | concoord ÷ this (run by run) |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  let broken = false;
  const perSlot: string[] = [];
  const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
  for (const { workload, concurrency } of FIGURES) {
    const bySystem = figures.get(`${workload}/${concurrency}`);
    if (!bySystem) continue;
    const medians = new Map([...bySystem].map(([name, runs]) => [name, medianFigure(runs)]));
    const ours = medians.get("concoord")!;
    if (!(ours.opsPerSec > 0)) broken = true;
    // Throughput ratios pair each run's figures (the systems ran back to back in it), then take the median.
    const ratioTo = (name: SystemName): number =>
      pairedRatio(
        bySystem.get("concoord")!.map((r) => r.opsPerSec),
        (bySystem.get(name) ?? []).map((r) => r.opsPerSec),
      );
    const entry: Record<string, unknown> = { workload, concurrency };
    for (const name of names) {
      const m = medians.get(name);
      if (!m) continue;
      entry[name] = {
        opsPerSec: m.opsPerSec,
        p50Ms: m.p50Ms,
        p99Ms: m.p99Ms,
        maxMs: m.maxMs,
        cpuMsPer1k: m.cpuMsPer1k,
        ...(Number.isFinite(m.commandsPerSlot) ? { commandsPerSlot: m.commandsPerSlot } : {}),
      };
      const ratio = name === "concoord" ? "" : `${f(ratioTo(name))}×`;
      rows.push(
        `| ${workload} | ${concurrency} | ${name} | ${f(m.opsPerSec, 0)} | ${f(m.p50Ms)} | ${f(m.p99Ms)} | ${f(m.maxMs)} | ${f(m.cpuMsPer1k, 1)} | ${f(m.foreignCpuShare * 100, 0)}% | ${f(m.failed, 0)} | ${ratio} |`,
      );
    }
    entry.ratio = medians.has("etcd") ? ratioTo("etcd") : null;
    entry.ratioZookeeper = medians.has("zookeeper") ? ratioTo("zookeeper") : null;
    json.push(entry);
    if (Number.isFinite(ours.commandsPerSlot))
      perSlot.push(`${workload} C=${concurrency} ${f(ours.commandsPerSlot, 1)}`);
  }
  // How many writes shared a slot: each slot costs a sync on every member and a round of messages.
  const perSlotLine =
    perSlot.length === 0
      ? []
      : ["", `concoord's writes per log slot (median of the runs): ${perSlot.join(", ")}`];
  const failoverEntry: Record<string, unknown> = { workload: "failover" };
  const failoverRows = [
    "",
    "| failover (kill -9 of the leader under put C=64) | median ms to the next acknowledged write | failed calls | lost writes |",
    "|---|---:|---:|---:|",
  ];
  for (const [name, results] of failovers) {
    const medianMs = median(results.map((r) => r.recoveryMs));
    const failedCalls = median(results.map((r) => r.failedCalls));
    const lostWrites = Math.max(...results.map((r) => r.lostWrites));
    if (name === "concoord" && (lostWrites > 0 || !Number.isFinite(medianMs))) broken = true;
    failoverEntry[name] = { medianMs, failedCalls, lostWrites };
    failoverRows.push(`| ${name} | ${f(medianMs, 0)} | ${failedCalls} | ${lostWrites} |`);
  }
  json.push(failoverEntry);
  return { json, markdown: [...rows, ...perSlotLine, ...failoverRows].join("\n"), broken };
}

process.exitCode = await main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  return 1;
});
