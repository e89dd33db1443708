import { readdirSync, readFileSync } from "node:fs";

/**
 * This process's children whose command line holds `flag`, if any were left behind (other children,
 * such as the TypeScript loader's compiler service, are not a probe's).
 *
 * @example
 * ```ts
 * await settleChildren("--machine-floor-echo");
 * assert.deepEqual(childrenWithFlag("--machine-floor-echo"), []);
 * ```
 */
export function childrenWithFlag(flag: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const args = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return parent === process.pid && args.includes(flag);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Waits (up to 2 s) for the children with `flag` to be gone. */
export async function settleChildren(flag: string): Promise<void> {
  for (let i = 0; i < 100 && childrenWithFlag(flag).length > 0; i++)
    await new Promise((r) => setTimeout(r, 20));
}
