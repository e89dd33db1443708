import { isBuiltin } from "node:module";

/**
 * The rules of the safety check. Each finding carries one of these ids in `rule`.
 *
 * @example
 * ```ts
 * const errors = findings.filter((f) => SAFETY_RULES[f.rule as SafetyRule]?.severity === "error");
 * ```
 */
export type SafetyRule =
  | "io-module"
  | "package-import"
  | "unresolved-import"
  | "dynamic-import"
  | "require"
  | "eval"
  | "process"
  | "global-write"
  | "timer"
  | "network"
  | "clock"
  | "crypto"
  | "shared-memory"
  | "weak-ref"
  | "async"
  | "module-state"
  | "syntax";

/**
 * What each rule guards against, and how sure the check is: an `error` breaks replication; a `warning`
 * marks code the check could not see (a package, a file it could not find), which may or may not be safe.
 *
 * @example
 * ```ts
 * SAFETY_RULES["package-import"].severity; // "warning"
 * ```
 */
export const SAFETY_RULES: Readonly<Record<SafetyRule, { severity: "error" | "warning"; summary: string }>> =
  {
    "io-module": { severity: "error", summary: "imports a Node module that does IO or reaches the process" },
    "package-import": { severity: "warning", summary: "imports an npm package, whose code is not checked" },
    "unresolved-import": { severity: "warning", summary: "imports a local file the check cannot find" },
    "dynamic-import": { severity: "error", summary: "loads code at run time with import()" },
    require: { severity: "error", summary: "loads code at run time with require()" },
    eval: { severity: "error", summary: "runs code built from strings (eval, Function)" },
    process: { severity: "error", summary: "uses this machine's process object" },
    "global-write": { severity: "error", summary: "writes to the global object or a built-in" },
    timer: { severity: "error", summary: "schedules code outside the replicated command order" },
    network: { severity: "error", summary: "reaches the network" },
    clock: { severity: "error", summary: "reads this machine's high-resolution clock" },
    crypto: { severity: "error", summary: "uses crypto other than randomUUID()" },
    "shared-memory": {
      severity: "error",
      summary: "shares memory or blocks the thread (SharedArrayBuffer, Atomics.wait)",
    },
    "weak-ref": { severity: "error", summary: "observes garbage collection (WeakRef, FinalizationRegistry)" },
    async: { severity: "error", summary: "async function or await: methods must be synchronous" },
    "module-state": { severity: "error", summary: "state outside the instance, which is not snapshotted" },
    syntax: { severity: "error", summary: "the file does not parse" },
  };

/**
 * Node modules that do IO, reach the process or the machine, or run code later or elsewhere. The last
 * group goes beyond the brief's list for the same reasons: `module` has `createRequire`, `async_hooks`
 * and `diagnostics_channel` observe scheduling, the others are IO.
 */
const IO_MODULES: ReadonlySet<string> = new Set([
  "fs",
  "net",
  "dgram",
  "http",
  "https",
  "http2",
  "tls",
  "child_process",
  "cluster",
  "worker_threads",
  "dns",
  "os",
  "process",
  "vm",
  "inspector",
  "readline",
  "v8",
  "perf_hooks",
  "timers",
  "module",
  "async_hooks",
  "diagnostics_channel",
  "repl",
  "tty",
  "wasi",
  "sqlite",
  "trace_events",
  "domain",
]);

/** The crypto modules, whose exports are checked one by one (see {@link CRYPTO_ALLOWED}). */
const CRYPTO_MODULES: ReadonlySet<string> = new Set(["crypto", "node:crypto"]);

/**
 * Members of `crypto` (the global, or the `node:crypto` module) that replicas agree on: concoord makes
 * `randomUUID()` return the same value on every replica, and hashing is a pure function of its input.
 *
 * @example
 * ```ts
 * CRYPTO_ALLOWED.has("randomUUID"); // true
 * CRYPTO_ALLOWED.has("randomBytes"); // false
 * ```
 */
export const CRYPTO_ALLOWED: ReadonlySet<string> = new Set([
  "randomUUID",
  "createHash",
  "createHmac",
  "hash",
  "timingSafeEqual",
  "getHashes",
]);

/**
 * What an import specifier points at: an IO module, the crypto module (checked per name), a harmless
 * Node module (`node:path`, `node:util`…), a local file, or a package.
 *
 * @example
 * ```ts
 * classifyModule("node:fs/promises"); // "io"
 * classifyModule("./helpers.ts");    // "local"
 * classifyModule("lodash");          // "package"
 * ```
 */
export function classifyModule(specifier: string): "io" | "crypto" | "builtin" | "local" | "package" {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:")) return "local";
  const name = specifier.startsWith("node:") ? specifier.slice("node:".length) : specifier;
  // `fs/promises`, `timers/promises`, `dns/promises`…: a subpath is as much IO as its module.
  if (IO_MODULES.has(name.split("/")[0] ?? name)) return "io";
  if (CRYPTO_MODULES.has(specifier)) return "crypto";
  return isBuiltin(specifier) ? "builtin" : "package";
}

