import { assert } from "../core/assert.ts";
import type { ApplyContext, ApplyOutcome, StateMachine, Wake } from "../core/state-machine.ts";
import type { ObjectInfo } from "../net/frames.ts";
import { withAgreedEnvironment } from "./agreed-env.ts";
import { CALL_CONTEXT_KEY, type CallContext, isParked } from "./api.ts";
import {
  type CallResult,
  decodeCall,
  describeThrown,
  encodeResultShared,
  errorResult,
} from "./call-protocol.ts";
import { NotEncodableError, ObjectCallError, ObjectSnapshotError } from "./errors.ts";
import type { LoadedClass } from "./loaded-class.ts";
import { findMethod, INIT_METHOD, type MethodFunction } from "./methods.ts";
import { captureState, decodeSnapshot, encodeSnapshot, restoreState } from "./snapshot.ts";

/** Hooks an object may define; the host calls them through the log. */
const SESSION_EXPIRED_HOOK = "__concoordsessionexpired__";
const TIMEOUT_HOOK = "__concoordtimeout__";

/** One hosted object: its class and its live instance. */
interface Hosted {
  readonly name: string;
  readonly loaded: LoadedClass;
  readonly methods: ReadonlySet<string>;
  readonly readOnly: ReadonlySet<string>;
  instance: object;
  /**
   * The functions callable names resolve to on `methodsOf`, the instance's prototype: looked up once, not
   * on every call (a lookup walks the chain with property descriptors). A new prototype starts afresh.
   */
  readonly resolved: Map<string, MethodFunction | undefined>;
  methodsOf: object | null;
}

/**
 * The {@link StateMachine} that hosts one or more named objects. An op is an encoded `CallOp`; its result
 * an encoded `CallResult`. Every problem a client can cause — bad bytes, unknown object or method, a
 * method that throws, returns a Promise or returns something that is not plain data — becomes an error
 * result: `apply` and `query` never throw for them, since a throw would stop the replica.
 *
 * A call's changes to the object stand even when its result is an error (the method ran; the log cannot
 * take it back): a method that throws halfway keeps its first half, and one whose return value cannot be
 * encoded keeps all of it. Every replica does the same, so they stay equal.
 *
 * Snapshots cover all objects, sorted by name; see `snapshot.ts` for how one object's state is captured.
 * `snapshot` and `restore` do throw ({@link ObjectSnapshotError}): state that cannot be encoded, or a
 * snapshot from other code, leaves nothing sensible to continue with.
 *
 * @example
 * ```ts
 * const machine = new ObjectMachine(new Map([["counter", await loadObjectFile({ file, className: "Counter" })]]));
 * machine.apply(encodeCall({ object: "counter", method: "increment", args: [] }), ctx);
 * decodeResult(machine.query(encodeCall({ object: "counter", method: "getvalue", args: [] }))); // { ok: true, value: 1 }
 * ```
 */
export class ObjectMachine implements StateMachine {
  /** Sorted by name, so that snapshots list objects in the same order on every replica. */
  readonly #hosted: Map<string, Hosted>;
  /** The op `apply` is running, and whether (and for how long) it parked its caller. */
  #op: Uint8Array = EMPTY_OP;
  #parked = false;
  #parkTimeoutMs: number | undefined;
  /** Made once: a closure per call was a fair part of what a small call allocates. */
  readonly #runOp = (): Uint8Array => this.#run(this.#op, true);

