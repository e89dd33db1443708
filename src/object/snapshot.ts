import { describeThrown } from "./call-protocol.ts";
import { childPath, decodeValue, packWire, toWire } from "./codec.ts";
import { NotEncodableError, ObjectSnapshotError } from "./errors.ts";
import { findHook, RESTORE_HOOK, SNAPSHOT_HOOK } from "./methods.ts";

/**
 * How one object's state is captured and restored.
 *
 * - By default, its own enumerable fields (`Object.keys`, in order) with their values: the fields ARE the
 *   state, as in the ConCoord tutorial's classes.
 * - A class with state that fields cannot show (`#private` fields, closures, caches) defines
 *   `__concoordsnapshot__(): unknown` and `__concoordrestore__(state: unknown): void`.
 *
 * Restoring always starts from `new Class()` — not `Object.create(Class.prototype)` — so that whatever the
 * constructor sets up besides fields (private fields, bound handlers, derived indexes) exists before the
 * fields are assigned or the restore hook runs.
 */
export type StateKind = "fields" | "hooks";

/**
 * Which way `instance` is snapshotted: `hooks` when it has a snapshot hook.
 *
 * @example
 * ```ts
 * stateKind(new Counter()); // "fields"
 * ```
 */
export function stateKind(instance: object): StateKind {
  return findHook(instance, SNAPSHOT_HOOK) !== undefined ? "hooks" : "fields";
}

/**
 * The state of `instance` as wire data (see `toWire`), labelled with `className` in error paths. Throws
 * NotEncodableError for state that is not plain data, or whatever the snapshot hook throws.
 *
 * @example
 * ```ts
 * captureState(counter, "Counter"); // ["fields", [["value", 2]]]
 * ```
 */
export function captureState(instance: object, className: string): unknown {
  const hook = findHook(instance, SNAPSHOT_HOOK);
  if (hook !== undefined) return ["hooks", toWire(hook.call(instance), `${className}.${SNAPSHOT_HOOK}()`)];
  const record = instance as Record<string, unknown>;
  const fields: [string, unknown][] = [];
  for (const key of Object.keys(record)) {
    const path = childPath(className, key);
    // Restoring assigns fields by name: "__proto__" would set the prototype instead.
    if (key === "__proto__") throw new NotEncodableError('field "__proto__"', className);
    fields.push([key, toWire(record[key], path)]);
  }
  return ["fields", fields];
}

/**
 * Loads state written by {@link captureState} (after decoding) into `fresh`, a newly constructed instance.
 * Throws {@link ObjectSnapshotError} when the state does not fit the class.
 *
 * @example
 * ```ts
 * const counter = new Counter();
 * restoreState(counter, ["fields", [["value", 2]]], "Counter");
 * ```
 */
export function restoreState(fresh: object, state: unknown, className: string): void {
  if (!Array.isArray(state) || state.length !== 2 || (state[0] !== "fields" && state[0] !== "hooks"))
    throw new ObjectSnapshotError(`the snapshot of ${className} is malformed`);
  const kind: StateKind = state[0];
  if (kind !== stateKind(fresh))
    throw new ObjectSnapshotError(
      `the snapshot of ${className} was taken by ${kind}, but ${className} uses ${stateKind(fresh)}`,
    );
  if (kind === "hooks") {
    const hook = findHook(fresh, RESTORE_HOOK);
    if (hook === undefined)
      throw new ObjectSnapshotError(`${className} has ${SNAPSHOT_HOOK} but no ${RESTORE_HOOK}`);
    try {
      hook.call(fresh, state[1]);
    } catch (error) {
      const { name, message } = describeThrown(error);
      throw new ObjectSnapshotError(`${className}.${RESTORE_HOOK} threw ${name}: ${message}`);
    }
    return;
  }
  assignFields(fresh, readFields(state[1], className), className);
}

