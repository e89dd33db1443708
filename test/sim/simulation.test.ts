import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { NO_BUGS } from "../../src/core/planted-bugs.ts";
import { DEFAULT_OPS, DEFAULT_SEEDS } from "../../src/sim/defaults.ts";
import { SimDisk } from "../../src/sim/disk.ts";
import { Prng } from "../../src/sim/prng.ts";
import { runSeed } from "../../src/sim/run-seed.ts";
import { runSeeds } from "../../src/sim/seed-pool.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("simulator", () => {
  it("a seed replays exactly", () => {
    const a = runSeed({ seed: 42, ops: 200, bugs: NO_BUGS });
    const b = runSeed({ seed: 42, ops: 200, bugs: NO_BUGS });
    assert.deepEqual(a, b);
    const c = runSeed({ seed: 43, ops: 200, bugs: NO_BUGS });
    assert.notDeepEqual(a.stats, c.stats);
  });

  it("the disk keeps synced records, and loses or tears what was not synced", () => {
    const rng = new Prng(1);
    const outcomes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const disk = new SimDisk();
      const synced = disk.write([{ kind: "campaign", round: 1 }]);
      disk.sync(synced);
      disk.write([
        { kind: "campaign", round: 2 },
        { kind: "campaign", round: 3 },
      ]);
      const loss = disk.crash(rng);
      outcomes.add(loss);
      const round = disk.recover().campaignRound;
      assert.ok(round >= 1, "a synced write survives every crash");
      if (loss === "lost") assert.equal(round, 1);
      if (loss === "torn") assert.ok(round <= 2, "a torn record and what follows it are dropped");
    }
    assert.deepEqual([...outcomes].sort(), ["lost", "prefix", "torn"]);
  });

  it("the default seeds run with faults and find no violation", async () => {
    let faults = 0;
    const results = await runSeeds({ seeds: DEFAULT_SEEDS, ops: DEFAULT_OPS, bugs: [], workers: 2 });
    assert.equal(results.length, DEFAULT_SEEDS.length);
    const violations = results.flatMap((r) => r.violations.map((v) => `seed ${r.seed}: ${v}`));
    assert.deepEqual(violations, []);
    for (const r of results) faults += r.stats.crashes + r.stats.partitions + r.stats.pauses;
    const ops = results.reduce((sum, r) => sum + r.ops, 0);
    assert.ok(ops >= DEFAULT_SEEDS.length * DEFAULT_OPS, `checked ${ops} operations`);
    assert.ok(faults > DEFAULT_SEEDS.length * 5, `the seeds injected faults (${faults})`);
    assert.ok(
      results.some((r) => r.stats.reconfigs > 0 && r.stats.tornOrPartialDisks > 0),
      "membership changes and torn disks happen",
    );
  });

  it("npm run sim prints the summary line and replay commands", () => {
    const ok = spawnSync(
      process.execPath,
      ["--import", "tsx", "src/sim/main.ts", "--seeds", "3", "--ops", "100"],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout.trim().split("\n").at(-1)!, /^sim: 3 seeds, \d+ ops, 0 violations/);

    const bug = spawnSync(
      process.execPath,
      ["--import", "tsx", "src/sim/main.ts", "--seeds", "3", "--ops", "200", "--bug", "no-dedup"],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(bug.status, 1);
    assert.match(bug.stdout, /replay: npm run sim -- --seed \d+ --ops 200 --bug no-dedup/);
    assert.match(bug.stdout, /sim: 3 seeds, \d+ ops, [1-9]\d* violations/);

    const bad = spawnSync(process.execPath, ["--import", "tsx", "src/sim/main.ts", "--bug", "nonsense"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown planted bug "nonsense"/);
  });
});
