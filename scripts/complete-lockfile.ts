/**
 * The npm registry this project installs from serves only the Linux builds of packages that ship one
 * binary per platform, so `npm install` leaves the other platforms' optional packages out of
 * package-lock.json — and `npm ci` then refuses the lock file as out of sync. This adds the missing
 * entries, with the os, cpu and libc that keep npm from ever fetching them here.
 *
 * Run after changing dependencies: `node --import tsx scripts/complete-lockfile.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  dev?: boolean;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

const PLATFORM =
  /-(android|darwin|freebsd|linux|netbsd|openbsd|sunos|win32|aix|openharmony)-(arm64|arm|x64|ia32|ppc64|riscv64|s390x|loong64|mips64el)(-(musl|gnu|msvc))?$/;

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, LockEntry> };
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `node_modules/${name}`;
    if (lock.packages[target]) continue;
    const match = PLATFORM.exec(name);
    if (!match) throw new Error(`${key}: optional dependency ${name} is missing and is not a platform build`);
    const [, os, cpu, , libc] = match;
    lock.packages[target] = {
      version,
      cpu: [cpu!],
      ...(entry.dev ? { dev: true } : {}),
      ...(libc === "musl" ? { libc: ["musl"] } : {}),
      optional: true,
      os: [os!],
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
