/**
 * Streaming anomaly scoring of one numeric series. Pure: no I/O, no clock; constant work and a
 * fixed amount of memory per point (about 1.2 KB of state per series, whatever its length).
 *
 * Two detectors look at every point; the score is the larger of the two:
 *
 * 1. Statistical surprise. A robust level model (exponentially weighted mean and mean absolute
 *    deviation, with outliers clipped before they are learnt) and a step model (weighted mean absolute
 *    difference between successive points) give two "sigma" distances. The larger, on a log scale,
 *    is compared with the series' own history of such surprises (weighted mean and variance), and
 *    the Gaussian tail probability p of the current surprise becomes −log10(p)/scoreDecades, capped at
 *    1. This is Numenta's "anomaly likelihood" idea applied to cheap residuals: it makes a score of
 *    0.8 mean "a 1-in-10^4 surprise for this series", comparable between a noisy and a quiet series.
 * 2. Context novelty, after the Contextual Anomaly Detector (CAD OSE): the value is quantised into
 *    `levels` bands of the range seen so far, and the contexts formed by the last 1..`order` bands
 *    are looked up in a fixed-size bitset of contexts already seen. The score is the fraction of them
 *    never seen before. This catches shape changes that stay within the usual range (a missing daily
 *    peak, a new oscillation), which residual statistics miss.
 *
 * Novelty alone fires on every new extreme of plain noise, so it only counts when the statistical
 * score corroborates it (≥ noveltyGate).
 *
 * After a score ≥ alarmLevel, the following `refractory` points score 0: one episode, one alarm (as
 * CAD's rest period), so that an incident is reported when it starts rather than on every point.
 */

export interface AnomalyParams {
  /** Points a series must have seen before it may score above 0. */
  warmup: number;
  /** Memory (points) of the level model. */
  levelMemory: number;
  /** Memory (points) of the step-size model. */
  stepMemory: number;
  /** Memory (points) of the distribution of surprises. */
  surpriseMemory: number;
  /** −log10 of the tail probability that maps to score 1. */
  scoreDecades: number;
  /** Quantisation bands of the context model (0 disables it). */
  levels: number;
  /** Longest context, in points, of the context model. */
  order: number;
  /** Context novelty counts only when the statistical score is at least this (corroboration). */
  noveltyGate: number;
  /** A score from which the next `refractory` points are masked. */
  alarmLevel: number;
  /** Points masked after an alarm (0 disables masking). */
  refractory: number;
}

export const DEFAULT_PARAMS: Readonly<AnomalyParams> = Object.freeze({
  warmup: 100,
  levelMemory: 2000,
  stepMemory: 1000,
  surpriseMemory: 2000,
  scoreDecades: 5,
  levels: 24,
  order: 3,
  noveltyGate: 0.4,
  alarmLevel: 0.75,
  refractory: 150,
});

/** Bits of the seen-context set: fixed, so memory per series is bounded. */
const SEEN_BITS = 8192;
const SEEN_WORDS = SEEN_BITS / 32;
/** Outliers are clipped to this many deviations before the models learn from them. */
const CLIP = 6;

export interface SeriesState {
  /** Points seen. */
  n: number;
  prev: number;
  mean: number;
  dev: number;
  stepDev: number;
  /** Weighted mean and variance of log(1 + surprise). */
  sMean: number;
  sVar: number;
  lo: number;
  hi: number;
  /** Last `order` bands, most recent first (−1 = none yet). */
  bands: number[];
  seen: Uint32Array;
  /** Points since the last alarm. */
  sinceAlarm: number;
  /** The last score and surprise, for events. */
  lastScore: number;
}

export function newSeries(p: AnomalyParams): SeriesState {
  return {
    n: 0, prev: 0, mean: 0, dev: 0, stepDev: 0, sMean: 0, sVar: 1,
    lo: Infinity, hi: -Infinity, bands: new Array(Math.max(1, p.order)).fill(-1), seen: new Uint32Array(SEEN_WORDS),
    sinceAlarm: Number.MAX_SAFE_INTEGER, lastScore: 0,
  };
}

/** Upper tail of the standard normal via erfc (Numerical Recipes' Chebyshev fit, error < 1.2e-7). */
export function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const r = t * Math.exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return 0.5 * (x >= 0 ? r : 2 - r);
}

/** Fraction of the contexts ending at this point that were never seen before; learns them. */
function contextNovelty(s: SeriesState, x: number, p: AnomalyParams): number {
  if (x < s.lo) s.lo = x;
  if (x > s.hi) s.hi = x;
  const range = s.hi - s.lo;
  const band = range > 0 ? Math.min(p.levels - 1, Math.floor(((x - s.lo) / range) * p.levels)) : 0;
  const b = s.bands;
  for (let i = b.length - 1; i > 0; i--) b[i] = b[i - 1];
  b[0] = band;
  let hash = 0x811c9dc5;
  let novel = 0;
  let contexts = 0;
  for (let k = 0; k < b.length && b[k] >= 0; k++) {
    hash = Math.imul(hash ^ (b[k] + 1 + k * 64), 0x01000193) >>> 0;
    const bit = (hash ^ (hash >>> 15)) % SEEN_BITS;
    const mask = 1 << (bit & 31);
    contexts++;
    if ((s.seen[bit >>> 5] & mask) === 0) {
      novel++;
      s.seen[bit >>> 5] |= mask;
    }
  }
  return contexts > 0 ? novel / contexts : 0;
}

