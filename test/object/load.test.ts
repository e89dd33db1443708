import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadObjectFile, ObjectLoadError } from "../../src/object/index.ts";
import { fixture } from "./helpers.ts";

let scratch = "";
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "concoord-load-test-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes `source` to a scratch file and returns its path. */
async function scratchFile(name: string, source: string): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, source);
  return path;
}

/** The ObjectLoadError message of loading `className` from `file`, checked to be one `file: reason` line. */
async function loadError(file: string, className: string): Promise<string> {
  try {
    await loadObjectFile({ file, className });
  } catch (error) {
    assert.ok(error instanceof ObjectLoadError, `expected ObjectLoadError, got ${String(error)}`);
    assert.ok(!/[\r\n]/.test(error.message), `one line: ${error.message}`);
    assert.ok(error.message.startsWith(`${file}: `), `prefixed by the file: ${error.message}`);
    return error.message.slice(file.length + 2);
  }
  assert.fail(`expected loading ${className} from ${file} to fail`);
}

describe("loading a class from a file", () => {
  it("loads the tutorial's Counter from TypeScript", async () => {
    const counter = await loadObjectFile({ file: fixture("counter.ts"), className: "Counter" });
    assert.equal(counter.className, "Counter");
    assert.equal(counter.file, fixture("counter.ts"));
    assert.match(counter.codeHash, /^[0-9a-f]{64}$/);
    assert.deepEqual(counter.methods, ["__concoordinit__", "decrement", "getvalue", "increment"]);
    assert.deepEqual(counter.readOnlyMethods, ["getvalue"]);
    const instance = counter.instantiate() as { getvalue(): number };
    assert.equal(instance.getvalue(), 0);
    assert.equal(
      (counter.instantiate(7) as { getvalue(): number }).getvalue(),
      7,
      "with __concoordinit__'s args",
    );
  });

  it("loads plain JavaScript", async () => {
    const lock = await loadObjectFile({ file: fixture("lock.js"), className: "Lock" });
    assert.deepEqual(lock.methods, ["__concoordinit__", "acquire", "holder", "release"]);
    assert.deepEqual(lock.readOnlyMethods, ["holder"]);
  });

  it("bundles the file's imports, and resolves a relative path", async () => {
    const shown = relative(process.cwd(), fixture("bank.ts"));
    const bank = await loadObjectFile({ file: shown, className: "Bank" });
    assert.equal(bank.file, fixture("bank.ts"));
    assert.deepEqual(bank.methods, ["__concoordinit__", "balance", "open", "transfer"]);
  });

  it("lists inherited methods, but not getters, statics, _private ones or the constructor", async () => {
    const loaded = await loadObjectFile({ file: fixture("misbehaving.ts"), className: "Misbehaving" });
    assert.deepEqual(loaded.methods, [
      "__concoordinit__",
      "cycle",
      "echo",
      "handler",
      "helper",
      "huge",
      "inherited",
      "later",
      "nested",
      "peek",
      "rejects",
      "throwsHalfway",
      "throwsString",
      "today",
    ]);
  });

  it("does not offer the methods of a built-in base class", async () => {
    const funds = await loadObjectFile({ file: fixture("bank.ts"), className: "InsufficientFunds" });
    assert.deepEqual(funds.methods, ["__concoordinit__"], "no Error.prototype.toString");
  });

  it("two loads do not share module state", async () => {
    const file = await scratchFile(
      "numbered.ts",
      "let made = 0;\nexport class Numbered { id = ++made; get(): number { return this.id; } }\n",
    );
    const first = await loadObjectFile({ file, className: "Numbered" });
    const second = await loadObjectFile({ file, className: "Numbered" });
    // Load itself constructs one probe instance, so each module has counted one before this.
    assert.equal((first.instantiate() as { get(): number }).get(), 2);
    assert.equal((second.instantiate() as { get(): number }).get(), 2);
  });
});

