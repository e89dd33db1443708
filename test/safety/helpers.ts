import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";
import { checkObjectSafety, type SafetyFinding } from "../../src/safety/index.ts";

/**
 * Sources with deliberate problems live in strings, not in files under test/ (which tsc type-checks):
 * each test writes them to a temporary directory removed after the test file.
 */
const directories: string[] = [];
after(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/**
 * Writes `files` (relative path → source) into a fresh temporary directory and checks the first one.
 *
 * @example
 * ```ts
 * const { findings } = await checkFiles({ "object.ts": "let n = 0;\n" });
 * ```
 */
export async function checkFiles(
  files: Record<string, string>,
): Promise<{ dir: string; findings: SafetyFinding[] }> {
  const dir = await mkdtemp(join(tmpdir(), "concoord-safety-"));
  directories.push(dir);
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  const root = Object.keys(files)[0];
  if (root === undefined) throw new Error("checkFiles needs a file");
  return { dir, findings: await checkObjectSafety({ file: join(dir, root) }) };
}

/**
 * Checks one source written as `object.ts` and returns its findings.
 *
 * @example
 * ```ts
 * const findings = await checkSource("setTimeout(() => {}, 1);\n");
 * ```
 */
export async function checkSource(source: string, name = "object.ts"): Promise<SafetyFinding[]> {
  return (await checkFiles({ [name]: source })).findings;
}

/**
 * The 1-based line and column of the `occurrence`-th `needle` in `source`: the expected position of a
 * finding, computed from the text alone (not by the compiler the check uses).
 *
 * @example
 * ```ts
 * at("a\n  b\n", "b"); // { line: 2, column: 3 }
 * ```
 */
export function at(source: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = source.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" occurs fewer than ${occurrence} times`);
  }
  const before = source.slice(0, index).split("\n");
  return { line: before.length, column: (before.at(-1) ?? "").length + 1 };
}

/**
 * The findings as `{ rule, line, column }`, for comparing positions without messages.
 *
 * @example
 * ```ts
 * assert.deepEqual(spots(findings), [{ rule: "timer", ...at(source, "setTimeout") }]);
 * ```
 */
export function spots(findings: readonly SafetyFinding[]): { rule: string; line: number; column: number }[] {
  return findings.map(({ rule, line, column }) => ({ rule, line, column }));
}
