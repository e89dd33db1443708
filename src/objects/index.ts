/**
 * The registry of the objects that ship with concoord, for the CLI (`-o Lock`, `--object NAME=Lock`):
 * each entry names the file and class to host. The object modules are NOT imported here: the CLI bundles
 * each file with esbuild by its path, and importing them too would load every object twice.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/**
 * One library object: the name users give, the file and class the host loads, and a one-line summary.
 *
 * @example
 * ```ts
 * const lock: LibraryObject = findLibraryObject("Lock");
 * await loadObjectFile({ file: lock.file, className: lock.className });
 * ```
 */
export interface LibraryObject {
  /** The name users give (`-o Lock`), unique case-insensitively. */
  readonly name: string;
  /** Absolute path of the module: the `.ts` source, or the `.js` file when running from `dist`. */
  readonly file: string;
  /** The exported class in `file`. */
  readonly className: string;
  readonly summary: string;
}

/** `ts` when this module runs from source (tsx), `js` when it runs built from `dist`. */
const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";

function entry(name: string, module: string, summary: string, className = name): LibraryObject {
  const file = fileURLToPath(new URL(`./${module}.${ext}`, import.meta.url));
  return Object.freeze({ name, file, className, summary });
}

/**
 * Every library object, in the order `--help` lists them.
 *
 * @example
 * ```ts
 * for (const o of OBJECT_LIBRARY) console.log(`${o.name.padEnd(18)} ${o.summary}`);
 * ```
 */
export const OBJECT_LIBRARY: readonly LibraryObject[] = Object.freeze([
  entry("Counter", "counter", "a number: increment, decrement, getvalue (the tutorial's object)"),
  entry(
    "Lock",
    "lock",
    "a mutual-exclusion lock with fencing tokens; released when its holder's session ends",
  ),
  entry("RLock", "rlock", "a re-entrant lock, per client session, with fencing tokens"),
  entry("Semaphore", "semaphore", "a counting semaphore whose permits return when a holder's session ends"),
  entry("BoundedSemaphore", "bounded-semaphore", "a semaphore that refuses release past its initial count"),
  entry("Condition", "condition", "a condition variable with its own lock: wait, notify, notifyAll"),
  entry("Barrier", "barrier", "a reusable barrier: wait returns when all parties have arrived"),
  entry("Queue", "queue", "a FIFO queue whose get waits for an item"),
  entry("Stack", "stack", "a LIFO stack: push, pop, peek"),
  entry("Log", "log", "an append-only log of entries read by index"),
  entry("Membership", "membership", "a member list with versions and waitForChange notifications"),
  entry("Map", "map", "a string-keyed map with compare-and-set", "ReplicatedMap"),
  entry("Bank", "bank", "accounts with integer balances: deposit, withdraw, transfer"),
  entry("BinaryTree", "binary-tree", "a binary search tree of numbers or strings"),
  entry("JobManager", "job-manager", "a work queue: submit, claim (waits), complete; orphaned jobs requeued"),
  entry("NameserverCoord", "nameserver-coord", "DNS records by domain for a replicated DNS master"),
]);

/**
 * Thrown by {@link findLibraryObject} for a name it does not know; the message lists the known ones.
 *
 * @example
 * ```ts
 * try { findLibraryObject("Mutex"); } catch (e) { if (e instanceof UnknownLibraryObject) console.error(e.message); }
 * ```
 */
export class UnknownLibraryObject extends Error {
  override name = "UnknownLibraryObject";
}

/**
 * Finds a library object by its name ("Lock"), case-insensitively, or by the original ConCoord dotted
 * names ("concoord.object.counter.Counter", "concoord.threadingobject.dlock.DLock" → Lock: the last
 * segment, with a leading "D" dropped when that names a library object). Throws
 * {@link UnknownLibraryObject} with the list of known names.
 *
 * @example
 * ```ts
 * findLibraryObject("lock").className; // "Lock"
 * findLibraryObject("concoord.threadingobject.dboundedsemaphore.DBoundedSemaphore").name; // "BoundedSemaphore"
 * findLibraryObject("ReplicatedMap").name; // "Map"
 * ```
 */
export function findLibraryObject(name: string): LibraryObject {
  const last = name.trim().split(".").at(-1) ?? "";
  const found = byName(last) ?? (/^d./i.test(last) ? byName(last.slice(1)) : undefined);
  if (found !== undefined) return found;
  throw new UnknownLibraryObject(
    `no library object named ${JSON.stringify(name)}; known: ${OBJECT_LIBRARY.map((o) => o.name).join(", ")}`,
  );
}

/** The object whose name or class name is `name`, ignoring case. */
function byName(name: string): LibraryObject | undefined {
  const lower = name.toLowerCase();
  return OBJECT_LIBRARY.find((o) => o.name.toLowerCase() === lower || o.className.toLowerCase() === lower);
}
