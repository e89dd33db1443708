import { resolve } from "node:path";
import { CliError } from "./cli-error.ts";

/** One object a replica hosts: its name in the cluster, and where its class comes from. */
export interface ObjectSpec {
  readonly name: string;
  readonly file: string;
  readonly className: string;
}

/**
 * Reads the objects of a replica's command line:
 * - `-f FILE -c CLASS`: the class, named after itself (ConCoord's form);
 * - `-o NAME` (repeatable): an object of the library (`Lock`, or ConCoord's `concoord.object.counter.Counter`);
 * - `--object NAME=FILE:CLASS` or `--object NAME=Lock` (repeatable): a named object.
 *
 * @example
 * ```ts
 * await objectSpecs({ objects: ["locks=Lock", "jobs=./jobs.ts:Jobs"] });
 * ```
 */
export async function objectSpecs(options: {
  file?: string;
  className?: string;
  library?: readonly string[];
  objects?: readonly string[];
}): Promise<ObjectSpec[]> {
  const specs: ObjectSpec[] = [];
  if (options.file || options.className) {
    if (!options.file || !options.className) throw new CliError("-f FILE and -c CLASS go together");
    specs.push({ name: options.className, file: resolve(options.file), className: options.className });
  }
  const needsLibrary =
    (options.library?.length ?? 0) > 0 || (options.objects ?? []).some((o) => !o.includes(":"));
  const library = needsLibrary ? await import("../objects/index.ts") : null;
  const fromLibrary = (name: string, as?: string): ObjectSpec => {
    try {
      const found = library!.findLibraryObject(name);
      return { name: as ?? found.name, file: found.file, className: found.className };
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  };
  for (const name of options.library ?? []) specs.push(fromLibrary(name));
  for (const text of options.objects ?? []) {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new CliError(`--object "${text}": expected NAME=FILE:CLASS or NAME=LibraryObject`);
    const name = text.slice(0, eq);
    const source = text.slice(eq + 1);
    const colon = source.lastIndexOf(":");
    if (colon < 0) {
      specs.push(fromLibrary(source, name));
      continue;
    }
    const file = source.slice(0, colon);
    const className = source.slice(colon + 1);
    if (!file || !className) throw new CliError(`--object "${text}": expected NAME=FILE:CLASS`);
    specs.push({ name, file: resolve(file), className });
  }
  if (specs.length === 0)
    throw new CliError("a replica needs an object: -f FILE -c CLASS, -o Counter or --object NAME=...");
  const seen = new Set<string>();
  for (const spec of specs) {
    if (!/^[A-Za-z_][\w.-]*$/.test(spec.name))
      throw new CliError(`object name "${spec.name}" must be letters, digits, _ . -`);
    if (seen.has(spec.name)) throw new CliError(`object name "${spec.name}" is used twice`);
    seen.add(spec.name);
  }
  return specs;
}
