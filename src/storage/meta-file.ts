import { readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir, writeFileSynced } from "./fs-util.ts";
import type { SyncHook } from "./node-storage.ts";
import { errorCode, REFUSE_HINT, StorageError } from "./storage-error.ts";

/**
 * The file that binds a data dir to one cluster identity.
 *
 * @example
 * ```ts
 * join(dir, META_FILE); // "<dir>/meta.json"
 * ```
 */
export const META_FILE = "meta.json";

/**
 * The on-disk format this code writes; a data dir of another format is refused, never reinterpreted.
 *
 * @example
 * ```ts
 * meta.format === STORAGE_FORMAT;
 * ```
 */
export const STORAGE_FORMAT = 1;

/**
 * What `meta.json` holds.
 *
 * @example
 * ```ts
 * const meta: DataDirMeta = { identity: "9f2c…", createdAt: "2025-01-01T00:00:00.000Z", format: 1 };
 * ```
 */
export interface DataDirMeta {
  readonly identity: string;
  readonly createdAt: string;
  readonly format: number;
}

/**
 * Reads `<dir>/meta.json`, or null when the dir was never initialized. A file that is not valid meta is
 * refused rather than overwritten: it may belong to something else.
 *
 * @example
 * ```ts
 * const meta = await readMeta(dir);
 * ```
 */
export async function readMeta(dir: string): Promise<DataDirMeta | null> {
  let text: string;
  try {
    text = await readFile(join(dir, META_FILE), "utf8");
  } catch (err) {
    if (errorCode(err) === "ENOENT") return null;
    throw err;
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    meta = null;
  }
  if (!isMeta(meta)) throw new StorageError(`data dir ${dir}: ${META_FILE} is not valid; ${REFUSE_HINT}`);
  if (meta.format !== STORAGE_FORMAT) {
    throw new StorageError(
      `data dir ${dir}: written in storage format ${meta.format}, this concoord reads format ${STORAGE_FORMAT}; use a matching concoord version or another --data-dir`,
    );
  }
  return meta;
}

/**
 * Refuses a data dir that belongs to another cluster identity.
 *
 * @example
 * ```ts
 * checkIdentity(dir, meta, identity); // throws "… belongs to cluster identity abc…"
 * ```
 */
export function checkIdentity(dir: string, meta: DataDirMeta, identity: string): void {
  if (meta.identity === identity) return;
  throw new StorageError(
    `data dir ${dir}: belongs to cluster identity ${abbreviate(meta.identity)}, this node was started for ${abbreviate(identity)}; use another --data-dir`,
  );
}

/**
 * Writes `meta.json` atomically (temp file, datasync, rename, fsync the dir).
 *
 * @example
 * ```ts
 * await writeMeta(dir, identity, onSync);
 * ```
 */
export async function writeMeta(dir: string, identity: string, onSync?: SyncHook): Promise<DataDirMeta> {
  const meta: DataDirMeta = { identity, createdAt: new Date().toISOString(), format: STORAGE_FORMAT };
  const tmp = join(dir, `${META_FILE}.tmp`);
  await writeFileSynced(tmp, new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`));
  onSync?.({ kind: "meta", path: tmp });
  await rename(tmp, join(dir, META_FILE));
  await fsyncDir(dir, onSync);
  return meta;
}

/** Identities are long hashes; the first 12 characters tell two apart in a one-line message. */
function abbreviate(identity: string): string {
  return identity.length > 12 ? `${identity.slice(0, 12)}…` : identity;
}

function isMeta(value: unknown): value is DataDirMeta {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.identity === "string" && typeof m.createdAt === "string" && typeof m.format === "number";
}
