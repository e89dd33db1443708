import { open, readFile, realpath, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { errorCode, StorageError } from "./storage-error.ts";

/**
 * The lock file's name inside a data dir; it holds the owner's pid.
 *
 * @example
 * ```ts
 * readFileSync(join(dir, LOCK_FILE), "utf8"); // "1234\n"
 * ```
 */
export const LOCK_FILE = "LOCK";

/**
 * Data dirs locked by this process. A pid alone cannot tell "another FileStorage in this process" from
 * "a stale lock left by an earlier process that had the same pid" — common in containers, where the node
 * is often pid 1 on every start — so the process remembers which locks it really holds.
 */
const heldHere = new Set<string>();

/**
 * Takes `<dir>/LOCK` (created with `wx`, so two processes cannot both create it) and writes this pid
 * into it. A lock whose pid is alive is refused; a stale one (dead pid, unreadable content, or this
 * process's own pid without this process holding it) is taken over.
 *
 * @example
 * ```ts
 * await acquireLock("/var/lib/concoord"); // throws "data dir … is in use by process 1234"
 * ```
 */
export async function acquireLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  const inUse = (pid: number) =>
    new StorageError(`data dir ${dir} is in use by process ${pid}; stop it or use another --data-dir`);
  // Keyed by real path: two spellings of one directory (a symlink) are one lock. Reserved with no
  // await between check and add, so two opens in this process cannot both take the file for a stale
  // lock of an earlier process.
  const key = await realpath(dir);
  if (heldHere.has(key)) throw inUse(process.pid);
  heldHere.add(key);
  try {
    await createLockFile(path, inUse);
  } catch (err) {
    heldHere.delete(key);
    throw err;
  }
}

async function createLockFile(path: string, inUse: (pid: number) => StorageError): Promise<void> {
  // Two attempts: the second follows the removal of a stale lock. Losing that race to another
  // process means the lock is now held.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (err) {
      if (errorCode(err) !== "EEXIST") throw err;
    }
    const owner = await readLockPid(path);
    if (owner !== null && owner !== process.pid && isAlive(owner)) throw inUse(owner);
    try {
      await unlink(path);
    } catch (err) {
      if (errorCode(err) !== "ENOENT") throw err;
    }
  }
  const owner = await readLockPid(path);
  throw inUse(owner ?? 0);
}

/**
 * Removes the lock this process holds on `dir` (no-op if it holds none).
 *
 * @example
 * ```ts
 * await releaseLock("/var/lib/concoord");
 * ```
 */
export async function releaseLock(dir: string): Promise<void> {
  const key = await realpath(dir).catch(() => resolve(dir));
  if (!heldHere.delete(key)) return;
  try {
    await unlink(join(dir, LOCK_FILE));
  } catch (err) {
    if (errorCode(err) !== "ENOENT") throw err;
  }
}

/** The pid written in a lock file, or null when it is gone or unreadable (a crash mid-creation). */
async function readLockPid(path: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (errorCode(err) === "ENOENT") return null;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/**
 * True when a process with `pid` exists. Signal 0 checks without sending anything; EPERM means it
 * exists but belongs to another user.
 *
 * @example
 * ```ts
 * isAlive(process.pid); // true
 * ```
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === "EPERM";
  }
}
