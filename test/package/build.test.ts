import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("the package as another project sees it", { timeout: 180_000 }, () => {
  it("npm run build emits dist/ with declarations, and plain Node can use the library and the bin", () => {
    const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      exports: Record<string, { types: string; default: string }>;
    };
    for (const entry of Object.values(pkg.exports)) {
      // A pattern export is checked with the object that ships.
      const file = (path: string) => join(ROOT, path.replace("*", "counter"));
      assert.ok(existsSync(file(entry.default)), `${entry.default} exists`);
      assert.ok(existsSync(file(entry.types)), `${entry.types} exists`);
    }
    assert.match(readFileSync(join(ROOT, "dist/index.d.ts"), "utf8"), /connect/);

    // A consumer project with concoord in node_modules, run with plain node (no TypeScript loader).
    const consumer = mkdtempSync(join(tmpdir(), "concoord-consumer-"));
    try {
      spawnSync("mkdir", ["-p", join(consumer, "node_modules")]);
      symlinkSync(ROOT, join(consumer, "node_modules", "concoord"));
      writeFileSync(join(consumer, "package.json"), JSON.stringify({ type: "module" }));
      writeFileSync(
        join(consumer, "use.mjs"),
        [
          'import { connect, TimeoutError } from "concoord";',
          'import { Counter } from "concoord/objects/counter";',
          "console.log(typeof connect, typeof TimeoutError, new Counter().increment());",
        ].join("\n"),
      );
      const use = spawnSync(process.execPath, ["use.mjs"], { cwd: consumer, encoding: "utf8" });
      assert.equal(use.stdout.trim(), "function function 1", use.stderr);
      const bin = spawnSync(process.execPath, [join(ROOT, pkg.bin.concoord!), "--version"], {
        encoding: "utf8",
      });
      assert.equal(bin.status, 0, bin.stderr);
      assert.match(bin.stdout.trim(), /^\d+\.\d+\.\d+$/);
      const sim = spawnSync(
        process.execPath,
        [join(ROOT, pkg.bin.concoord!), "sim", "--seeds", "2", "--ops", "50"],
        {
          encoding: "utf8",
        },
      );
      assert.equal(sim.status, 0, sim.stderr);
      assert.match(sim.stdout, /^sim: 2 seeds/m);
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });
});