/**
 * The names that refer to the global object itself: a property of one of them is that global
 * (`globalThis.fetch` is `fetch`), and writing to one escapes the object.
 *
 * @example
 * ```ts
 * GLOBAL_OBJECTS.has("window"); // true
 * ```
 */
export const GLOBAL_OBJECTS: ReadonlySet<string> = new Set(["globalThis", "global", "window", "self"]);

/**
 * A global the check reports when code refers to it (and it is not shadowed by a local declaration).
 * `member` is the property read from it, if any (`hrtime` in `process.hrtime()`); `undefined` from
 * `message` means this use is fine (`crypto.randomUUID`, `Atomics.add`).
 *
 * @example
 * ```ts
 * const rule: GlobalRule = { rule: "timer", message: (construct) => `${construct} runs code later` };
 * ```
 */
export interface GlobalRule {
  readonly rule: SafetyRule;
  readonly message: (construct: string, member: string | undefined) => string | undefined;
}

const timer: GlobalRule = {
  rule: "timer",
  message: (c) => `${c} runs code later, outside the replicated order of commands`,
};
const network: GlobalRule = {
  rule: "network",
  message: (c) => `${c} reaches the network, outside the replicated state machine`,
};
const weakRef: GlobalRule = {
  rule: "weak-ref",
  message: (c) => `${c} observes garbage collection, which differs on every replica`,
};

/**
 * The globals that are reported, by name. `Date.now()`, `new Date()`, `Math.random()` and
 * `crypto.randomUUID()` are absent on purpose: concoord makes replicas agree on them.
 *
 * @example
 * ```ts
 * GLOBAL_RULES.get("setTimeout")?.message("setTimeout", undefined);
 * // "setTimeout runs code later, outside the replicated order of commands"
 * ```
 */
export const GLOBAL_RULES: ReadonlyMap<string, GlobalRule> = new Map<string, GlobalRule>([
  [
    "process",
    {
      rule: "process",
      message: (c) => `${c} belongs to this machine's process, not to the replicated object`,
    },
  ],
  ["eval", { rule: "eval", message: (c) => `${c} runs code built from a string, which cannot be checked` }],
  ["require", { rule: "require", message: (c) => `${c} loads code at run time, outside the checked source` }],
  ["setTimeout", timer],
  ["setInterval", timer],
  ["setImmediate", timer],
  ["queueMicrotask", timer],
  ["requestAnimationFrame", timer],
  ["requestIdleCallback", timer],
  ["fetch", network],
  ["XMLHttpRequest", network],
  ["WebSocket", network],
  ["EventSource", network],
  ["BroadcastChannel", network],
  ["Worker", network],
  [
    "performance",
    { rule: "clock", message: (c) => `${c} reads this machine's clock: replicas would disagree` },
  ],
  [
    "crypto",
    {
      rule: "crypto",
      message: (c, member) =>
        member !== undefined && CRYPTO_ALLOWED.has(member)
          ? undefined
          : `${c}: random or asynchronous, differs on every replica (only crypto.randomUUID() is agreed on)`,
    },
  ],
  [
    "Atomics",
    {
      rule: "shared-memory",
      message: (c, member) =>
        member === "wait" || member === "waitAsync"
          ? `${c} blocks or suspends the replica's thread`
          : undefined,
    },
  ],
  [
    "SharedArrayBuffer",
    { rule: "shared-memory", message: (c) => `${c} shares memory outside the replicated state` },
  ],
  ["WeakRef", weakRef],
  ["FinalizationRegistry", weakRef],
]);

/**
 * Methods that change the object they are called on (arrays, `Map`, `Set`, typed arrays): calling one on
 * module-level state mutates it. The setters of `Date` and `DataView` count as well.
 */
const MUTATING_METHODS: ReadonlySet<string> = new Set([
  "push",
  "pop",
  "shift",
  "unshift",
  "splice",
  "sort",
  "reverse",
  "fill",
  "copyWithin",
  "set",
  "add",
  "delete",
  "clear",
]);

/**
 * Whether calling a method of this name mutates its receiver (by the name alone: the check has no types).
 *
 * @example
 * ```ts
 * isMutatingMethod("push"); // true
 * isMutatingMethod("setUint8"); // true
 * isMutatingMethod("setTimeout"); // false
 * isMutatingMethod("map"); // false
 * ```
 */
export function isMutatingMethod(name: string): boolean {
  return (
    MUTATING_METHODS.has(name) ||
    /^set(UTC)?(Time|FullYear|Year|Month|Date|Hours|Minutes|Seconds|Milliseconds)$/.test(name) ||
    /^set(Big)?(Int|Uint|Float)\d+$/.test(name)
  );
}
