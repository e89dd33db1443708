/**
 * The median of `xs` (the lower middle value of an even count), or NaN for none: the one summary the
 * benchmark takes of repeated runs and of probe samples.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * median([4, 1, 3, 2]); // 2
 * ```
 */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/**
 * The median of the ratios `ours[i] / theirs[i]`, run by run: the issue's "ratio computed pair by pair
 * within the run". It differs from the ratio of the medians when the machine drifts between runs (a run
 * where the host was busy is slow for both systems), which it cancels. NaN when there is no pair.
 *
 * @example
 * ```ts
 * pairedRatio([10, 20, 30], [1, 40, 20]); // 1.5 (ratios 10, 0.5, 1.5); the medians' ratio would be 1
 * ```
 */
export function pairedRatio(ours: readonly number[], theirs: readonly number[]): number {
  const pairs = Math.min(ours.length, theirs.length);
  return median(Array.from({ length: pairs }, (_, i) => ours[i]! / theirs[i]!));
}