describe("code hash", () => {
  it("is the same for the same code wherever it sits, and differs for other code or another class", async () => {
    const dirs = [join(scratch, "a"), join(scratch, "b", "deeper")];
    const hashes: string[] = [];
    for (const dir of dirs) {
      await mkdir(dir, { recursive: true });
      await copyFile(fixture("counter.ts"), join(dir, "counter.ts"));
      hashes.push((await loadObjectFile({ file: join(dir, "counter.ts"), className: "Counter" })).codeHash);
    }
    assert.equal(hashes[0], hashes[1], "two directories, one hash");
    const again = await loadObjectFile({ file: join(dirs[0]!, "counter.ts"), className: "Counter" });
    assert.equal(again.codeHash, hashes[0], "loading twice gives the same hash");

    const edited = join(scratch, "b", "deeper", "counter.ts");
    await writeFile(
      edited,
      "export class Counter { value = 0; increment(): void { this.value += 2; } getvalue(): number { return this.value; } }\n",
    );
    const other = await loadObjectFile({ file: edited, className: "Counter" });
    assert.notEqual(other.codeHash, hashes[0], "other code, other hash");

    const bank = await loadObjectFile({ file: fixture("bank.ts"), className: "Bank" });
    const funds = await loadObjectFile({ file: fixture("bank.ts"), className: "InsufficientFunds" });
    assert.notEqual(bank.codeHash, funds.codeHash, "one bundle, two classes, two hashes");
  });
});

describe("load errors are one line, `file: reason`", () => {
  it("a missing file, a directory", async () => {
    assert.equal(await loadError(join(scratch, "nope.ts"), "Counter"), "no such file");
    assert.equal(await loadError(scratch, "Counter"), "not a file");
  });

  it("a file that does not compile names esbuild's first error and its line", async () => {
    const file = await scratchFile(
      "broken.ts",
      "export class Counter {\n  value = 0;\n  increment(): void {\n    this.value +=;\n  }\n}\n",
    );
    const reason = await loadError(file, "Counter");
    assert.match(reason, /^does not compile: Unexpected ";" at line 4, column \d+$/);
  });

  it("an import that does not resolve", async () => {
    const file = await scratchFile(
      "orphan.ts",
      'import { x } from "./missing.ts";\nexport class A { v = x; }\n',
    );
    assert.match(
      await loadError(file, "A"),
      /^does not compile: Could not resolve "\.\/missing\.ts" at line 1/,
    );
  });

  it("a module that throws while loading", async () => {
    const file = await scratchFile("throws.ts", 'throw new TypeError("bad config");\nexport class A {}\n');
    assert.equal(await loadError(file, "A"), "fails to load: TypeError: bad config");
  });

  it("no export of that name lists the exported names", async () => {
    assert.equal(
      await loadError(fixture("bank.ts"), "Bnak"),
      'no export named "Bnak" (exports: Bank, InsufficientFunds)',
    );
    const empty = await scratchFile("empty.ts", "const x = 1;\nconsole.assert(x === 1);\n");
    assert.equal(await loadError(empty, "A"), 'no export named "A" (it exports nothing)');
  });

  it("an export that is not a class", async () => {
    const file = fixture("unhostable.ts");
    assert.equal(await loadError(file, "notAClass"), 'export "notAClass" is not a class (it is a number)');
    assert.equal(
      await loadError(file, "plainFunction"),
      'export "plainFunction" is not a class (it is a function)',
    );
  });

  it("a constructor with required parameters, or one that throws without arguments", async () => {
    assert.equal(
      await loadError(fixture("needs-args.ts"), "Greeter"),
      "constructor of Greeter takes 1 argument; concoord constructs objects with none",
    );
    assert.equal(
      await loadError(fixture("unhostable.ts"), "Explodes"),
      "constructor of Explodes throws when called with no arguments: Error: no configuration found",
    );
  });

  it("readOnlyMethods naming something that is not a method", async () => {
    assert.equal(
      await loadError(fixture("unhostable.ts"), "BadReadOnly"),
      'BadReadOnly.readOnlyMethods names "missing", which is not a callable method of BadReadOnly (methods: get)',
    );
  });

  it("one snapshot hook without the other, state a snapshot cannot hold, a reserved name", async () => {
    const file = fixture("unhostable.ts");
    assert.equal(
      await loadError(file, "HalfHooks"),
      "HalfHooks defines __concoordsnapshot__ without __concoordrestore__; define both or neither",
    );
    assert.equal(
      await loadError(file, "FunctionField"),
      "FunctionField cannot be snapshotted: function at FunctionField.handler; keep only plain data in its " +
        "fields or define __concoordsnapshot__ and __concoordrestore__",
    );
    assert.equal(
      await loadError(file, "ReservedInit"),
      "ReservedInit defines __concoordinit__, which concoord reserves to re-run the constructor",
    );
  });
});
