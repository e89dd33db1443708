import { constants } from "node:fs";
import { access, mkdir, realpath, stat } from "node:fs/promises";
import { describeOsError, errorCode, StorageError } from "./storage-error.ts";

/**
 * Makes sure `dir` is a usable data directory, creating it (and its parents) if missing, and returns its
 * real path. Fails with a one-line {@link StorageError} naming the path and the OS reason: a path under a
 * file (`ENOTDIR`), a file, a directory this process may not read and write (`EACCES`).
 *
 * @example
 * ```ts
 * const real = await ensureDataDir("./data/node-1");
 * ```
 */
export async function ensureDataDir(dir: string): Promise<string> {
  const fail = (what: string, err?: unknown) =>
    new StorageError(
      `data dir ${dir}: ${what}${err === undefined ? "" : ` (${describeOsError(err)})`}; choose another --data-dir`,
      { cause: err },
    );
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (err) {
    if (errorCode(err) !== "ENOENT") throw fail("cannot be used", err);
    try {
      await mkdir(dir, { recursive: true });
    } catch (mkdirErr) {
      throw fail("cannot be created", mkdirErr);
    }
    isDirectory = true;
  }
  if (!isDirectory) throw fail("is not a directory");
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new StorageError(
      `data dir ${dir}: is not readable and writable (${describeOsError(err)}); fix its permissions or choose another --data-dir`,
      { cause: err },
    );
  }
  return realpath(dir);
}
