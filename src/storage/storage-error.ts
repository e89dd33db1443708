/**
 * Every failure to open, recover or write a data directory. The message is one line that names the path
 * and tells the operator what to do, because it is what a node prints when it refuses to start.
 *
 * @example
 * ```ts
 * throw new StorageError("data dir /var/lib/concoord is in use by process 1234");
 * ```
 */
export class StorageError extends Error {
  override name = "StorageError";

  constructor(message: string, options?: { cause?: unknown }) {
    // One line: a multi-line reason would be split apart by log collectors.
    super(message.replace(/\s*[\r\n]+\s*/g, " "), options);
  }
}

/**
 * The OS reason of a file-system error on one line, e.g. `ENOTDIR: not a directory, mkdir '/x/sub'`
 * (Node's message already names the code, the call and the path).
 *
 * @example
 * ```ts
 * describeOsError(err); // "EACCES: permission denied, open '/data/LOCK'"
 * ```
 */
export function describeOsError(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/\s*[\r\n]+\s*/g, " ");
  return String(err);
}

/**
 * The `code` of a Node system error (`ENOENT`, `EEXIST`, …), or undefined.
 *
 * @example
 * ```ts
 * if (errorCode(err) === "ENOENT") return null;
 * ```
 */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string")
    return err.code;
  return undefined;
}

/**
 * What an operator can do about a data dir that cannot be trusted; ends every corruption message.
 *
 * @example
 * ```ts
 * new StorageError(`data dir ${dir}: meta.json is corrupt; ${REFUSE_HINT}`);
 * ```
 */
export const REFUSE_HINT =
  "refusing to start — restore this node from a peer or remove the data dir to rejoin empty";