/** Scores one point (0 = usual, 1 = as unusual as it gets) and learns from it. */
export function scorePoint(s: SeriesState, x: number, p: AnomalyParams): number {
  if (!Number.isFinite(x)) return 0;
  s.n++;
  const novelty = p.levels > 0 ? contextNovelty(s, x, p) : 0;
  if (s.n === 1) {
    s.prev = x;
    s.mean = x;
    s.lastScore = 0;
    return 0;
  }
  // A floor on the scales so a perfectly flat series does not divide by zero; any change from
  // flat then scores as a large surprise, which it is.
  const floor = 1e-9 + 1e-6 * Math.abs(s.mean);
  const step = Math.abs(x - s.prev);
  const surprise = Math.log1p(Math.max(step / (s.stepDev + floor), Math.abs(x - s.mean) / (s.dev + floor)));

  let stat = 0;
  if (s.n > p.warmup) {
    const tail = normalTail((surprise - s.sMean) / Math.sqrt(s.sVar + 1e-12));
    stat = Math.min(1, -Math.log10(Math.max(tail, 1e-300)) / p.scoreDecades);
  }

  // Learn after scoring, so that a point never explains itself away.
  const as = 1 / Math.min(s.n, p.surpriseMemory);
  const d = surprise - s.sMean;
  s.sMean += as * d;
  s.sVar = (1 - as) * (s.sVar + as * d * d);
  const al = 1 / Math.min(s.n, p.levelMemory);
  const lim = CLIP * (s.dev + floor);
  const xc = s.n > p.warmup ? Math.min(s.mean + lim, Math.max(s.mean - lim, x)) : x;
  s.dev += al * (Math.abs(xc - s.mean) - s.dev);
  s.mean += al * (xc - s.mean);
  const ad = 1 / Math.min(s.n, p.stepMemory);
  const stepc = s.n > p.warmup ? Math.min(step, CLIP * (s.stepDev + floor)) : step;
  s.stepDev += ad * (stepc - s.stepDev);
  s.prev = x;

  let score = s.n > p.warmup ? Math.max(stat, stat >= p.noveltyGate ? novelty : 0) : 0;
  if (p.refractory > 0) {
    const masked = s.sinceAlarm < p.refractory;
    if (s.sinceAlarm < Number.MAX_SAFE_INTEGER) s.sinceAlarm++;
    if (score >= p.alarmLevel) s.sinceAlarm = 0;
    if (masked) score = 0;
  }
  s.lastScore = score;
  return score;
}

/** The band the level model expects values in (mean ± `width` robust deviations). */
export function expectedRange(s: SeriesState, width = 3): [number, number] {
  // 1.2533 turns a mean absolute deviation into a standard deviation under normality.
  const half = width * 1.2533 * s.dev;
  return [s.mean - half, s.mean + half];
}

/** JSON-safe copy of a series state, for persistence. */
export function serializeSeries(s: SeriesState): Record<string, unknown> {
  return { ...s, lo: Number.isFinite(s.lo) ? s.lo : null, hi: Number.isFinite(s.hi) ? s.hi : null, seen: Buffer.from(s.seen.buffer, s.seen.byteOffset, s.seen.byteLength).toString('base64') };
}

/** Restores a state saved by serializeSeries; undefined when it does not fit these params. */
export function deserializeSeries(v: unknown, p: AnomalyParams): SeriesState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const s = newSeries(p);
  for (const k of ['n', 'prev', 'mean', 'dev', 'stepDev', 'sMean', 'sVar', 'sinceAlarm', 'lastScore'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return undefined;
    s[k] = o[k] as number;
  }
  s.lo = typeof o.lo === 'number' ? o.lo : Infinity;
  s.hi = typeof o.hi === 'number' ? o.hi : -Infinity;
  if (!Array.isArray(o.bands) || o.bands.length !== s.bands.length || !o.bands.every((x) => Number.isInteger(x))) return undefined;
  s.bands = (o.bands as number[]).slice();
  if (typeof o.seen !== 'string') return undefined;
  const buf = Buffer.from(o.seen, 'base64');
  if (buf.length !== SEEN_WORDS * 4) return undefined;
  s.seen = new Uint32Array(SEEN_WORDS);
  new Uint8Array(s.seen.buffer).set(buf);
  return s;
}

/** Approximate bytes held by one series state (for the README and capacity planning). */
export const SERIES_STATE_BYTES = SEEN_WORDS * 4 + 16 * 8 + 64;
