/**
 * The one quantile every bench uses, so two benches' p99s mean the same thing: linear
 * interpolation between the closest ranks (numpy's default, "type 7"). Benches used to carry
 * three interpolating copies and a nearest-rank one, which disagree on small samples.
 */

/** The `q` quantile (0..1) of an ascending-sorted sample; NaN for an empty one. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** An ascending copy (the input is left alone). */
export function sortedCopy(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** The `q` quantile of an unsorted sample. */
export function quantileOf(xs: readonly number[], q: number): number {
  return quantile(sortedCopy(xs), q);
}

/** The median of an unsorted sample (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  return quantile(sortedCopy(xs), 0.5);
}
