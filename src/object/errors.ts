/**
 * A user's class file that concoord cannot host. The message is always ONE line, `<file>: <reason>`, so
 * that the node command can print it as is and exit.
 *
 * @example
 * ```ts
 * throw new ObjectLoadError("counter.ts", 'no export named "Countr" (exports: Counter)');
 * // message: counter.ts: no export named "Countr" (exports: Counter)
 * ```
 */
export class ObjectLoadError extends Error {
  override name = "ObjectLoadError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${oneLine(reason)}`);
  }
}

/** Why bytes are not a call or a result: `BadCall` for a {@link CallOp}, `BadResult` for a result. */
export type ObjectCallErrorCode = "BadCall" | "BadResult";

/**
 * Bytes that do not decode to a call (or a result). `apply` turns it into an error result named after
 * `code`; clients see it thrown by `decodeResult`.
 *
 * @example
 * ```ts
 * throw new ObjectCallError("BadCall", "args is not an array");
 * ```
 */
export class ObjectCallError extends Error {
  override name = "ObjectCallError";
  constructor(
    readonly code: ObjectCallErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A snapshot that cannot be taken or restored: state that is not plain data, or bytes written by other
 * code. Unlike call problems this is fatal for the node, because a replica that cannot snapshot or
 * restore can no longer follow the log.
 *
 * @example
 * ```ts
 * throw new ObjectSnapshotError('cannot snapshot "counter": function at Counter.handler');
 * ```
 */
export class ObjectSnapshotError extends Error {
  override name = "ObjectSnapshotError";
}

/**
 * A value the shared codec refuses: `type` names what was found (`function`, `symbol`, `instance of
 * Date`, `circular reference`…) and `path` where (`$.accounts.get("ann")[2]`).
 *
 * @example
 * ```ts
 * new NotEncodableError("function", "$.handler").message; // "function at $.handler"
 * ```
 */
export class NotEncodableError extends Error {
  override name = "NotEncodableError";
  constructor(
    readonly type: string,
    readonly path: string,
  ) {
    super(`${type} at ${path}`);
  }
}

/** Collapses line breaks so that a multi-line reason (a compiler message, a stack) stays one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