function readFields(value: unknown, className: string): [string, unknown][] {
  const ok =
    Array.isArray(value) &&
    value.every(
      (f) => Array.isArray(f) && f.length === 2 && typeof f[0] === "string" && f[0] !== "__proto__",
    );
  if (!ok) throw new ObjectSnapshotError(`the fields in the snapshot of ${className} are malformed`);
  return value as [string, unknown][];
}

/**
 * Makes the own enumerable fields of `target` exactly `fields`, in that order. Order matters because the
 * next snapshot lists fields in `Object.keys` order, and a restored replica must write the same bytes as
 * one that never restarted.
 */
function assignFields(target: object, fields: readonly [string, unknown][], className: string): void {
  const record = target as Record<string, unknown>;
  const wanted = fields.map(([key]) => key);
  const wantedSet = new Set(wanted);
  try {
    for (const key of Object.keys(record)) if (!wantedSet.has(key)) remove(record, key);
    for (const [key, value] of fields) record[key] = value;
    if (!sameKeys(Object.keys(record), wanted)) {
      // The live object had deleted and re-added a constructor field, so its order differs from the
      // constructor's. Rare: rebuild the order (deleting fields is slow for V8, so only here).
      for (const key of wanted) remove(record, key);
      for (const [key, value] of fields) record[key] = value;
    }
  } catch (error) {
    const { name, message } = describeThrown(error);
    throw new ObjectSnapshotError(`cannot restore the fields of ${className}: ${name}: ${message}`);
  }
  if (!sameKeys(Object.keys(record), wanted))
    throw new ObjectSnapshotError(
      `cannot restore the fields of ${className}: they come back in another order`,
    );
}

function remove(record: Record<string, unknown>, key: string): void {
  if (!Reflect.deleteProperty(record, key)) throw new TypeError(`field "${key}" cannot be deleted`);
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}

/** One object in a machine snapshot. `codeHash` refuses a snapshot written by other code. */
export interface SnapshotEntry {
  readonly name: string;
  readonly codeHash: string;
  /** Wire data from {@link captureState} when encoding; decoded data when decoding. */
  readonly state: unknown;
}

const SNAPSHOT_VERSION = 1;

/**
 * The bytes of a machine snapshot: `{ v: 1, objects: [{ name, codeHash, state }] }`, objects in the given
 * order (the machine sorts them by name so that equal states give equal bytes).
 *
 * @example
 * ```ts
 * encodeSnapshot([{ name: "counter", codeHash, state: captureState(counter, "Counter") }]);
 * ```
 */
export function encodeSnapshot(entries: readonly SnapshotEntry[]): Uint8Array {
  return packWire({
    v: SNAPSHOT_VERSION,
    objects: entries.map(({ name, codeHash, state }) => ({ name, codeHash, state })),
  });
}

/**
 * Decodes {@link encodeSnapshot}'s bytes, throwing {@link ObjectSnapshotError} when they are not a
 * snapshot.
 *
 * @example
 * ```ts
 * for (const { name, state } of decodeSnapshot(bytes)) console.log(name, state);
 * ```
 */
export function decodeSnapshot(bytes: Uint8Array): SnapshotEntry[] {
  let record: unknown;
  try {
    record = decodeValue(bytes);
  } catch (error) {
    throw new ObjectSnapshotError(`the snapshot is not msgpack: ${describeThrown(error).message}`);
  }
  const { v, objects } = fieldsOf(record);
  if (v !== SNAPSHOT_VERSION || !Array.isArray(objects))
    throw new ObjectSnapshotError(`not a version ${SNAPSHOT_VERSION} object snapshot`);
  return objects.map((entry: unknown) => {
    const { name, codeHash, state } = fieldsOf(entry);
    if (typeof name !== "string" || typeof codeHash !== "string")
      throw new ObjectSnapshotError("an object in the snapshot has no name or code hash");
    return { name, codeHash, state };
  });
}

/** The properties of a decoded map, or none for anything else. */
function fieldsOf(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}
