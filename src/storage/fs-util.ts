import { writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import type { SyncHook } from "./node-storage.ts";

/**
 * Fsyncs a directory, so that a file created, renamed or deleted in it survives a crash: the file's own
 * fsync covers its data, not the directory entry that names it.
 *
 * @example
 * ```ts
 * await rename(tmp, final);
 * await fsyncDir(dir, onSync);
 * ```
 */
export async function fsyncDir(dir: string, onSync?: SyncHook): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  onSync?.({ kind: "dir", path: dir });
}

/**
 * Writes all of `bytes` at `position` of the open file `fd`, looping over short writes (a single
 * `write` may write less). Synchronous: see {@link ActiveSegment.append} for why.
 *
 * @example
 * ```ts
 * writeAllSync(fd, frames, segmentBytes);
 * ```
 */
export function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (written <= 0) throw new Error(`short write at byte ${position + done}`);
    done += written;
  }
}

/**
 * Writes all of `bytes` at `position`, looping over short writes, off the event-loop thread (snapshot
 * and meta files may be large).
 *
 * @example
 * ```ts
 * await writeAll(handle, bytes, 0);
 * ```
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write at byte ${position + done}`);
    done += bytesWritten;
  }
}

/**
 * Creates (or replaces) `path` with `bytes` and datasyncs it; the caller renames it into place and
 * fsyncs the directory, which makes the replacement atomic.
 *
 * @example
 * ```ts
 * await writeFileSynced(`${dir}/meta.json.tmp`, bytes);
 * ```
 */
export async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "w");
  try {
    await writeAll(handle, bytes, 0);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
