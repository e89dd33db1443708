import type { ApplyContext, ApplyOutcome, StateMachine, Wake } from "../core/state-machine.ts";

/** Operations of the simulated workload: counters and registers with compare-and-set. */
export type KvOp =
  | { t: "inc"; k: string }
  | { t: "write"; k: string; v: number }
  | { t: "cas"; k: string; e: number | null; v: number }
  | { t: "put"; k: string; v: number }
  | { t: "take"; k: string };

/** Read-only queries. */
export type KvQuery = { t: "get"; k: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a workload value as bytes, as a real client would before sending it. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decodes bytes produced by {@link encodeJson}. */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

/**
 * The state machine the simulator replicates: named counters (`inc` returns the new value), registers
 * (`write`, `cas`) and FIFO queues whose `take` parks its caller until a `put` wakes it — so the
 * simulation covers parked calls, wakes, timeouts and session expiry through the log.
 *
 * @example
 * ```ts
 * const m = new KvMachine();
 * m.apply(encodeJson({ t: "inc", k: "c0" }), ctx); // bytes of 1
 * ```
 */
export class KvMachine implements StateMachine {
  #values = new Map<string, number>();
  #queues = new Map<string, number[]>();
  #takers = new Map<string, { clientId: number; seq: number }[]>();

  apply(op: Uint8Array, ctx: ApplyContext): Uint8Array | ApplyOutcome {
    const o = decodeJson<KvOp>(op);
    switch (o.t) {
      case "put": {
        const taker = this.#takers.get(o.k)?.shift();
        if (taker) return { result: encodeJson(true), wakes: [{ ...taker, result: encodeJson(o.v) }] };
        this.#queues.set(o.k, [...(this.#queues.get(o.k) ?? []), o.v]);
        return encodeJson(true);
      }
      case "take": {
        const items = this.#queues.get(o.k) ?? [];
        const head = items.shift();
        if (head !== undefined) return encodeJson(head);
        this.#takers.set(o.k, [...(this.#takers.get(o.k) ?? []), { clientId: ctx.clientId, seq: ctx.seq }]);
        return { result: null, ...(ctx.timeoutMs === undefined ? {} : { parkTimeoutMs: ctx.timeoutMs }) };
      }
      case "inc": {
        const v = (this.#values.get(o.k) ?? 0) + 1;
        this.#values.set(o.k, v);
        return encodeJson(v);
      }
      case "write":
        this.#values.set(o.k, o.v);
        return encodeJson(true);
      case "cas": {
        const current = this.#values.get(o.k) ?? null;
        if (current !== o.e) return encodeJson(false);
        this.#values.set(o.k, o.v);
        return encodeJson(true);
      }
    }
  }

  expireParked(waiter: { clientId: number; seq: number }): readonly Wake[] {
    for (const [k, list] of this.#takers) {
      this.#takers.set(
        k,
        list.filter((t) => t.clientId !== waiter.clientId || t.seq !== waiter.seq),
      );
    }
    return [];
  }

  sessionExpired(clientId: number): readonly Wake[] {
    for (const [k, list] of this.#takers)
      this.#takers.set(
        k,
        list.filter((t) => t.clientId !== clientId),
      );
    return [];
  }

  query(query: Uint8Array): Uint8Array {
    const q = decodeJson<KvQuery>(query);
    return encodeJson(this.#values.get(q.k) ?? null);
  }

  snapshot(): Uint8Array {
    const sorted = <V>(m: Map<string, V>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return encodeJson([sorted(this.#values), sorted(this.#queues), sorted(this.#takers)]);
  }

  restore(bytes: Uint8Array): void {
    const [values, queues, takers] =
      decodeJson<[[string, number][], [string, number[]][], [string, { clientId: number; seq: number }[]][]]>(
        bytes,
      );
    this.#values = new Map(values);
    this.#queues = new Map(queues);
    this.#takers = new Map(takers);
  }
}
