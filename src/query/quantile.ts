/**
 * Quantiles from histogram buckets, with Prometheus's `histogram_quantile` interpolation: find the
 * bucket holding the rank q·count, then interpolate linearly inside it (the first bucket starts at
 * 0 when its upper bound is positive; a rank in the +Inf bucket answers the highest finite bound).
 */

/** `bounds` are the explicit (finite, ascending) upper bounds; `counts` has bounds.length + 1 entries (per bucket, not cumulative). */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  if (counts.length !== bounds.length + 1 || bounds.length === 0) return null;
  const cumulative: number[] = [];
  let total = 0;
  for (const c of counts) {
    // Counts are increases computed from cumulative points: clamp rounding noise, never go backwards.
    total += Math.max(0, c);
    cumulative.push(total);
  }
  if (total === 0) return null;
  let rank = q * total;
  let b = 0;
  while (b < bounds.length && cumulative[b] < rank) b++;
  if (b === bounds.length) return bounds[bounds.length - 1];
  if (b === 0 && bounds[0] <= 0) return bounds[0];
  let start = 0;
  let count = cumulative[b];
  if (b > 0) {
    start = bounds[b - 1];
    count -= cumulative[b - 1];
    rank -= cumulative[b - 1];
  }
  if (count === 0) return start;
  return start + (bounds[b] - start) * (rank / count);
}

/**
 * Exponential histogram buckets as explicit ones: at scale s, bucket i covers (base^i, base^(i+1)]
 * with base = 2^(2^-s); negative buckets mirror it; the zero bucket is [-threshold, threshold].
 * Returned as ascending upper bounds and per-bucket counts in the layout histogramQuantile takes.
 */
export function expToExplicit(scale: number, zeroCount: number, zeroThreshold: number, pos: Map<number, number>, neg: Map<number, number>): { bounds: number[]; counts: number[] } {
  const base = Math.pow(2, Math.pow(2, -scale));
  const bounds: number[] = [];
  const counts: number[] = [];
  const negIdx = [...neg.keys()].sort((a, b) => b - a);
  // Negative bucket i covers [-base^(i+1), -base^i): its upper bound is -base^i.
  for (const i of negIdx) {
    if (bounds.length === 0) {
      bounds.push(-Math.pow(base, i + 1));
      counts.push(0);
    }
    bounds.push(-Math.pow(base, i));
    counts.push(neg.get(i)!);
  }
  const posIdx = [...pos.keys()].sort((a, b) => a - b);
  const zeroUpper = zeroThreshold > 0 ? zeroThreshold : 0;
  if (bounds.length === 0) {
    // The zero bucket starts at -threshold (or 0): say so with an empty bucket below it.
    bounds.push(-zeroUpper);
    counts.push(0);
  }
  bounds.push(zeroUpper);
  counts.push(zeroCount);
  let last = zeroUpper;
  for (const i of posIdx) {
    const lower = Math.pow(base, i);
    if (lower > last) {
      bounds.push(lower);
      counts.push(0);
    }
    last = Math.pow(base, i + 1);
    bounds.push(last);
    counts.push(pos.get(i)!);
  }
  counts.push(0); // +Inf
  return { bounds, counts };
}
