/**
 * A class the proxy generator cannot read. The message is always ONE line, `<file>: <reason>`, like the
 * server's `ObjectLoadError`, so that the command can print it as is and exit.
 *
 * @example
 * ```ts
 * throw new CodegenError("counter.ts", 'no exported class named "Countr" (classes: Counter)');
 * // message: counter.ts: no exported class named "Countr" (classes: Counter)
 * ```
 */
export class CodegenError extends Error {
  override name = "CodegenError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason.replace(/\s*[\r\n]+\s*/g, " ")}`);
  }
}
