import { describeThrown } from "./call-protocol.ts";
import { NotEncodableError, ObjectLoadError } from "./errors.ts";
import { discoverMethods, findHook, INIT_METHOD, RESTORE_HOOK, SNAPSHOT_HOOK } from "./methods.ts";
import { captureState } from "./snapshot.ts";

/**
 * A user's class, checked and ready to be instantiated on every replica.
 *
 * @example
 * ```ts
 * const counter = await loadObjectFile({ file: "counter.ts", className: "Counter" });
 * counter.methods; // ["__concoordinit__", "decrement", "getvalue", "increment"]
 * counter.readOnlyMethods; // ["getvalue"]
 * ```
 */
export interface LoadedClass {
  /** Absolute path of the file the class came from. */
  readonly file: string;
  readonly className: string;
  /**
   * sha256 hex of the esbuild bundle and the class name: part of the cluster's identity, so replicas
   * running different code refuse each other.
   */
  readonly codeHash: string;
  /** Public methods callable by clients, sorted, including `__concoordinit__`. */
  readonly methods: readonly string[];
  /** From an optional static `readOnlyMethods = ["getvalue"]` on the class; a subset of `methods`. */
  readonly readOnlyMethods: readonly string[];
  /**
   * A fresh instance, constructed with `args` — none, except when a client calls `__concoordinit__`.
   * Load checked that construction with none succeeds.
   */
  instantiate(...args: unknown[]): object;
}

/** Where a class came from, for {@link inspectClass}. */
export interface ClassSource {
  /** The file as the user named it: the prefix of every {@link ObjectLoadError}. */
  readonly shownFile: string;
  /** Absolute path, kept in {@link LoadedClass.file}. */
  readonly file: string;
  readonly className: string;
  readonly codeHash: string;
}

type Constructor = new (...args: unknown[]) => object;

/**
 * Checks that `exported` can be hosted and describes it: a class (not a plain function or a value) whose
 * constructor takes no required parameters and succeeds without arguments, with a valid static
 * `readOnlyMethods`, both snapshot hooks or neither, and a fresh instance that can be snapshotted. Throws
 * {@link ObjectLoadError} otherwise. Used by `loadObjectFile`, and directly for classes already in memory.
 *
 * @example
 * ```ts
 * const loaded = inspectClass(Counter, { shownFile: "mem", file: "mem", className: "Counter", codeHash: "0" });
 * ```
 */
export function inspectClass(exported: unknown, source: ClassSource): LoadedClass {
  const { className } = source;
  const fail = (reason: string): never => {
    throw new ObjectLoadError(source.shownFile, reason);
  };
  if (!isClass(exported))
    return fail(`export "${className}" is not a class (it is ${describeKind(exported)})`);
  const Class = exported;
  if (Class.length > 0)
    fail(
      `constructor of ${className} takes ${Class.length} argument${Class.length === 1 ? "" : "s"}; ` +
        "concoord constructs objects with none",
    );
  const prototype: object = Class.prototype;
  if (INIT_METHOD in prototype)
    fail(`${className} defines ${INIT_METHOD}, which concoord reserves to re-run the constructor`);

  let probe: object;
  try {
    probe = Reflect.construct(Class, []);
  } catch (error) {
    const { name, message } = describeThrown(error);
    return fail(`constructor of ${className} throws when called with no arguments: ${name}: ${message}`);
  }
  if (!(probe instanceof Class))
    fail(`constructor of ${className} returns another object; concoord hosts instances of the class itself`);

  const callable = discoverMethods(prototype);
  const methods = [INIT_METHOD, ...callable].sort();
  const readOnlyMethods = readOnlyMethodsOf(Class, className, callable, fail);

  const hasSnapshot = findHook(probe, SNAPSHOT_HOOK) !== undefined;
  const hasRestore = findHook(probe, RESTORE_HOOK) !== undefined;
  if (hasSnapshot !== hasRestore)
    fail(
      `${className} defines ${hasSnapshot ? SNAPSHOT_HOOK : RESTORE_HOOK} without ` +
        `${hasSnapshot ? RESTORE_HOOK : SNAPSHOT_HOOK}; define both or neither`,
    );
  // Catch state that snapshots cannot encode now, not thousands of commands later when the first snapshot
  // is due. Later state can still go wrong; the snapshot then fails with the same kind of message.
  try {
    captureState(probe, className);
  } catch (error) {
    if (error instanceof NotEncodableError)
      fail(
        `${className} cannot be snapshotted: ${error.message}; keep only plain data in its fields ` +
          `or define ${SNAPSHOT_HOOK} and ${RESTORE_HOOK}`,
      );
    const { name, message } = describeThrown(error);
    fail(`${className}.${SNAPSHOT_HOOK} throws on a new instance: ${name}: ${message}`);
  }

  return Object.freeze({
    file: source.file,
    className,
    codeHash: source.codeHash,
    methods: Object.freeze(methods),
    readOnlyMethods: Object.freeze(readOnlyMethods),
    instantiate: (...args: unknown[]): object => Reflect.construct(Class, args),
  });
}

/** The class's static `readOnlyMethods`, checked against its callable methods. */
function readOnlyMethodsOf(
  Class: Constructor,
  className: string,
  callable: readonly string[],
  fail: (reason: string) => never,
): string[] {
  const declared: unknown = (Class as unknown as { readOnlyMethods?: unknown }).readOnlyMethods;
  if (declared === undefined) return [];
  if (!Array.isArray(declared) || !declared.every((name) => typeof name === "string"))
    return fail(`${className}.readOnlyMethods must be an array of method names`);
  const names: readonly string[] = declared;
  for (const name of names)
    if (!callable.includes(name))
      fail(
        `${className}.readOnlyMethods names "${name}", which is not a callable method of ${className}` +
          (callable.length > 0 ? ` (methods: ${callable.join(", ")})` : ""),
      );
  return [...new Set(names)].sort();
}

/** Class syntax only: a plain function could be a constructor, but also anything else. */
function isClass(value: unknown): value is Constructor {
  return typeof value === "function" && /^class\b/.test(Function.prototype.toString.call(value));
}

function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
