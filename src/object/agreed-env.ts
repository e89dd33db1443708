import type { ApplyContext } from "../core/state-machine.ts";

const RealDate = Date;

/**
 * Runs `body` with the clock and randomness every replica agrees on for this command: `Date.now()` and
 * `new Date()` give the leader's time for the slot, `Math.random()` and `crypto.randomUUID()` draw from
 * a generator seeded by the leader's seed for the command. `Date` and `Math.random` are put back
 * afterwards, even when `body` throws; `crypto.randomUUID` stays a function that behaves as the original
 * outside a call.
 *
 * @example
 * ```ts
 * const value = withAgreedEnvironment(ctx, () => instance.method());
 * ```
 */
export function withAgreedEnvironment<T>(ctx: Pick<ApplyContext, "timeMs" | "randomSeed">, body: () => T): T {
  // One Date class and one generator serve every call (only their state changes): making a class per
  // call cost more than most methods do.
  const outerTimeMs = agreedTimeMs;
  const outerRandomState = randomState;
  const outerActive = agreedActive;
  const outerDate = globalThis.Date;
  const outerRandom = Math.random;
  agreedTimeMs = ctx.timeMs;
  randomState = ctx.randomSeed >>> 0;
  agreedActive = true;
  installAgreedUuid();
  globalThis.Date = AgreedDate as unknown as DateConstructor;
  Math.random = agreedRandom;
  try {
    return body();
  } finally {
    agreedTimeMs = outerTimeMs;
    randomState = outerRandomState;
    agreedActive = outerActive;
    globalThis.Date = outerDate;
    Math.random = outerRandom;
  }
}

/** True while a call runs in the agreed environment: `crypto.randomUUID` then draws agreed UUIDs. */
let agreedActive = false;

/**
 * `crypto.randomUUID` is replaced once by a function that draws agreed UUIDs inside a call and defers to
 * the function it replaced outside one. Redefining the property around every call (and deleting it after)
 * cost a tenth of a typical call; a program that puts its own function there later gets wrapped again.
 */
let agreedUuidFunction: (() => string) | null = null;

function installAgreedUuid(): void {
  const cryptoObject = globalCrypto();
  if (cryptoObject.randomUUID === agreedUuidFunction && agreedUuidFunction !== null) return;
  const outside = cryptoObject.randomUUID;
  const dispatch = function randomUUID(this: unknown): string {
    if (agreedActive) return agreedUuid();
    if (typeof outside !== "function") throw new TypeError("crypto.randomUUID is not a function");
    return outside.call(this);
  };
  Object.defineProperty(cryptoObject, "randomUUID", { value: dispatch, configurable: true, writable: true });
  agreedUuidFunction = dispatch;
}

/** Node defines `globalThis.crypto` with a lazy getter: read it once, not on every call. */
let cryptoCache: { randomUUID?: () => string } | null = null;

function globalCrypto(): { randomUUID?: () => string } {
  cryptoCache ??= (globalThis as unknown as { crypto: { randomUUID?: () => string } }).crypto;
  return cryptoCache;
}

/** The agreed time of the call running now. */
let agreedTimeMs = 0;
/** The state of the agreed generator (mulberry32) of the call running now. */
let randomState = 0;

/** `new Date()` and `Date.now()` read the agreed time; `new Date(x)` is pure and left as it is. */
class AgreedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(agreedTimeMs);
    else super(...(args as [string]));
  }
  static override now(): number {
    return agreedTimeMs;
  }
}
// Named Date, so that errors and `constructor.name` read as they would without the agreed clock.
Object.defineProperty(AgreedDate, "name", { value: "Date" });

/** A small, fast generator (mulberry32): the same seed gives the same numbers on every replica. */
function agreedRandom(): number {
  randomState = (randomState + 0x6d2b79f5) >>> 0;
  let t = randomState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function agreedUuid(): string {
  return uuidFrom(agreedRandom);
}

/** A version 4 UUID drawn from `random`. */
function uuidFrom(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
