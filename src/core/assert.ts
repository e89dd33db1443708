/**
 * Invariant checks that stay on in production: a consensus node that continues past a broken invariant
 * can acknowledge data it will later lose, so it must stop instead.
 *
 * @example
 * ```ts
 * assert(applied <= decided, "applied beyond decided");
 * ```
 */
export class InvariantError extends Error {
  override name = "InvariantError";
}

/** Throws {@link InvariantError} with `message` when `condition` is false. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
