import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CodegenError, generateProxy, writeProxy } from "../../src/codegen/index.ts";
import { fixture, scratchDir } from "./helpers.ts";

let scratch: Awaited<ReturnType<typeof scratchDir>>;
before(async () => {
  scratch = await scratchDir("concoord-codegen-errors-");
});
after(async () => {
  await scratch.remove();
});

/** The reason of the CodegenError of generating `className` from `file`, checked to be one `file: reason` line. */
async function reason(file: string, className: string): Promise<string> {
  try {
    await generateProxy({ file, className });
  } catch (error) {
    assert.ok(error instanceof CodegenError, `expected CodegenError, got ${String(error)}`);
    assert.ok(!/[\r\n]/.test(error.message), `one line: ${error.message}`);
    assert.ok(error.message.startsWith(`${file}: `), `prefixed by the file: ${error.message}`);
    assert.equal(error.file, file);
    return error.reason;
  }
  assert.fail(`expected generating ${className} from ${file} to fail`);
}

describe("proxy generation errors", () => {
  it("names a missing file, and a directory", async () => {
    assert.equal(await reason(join(scratch.dir, "nope.ts"), "Counter"), "no such file");
    assert.equal(await reason(scratch.dir, "Counter"), "not a file");
  });

  it("lists the exported classes when the class is not there", async () => {
    assert.equal(
      await reason(fixture("shapes.ts"), "Countr"),
      'no exported class named "Countr" (classes: Counter, Door)',
    );
    const empty = join(scratch.dir, "empty.ts");
    await writeFile(empty, "export const x = 1;\n");
    assert.equal(await reason(empty, "Counter"), 'no exported class named "Counter" (it exports no class)');
  });

  it("says when the class exists but is not exported", async () => {
    assert.equal(await reason(fixture("shapes.ts"), "Hidden"), 'class "Hidden" is not exported');
  });

  it("says what a non-class export is", async () => {
    assert.equal(
      await reason(fixture("shapes.ts"), "notAClass"),
      '"notAClass" is not a class (it is a variable)',
    );
    assert.equal(await reason(fixture("shapes.ts"), "helper"), '"helper" is not a class (it is a function)');
    assert.equal(await reason(fixture("shapes.ts"), "Shape"), '"Shape" is not a class (it is an interface)');
  });

  it("reports a syntax error with its position", async () => {
    const broken = join(scratch.dir, "broken.ts");
    await writeFile(broken, "export class Broken {\n  run( {\n}\n");
    assert.match(await reason(broken, "Broken"), /^does not compile: .+ at line \d+, column \d+$/);
  });

  it("asks to export a type a method uses", async () => {
    const file = join(scratch.dir, "private-type.ts");
    await writeFile(
      file,
      "interface Secret { a: number }\nexport class Box {\n  get(): Secret { return { a: 1 }; }\n}\n",
    );
    assert.match(
      await reason(file, "Box"),
      /^method "get" uses "Secret", which .*private-type\.ts does not export/,
    );
  });

  it("writes nothing when generation fails", async () => {
    const out = join(scratch.dir, "never.ts");
    await assert.rejects(writeProxy({ file: fixture("shapes.ts"), className: "nope", out }), CodegenError);
    await assert.rejects(
      import("node:fs/promises").then((fs) => fs.stat(out)),
      { code: "ENOENT" },
    );
  });
});
