import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { at, checkFiles, checkSource, spots } from "./helpers.ts";

const lines = (...text: string[]) => `${text.join("\n")}\n`;

describe("module-level state", () => {
  it("every module-level let and var is reported at its name", async () => {
    const source = lines(
      "let opened = 0;",
      "export var closed = 0, [first] = [1];",
      "export class Bank {",
      "  open() {",
      "    opened += 1;",
      "    return opened + closed + first;",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "module-state", ...at(source, "opened") },
      { rule: "module-state", ...at(source, "closed") },
      { rule: "module-state", ...at(source, "first") },
    ]);
    assert.match(
      findings[0]?.message ?? "",
      /^module-level let "opened": state outside the instance is not snapshotted/,
    );
    assert.match(findings[1]?.message ?? "", /^module-level var "closed": /);
  });

  it("a module-level const is reported when a method mutates it, naming the mutation", async () => {
    const source = lines(
      "const seen = new Set<string>();",
      "export class Dedup {",
      "  add(id: string) {",
      "    seen.add(id);",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [{ rule: "module-state", ...at(source, "seen") }]);
    assert.equal(
      findings[0]?.message,
      'module-level const "seen" is mutated by seen.add(id) (line 4): state outside the instance is not snapshotted and diverges after a restart',
    );
  });

  it("mutations of every kind count: assignments, ++, delete, mutating methods, Object.assign", async () => {
    const mutations = [
      "arr.push(1)",
      "arr.sort()",
      "arr.splice(0, 1)",
      "arr.length = 0",
      "map.set(1, [])",
      "map.get(1)?.push(2)",
      "map.clear()",
      "obj.count++",
      "obj.count += 2",
      "delete obj.count",
      'obj["count"] = 1',
      "[obj.count] = [3]",
      "Object.assign(obj, { count: 4 })",
      "fn.calls = 1",
      "when.setTime(0)",
    ];
    for (const mutation of mutations) {
      const source = lines(
        "const arr: number[] = [];",
        "const map = new Map<number, number[]>();",
        "const obj: { count?: number } = {};",
        "function fn() {}",
        "const when = new Date(0);",
        "export class Thing {",
        "  run(): unknown {",
        `    return ${mutation};`,
        "  }",
        "  other() {",
        "    return [arr, map, obj, fn, when];",
        "  }",
        "}",
      );
      const findings = await checkSource(source);
      assert.equal(findings.length, 1, `${mutation}: ${JSON.stringify(findings)}`);
      assert.equal(findings[0]?.rule, "module-state");
      assert.match(findings[0]?.message ?? "", /\(line 8\)/, mutation);
    }
  });

  it("consts never mutated, mutated only at load, or shadowed are fine", async () => {
    const source = lines(
      'const LIMITS = Object.freeze({ max: 10, names: ["a", "b"] });',
      "const MAX = 3;",
      "const table: string[] = [];",
      "for (const name of LIMITS.names) table.push(name);",
      "const order = [3, 1, 2];",
      "declare let ambient: number;",
      "export class Clean {",
      "  static readOnlyMethods = ['limit'];",
      "  items = new Map<string, number>();",
      "  limit() {",
      "    return LIMITS.max + MAX + table.length + ambient;",
      "  }",
      "  sorted() {",
      "    return order.slice().sort();",
      "  }",
      "  add(table: string[]) {",
      "    table.push('x');",
      "    this.items.set('k', 1);",
      "    return table;",
      "  }",
      "}",
    );
    assert.deepEqual(await checkSource(source), []);
  });

  it("static fields assigned or mutated outside their declaration are reported; a static block is load time", async () => {
    const source = lines(
      "export class Bank {",
      "  static opened = 0;",
      "  static log: string[] = [];",
      "  static readOnlyMethods = ['balance'];",
      "  static #secret = 0;",
      "  static limit = 0;",
      "  static {",
      "    Bank.limit = 100;",
      "  }",
      "  open() {",
      "    Bank.opened++;",
      "    Bank.log.push('open');",
      "  }",
      "  static reset() {",
      "    this.#secret = 1;",
      "  }",
      "  balance() {",
      "    return Bank.#secret + Bank.limit;",
      "  }",
      "}",
    );
    const findings = await checkSource(source);
    assert.deepEqual(spots(findings), [
      { rule: "module-state", ...at(source, "opened") },
      { rule: "module-state", ...at(source, "log") },
      { rule: "module-state", ...at(source, "#secret") },
    ]);
    assert.match(
      findings[0]?.message ?? "",
      /^static field Bank\.opened is mutated by Bank\.opened\+\+ \(line 11\)/,
    );
    assert.match(
      findings[2]?.message ?? "",
      /^static field Bank\.#secret is mutated by this\.#secret = 1 \(line 15\)/,
    );
  });

  it("a const mutated from another file is reported where it is declared, naming the other file", async () => {
    const object = lines(
      'import { registry } from "./lib/registry.ts";',
      'import * as lib from "./lib/registry.ts";',
      "export class Users {",
      "  add(name: string) {",
      "    registry.push(name);",
      "    lib.registry.push(name);",
      "  }",
      "}",
    );
    const helper = lines("export const registry: string[] = [];");
    const { dir, findings } = await checkFiles({ "object.ts": object, "lib/registry.ts": helper });
    assert.deepEqual(findings, [
      {
        file: join(dir, "lib/registry.ts"),
        rule: "module-state",
        ...at(helper, "registry"),
        message: `module-level const "registry" is mutated by registry.push(name) (${join(dir, "object.ts")}:5): state outside the instance is not snapshotted and diverges after a restart`,
      },
    ]);
  });
});