  constructor(objects: ReadonlyMap<string, LoadedClass>) {
    this.#hosted = new Map();
    for (const name of [...objects.keys()].sort()) {
      const loaded = objects.get(name);
      assert(loaded !== undefined && name !== "", "every hosted object has a class and a non-empty name");
      // A LoadedClass can be made by hand (tests, the simulator), so its promises are checked, not trusted.
      assert(
        loaded.readOnlyMethods.every((method) => loaded.methods.includes(method) && method !== INIT_METHOD),
        `the read-only methods of ${loaded.className} are a subset of its methods, without ${INIT_METHOD}`,
      );
      this.#hosted.set(name, {
        name,
        loaded,
        methods: new Set(loaded.methods),
        readOnly: new Set(loaded.readOnlyMethods),
        instance: loaded.instantiate(),
        resolved: new Map(),
        methodsOf: null,
      });
    }
  }

  /**
   * Runs one call through the log, with the agreed clock and randomness of `ctx` in place, and the call
   * context that lets the method park its caller (`park()`) or wake parked calls (`wake()`).
   */
  apply(op: Uint8Array, ctx: ApplyContext): Uint8Array | ApplyOutcome {
    const call: CallContext = { clientId: ctx.clientId, seq: ctx.seq, timeoutMs: ctx.timeoutMs, wakes: [] };
    this.#op = op;
    this.#parked = false;
    this.#parkTimeoutMs = undefined;
    const result = this.#withCall(call, ctx, this.#runOp);
    this.#op = EMPTY_OP;
    // Most calls neither park nor wake: their outcome is the result itself, with nothing else to allocate.
    if (!this.#parked && call.wakes.length === 0) return result;
    const wakes = encodeWakes(call);
    if (this.#parked)
      return {
        result: null,
        ...(this.#parkTimeoutMs === undefined ? {} : { parkTimeoutMs: this.#parkTimeoutMs }),
        wakes,
      };
    return { result, wakes };
  }

  /** Tells every object that a parked call timed out, so it drops the waiter; collects the wakes. */
  expireParked(waiter: { clientId: number; seq: number }, ctx: ApplyContext): readonly Wake[] {
    return this.#hook(TIMEOUT_HOOK, { clientId: waiter.clientId, seq: waiter.seq }, ctx);
  }

  /** Tells every object that a client's session ended, so it releases what the client held. */
  sessionExpired(clientId: number, ctx: ApplyContext): readonly Wake[] {
    return this.#hook(SESSION_EXPIRED_HOOK, clientId, ctx);
  }

  #hook(name: string, argument: unknown, ctx: ApplyContext): readonly Wake[] {
    const call: CallContext = { clientId: 0, seq: 0, timeoutMs: undefined, wakes: [] };
    this.#withCall(call, ctx, () => {
      for (const hosted of this.#hosted.values()) {
        const hook = (hosted.instance as Record<string, unknown>)[name];
        if (typeof hook !== "function") continue;
        // A failing hook must not stop the replica; every replica fails the same way and moves on.
        try {
          hook.call(hosted.instance, argument);
        } catch {
          // The object's own problem: its state is whatever the hook left, identically everywhere.
        }
      }
    });
    return encodeWakes(call);
  }

  #withCall<T>(call: CallContext, ctx: ApplyContext, body: () => T): T {
    const global = globalThis as Record<symbol, unknown>;
    assert(global[CALL_CONTEXT_KEY] === undefined, "calls do not nest");
    global[CALL_CONTEXT_KEY] = call;
    try {
      return withAgreedEnvironment(ctx, body);
    } finally {
      global[CALL_CONTEXT_KEY] = undefined;
    }
  }

  /** Runs a read-only method; any other method is refused with `NotReadOnly`. */
  query(query: Uint8Array): Uint8Array {
    return this.#run(query, false);
  }

  snapshot(): Uint8Array {
    const entries = [...this.#hosted.values()].map(({ name, loaded, instance }) => {
      try {
        return { name, codeHash: loaded.codeHash, state: captureState(instance, loaded.className) };
      } catch (error) {
        const reason =
          error instanceof NotEncodableError
            ? `${error.message}; keep only plain data in its fields or define __concoordsnapshot__ and __concoordrestore__`
            : `${describeThrown(error).name}: ${describeThrown(error).message}`;
        throw new ObjectSnapshotError(`cannot snapshot object "${name}" (${loaded.className}): ${reason}`);
      }
    });
    return encodeSnapshot(entries);
  }

  /** Replaces every object by the snapshot's, all or nothing: a failure leaves the live objects as they were. */
  restore(bytes: Uint8Array): void {
    const entries = decodeSnapshot(bytes);
    const names = entries.map((entry) => entry.name);
    const hostedNames = [...this.#hosted.keys()];
    if (names.length !== hostedNames.length || names.some((name, i) => name !== hostedNames[i]))
      throw new ObjectSnapshotError(
        `the snapshot holds objects [${names.join(", ")}] but this node hosts [${hostedNames.join(", ")}]`,
      );
    const instances = entries.map(({ name, codeHash, state }) => {
      const hosted = this.#hosted.get(name);
      assert(hosted !== undefined, "the snapshot's names were checked against the hosted ones");
      const { loaded } = hosted;
      if (codeHash !== loaded.codeHash)
        throw new ObjectSnapshotError(
          `the snapshot of "${name}" was taken by other code (code hash differs)`,
        );
      const fresh = loaded.instantiate();
      restoreState(fresh, state, loaded.className);
      return fresh;
    });
    // Only now, with every object rebuilt, does the machine change: a restore is all or nothing.
    assert(instances.length === entries.length, "one instance per snapshot entry");
    entries.forEach(({ name }, i) => {
      this.#hosted.get(name)!.instance = instances[i]!;
    });
  }

  /** What clients need to know about each hosted object, sorted by name. */
  info(): ObjectInfo[] {
    return [...this.#hosted.values()].map(({ name, loaded }) => ({
      name,
      methods: loaded.methods,
      readOnlyMethods: loaded.readOnlyMethods,
    }));
  }

  /** Runs a call: a command (`parkable`: it may park its caller) or a read-only query. */
  #run(bytes: Uint8Array, parkable: boolean): Uint8Array {
    let call: ReturnType<typeof decodeCall>;
    try {
      call = decodeCall(bytes);
    } catch (error) {
      const message = error instanceof ObjectCallError ? error.message : describeThrown(error).message;
      return encodeResultShared(errorResult("BadCall", message));
    }
    const hosted = this.#hosted.get(call.object);
    if (hosted === undefined)
      return encodeResultShared(
        errorResult(
          "ObjectNotFound",
          `no object named "${call.object}" (hosted: ${[...this.#hosted.keys()].join(", ")})`,
        ),
      );
    const className = hosted.loaded.className;
    if (!hosted.methods.has(call.method))
      return encodeResultShared(errorResult("MethodNotFound", `${className} has no method "${call.method}"`));
    if (!parkable && !hosted.readOnly.has(call.method))
      return encodeResultShared(
        errorResult(
          "NotReadOnly",
          `${className}.${call.method} is not read-only, so it must go through the log as a command` +
            ` (read-only methods: ${[...hosted.readOnly].join(", ") || "none"})`,
        ),
      );
    const result = call.method === INIT_METHOD ? reinitialize(hosted, call.args) : invoke(hosted, call);
    if (result.ok && isParked(result.value)) {
      if (!parkable) {
        return encodeResultShared(
          errorResult("NotReadOnly", `${className}.${call.method} parked its caller in a read-only call`),
        );
      }
      this.#parked = true;
      this.#parkTimeoutMs = result.value.timeoutMs;
      return EMPTY_OP;
    }
    return encodeOrExplain(result, `${className}.${call.method}`);
  }
}

