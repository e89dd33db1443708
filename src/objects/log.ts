import { integerArg } from "./shared.ts";

/**
 * An append-only log of entries (ConCoord's `Log`): every client reads the same entries in the same
 * order, so it suits audit trails and simple event sourcing. Entries are any plain data.
 *
 * @example
 * ```ts
 * const log = client.object<Log>("log");
 * await log.append({ user: "ann", action: "login" }); // 0
 * await log.read(0, 10); // [{ user: "ann", action: "login" }]
 * ```
 */
export class Log {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["read", "length"];

  /** The entries, oldest first; an entry's index is its position. */
  entries: unknown[] = [];

  /**
   * Appends an entry; returns its index (0 for the first).
   *
   * @example
   * ```ts
   * await log.append("started"); // 0
   * ```
   */
  append(entry: unknown): number {
    this.entries.push(entry);
    return this.entries.length - 1;
  }

  /**
   * Up to `count` entries from index `from` (all the rest when `count` is omitted); fewer, or none, past
   * the end. `from` and `count` are non-negative integers (else `ValueError`).
   *
   * @example
   * ```ts
   * await log.read(); // every entry
   * await log.read(10, 5); // entries 10 to 14, as far as they exist
   * ```
   */
  read(from = 0, count?: number | null): unknown[] {
    const start = integerArg(from, "from", 0);
    // `null` too: a JSON client (the CLI) cannot send `undefined`.
    const end = count === undefined || count === null ? undefined : start + integerArg(count, "count", 0);
    return this.entries.slice(start, end);
  }

  /**
   * How many entries the log holds: the index the next entry gets.
   *
   * @example
   * ```ts
   * await log.length(); // 1
   * ```
   */
  length(): number {
    return this.entries.length;
  }
}
