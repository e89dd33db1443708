import fc from "fast-check";

/** One change to some bytes: one set, dropped or added, or everything from there on cut off. */
export interface Mutation {
  readonly at: number;
  readonly kind: "set" | "drop" | "insert" | "cut";
  readonly byte: number;
}

/** A few changes: what a buggy or hostile peer might send instead of the bytes it meant. */
export const mutationArb: fc.Arbitrary<readonly Mutation[]> = fc.array(
  fc.record({
    at: fc.nat(),
    kind: fc.constantFrom("set" as const, "drop" as const, "insert" as const, "cut" as const),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  { minLength: 1, maxLength: 3 },
);

/**
 * A damaged copy of `bytes`; the bytes before `from` are left as they are (so that a reader that looks at
 * the first byte to decide still takes the damaged value).
 */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[], from = 0): Uint8Array {
  const out = [...bytes];
  for (const m of mutations) {
    const span = out.length - from;
    const at = span <= 0 ? out.length : from + (m.at % span);
    if (m.kind === "set") {
      if (at < out.length) out[at] = m.byte;
    } else if (m.kind === "drop") out.splice(at, 1);
    else if (m.kind === "insert") out.splice(at, 0, m.byte);
    else out.length = at;
  }
  return new Uint8Array(out);
}
