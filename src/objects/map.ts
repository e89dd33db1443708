import { stringArg } from "./shared.ts";

/**
 * A replicated key-value map with compare-and-set (hosted as "Map"; named `ReplicatedMap` so that it does
 * not hide JavaScript's `Map`).
 *
 * - Keys are strings; values are any plain data a client can send.
 * - `null` (and `undefined`) means "absent", in both directions: `get` returns null for a missing key,
 *   `set(key, null)` deletes it, and `compareAndSet(key, null, value)` succeeds only when the key is
 *   absent. So a stored value is never null, and `get` is never ambiguous.
 * - `compareAndSet` compares by structural equality ({@link deepEqual}), because values arrive decoded
 *   from the wire and are never the same object twice.
 *
 * @example
 * ```ts
 * const config = client.object<ReplicatedMap>("config");
 * await config.set("leader", "10.0.0.7");
 * await config.compareAndSet("leader", "10.0.0.7", "10.0.0.8"); // true
 * await config.keys("lea"); // ["leader"]
 * ```
 */
export class ReplicatedMap {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["get", "has", "keys", "size"];

  /** The entries; never holds a null or undefined value. */
  entries = new Map<string, unknown>();

  /**
   * The value of `key`, or null when absent.
   *
   * @example
   * ```ts
   * await map.get("leader"); // "10.0.0.7"
   * ```
   */
  get(key: string): unknown {
    return this.entries.get(stringArg(key, "key", true)) ?? null;
  }

  /**
   * Sets `key` to `value`; a null `value` deletes the key.
   *
   * @example
   * ```ts
   * await map.set("leader", "10.0.0.7");
   * ```
   */
  set(key: string, value: unknown): void {
    const k = stringArg(key, "key", true);
    if (value === null || value === undefined) this.entries.delete(k);
    else this.entries.set(k, value);
  }

  /**
   * Deletes `key`; returns whether it was there.
   *
   * @example
   * ```ts
   * await map.delete("leader"); // true
   * ```
   */
  delete(key: string): boolean {
    return this.entries.delete(stringArg(key, "key", true));
  }

  /**
   * Whether `key` has a value.
   *
   * @example
   * ```ts
   * await map.has("leader"); // false
   * ```
   */
  has(key: string): boolean {
    return this.entries.has(stringArg(key, "key", true));
  }

  /**
   * Sets `key` to `value` only if its value is structurally equal to `expected` (null: only if absent);
   * returns whether it did. A null `value` deletes the key (compare-and-delete).
   *
   * @example
   * ```ts
   * await map.compareAndSet("owner", null, "ann"); // true: claimed
   * await map.compareAndSet("owner", null, "bob"); // false: ann has it
   * await map.compareAndSet("owner", "ann", null); // true: released
   * ```
   */
  compareAndSet(key: string, expected: unknown, value: unknown): boolean {
    const k = stringArg(key, "key", true);
    if (!deepEqual(this.entries.get(k) ?? null, expected ?? null)) return false;
    this.set(k, value);
    return true;
  }

  /**
   * The keys starting with `prefix`, sorted (by UTF-16 code units, the same on every replica).
   *
   * @example
   * ```ts
   * await map.keys("user/"); // ["user/ann", "user/bob"]
   * ```
   */
  keys(prefix = ""): string[] {
    const p = stringArg(prefix, "prefix", true);
    return [...this.entries.keys()].filter((k) => k.startsWith(p)).sort();
  }

  /**
   * How many keys have a value.
   *
   * @example
   * ```ts
   * await map.size(); // 2
   * ```
   */
  size(): number {
    return this.entries.size;
  }
}

/**
 * Structural equality of plain data (what the codec carries): primitives by value (NaN equals NaN, `0`
 * equals `-0` since the codec cannot tell them apart, a number never equals a bigint), arrays by items,
 * plain objects by their own keys in any order, Uint8Arrays by bytes, Maps by entries and Sets by members
 * in any order (keys and members compared structurally too).
 *
 * @example
 * ```ts
 * deepEqual({ a: [1, new Set(["x"])] }, { a: [1, new Set(["x"])] }); // true
 * deepEqual(1, 1n); // false
 * ```
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    return a.every((byte, i) => byte === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((item: unknown, i) => deepEqual(item, b[i]));
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    return sameMembers([...a.entries()], [...b.entries()]);
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    return sameMembers([...a], [...b]);
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ak.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}

/**
 * Whether two lists hold structurally equal members in some order, each matched once. Quadratic: members
 * may be objects, which no hash lookup finds, and the values compared by a CAS are small.
 */
function sameMembers(as: readonly unknown[], bs: readonly unknown[]): boolean {
  const rest = [...bs];
  for (const item of as) {
    const i = rest.findIndex((other) => deepEqual(item, other));
    if (i < 0) return false;
    rest.splice(i, 1);
  }
  return rest.length === 0;
}
