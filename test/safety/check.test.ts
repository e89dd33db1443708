import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { checkObjectSafety, formatFinding, SafetyCheckError } from "../../src/safety/index.ts";
import { at, checkFiles, checkSource, spots } from "./helpers.ts";

const lines = (...text: string[]) => `${text.join("\n")}\n`;
const FIXTURES = "test/safety/fixtures";

describe("checkObjectSafety", () => {
  it("passes clean objects: a lock, a bank with a Map field and a frozen table, the tutorial's counter", async () => {
    for (const file of [
      `${FIXTURES}/lock.fixture.ts`,
      `${FIXTURES}/bank.fixture.ts`,
      "src/objects/counter.ts",
    ])
      assert.deepEqual(await checkObjectSafety({ file }), [], file);
  });

  it("follows local imports and reports a helper's finding with the helper's path", async () => {
    const file = `${FIXTURES}/uses-helper.fixture.ts`;
    const expected = {
      rule: "module-state",
      line: 1,
      column: 5,
      message:
        'module-level let "issued": state outside the instance is not snapshotted and diverges after a restart',
    };
    assert.deepEqual(await checkObjectSafety({ file }), [
      { file: `${FIXTURES}/lib/tickets.fixture.ts`, ...expected },
    ]);
    // An absolute path in gives absolute paths out.
    assert.deepEqual(await checkObjectSafety({ file: resolve(file) }), [
      { file: resolve(`${FIXTURES}/lib/tickets.fixture.ts`), ...expected },
    ]);
  });

  it("follows imports recursively, with or without extensions", async () => {
    const { dir, findings } = await checkFiles({
      "object.ts": lines(
        'import { a } from "./a.js";',
        "export class O {",
        "  m() {",
        "    return a();",
        "  }",
        "}",
      ),
      "a.ts": lines('import { b } from "./deeper/b";', "export const a = () => b();"),
      "deeper/b.ts": lines("export function b() {", "  return setImmediate(() => {});", "}"),
    });
    assert.deepEqual(
      findings.map((f) => `${formatFinding(f)}`),
      [
        `${join(dir, "deeper/b.ts")}:2:10 setImmediate() runs code later, outside the replicated order of commands`,
      ],
    );
  });

  it("does not report locals, parameters, methods and properties that shadow global names", async () => {
    const source = lines(
      "interface Clock {",
      "  performance: number;",
      "  fetch(): void;",
      "}",
      "type Env = typeof process;",
      "function setTimeout(f: () => void) {",
      "  f();",
      "}",
      "export class Shadow {",
      "  eval(code: string) {",
      "    return code;",
      "  }",
      "  run(fetch: (url: string) => void, clock: Clock, env?: Env) {",
      "    const process = { env: {} as Record<string, string> };",
      "    const crypto = { getRandomValues: () => 4 };",
      "    const holder = { process, setTimeout: 2, eval: (s: string) => s };",
      "    const { performance: perf } = clock;",
      "    setTimeout(() => {});",
      '    fetch("x");',
      '    this.eval("x");',
      '    holder.eval("x");',
      "    return [holder.process.env, crypto.getRandomValues(), perf, process.env, env];",
      "  }",
      "}",
    );
    assert.deepEqual(await checkSource(source), []);
  });

  it("sorts findings by file, line and column, and formats them as file:line:col message", async () => {
    const { dir, findings } = await checkFiles({
      "object.ts": lines(
        'import { helper } from "./b-helper.ts";',
        "export class O {",
        "  m() {",
        "    return [helper(), fetch('x'), setTimeout(() => {}, 1)];",
        "  }",
        "}",
        "let late = 0;",
        "late++;",
      ),
      "b-helper.ts": lines("export function helper() {", "  return process.pid;", "}"),
    });
    const object = join(dir, "object.ts");
    assert.deepEqual(findings.map(formatFinding), [
      `${join(dir, "b-helper.ts")}:2:10 process.pid belongs to this machine's process, not to the replicated object`,
      `${object}:4:23 fetch() reaches the network, outside the replicated state machine`,
      `${object}:4:35 setTimeout() runs code later, outside the replicated order of commands`,
      `${object}:7:5 module-level let "late": state outside the instance is not snapshotted and diverges after a restart`,
    ]);
  });

  it("formatFinding is file:line:col message", () => {
    assert.equal(
      formatFinding({
        file: "objects/lock.ts",
        line: 12,
        column: 7,
        rule: "timer",
        message: "setTimeout() runs later",
      }),
      "objects/lock.ts:12:7 setTimeout() runs later",
    );
  });

  it("a missing or non-code object file is an error naming the file", async () => {
    await assert.rejects(
      checkObjectSafety({ file: "test/safety/fixtures/nope.ts" }),
      (error: unknown) =>
        error instanceof SafetyCheckError && error.message === "test/safety/fixtures/nope.ts: no such file",
    );
    await assert.rejects(checkObjectSafety({ file: "README.md" }), {
      name: "SafetyCheckError",
      message: "README.md: not a TypeScript or JavaScript file",
    });
  });

  it("positions count from 1 and skip leading comments", async () => {
    const source = lines("/** doc */ export const t = () => /* c */ queueMicrotask(() => {});");
    assert.deepEqual(spots(await checkSource(source)), [{ rule: "timer", ...at(source, "queueMicrotask") }]);
  });
});
