import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SAFETY_RULES } from "../../src/safety/index.ts";
import { at, checkFiles, checkSource, spots } from "./helpers.ts";

const lines = (...text: string[]) => `${text.join("\n")}\n`;

const IO_MODULES = [
  "fs",
  "fs/promises",
  "net",
  "dgram",
  "http",
  "https",
  "http2",
  "tls",
  "child_process",
  "cluster",
  "worker_threads",
  "dns",
  "os",
  "process",
  "vm",
  "inspector",
  "readline",
  "v8",
  "perf_hooks",
  "timers",
  "timers/promises",
];

describe("imports", () => {
  it("of every IO or process module, with and without node:, are reported at the specifier", async () => {
    const names = IO_MODULES.flatMap((name) => [name, `node:${name}`]);
    const source = lines(
      ...names.map((name, i) => `import * as m${i} from "${name}";`),
      "export const all = [m0];",
    );
    const findings = await checkSource(source);
    assert.deepEqual(
      spots(findings),
      names.map((name) => ({ rule: "io-module", ...at(source, `"${name}"`) })),
    );
    names.forEach((name, i) => {
      assert.match(findings[i]?.message ?? "", new RegExp(`^imports "${name}": `));
    });
  });

  it("side-effect imports, re-exports and import = require() count; type-only imports and pure modules do not", async () => {
    const source = lines(
      'import "node:net";',
      'export { hostname } from "node:os";',
      'import cp = require("child_process");',
      'import type { Stats } from "node:fs";',
      'import { type Dirent } from "fs";',
      'export type { Socket } from "node:net";',
      'import { join } from "node:path";',
      'import { inspect } from "node:util";',
      "export const used: [Stats?, Dirent?, typeof join?, typeof inspect?, typeof cp?] = [];",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "io-module", ...at(source, '"node:net"') },
      { rule: "io-module", ...at(source, '"node:os"') },
      { rule: "io-module", ...at(source, '"child_process"') },
    ]);
  });

  it("of a package is a warning naming the package, and the package is not followed", async () => {
    const source = lines(
      'import _ from "lodash";',
      'import { z } from "@scope/pkg/sub";',
      'import type { Options } from "typed-only";',
      "export const used: [unknown, unknown, Options?] = [_, z];",
    );
    const { findings } = await checkFiles({
      "object.ts": source,
      // A package's own code would have findings of its own: it must not be checked.
      "node_modules/lodash/index.js": "module.exports = process.env;\n",
      "node_modules/lodash/package.json": '{ "name": "lodash", "main": "index.js" }',
    });
    assert.deepEqual(spots(findings), [
      { rule: "package-import", ...at(source, '"lodash"') },
      { rule: "package-import", ...at(source, '"@scope/pkg/sub"') },
    ]);
    assert.equal(findings[0]?.message, 'imports a package ("lodash"): its code is not checked');
    assert.equal(SAFETY_RULES["package-import"].severity, "warning");
  });

  it("of a local file that does not exist is a warning", async () => {
    const source = lines('import { x } from "./missing.ts";', "export const y = x;");
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [{ rule: "unresolved-import", ...at(source, '"./missing.ts"') }]);
    assert.match(findings[0]?.message ?? "", /"\.\/missing\.ts".*not checked/);
  });

  it("dynamic import() of anything is reported at import", async () => {
    const source = lines(
      "export class Loader {",
      "  load(name: string) {",
      '    return [import("./helper.ts"), import(name)];',
      "  }",
      "}",
    );
    const findings = await checkFiles({ "object.ts": source, "helper.ts": "export const x = 1;\n" });
    assert.deepEqual(spots(findings.findings), [
      { rule: "dynamic-import", ...at(source, "import(") },
      { rule: "dynamic-import", ...at(source, "import(", 2) },
    ]);
    assert.match(findings.findings[0]?.message ?? "", /^import\("\.\/helper\.ts"\) loads code at run time/);
    assert.match(findings.findings[1]?.message ?? "", /^import\(name\) loads code at run time/);
  });

  it("require() is reported with what it loads", async () => {
    const source = lines("export class Loader {", "  load() {", '    return require("fs");', "  }", "}");
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [{ rule: "require", ...at(source, "require") }]);
    assert.match(findings[0]?.message ?? "", /^require\("fs"\) loads code at run time/);
  });

  it("require() in a .js object file is reported too", async () => {
    const source = lines('const fs = require("node:fs");', "module.exports = { fs };");
    const findings = await checkSource(source, "object.js");
    assert.deepEqual(spots(findings), [{ rule: "require", ...at(source, "require") }]);
  });

  it("of node:crypto are checked name by name", async () => {
    const source = lines(
      'import { createHash, randomBytes, randomUUID } from "node:crypto";',
      'import * as nodeCrypto from "node:crypto";',
      "export class Ids {",
      "  next() {",
      "    return [randomUUID(), nodeCrypto.randomUUID(), nodeCrypto.randomInt(9), createHash, randomBytes];",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "crypto", ...at(source, "randomBytes") },
      { rule: "crypto", ...at(source, "nodeCrypto.randomInt") },
    ]);
    assert.match(findings[0]?.message ?? "", /^imports randomBytes from "node:crypto"/);
    assert.match(findings[1]?.message ?? "", /^nodeCrypto\.randomInt\(\): /);
  });
});

