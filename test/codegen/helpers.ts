import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root directory. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The runtime the generated proxies import in these tests: the sources, since `dist/` may not be built. */
export const RUNTIME = join(ROOT, "src/index.ts");
/** The tutorial's Counter that ships with concoord. */
export const COUNTER = join(ROOT, "src/objects/counter.ts");

/** Absolute path of a fixture file of the codegen tests. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/**
 * A scratch directory for generated proxies, outside the repository (so the project's `tsc` never checks
 * them), marked as an ES module package like the project that would use them.
 */
export async function scratchDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
