/**
 * Which methods of a hosted object clients may call. The rules are the same at load time (to list them in
 * the welcome frame) and at call time (to find the function), so both live here.
 */

/** A call to this method re-runs the constructor on the live object (ConCoord's `__concoordinit__`). */
export const INIT_METHOD = "__concoordinit__";
/** Optional hook: `__concoordsnapshot__(): unknown` returns the object's state as plain data. */
export const SNAPSHOT_HOOK = "__concoordsnapshot__";
/** Optional hook: `__concoordrestore__(state: unknown): void` loads what the snapshot hook returned. */
export const RESTORE_HOOK = "__concoordrestore__";

/** A method as found on a prototype. */
export type MethodFunction = (...args: unknown[]) => unknown;

/**
 * Whether a property name may be called by clients: not the constructor, and not `_private` by
 * convention (which also hides the `__concoord…__` hooks).
 *
 * @example
 * ```ts
 * isCallableName("increment"); // true
 * isCallableName("_recount"); // false
 * ```
 */
export function isCallableName(name: string): boolean {
  return name !== "constructor" && !name.startsWith("_");
}

/**
 * The callable methods on the prototype chain from `prototype` up to (not including) `Object.prototype`
 * or the first built-in prototype (`Error.prototype`, `Map.prototype`…: their methods are not the class's
 * API), sorted: plain function-valued properties only, so getters, setters and non-function values are
 * skipped.
 * A name is decided by its nearest definition, as in a property lookup: a subclass getter hides a base
 * method of the same name.
 *
 * @example
 * ```ts
 * discoverMethods(Counter.prototype); // ["decrement", "getvalue", "increment"]
 * ```
 */
export function discoverMethods(prototype: object): string[] {
  const seen = new Set<string>();
  const methods: string[] = [];
  for (let p: object | null = prototype; isUserPrototype(p); p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (isCallableName(name) && descriptor !== undefined && typeof descriptor.value === "function")
        methods.push(name);
    }
  }
  return methods.sort();
}

/**
 * The function a call of `name` on `instance` runs, looked up on the instance's prototype chain by the
 * rules of {@link discoverMethods}, or undefined. Own properties of the instance are ignored on purpose:
 * a field that happens to share a method's name must not turn a call into "x is not a function".
 *
 * @example
 * ```ts
 * findMethod(counter, "increment")?.call(counter);
 * ```
 */
export function findMethod(instance: object, name: string): MethodFunction | undefined {
  if (!isCallableName(name)) return undefined;
  for (
    let p: object | null = Object.getPrototypeOf(instance);
    isUserPrototype(p);
    p = Object.getPrototypeOf(p)
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(p, name);
    if (descriptor === undefined) continue;
    return typeof descriptor.value === "function" ? (descriptor.value as MethodFunction) : undefined;
  }
  return undefined;
}

/** Memo of {@link isUserPrototype}: a class's source can be long, and calls look methods up every time. */
const userPrototypes = new WeakMap<object, boolean>();

/**
 * Whether `prototype` belongs to user code: not null, not `Object.prototype`, and not the prototype of a
 * built-in constructor (whose source is `[native code]`).
 */
function isUserPrototype(prototype: object | null): prototype is object {
  if (prototype === null || prototype === Object.prototype) return false;
  let known = userPrototypes.get(prototype);
  if (known === undefined) {
    const owner: unknown = Object.getOwnPropertyDescriptor(prototype, "constructor")?.value;
    known = !(
      typeof owner === "function" &&
      /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(owner))
    );
    userPrototypes.set(prototype, known);
  }
  return known;
}

/**
 * The hook `name` of `instance` (anywhere on its chain, own fields included), or undefined.
 *
 * @example
 * ```ts
 * const snapshot = findHook(vault, SNAPSHOT_HOOK);
 * ```
 */
export function findHook(instance: object, name: string): MethodFunction | undefined {
  const hook: unknown = (instance as Record<string, unknown>)[name];
  return typeof hook === "function" ? (hook as MethodFunction) : undefined;
}