describe("globals", () => {
  it("eval, new Function, Function, indirect eval and globalThis.eval are reported", async () => {
    const source = lines(
      "export class Script {",
      "  run(code: string) {",
      "    eval(code);",
      '    new Function("a", code);',
      "    Function(code)();",
      "    (0, eval)(code);",
      "    globalThis.eval(code);",
      "    return Function.prototype;",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "eval", ...at(source, "eval(code)") },
      { rule: "eval", ...at(source, "Function(") },
      { rule: "eval", ...at(source, "Function(code)") },
      { rule: "eval", ...at(source, "eval)") },
      { rule: "eval", ...at(source, "globalThis.eval") },
    ]);
    assert.deepEqual(
      findings.map((f) => f.message.split(" runs ")[0]),
      ["eval()", "new Function()", "Function()", "indirect eval (0, eval)", "globalThis.eval()"],
    );
  });

  it("any use of process is reported once, naming the member", async () => {
    const source = lines(
      "export class Env {",
      "  read() {",
      "    const home = process.env.HOME;",
      "    const t = process.hrtime();",
      '    process.env.MODE = "x";',
      "    return [home, t, process];",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "process", ...at(source, "process.env") },
      { rule: "process", ...at(source, "process.hrtime") },
      { rule: "process", ...at(source, "process.env", 2) },
      { rule: "process", ...at(source, "process]") },
    ]);
    assert.match(findings[1]?.message ?? "", /^process\.hrtime\(\) belongs to this machine's process/);
  });

  it("writes to the global object and to built-ins are reported; reads of unknown globals are not", async () => {
    const source = lines(
      "export class Leaky {",
      "  leak(key: string) {",
      "    globalThis.shared = 1;",
      "    global.other = 2;",
      "    window.third = 3;",
      "    globalThis[key] = 4;",
      "    Object.assign(globalThis, { five: 5 });",
      "    Math.random = () => 4;",
      "    return globalThis.shared + (typeof window);",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "global-write", ...at(source, "globalThis.shared") },
      { rule: "global-write", ...at(source, "global.other") },
      { rule: "global-write", ...at(source, "window.third") },
      { rule: "global-write", ...at(source, "globalThis[key]") },
      { rule: "global-write", ...at(source, "globalThis, {") },
      { rule: "global-write", ...at(source, "Math.random") },
    ]);
    assert.match(findings[0]?.message ?? "", /^writes globalThis\.shared: /);
    assert.match(findings[5]?.message ?? "", /^writes Math\.random: /);
  });

  it("timers are reported, also through globalThis", async () => {
    const source = lines(
      "export class Later {",
      "  go(f: () => void) {",
      "    setTimeout(f, 1);",
      "    setInterval(f, 1);",
      "    setImmediate(f);",
      "    queueMicrotask(f);",
      "    requestAnimationFrame(f);",
      "    globalThis.setTimeout(f, 2);",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    const names = [
      "setTimeout(f, 1",
      "setInterval",
      "setImmediate",
      "queueMicrotask",
      "requestAnimationFrame",
    ];
    assert.deepEqual(spots(findings), [
      ...names.map((name) => ({ rule: "timer", ...at(source, name) })),
      { rule: "timer", ...at(source, "globalThis.setTimeout") },
    ]);
    assert.match(findings[0]?.message ?? "", /^setTimeout\(\) runs code later/);
    assert.match(findings[5]?.message ?? "", /^globalThis\.setTimeout\(\) runs code later/);
  });

  it("the network is reported: fetch, XMLHttpRequest, WebSocket", async () => {
    const source = lines(
      "export class Caller {",
      "  call() {",
      '    return [fetch("http://x"), new XMLHttpRequest(), new WebSocket("ws://x")];',
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "network", ...at(source, "fetch") },
      { rule: "network", ...at(source, "XMLHttpRequest") },
      { rule: "network", ...at(source, "WebSocket") },
    ]);
    assert.deepEqual(
      findings.map((f) => f.message.split(" reaches")[0]),
      ["fetch()", "new XMLHttpRequest()", "new WebSocket()"],
    );
  });

  it("performance.now() is reported as a local clock", async () => {
    const source = lines("export class Timer {", "  now() {", "    return performance.now();", "  }", "}");
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [{ rule: "clock", ...at(source, "performance") }]);
    assert.match(findings[0]?.message ?? "", /^performance\.now\(\) reads this machine's clock/);
  });

  it("crypto.* is reported except crypto.randomUUID()", async () => {
    const source = lines(
      "export class Keys {",
      "  make() {",
      "    const id = crypto.randomUUID();",
      "    const bytes = crypto.getRandomValues(new Uint8Array(8));",
      "    return [id, bytes, crypto.subtle];",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "crypto", ...at(source, "crypto.getRandomValues") },
      { rule: "crypto", ...at(source, "crypto.subtle") },
    ]);
    assert.match(findings[0]?.message ?? "", /^crypto\.getRandomValues\(\): /);
  });

  it("Atomics.wait and SharedArrayBuffer are reported; other Atomics are not", async () => {
    const source = lines(
      "export class Shared {",
      "  block() {",
      "    const memory = new Int32Array(new SharedArrayBuffer(8));",
      "    Atomics.add(memory, 0, 1);",
      "    return Atomics.wait(memory, 0, 0);",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "shared-memory", ...at(source, "SharedArrayBuffer") },
      { rule: "shared-memory", ...at(source, "Atomics.wait") },
    ]);
    assert.match(findings[0]?.message ?? "", /^new SharedArrayBuffer\(\) /);
    assert.match(findings[1]?.message ?? "", /^Atomics\.wait\(\) /);
  });

  it("WeakRef and FinalizationRegistry are reported: garbage collection differs per replica", async () => {
    const source = lines("export class Cache {", "  ref = new WeakRef({});", "}");
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [{ rule: "weak-ref", ...at(source, "WeakRef") }]);
  });

  it("Date.now(), new Date(), Math.random() and crypto.randomUUID() are allowed", async () => {
    const source = lines(
      "export class Agreed {",
      "  stamp() {",
      "    return [Date.now(), new Date(), Math.random(), crypto.randomUUID(), globalThis.crypto.randomUUID()];",
      "  }",
      "}",
    );
    assert.deepEqual(await checkSource(source), []);
  });

  it("a declare'd global is still the global", async () => {
    const source = lines(
      "declare const process: { env: Record<string, string> };",
      "export class Env {",
      "  home() {",
      "    return process.env.HOME;",
      "  }",
      "}",
    );
    assert.deepEqual(spots(await checkSource(source)), [{ rule: "process", ...at(source, "process.env") }]);
  });
});

describe("async", () => {
  it("async methods, functions, arrows, await and for await are reported; generators are fine", async () => {
    const source = lines(
      "async function load() {",
      "  return 1;",
      "}",
      "export class Slow {",
      "  async acquire() {",
      "    await load();",
      "  }",
      "  drain(items: AsyncIterable<number>) {",
      "    return async () => {",
      "      for await (const item of items) void item;",
      "    };",
      "  }",
      "  *ids() {",
      "    yield 1;",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "async", ...at(source, "async function") },
      { rule: "async", ...at(source, "async acquire") },
      { rule: "async", ...at(source, "await load") },
      { rule: "async", ...at(source, "async () =>") },
      { rule: "async", ...at(source, "await (") },
    ]);
    assert.deepEqual(
      findings.map((f) => f.message.split(":")[0]),
      ['async function "load"', 'async method "acquire"', "await", "async arrow function", "for await"],
    );
  });
});

describe("syntax", () => {
  it("a file that does not parse is a finding where it stops parsing", async () => {
    const source = lines("export class Broken {", "  m( {", "}");
    const findings = await checkSource(source);
    assert.ok(findings.length > 0);
    assert.ok(findings.every((f) => f.rule === "syntax" && /^does not parse: /.test(f.message)));
  });
});
