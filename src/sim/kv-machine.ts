import type { ApplyContext, StateMachine } from "../core/state-machine.ts";

/** Operations of the simulated workload: counters and registers with compare-and-set. */
export type KvOp =
  | { t: "inc"; k: string }
  | { t: "write"; k: string; v: number }
  | { t: "cas"; k: string; e: number | null; v: number };

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
 * The state machine the simulator replicates: named counters (`inc` returns the new value) and
 * registers (`write`, `cas`), all starting empty.
 *
 * @example
 * ```ts
 * const m = new KvMachine();
 * m.apply(encodeJson({ t: "inc", k: "c0" }), ctx); // bytes of 1
 * ```
 */
export class KvMachine implements StateMachine {
  #values = new Map<string, number>();

  apply(op: Uint8Array, _ctx: ApplyContext): Uint8Array {
    const o = decodeJson<KvOp>(op);
    switch (o.t) {
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

  query(query: Uint8Array): Uint8Array {
    const q = decodeJson<KvQuery>(query);
    return encodeJson(this.#values.get(q.k) ?? null);
  }

  snapshot(): Uint8Array {
    return encodeJson([...this.#values.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }

  restore(bytes: Uint8Array): void {
    this.#values = new Map(decodeJson<[string, number][]>(bytes));
  }
}
