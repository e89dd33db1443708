import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { freeLoopbackPorts } from "../../src/cli/ports.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("the package as another project sees it", { timeout: 180_000 }, () => {
  it("npm run build emits dist/ with declarations, and plain Node can use the library and the bin", async () => {
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

      // The tutorial: generate the proxy with the CLI, start a replica, use the proxy like ConCoord's.
      copyFileSync(join(ROOT, "src/objects/counter.ts"), join(consumer, "counter.ts"));
      const cli = join(ROOT, pkg.bin.concoord!);
      const gen = spawnSync(
        process.execPath,
        [cli, "object", "-f", join(consumer, "counter.ts"), "-c", "Counter"],
        {
          encoding: "utf8",
        },
      );
      assert.equal(gen.status, 0, gen.stderr);
      assert.ok(existsSync(join(consumer, "counterproxy.ts")));
      const [port] = await freeLoopbackPorts(1);
      const replica = spawn(
        process.execPath,
        [
          cli,
          "replica",
          "-f",
          join(consumer, "counter.ts"),
          "-c",
          "Counter",
          "-p",
          String(port),
          "--in-memory",
        ],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let replicaStderr = "";
      replica.stderr!.on("data", (d: Buffer) => {
        replicaStderr += d.toString();
      });
      try {
        await new Promise<void>((resolve, reject) => {
          replica.stdout!.on("data", (d: Buffer) => {
            if (d.toString().includes("listening on")) resolve();
          });
          replica.once("exit", (code) => reject(new Error(`replica exited with ${code}: ${replicaStderr}`)));
        });
        writeFileSync(
          join(consumer, "tutorial.ts"),
          [
            'import { Counter } from "./counterproxy.ts";',
            `const c = new Counter("127.0.0.1:${port}");`,
            "await c.increment();",
            "await c.increment();",
            "const two = await c.getvalue();",
            "await c.__concoordinit__();",
            "await c.increment();",
            "console.log(two, await c.getvalue());",
            "await c.close();",
          ].join("\n"),
        );
        const tsx = join(ROOT, "node_modules/tsx/dist/esm/index.mjs");
        const run = spawnSync(process.execPath, ["--import", tsx, "tutorial.ts"], {
          cwd: consumer,
          encoding: "utf8",
        });
        assert.equal(run.stdout.trim(), "2 1", run.stderr);
      } finally {
        replica.kill("SIGKILL");
      }
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });
});
