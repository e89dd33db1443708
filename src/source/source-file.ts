import { stat } from "node:fs/promises";

/**
 * Why `file` cannot be read as a source file (`"no such file"`, `"not a file"`, `"cannot read: ..."`),
 * or null when it can. The tools that read object files (proxy generation, the safety check) turn the
 * reason into their own one-line error.
 *
 * @example
 * ```ts
 * const problem = await sourceFileProblem("counter.ts");
 * if (problem) throw new CodegenError("counter.ts", problem);
 * ```
 */
export async function sourceFileProblem(file: string): Promise<string | null> {
  try {
    return (await stat(file)).isFile() ? null : "not a file";
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code === "ENOENT" ? "no such file" : `cannot read: ${String(error)}`;
  }
}
