/**
 * Exponential histogram arithmetic: merging deltas (at the coarser of two scales) and turning the
 * native form into classic `le` buckets for formats without native histograms.
 */
import type { ExpBucketRun, ExpHistogramValue } from './series';

/** Bucket run re-indexed `by` scale steps coarser: every 2^by neighbouring buckets merge. */
export function downscaleRun(run: ExpBucketRun, by: number): ExpBucketRun {
  if (by <= 0 || run.counts.length === 0) return { offset: run.offset, counts: run.counts.slice() };
  const offset = run.offset >> by;
  const last = (run.offset + run.counts.length - 1) >> by;
  const counts = new Array<number>(last - offset + 1).fill(0);
  for (let i = 0; i < run.counts.length; i++) counts[((run.offset + i) >> by) - offset] += run.counts[i];
  return { offset, counts };
}

function addRuns(a: ExpBucketRun, b: ExpBucketRun): ExpBucketRun {
  if (a.counts.length === 0) return { offset: b.offset, counts: b.counts.slice() };
  if (b.counts.length === 0) return { offset: a.offset, counts: a.counts.slice() };
  const offset = Math.min(a.offset, b.offset);
  const end = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const counts = new Array<number>(end - offset).fill(0);
  for (let i = 0; i < a.counts.length; i++) counts[a.offset + i - offset] += a.counts[i];
  for (let i = 0; i < b.counts.length; i++) counts[b.offset + i - offset] += b.counts[i];
  return { offset, counts };
}

/** a + b, at the smaller of the two scales. */
export function mergeExp(a: ExpHistogramValue, b: ExpHistogramValue): ExpHistogramValue {
  const scale = Math.min(a.scale, b.scale);
  return {
    kind: 'exp',
    scale,
    zeroThreshold: Math.max(a.zeroThreshold, b.zeroThreshold),
    zeroCount: a.zeroCount + b.zeroCount,
    positive: addRuns(downscaleRun(a.positive, a.scale - scale), downscaleRun(b.positive, b.scale - scale)),
    negative: addRuns(downscaleRun(a.negative, a.scale - scale), downscaleRun(b.negative, b.scale - scale)),
    count: a.count + b.count,
    sum: a.sum !== undefined && b.sum !== undefined ? a.sum + b.sum : undefined,
    exemplars: [...a.exemplars, ...b.exemplars].slice(-8),
  };
}

/** Reduce the resolution until at most `maxBuckets` buckets remain (classic output stays readable). */
export function limitBuckets(h: ExpHistogramValue, maxBuckets: number): ExpHistogramValue {
  let by = 0;
  const width = (r: ExpBucketRun, s: number): number =>
    r.counts.length === 0 ? 0 : ((r.offset + r.counts.length - 1) >> s) - (r.offset >> s) + 1;
  while (width(h.positive, by) + width(h.negative, by) > maxBuckets && by < 62) by++;
  if (by === 0) return h;
  return { ...h, scale: h.scale - by, positive: downscaleRun(h.positive, by), negative: downscaleRun(h.negative, by) };
}

/** Upper bound of positive bucket `index` at `scale`: base^(index+1) with base = 2^(2^-scale). */
export function expUpperBound(index: number, scale: number): number {
  return Math.pow(2, (index + 1) * Math.pow(2, -scale));
}

/**
 * Cumulative classic buckets (ascending `le`, +Inf excluded) for an exponential histogram:
 * negative buckets from the most negative, the zero bucket (le = zero threshold), then positive.
 */
export function expToClassic(h: ExpHistogramValue, maxBuckets = 160): { bounds: number[]; cumulative: number[] } {
  const v = limitBuckets(h, maxBuckets);
  const bounds: number[] = [];
  const cumulative: number[] = [];
  let cum = 0;
  const push = (le: number, c: number): void => {
    cum += c;
    // Coinciding bounds (a zero threshold reaching the first bucket) would repeat an `le`.
    if (bounds.length && le <= bounds[bounds.length - 1]) {
      cumulative[cumulative.length - 1] = cum;
      return;
    }
    bounds.push(le);
    cumulative.push(cum);
  };
  const neg = v.negative;
  for (let i = neg.counts.length - 1; i >= 0; i--) {
    // Negative bucket `index` holds values in [-base^(index+1), -base^index): its upper edge is -base^index.
    push(-expUpperBound(neg.offset + i - 1, v.scale), neg.counts[i]);
  }
  push(v.zeroThreshold, v.zeroCount);
  const pos = v.positive;
  for (let i = 0; i < pos.counts.length; i++) push(expUpperBound(pos.offset + i, v.scale), pos.counts[i]);
  return { bounds, cumulative };
}
