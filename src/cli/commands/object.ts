import { CliError } from "../cli-error.ts";

/** Options of `concoord object`. */
export interface ObjectCommandOptions {
  readonly file: string;
  readonly className: string;
  readonly out?: string;
  readonly object?: string;
  readonly safe?: boolean;
  readonly verbose?: boolean;
}

/**
 * `concoord object -f FILE -c CLASS [--out PATH] [-s] [-v]`: writes the typed client proxy of the class
 * (`<file>proxy.ts` beside it by default). With `-s` it first runs the static safety check: each finding
 * is printed as `file:line:col message`, and any finding means exit 1 and no proxy.
 *
 * @example
 * ```sh
 * concoord object -f counter.ts -c Counter -s
 * ```
 */
export async function runObject(options: ObjectCommandOptions): Promise<number> {
  if (options.safe) {
    const { checkObjectSafety, formatFinding } = await import("../../safety/index.ts");
    const findings = await checkObjectSafety({ file: options.file });
    for (const f of findings) process.stdout.write(`${formatFinding(f)}\n`);
    if (findings.length > 0) {
      process.stderr.write(`concoord object: ${findings.length} finding(s); no proxy written\n`);
      return 1;
    }
    if (options.verbose) process.stderr.write(`${options.file}: the safety check found nothing\n`);
  }
  const { writeProxy, CodegenError } = await import("../../codegen/index.ts");
  try {
    const written = await writeProxy({
      file: options.file,
      className: options.className,
      ...(options.out ? { out: options.out } : {}),
      ...(options.object ? { objectName: options.object } : {}),
      ...(options.verbose ? { verbose: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    process.stdout.write(`${written}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CodegenError) throw new CliError(error.message);
    throw error;
  }
}
