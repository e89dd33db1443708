import { addExtension, Packr } from "msgpackr";
import { unpackCopying } from "../encoding/unpack-copying.ts";
import { NotEncodableError } from "./errors.ts";

/**
 * The shared codec of calls, results and snapshots: msgpack, restricted to plain data that round-trips
 * exactly — numbers, strings, booleans, null, undefined, bigint, arrays, plain objects, Uint8Array, Map
 * and Set, nested freely. Everything else (functions, symbols, Dates, class instances, cycles) is refused
 * with a {@link NotEncodableError} that names what and where, instead of being silently turned into `{}`.
 *
 * Two values travel differently from what msgpackr does by default:
 * - a JS `Map` is written as extension {@link MAP_EXTENSION_TYPE} around its entries, because msgpackr
 *   writes Maps and plain objects as the same msgpack map and could not tell them apart on the way back;
 * - a `Set` is written with msgpackr's own Set tag (`moreTypes`), not as a bare array.
 *
 * Known normalisations: `-0` reads back as `0` (msgpack integers have no negative zero), array holes read
 * back as `undefined`, and Buffers read back as plain Uint8Arrays.
 */

/**
 * The msgpack extension type of a JS Map. msgpackr's extension table is process-wide, so this type code
 * must not be reused by other msgpack extensions in the same process.
 */
export const MAP_EXTENSION_TYPE = 0x6d; // "m"

/** A Map on its way to the wire: its entries, already converted. Private to the codec. */
class MapEntries {
  constructor(readonly entries: readonly (readonly [unknown, unknown])[]) {}
}

/** Rebuilds a Map from the entries of extension {@link MAP_EXTENSION_TYPE}, refusing malformed ones. */
function readMapEntries(entries: unknown): Map<unknown, unknown> {
  if (!Array.isArray(entries)) throw new TypeError("malformed Map extension: entries are not an array");
  const map = new Map<unknown, unknown>();
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2)
      throw new TypeError("malformed Map extension: an entry is not a [key, value] pair");
    map.set(entry[0], entry[1]);
  }
  return map;
}

addExtension({
  Class: MapEntries,
  type: MAP_EXTENSION_TYPE,
  write: (box: MapEntries) => box.entries,
  read: readMapEntries,
});

const packr = new Packr({
  // Plain msgpack maps rather than records: any msgpack client reads them, and the bytes of a value never
  // depend on what was packed before it (records would share structure definitions between calls).
  useRecords: false,
  // msgpack maps read back as plain objects; JS Maps travel as their own extension (see above).
  mapsAsObjects: true,
  // Tags Sets so that they do not come back as arrays. (It would also tag typed arrays, Dates, Errors and
  // RegExps, which `toWire` refuses before msgpackr sees them.)
  moreTypes: true,
  // bigints wider than 64 bits get an extension instead of a RangeError.
  useBigIntExtension: true,
  // msgpackr writes numbers as int32 or float64, never int64, so every int64 on the wire is a bigint.
  int64AsType: "bigint",
  // Decoded Uint8Arrays own their bytes instead of aliasing the (possibly reused) input buffer.
  copyBuffers: true,
});

/**
 * Encodes plain data. Throws {@link NotEncodableError} for anything else; `root` names the value in that
 * error's path.
 *
 * @example
 * ```ts
 * decodeValue(encodeValue(new Map([["ann", 10n]]))); // Map { "ann" => 10n }
 * encodeValue({ f() {} }); // throws NotEncodableError: function at $.f
 * ```
 */
export function encodeValue(value: unknown, root = "$"): Uint8Array {
  return packWire(toWire(value, root));
}

/**
 * Decodes bytes written by {@link encodeValue} (or by any msgpack encoder). Throws on malformed or
 * trailing bytes.
 *
 * @example
 * ```ts
 * decodeValue(encodeValue([1, "two", new Set([3])])); // [1, "two", Set { 3 }]
 * ```
 */
export function decodeValue(bytes: Uint8Array): unknown {
  // The caller's bytes (a command in the log, a snapshot) come back untouched (see unpackCopying).
  return unpackCopying(packr, bytes);
}

/**
 * Packs a value already converted by {@link toWire}, so that callers can assemble one message from
 * several separately checked parts (a snapshot checks each field under its own name).
 *
 * @example
 * ```ts
 * packWire([toWire(a, "Counter.a"), toWire(b, "Counter.b")]);
 * ```
 */
export function packWire(wire: unknown): Uint8Array {
  // A copy, not a view: msgpackr's output shares one large slab, which a long-lived snapshot would pin.
  return new Uint8Array(packr.pack(wire));
}

/**
 * Checks that `value` is plain data and converts it for msgpackr (Maps boxed, Buffers unwrapped).
 * Throws {@link NotEncodableError} naming the first offending part by its path from `path`.
 *
 * @example
 * ```ts
 * toWire({ at: new Date() }, "$"); // throws NotEncodableError: instance of Date at $.at
 * ```
 */
