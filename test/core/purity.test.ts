import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const CORE_DIR = new URL("../../src/core/", import.meta.url).pathname;

/** What the consensus core must never touch: I/O, clocks, randomness, timers, the process. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/from\s+["']node:/, "imports a node: module"],
  [
    /from\s+["'](fs|net|os|path|crypto|child_process|http|https|dgram|dns|timers|worker_threads)["']/,
    "imports a Node built-in",
  ],
  [/\brequire\s*\(/, "calls require"],
  [/\bimport\s*\(/, "imports dynamically"],
  [/from\s+["']\.\.\/(?!core\/)/, "imports from outside src/core"],
  [/\bDate\.now\b|\bnew Date\b/, "reads the clock"],
  [/\bperformance\.now\b/, "reads the clock"],
  [/\bMath\.random\b/, "uses Math.random"],
  [/\bcrypto\./, "uses crypto"],
  [/\bset(Timeout|Interval|Immediate)\b|\bqueueMicrotask\b/, "uses timers"],
  [/\bprocess\./, "uses process"],
  [/\bconsole\./, "writes to the console"],
  [/\bawait\b|\basync\b/, "is asynchronous"],
];

/** Lines of `source` (comments stripped) that break the rule, as `line: reason`. */
function findImpurities(source: string): string[] {
  const findings: string[] = [];
  const withoutBlockComments = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  withoutBlockComments.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\/\/.*$/, "");
    for (const [pattern, reason] of FORBIDDEN)
      if (pattern.test(line)) findings.push(`${index + 1}: ${reason}`);
  });
  return findings;
}

describe("the consensus core is pure", () => {
  it("the scanner flags each forbidden construct", () => {
    const bad = [
      'import { readFileSync } from "node:fs";',
      "const t = Date.now();",
      "const r = Math.random();",
      "setTimeout(() => {}, 1);",
      "process.exit(1);",
      'import { x } from "../sim/prng.ts";',
      "async function f() {}",
    ].join("\n");
    assert.equal(findImpurities(bad).length, 7);
    assert.deepEqual(
      findImpurities("// Date.now() is named in a comment\n/* Math.random */ const a = 1;"),
      [],
    );
  });

  it("no file under src/core reads the clock, draws randomness, uses timers or does I/O", () => {
    const files = readdirSync(CORE_DIR).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length >= 10, "the core's files were found");
    const findings = files.flatMap((f) =>
      findImpurities(readFileSync(join(CORE_DIR, f), "utf8")).map((x) => `${f}:${x}`),
    );
    assert.deepEqual(findings, []);
  });
});
