import type { ApplyContext } from "../core/state-machine.ts";

const RealDate = Date;
const realMathRandom = Math.random;

/**
 * Runs `body` with the clock and randomness every replica agrees on for this command: `Date.now()` and
 * `new Date()` give the leader's time for the slot, `Math.random()` and `crypto.randomUUID()` draw from
 * a generator seeded by the leader's seed for the command. Everything is put back afterwards, even when
 * `body` throws.
 *
 * @example
 * ```ts
 * const value = withAgreedEnvironment(ctx, () => instance.method());
 * ```
 */
export function withAgreedEnvironment<T>(ctx: Pick<ApplyContext, "timeMs" | "randomSeed">, body: () => T): T {
  const timeMs = ctx.timeMs;
  const random = seededRandom(ctx.randomSeed);
  const AgreedDate = makeAgreedDate(timeMs);
  const cryptoObject = (globalThis as unknown as { crypto: { randomUUID?: () => string } }).crypto;
  const hadOwnUuid = Object.hasOwn(cryptoObject, "randomUUID");
  const previousUuid = cryptoObject.randomUUID;
  globalThis.Date = AgreedDate;
  Math.random = random;
  Object.defineProperty(cryptoObject, "randomUUID", {
    value: () => uuidFrom(random),
    configurable: true,
    writable: true,
  });
  try {
    return body();
  } finally {
    globalThis.Date = RealDate;
    Math.random = realMathRandom;
    if (hadOwnUuid)
      Object.defineProperty(cryptoObject, "randomUUID", {
        value: previousUuid,
        configurable: true,
        writable: true,
      });
    else delete (cryptoObject as { randomUUID?: unknown }).randomUUID;
  }
}

function makeAgreedDate(timeMs: number): DateConstructor {
  // `new Date()` and `Date()` without arguments read the agreed time; with arguments they are pure.
  class AgreedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(timeMs);
      else super(...(args as [string]));
    }
    static override now(): number {
      return timeMs;
    }
  }
  // Named Date, so that errors and `constructor.name` read as they would without the agreed clock.
  Object.defineProperty(AgreedDate, "name", { value: "Date" });
  return AgreedDate as unknown as DateConstructor;
}

/** A small, fast generator (mulberry32): the same seed gives the same numbers on every replica. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version 4 UUID drawn from `random`. */
function uuidFrom(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
