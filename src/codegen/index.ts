/**
 * Typed client proxies generated from an object's class, like ConCoord's `concoord object` command: a
 * module with a class of the same name whose methods call the replicated object.
 *
 * @example
 * ```ts
 * import { writeProxy } from "./codegen/index.ts";
 * await writeProxy({ file: "counter.ts", className: "Counter" }); // writes counterproxy.ts
 * // then, in the application:
 * // import { Counter } from "./counterproxy.ts";
 * // const counter = new Counter("127.0.0.1:14000");
 * // await counter.increment();
 * ```
 */
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";
import { sourceFileProblem } from "../source/source-file.ts";
import { emitProxy, reservedNames } from "./emit.ts";
import { CodegenError } from "./errors.ts";
import { extractClass } from "./extract.ts";
import { createObjectProgram } from "./program.ts";

export { CodegenError } from "./errors.ts";
export type { ClassModel, MethodModel, ParamModel, SignatureModel } from "./extract.ts";
export type { TypeImport } from "./types.ts";

/** What {@link generateProxy} reads and how the proxy connects. */
export interface GenerateProxyOptions {
  /** The object's `.ts` or `.js` file (relative to the working directory, or absolute). */
  readonly file: string;
  /** The exported class to proxy. */
  readonly className: string;
  /** The object's name in the cluster, the default of the proxy's `object` option (default `className`). */
  readonly objectName?: string;
  /** Where the proxy goes (default `<dir>/<basename>proxy.ts` beside the object): imports are relative to it. */
  readonly out?: string;
  /** The module the proxy imports `connect` from (default `"concoord"`). */
  readonly runtimeImport?: string;
}

/** The generated proxy. */
export interface GeneratedProxy {
  /** The module's source text. */
  readonly source: string;
  /** The absolute path it is meant for. */
  readonly outFile: string;
  /** The methods the proxy calls, sorted as the server lists them: `__concoordinit__` first. */
  readonly methods: string[];
}

/**
 * The default proxy path of an object file: `counter.ts` → `counterproxy.ts` beside it.
 *
 * @example
 * ```ts
 * defaultProxyPath("/app/objects/counter.ts"); // "/app/objects/counterproxy.ts"
 * ```
 */
export function defaultProxyPath(file: string): string {
  const base = basename(file, extname(file));
  return join(dirname(file), `${base}proxy.ts`);
}

/**
 * Generates the proxy source for `className` in `file`, reading the class with the TypeScript compiler.
 * Throws {@link CodegenError} (one line, `file: reason`) when the file is missing or does not parse, or
 * does not export a class of that name.
 *
 * @example
 * ```ts
 * const { source, outFile, methods } = await generateProxy({ file: "counter.ts", className: "Counter" });
 * // methods: ["__concoordinit__", "decrement", "getvalue", "increment"]
 * ```
 */
export async function generateProxy(options: GenerateProxyOptions): Promise<GeneratedProxy> {
  const { file: shownFile, className } = options;
  const file = resolve(shownFile);
  const problem = await sourceFileProblem(file);
  if (problem) throw new CodegenError(shownFile, problem);
  const outFile = resolve(options.out ?? defaultProxyPath(file));
  if (outFile === file) throw new CodegenError(shownFile, "the proxy would overwrite the object's own file");
  const outDir = dirname(outFile);

  const program = createObjectProgram([file]);
  const model = extractClass(program, {
    file,
    shownFile,
    className,
    outDir,
    reserved: reservedNames(className),
  });

  // The command as run from the proxy's directory: the same header wherever the files are checked out.
  const toOut = (path: string): string => relative(outDir, path).split(sep).join("/");
  const outFlag = outFile === defaultProxyPath(file) ? "" : ` -o ${toOut(outFile)}`;
  const source = emitProxy({
    model,
    objectName: options.objectName ?? className,
    command: `concoord object -f ${toOut(file)} -c ${className}${outFlag}`,
    runtimeImport: options.runtimeImport ?? "concoord",
  });
  const methods = [model.init.name, ...model.methods.map((m) => m.name)].sort();
  return { source, outFile, methods };
}

/** What {@link writeProxy} writes; `verbose` receives a line about each step. */
export interface WriteProxyOptions extends GenerateProxyOptions {
  readonly verbose?: (line: string) => void;
}

/**
 * Generates the proxy (see {@link generateProxy}) and writes it, creating its directory if needed.
 * Returns the absolute path written.
 *
 * @example
 * ```ts
 * await writeProxy({ file: "counter.ts", className: "Counter", verbose: console.log });
 * // "/app/counterproxy.ts"
 * ```
 */
export async function writeProxy(options: WriteProxyOptions): Promise<string> {
  const { verbose } = options;
  verbose?.(`reading class ${options.className} of ${options.file}`);
  const { source, outFile, methods } = await generateProxy(options);
  verbose?.(`${options.className}: ${methods.length} methods (${methods.join(", ")})`);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, source);
  verbose?.(`wrote ${outFile}`);
  return outFile;
}