export function toWire(value: unknown, path: string): unknown {
  return convert(value, { root: path, steps: [] }, new Set());
}

/**
 * Where `convert` is, kept as steps and rendered only for an error: building a path string (and testing
 * each key against a regular expression) for every element cost more than converting it.
 */
interface WirePath {
  readonly root: string;
  readonly steps: PathStep[];
}

type PathStep =
  | number
  | string
  | { readonly mapKey: number }
  | { readonly mapValue: unknown; readonly index: number }
  | { readonly setValue: number };

function renderPath(at: WirePath): string {
  let path = at.root;
  for (const step of at.steps) {
    if (typeof step === "number") path = `${path}[${step}]`;
    else if (typeof step === "string") path = childPath(path, step);
    else if ("mapKey" in step) path = `${path}.keys()[${step.mapKey}]`;
    else if ("mapValue" in step) path = mapValuePath(path, step.mapValue, step.index);
    else path = `${path}.values()[${step.setValue}]`;
  }
  return path;
}

function convertAt(value: unknown, step: PathStep, at: WirePath, ancestors: Set<object>): unknown {
  at.steps.push(step);
  const wire = convert(value, at, ancestors);
  at.steps.pop();
  return wire;
}

function convert(value: unknown, at: WirePath, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case "number":
    case "string":
    case "boolean":
    case "bigint":
    case "undefined":
      return value;
    case "function":
    case "symbol":
      throw new NotEncodableError(typeof value, renderPath(at));
  }
  if (value === null) return null;
  const object = value as object;
  // Only ancestors count: the same object twice side by side is fine (it is written twice), but an
  // object inside itself would make msgpackr recurse forever.
  if (ancestors.has(object)) throw new NotEncodableError("circular reference", renderPath(at));
  const prototype: unknown = Object.getPrototypeOf(object);
  if (object instanceof Uint8Array && (prototype === Uint8Array.prototype || Buffer.isBuffer(object)))
    // With `moreTypes` msgpackr would tag a Buffer as an unknown typed array; a plain view is just bytes.
    return prototype === Uint8Array.prototype
      ? object
      : new Uint8Array(object.buffer, object.byteOffset, object.byteLength);
  ancestors.add(object);
  try {
    if (Array.isArray(object) && prototype === Array.prototype) {
      const items: readonly unknown[] = object;
      const out: unknown[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = convertAt(items[i], i, at, ancestors);
      return out;
    }
    if (prototype === Object.prototype || prototype === null) {
      const record = object as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(record)) {
        // msgpackr renames "__proto__" on decoding (a prototype-pollution guard): it cannot round-trip.
        if (key === "__proto__") throw new NotEncodableError('key "__proto__"', renderPath(at));
        out[key] = convertAt(record[key], key, at, ancestors);
      }
      return out;
    }
    if (object instanceof Map && prototype === Map.prototype) {
      const entries: [unknown, unknown][] = [];
      let i = 0;
      for (const [key, entry] of object) {
        const keyWire = convertAt(key, { mapKey: i }, at, ancestors);
        entries.push([keyWire, convertAt(entry, { mapValue: key, index: i }, at, ancestors)]);
        i++;
      }
      return new MapEntries(entries);
    }
    if (object instanceof Set && prototype === Set.prototype) {
      const items = new Set<unknown>();
      let i = 0;
      for (const item of object) items.add(convertAt(item, { setValue: i++ }, at, ancestors));
      return items;
    }
    throw new NotEncodableError(describeObjectType(prototype), renderPath(at));
  } finally {
    ancestors.delete(object);
  }
}

/**
 * The path of property `key` under `path`: `$.name` for identifiers, `$["two words"]` otherwise.
 *
 * @example
 * ```ts
 * childPath("$", "value"); // "$.value"
 * ```
 */
export function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function mapValuePath(path: string, key: unknown, index: number): string {
  if (typeof key === "string") return `${path}.get(${JSON.stringify(key)})`;
  if (typeof key === "number" || typeof key === "boolean" || key === null || key === undefined)
    return `${path}.get(${String(key)})`;
  if (typeof key === "bigint") return `${path}.get(${key}n)`;
  return `${path}.values()[${index}]`;
}

/** `instance of Date`, `instance of Bank`, or `object with a custom prototype` for anonymous ones. */
function describeObjectType(prototype: unknown): string {
  try {
    const owner: unknown =
      prototype !== null && typeof prototype === "object"
        ? (prototype as { constructor?: unknown }).constructor
        : undefined;
    const name = typeof owner === "function" ? owner.name : "";
    return name !== "" ? `instance of ${name}` : "object with a custom prototype";
  } catch {
    return "object with a custom prototype";
  }
}
