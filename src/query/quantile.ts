/**
 * Quantiles from histogram buckets, with Prometheus's `histogram_quantile` interpolation: find the
 * bucket holding the rank q·count, then interpolate linearly inside it (the first bucket starts at
 * 0 when its upper bound is positive; a rank in the +Inf bucket answers the highest finite bound).
 */

/** The smallest and largest observation, when the points recorded them (OTLP's optional min/max). */
export interface Recorded { min?: number; max?: number }

/**
 * `bounds` are the explicit (finite, ascending) upper bounds; `counts` has bounds.length + 1 entries
 * (per bucket, not cumulative). With the recorded min and max, the bucket holding the rank is first
 * narrowed to them (as Prometheus does for native histograms), so the answer never lies outside the
 * observed data; a rank in the +Inf bucket then interpolates up to the max.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[], recorded: Recorded = {}): number | null {
  if (counts.length !== bounds.length + 1 || bounds.length === 0) return null;
  const cumulative: number[] = [];
  let total = 0;
  for (const c of counts) {
    // Counts are increases computed from cumulative points: clamp rounding noise, never go backwards.
    total += Math.max(0, c);
    cumulative.push(total);
  }
  if (total === 0) return null;
  const { min, max } = recorded;
  const known = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
  const clamp = (v: number) => Math.min(known(max) ? max : v, Math.max(known(min) ? min : v, v));
  let rank = q * total;
  let b = 0;
  while (b < bounds.length && cumulative[b] < rank) b++;
  if (b === bounds.length && !known(max)) return clamp(bounds[bounds.length - 1]);
  if (b === 0 && bounds[0] <= 0 && !known(min)) return clamp(bounds[0]);
  let start = b === 0 ? (bounds[0] > 0 ? 0 : -Infinity) : bounds[b - 1];
  let end = b === bounds.length ? Infinity : bounds[b];
  let count = cumulative[b];
  if (b > 0) {
    count -= cumulative[b - 1];
    rank -= cumulative[b - 1];
  }
  if (known(min) && min > start) start = Math.min(min, end);
  if (known(max) && max < end) end = Math.max(max, start);
  if (!Number.isFinite(start)) return clamp(end);
  if (count === 0 || !Number.isFinite(end)) return clamp(start);
  return clamp(start + (end - start) * (rank / count));
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