/** `__concoordinit__(...args)`: the object becomes `new Class(...args)`; if that throws, it stays as it was. */
function reinitialize(hosted: Hosted, args: readonly unknown[]): CallResult {
  try {
    hosted.instance = hosted.loaded.instantiate(...args);
    return { ok: true, value: undefined };
  } catch (error) {
    const { name, message } = describeThrown(error);
    return errorResult(name, message);
  }
}

function invoke(
  hosted: Hosted,
  call: { readonly method: string; readonly args: readonly unknown[] },
): CallResult {
  const className = hosted.loaded.className;
  const method = resolveMethod(hosted, call.method);
  // The method list was taken from the class; only a LoadedClass whose instances differ from it gets here.
  if (method === undefined)
    return errorResult("MethodNotFound", `${className} has no method "${call.method}"`);
  let value: unknown;
  try {
    value = Reflect.apply(method, hosted.instance, call.args);
  } catch (error) {
    const { name, message } = describeThrown(error);
    return errorResult(name, message);
  }
  if (isThenable(value)) {
    // Nobody awaits it: without a handler a rejection would be unhandled and crash the process.
    Promise.resolve(value).catch(() => undefined);
    return errorResult(
      "AsyncMethod",
      `${className}.${call.method} returned a Promise; methods must be synchronous, because every replica ` +
        "must finish a call before it applies the next",
    );
  }
  return { ok: true, value };
}

/** The function `name` runs on the hosted instance, resolved once per prototype (see `Hosted.resolved`). */
function resolveMethod(hosted: Hosted, name: string): MethodFunction | undefined {
  const prototype: object | null = Object.getPrototypeOf(hosted.instance);
  if (prototype !== hosted.methodsOf) {
    hosted.resolved.clear();
    hosted.methodsOf = prototype;
  }
  if (hosted.resolved.has(name)) return hosted.resolved.get(name);
  // Only names in the class's method list get here, so the map stays as small as that list.
  const method = findMethod(hosted.instance, name);
  hosted.resolved.set(name, method);
  return method;
}

/** No bytes: a parked call's placeholder result, and `apply`'s op between calls. */
const EMPTY_OP = new Uint8Array(0);

/**
 * The largest encoded result a call may return (1 MiB, as ZooKeeper's default `jute.maxbuffer`). Every
 * result travels in one reply frame and is kept in its session until acknowledged; past this a reply
 * could not be framed (16 MiB) and a session's cache would hold gigabytes.
 */
export const RESULT_BYTES_MAX = 1024 * 1024;

/**
 * Encodes `result`, or an error result: `ResultNotEncodable` when its value is not plain data,
 * `ResultTooLarge` past {@link RESULT_BYTES_MAX}.
 */
function encodeOrExplain(result: CallResult, label: string): Uint8Array {
  try {
    const bytes = encodeResultShared(result);
    if (bytes.byteLength <= RESULT_BYTES_MAX) return bytes;
    return encodeResultShared(
      errorResult(
        "ResultTooLarge",
        `the result of ${label} is ${bytes.byteLength} bytes encoded, over the ${RESULT_BYTES_MAX} a call may ` +
          "return (the call's changes to the object stand)",
      ),
    );
  } catch (error) {
    const message =
      error instanceof NotEncodableError
        ? `${error.type} at ${error.path} in the result of ${label} (results must be plain data; ` +
          "the call's changes to the object stand)"
        : `the result of ${label} cannot be encoded: ${describeThrown(error).message}`;
    return encodeResultShared(errorResult("ResultNotEncodable", message));
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === "function";
  } catch {
    return false;
  }
}

/** The wakes a call asked for, with their values encoded as call results. */
function encodeWakes(call: CallContext): Wake[] {
  return call.wakes.map(({ waiter, ok, value }) => ({
    clientId: waiter.clientId,
    seq: waiter.seq,
    result: ok
      ? encodeOrExplain({ ok: true, value }, "a wake")
      : encodeResultShared(
          errorResult((value as { name: string }).name, (value as { message: string }).message),
        ),
  }));
}
