/**
 * The default seed set: what `npm test` simulates, and what every planted bug must be caught within.
 *
 * @example
 * ```ts
 * await runSeeds({ seeds: DEFAULT_SEEDS, ops: DEFAULT_OPS, bugs: [] });
 * ```
 */
export const DEFAULT_SEEDS: readonly number[] = Array.from({ length: 300 }, (_, i) => i + 1);

/** Client operations per seed. */
export const DEFAULT_OPS = 500;
