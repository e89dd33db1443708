import { createHash } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildFailure, build, type Message } from "esbuild";
import { describeThrown } from "./call-protocol.ts";
import { ObjectLoadError } from "./errors.ts";
import { inspectClass, type LoadedClass } from "./loaded-class.ts";

/**
 * Loads the class `className` from a `.ts` or `.js` file: bundles the file and everything it imports with
 * esbuild, imports the bundle, and checks the class (see `inspectClass`). Throws {@link ObjectLoadError},
 * one line `file: reason`, when the file is missing, does not compile, fails to load, or does not export a
 * class concoord can host.
 *
 * The bundle is built relative to the file's own directory and without a source map, so its bytes — and
 * `codeHash` — are the same on every machine that has the same files, wherever they sit on disk.
 *
 * @example
 * ```ts
 * const counter = await loadObjectFile({ file: "counter.ts", className: "Counter" });
 * const machine = new ObjectMachine(new Map([["counter", counter]]));
 * ```
 */
export async function loadObjectFile(options: { file: string; className: string }): Promise<LoadedClass> {
  const { file: shownFile, className } = options;
  const file = resolve(shownFile);
  await checkIsFile(file, shownFile);
  const bundle = await bundleFile(file, shownFile);
  const codeHash = createHash("sha256").update(bundle).update("\0").update(className).digest("hex");
  const namespace = await importBundle(bundle, basename(file), shownFile);
  if (!Object.hasOwn(namespace, className)) {
    const names = Object.keys(namespace).sort();
    throw new ObjectLoadError(
      shownFile,
      `no export named "${className}" (${names.length > 0 ? `exports: ${names.join(", ")}` : "it exports nothing"})`,
    );
  }
  return inspectClass(namespace[className], { shownFile, file, className, codeHash });
}

async function checkIsFile(file: string, shownFile: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new ObjectLoadError(shownFile, "not a file");
  } catch (error) {
    if (error instanceof ObjectLoadError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new ObjectLoadError(
      shownFile,
      code === "ENOENT" ? "no such file" : `cannot read: ${describeThrown(error).message}`,
    );
  }
}

/** The esbuild bundle of `file` as one ESM module. */
async function bundleFile(file: string, shownFile: string): Promise<Uint8Array> {
  try {
    const result = await build({
      entryPoints: [file],
      // Paths in the bundle's comments are relative to this directory: the same on every machine.
      absWorkingDir: dirname(file),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      sourcemap: false,
      logLevel: "silent",
    });
    const output = result.outputFiles[0];
    if (output === undefined || result.outputFiles.length !== 1)
      throw new ObjectLoadError(
        shownFile,
        `esbuild produced ${result.outputFiles.length} output files, not one`,
      );
    return output.contents;
  } catch (error) {
    if (error instanceof ObjectLoadError) throw error;
    const errors = (error as Partial<BuildFailure>).errors;
    const first = errors?.[0];
    if (errors === undefined || first === undefined)
      throw new ObjectLoadError(shownFile, `cannot bundle: ${describeThrown(error).message}`);
    const more =
      errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? "s" : ""})` : "";
    throw new ObjectLoadError(shownFile, `does not compile: ${describeBuildMessage(first, file)}${more}`);
  }
}

/** `Expected ";" but found "{" at line 3, column 7`, naming the file when it is not the entry point. */
function describeBuildMessage(message: Message, entry: string): string {
  const where = message.location;
  if (where === null) return message.text;
  const inFile = resolve(dirname(entry), where.file) === entry ? "" : ` of ${where.file}`;
  return `${message.text} at line ${where.line}, column ${where.column + 1}${inFile}`;
}

/**
 * Imports the bundle from a fresh temporary directory. A fresh path each time means a fresh module
 * instance, so two loads never share module-level state; the directory is removed once imported.
 */
async function importBundle(
  bundle: Uint8Array,
  name: string,
  shownFile: string,
): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), "concoord-object-"));
  try {
    const path = join(dir, `${name}.mjs`);
    await writeFile(path, bundle);
    try {
      const namespace: Record<string, unknown> = await import(pathToFileURL(path).href);
      return namespace;
    } catch (error) {
      const { name: errorName, message } = describeThrown(error);
      throw new ObjectLoadError(shownFile, `fails to load: ${errorName}: ${message}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
