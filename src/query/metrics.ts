/**
 * Metric queries: series selected by name and Prometheus-style label matchers, aggregated over
 * time windows of `step` (and optionally across series with `by`).
 *
 * Each output point [t, v] aggregates the window [t, t + step); windows are aligned to multiples of
 * step since the epoch, so a step of whole minutes reads the 1-minute rollup table instead of raw
 * points. Aggregations:
 * - avg, min, max, sum, count of the values in the window (gauges and sums);
 * - rate (per second) and increase of counters: consecutive differences, where a drop or a new start
 *   time is a reset (the new value is the increase), as Prometheus does without extrapolation.
 *   Delta sums simply add up. The point before a window counts when it is at most one step older;
 * - for histograms, the same differences per bucket, then quantile (histogram_quantile's
 *   interpolation), avg (Δsum/Δcount: the mean observation), sum, count, rate (observations/s);
 *   exponential histograms are merged at the coarsest scale present.
 */
import type Database from 'better-sqlite3';
import { parseMatchers, matchesAll, Matcher } from '../alerting/matchers';
import { badRequest, durationNanos, formatNanosDuration, numberParam, timeRange } from './params';
import { expToExplicit, histogramQuantile } from './quantile';

export const AGGS = ['avg', 'min', 'max', 'sum', 'count', 'rate', 'increase', 'quantile'] as const;
export type Agg = (typeof AGGS)[number];

/** Prometheus's limit on points per series of a range query. */
export const MAX_POINTS_PER_SERIES = 11_000;
export const MAX_SERIES = 5_000;
export const MAX_OUTPUT_POINTS = 500_000;
/** Series of one metric name looked at before matchers apply. */
export const MAX_SERIES_SCANNED = 200_000;
/** Histogram points decoded in JavaScript per query. */
export const MAX_HISTOGRAM_POINTS = 500_000;
const MINUTE = 60_000_000_000n;
const HOUR = 60n * MINUTE;
const MAX_RANGE = 31n * 24n * HOUR;
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => BigInt(s) * 1_000_000_000n);

interface Series {
  id: number;
  type: string;
  temporality: number;
  monotonic: boolean;
  labels: Record<string, string>;
  group: Group;
}

interface Acc {
  c: number;
  sm: number;
  mn: number;
  mx: number;
  inc: number;
  /** Explicit-bucket increases (histograms): bounds JSON → counts. */
  hist?: Map<string, number[]>;
  /** Exponential-bucket increases at `scale`. */
  exp?: ExpAcc;
}

interface ExpAcc {
  scale: number;
  zero: number;
  zeroThreshold: number;
  pos: Map<number, number>;
  neg: Map<number, number>;
}

interface Group {
  labels: Record<string, string>;
  windows: Map<number, Acc>;
}

export interface MetricQueryResult {
  name: string;
  agg: Agg;
  q?: number;
  step_seconds: number;
  start: number;
  end: number;
  source: 'raw' | 'rollup_1m';
  series: Array<{ labels: Record<string, string>; points: Array<[number, number | null]> }>;
  warnings?: string[];
}

function labelText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function defaultAgg(types: Set<string>, monotonic: boolean): Agg {
  if (types.has('histogram') || types.has('exponential_histogram')) return 'quantile';
  if (types.has('sum') && monotonic) return 'rate';
  return 'avg';
}

/** A step that keeps about 250 points on the range; whole minutes once it reaches one. */
function autoStep(range: bigint): bigint {
  const target = range / 250n;
  return NICE_STEPS.find((s) => s >= target) ?? NICE_STEPS[NICE_STEPS.length - 1];
}

export function queryMetrics(db: Database.Database, q: URLSearchParams, nowNs: bigint): MetricQueryResult {
  const name = q.get('name');
  if (!name) throw badRequest('name: which metric? (GET /api/metrics/names lists them)');
  let matchers: Matcher[];
  try {
    matchers = parseMatchers([...q.getAll('match[]'), ...q.getAll('match')]);
  } catch (e) {
    throw badRequest(`match[]: ${(e as Error).message}`);
  }
  const service = q.get('service');
  const range = timeRange(q, nowNs, HOUR, MAX_RANGE);
  const step = q.get('step') ? durationNanos(q.get('step')!, 'step') : autoStep(range.end - range.start);
  if (step < 1_000_000n) throw badRequest('step: must be at least 1ms');
  const origin = range.start - (range.start % step);
  const windows = Number((range.end - origin + step - 1n) / step);
  if (windows > MAX_POINTS_PER_SERIES) {
    throw badRequest(`step ${formatNanosDuration(step)} gives ${windows} points per series over ${formatNanosDuration(range.end - range.start)}, more than ${MAX_POINTS_PER_SERIES}: raise step or narrow start/end`);
  }
  const aggRaw = q.get('agg');
  if (aggRaw && !(AGGS as readonly string[]).includes(aggRaw)) throw badRequest(`agg: expected one of ${AGGS.join(', ')}, got ${JSON.stringify(aggRaw.slice(0, 32))}`);
  const quant = numberParam(q, 'q', 0.95, 0, 1);
  const byRaw = q.get('by');
  const by = byRaw === null ? undefined : byRaw.split(',').map((s) => s.trim()).filter(Boolean);

  const rows = db.prepare(`SELECT series_id, metric_type, aggregation_temporality, is_monotonic, attributes, service_name FROM metric_series
    WHERE metric_name = ? LIMIT ${MAX_SERIES_SCANNED + 1}`).safeIntegers(false).all(name) as Array<{
      series_id: number; metric_type: string; aggregation_temporality: number; is_monotonic: number; attributes: string; service_name: string;
    }>;
  if (rows.length > MAX_SERIES_SCANNED) throw badRequest(`metric ${name} has more than ${MAX_SERIES_SCANNED} series; this store cannot query it in one request`);
  const groups = new Map<string, Group>();
  const series: Series[] = [];
  for (const r of rows) {
    if (service && r.service_name !== service) continue;
    const labels: Record<string, string> = {};
    const attrs = JSON.parse(r.attributes) as Record<string, unknown>;
    for (const k of Object.keys(attrs)) labels[k] = labelText(attrs[k]);
    if (r.service_name) labels['service.name'] = r.service_name;
    if (!matchesAll(matchers, labels)) continue;
    const groupLabels: Record<string, string> = by ? Object.fromEntries(by.filter((k) => k in labels).map((k) => [k, labels[k]])) : labels;
    const key = by ? JSON.stringify(by.map((k) => labels[k] ?? null)) : String(r.series_id);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels: groupLabels, windows: new Map() }));
    series.push({ id: r.series_id, type: r.metric_type, temporality: r.aggregation_temporality, monotonic: r.is_monotonic === 1, labels, group: g });
  }
  if (series.length > MAX_SERIES) throw badRequest(`${series.length} series match, more than ${MAX_SERIES}: add match[] label matchers or use by=`);
  if (groups.size * windows > MAX_OUTPUT_POINTS) {
    throw badRequest(`the answer would hold up to ${groups.size * windows} points, more than ${MAX_OUTPUT_POINTS}: raise step, narrow start/end, add matchers or use by=`);
  }
  const types = new Set(series.map((s) => s.type));
  const agg = (aggRaw as Agg | null) ?? defaultAgg(types, series.some((s) => s.monotonic));
  const warnings: string[] = [];
  const isHist = (t: string): boolean => t === 'histogram' || t === 'exponential_histogram' || t === 'summary';
  if (agg === 'quantile' && series.length && !series.some((s) => s.type === 'histogram' || s.type === 'exponential_histogram')) {
    throw badRequest(`agg=quantile needs a histogram metric; ${name} is ${[...types].join(', ')}`);
  }
  if ((agg === 'rate' || agg === 'increase') && series.length && series.every((s) => s.type === 'gauge' || (s.type === 'sum' && !s.monotonic))) {
    throw badRequest(`agg=${agg} needs a counter (monotonic sum) or histogram; ${name} is a ${[...types].join(', ')}${series.some((s) => s.type === 'sum') ? ' that can go down' : ''}: use avg, min, max`);
  }
  const useRollup = step % MINUTE === 0n;
  const ctx: Ctx = { db, origin, step, start: range.start, end: range.end, windows };
  const numbers = series.filter((s) => s.type === 'gauge' || s.type === 'sum');
  if (agg !== 'quantile') {
    const counterAgg = agg === 'rate' || agg === 'increase';
    const cumulativeCounters = numbers.filter((s) => s.monotonic && s.temporality === 2);
    const plain = counterAgg ? numbers.filter((s) => s.monotonic && s.temporality !== 2) : numbers;
    if (counterAgg) {
      const skipped = numbers.length - cumulativeCounters.length - plain.length;
      if (skipped) warnings.push(`${skipped} series are not counters and were left out of ${agg}`);
      if (cumulativeCounters.length) numberIncreases(ctx, cumulativeCounters, useRollup);
    }
    if (plain.length) numberAggregates(ctx, plain, useRollup);
  }
  const hist = series.filter((s) => s.type === 'histogram' || s.type === 'exponential_histogram');
  if (hist.length) histograms(ctx, hist);
  const summaries = series.filter((s) => s.type === 'summary');
  if (summaries.length) {
    if (agg === 'quantile') warnings.push('summary series have no buckets and were left out of quantile');
    else summaryAggregates(ctx, summaries);
  }
  if (series.some((s) => !isHist(s.type)) && series.some((s) => isHist(s.type))) warnings.push(`${name} mixes number and histogram series`);

  const stepSeconds = Number(step) / 1e9;
  const out: MetricQueryResult['series'] = [];
  for (const g of groups.values()) {
    const points: Array<[number, number | null]> = [];
    for (const w of [...g.windows.keys()].sort((a, b) => a - b)) {
      const a = g.windows.get(w)!;
      const v = finalValue(agg, a, quant, stepSeconds);
      if (v === undefined) continue;
      points.push([Number(origin + BigInt(w) * step) / 1e9, v]);
    }
    if (points.length) out.push({ labels: g.labels, points });
  }
  out.sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
  return {
    name, agg, ...(agg === 'quantile' ? { q: quant } : {}), step_seconds: stepSeconds,
    start: Number(range.start) / 1e9, end: Number(range.end) / 1e9,
    source: useRollup && numbers.length ? 'rollup_1m' : 'raw',
    series: out,
    ...(warnings.length ? { warnings } : {}),
  };
}

function finalValue(agg: Agg, a: Acc, q: number, stepSeconds: number): number | null | undefined {
  const num = (v: number): number | null => (Number.isFinite(v) ? v : null);
  switch (agg) {
    case 'avg': return a.c ? num(a.sm / a.c) : undefined;
    case 'min': return a.c ? num(a.mn) : undefined;
    case 'max': return a.c ? num(a.mx) : undefined;
    case 'sum': return a.c ? num(a.sm) : undefined;
    case 'count': return a.c;
    case 'rate': return num(a.inc / stepSeconds);
    case 'increase': return num(a.inc);
    case 'quantile': {
      if (a.exp) {
        const e = expToExplicit(a.exp.scale, a.exp.zero, a.exp.zeroThreshold, a.exp.pos, a.exp.neg);
        return histogramQuantile(q, e.bounds, e.counts, recordedRange(a));
      }
      if (!a.hist || a.hist.size === 0) return undefined;
      // Series of a group should share bounds; if not, the layout with the most observations answers.
      let best: [string, number[]] | undefined;
      let bestTotal = -1;
      for (const [k, counts] of a.hist) {
        const total = counts.reduce((x, y) => x + y, 0);
        if (total > bestTotal) { best = [k, counts]; bestTotal = total; }
      }
      return histogramQuantile(q, JSON.parse(best![0]) as number[], best![1], recordedRange(a));
    }
  }
}

/**
 * The smallest and largest observation the window's points recorded. For cumulative points these
 * cover the whole life of the series, a superset of the window's observations, so they still bound it.
 */
function recordedRange(a: Acc): { min?: number; max?: number } {
  return { ...(Number.isFinite(a.mn) ? { min: a.mn } : {}), ...(Number.isFinite(a.mx) ? { max: a.mx } : {}) };
}

interface Ctx {
  db: Database.Database;
  origin: bigint;
  step: bigint;
  start: bigint;
  end: bigint;
  windows: number;
}

function acc(g: Group, w: number): Acc {
  let a = g.windows.get(w);
  if (!a) g.windows.set(w, (a = { c: 0, sm: 0, mn: Infinity, mx: -Infinity, inc: 0 }));
  return a;
}

/**
 * count/sum/min/max per series and window, computed by SQLite (from the rollup when steps are whole
 * minutes). One statement per series: its rows are one contiguous stretch of the primary key, and
 * grouping them alone is about twice as fast as grouping all series in one statement.
 */
function numberAggregates(ctx: Ctx, list: Series[], rollup: boolean): void {
  const stmt = ctx.db.prepare(rollup
    ? `SELECT (bucket_unix_nano - :origin) / :step AS w, sum(count) AS c, sum(sum) AS sm, min("min") AS mn, max("max") AS mx
         FROM metric_number_rollup_1m WHERE series_id = :id AND bucket_unix_nano >= :origin AND bucket_unix_nano < :end GROUP BY w`
    : `SELECT (time_unix_nano - :origin) / :step AS w, count(*) AS c, sum(value) AS sm, min(value) AS mn, max(value) AS mx
         FROM metric_number_points WHERE series_id = :id AND time_unix_nano >= :start AND time_unix_nano < :end AND (flags & 1) = 0 GROUP BY w`)
    .safeIntegers(false).raw();
  const params: Record<string, unknown> = { origin: ctx.origin, step: ctx.step, end: ctx.end, id: 0 };
  if (!rollup) params.start = ctx.start;
  for (const s of list) {
    params.id = s.id;
    for (const [w, c, sm, mn, mx] of stmt.all(params) as Array<[number, number, number, number, number]>) {
      const a = acc(s.group, w);
      a.c += c;
      a.sm += sm;
      if (mn < a.mn) a.mn = mn;
      if (mx > a.mx) a.mx = mx;
      // For delta counters the increase is the sum.
      a.inc += sm;
    }
  }
}

/**
 * Increases of cumulative counters per window, walking each series in time order (one step of
 * look-back, so the first window sees the point before it). Plain JavaScript over the rows beats
 * SQLite's window functions here by about 1.5×. A drop or a new start time is a reset (the new value
 * is the increase). From the rollup, a bucket's increase is its stored in-bucket increase plus the
 * step from the previous bucket's last point to its first, judged the same way, so raw points and
 * rollup give the same answer on any data written in time order. Rollup rows written before the
 * reset-aware columns existed (increase NULL) fall back to an estimate from first/last/min/max.
 */
function numberIncreases(ctx: Ctx, list: Series[], rollup: boolean): void {
  const from = (rollup ? ctx.origin : ctx.start);
  // Times relative to the origin stay exact as doubles (ranges are far below 2^53 ns); start times
  // too, so that two different start times never compare equal after rounding.
  const stmt = ctx.db.prepare(rollup
    ? `SELECT bucket_unix_nano - :origin, count, first_value, last_value, "min", "max", increase,
           first_start_time_unix_nano - :origin, last_start_time_unix_nano - :origin FROM metric_number_rollup_1m
         WHERE series_id = :id AND bucket_unix_nano >= :lookback AND bucket_unix_nano < :end ORDER BY bucket_unix_nano`
    : `SELECT time_unix_nano - :origin, start_time_unix_nano - :origin, value FROM metric_number_points
         WHERE series_id = :id AND time_unix_nano >= :lookback AND time_unix_nano < :end AND (flags & 1) = 0 ORDER BY time_unix_nano`)
    .safeIntegers(false).raw();
  const params = { origin: ctx.origin, lookback: from - ctx.step, end: ctx.end, id: 0 };
  const step = Number(ctx.step);
  const first = Number(from - ctx.origin);
  for (const s of list) {
    params.id = s.id;
    let prev: number | undefined;
    let prevStart: number | null | undefined;
    let w = -1;
    let a: Acc | undefined;
    for (const row of stmt.iterate(params) as IterableIterator<Array<number | null>>) {
      const dt = row[0] as number;
      if (dt >= first) {
        const wi = Math.floor(dt / step);
        if (wi !== w) { w = wi; a = acc(s.group, w); }
      } else a = undefined;
      if (rollup) {
        const [, count, fv, lv, mn, mx, inc, fst, lst] = row as [number, number, number, number, number, number, number | null, number | null, number | null];
        if (a) {
          let inside: number;
          let across: number;
          if (inc !== null) {
            inside = inc;
            across = prev === undefined ? 0 : fv < prev || fst !== prevStart ? fv : fv - prev;
          } else {
            inside = mn < fv || lv < fv ? (lv < mx ? mx - fv : 0) + lv : lv - fv;
            across = prev === undefined ? 0 : fv >= prev ? fv - prev : fv;
          }
          a.inc += inside + across;
          a.c += count;
        }
        prev = lv;
        prevStart = lst;
      } else {
        const [, st, v] = row as [number, number, number];
        if (a) {
          if (prev !== undefined) a.inc += v < prev || st !== prevStart ? v : v - prev;
          a.c += 1;
        }
        prev = v;
        prevStart = st;
      }
    }
  }
}

function windowOf(ctx: Ctx, t: bigint): number {
  return t >= ctx.start ? Number((t - ctx.origin) / ctx.step) : -1;
}

interface HistPoint {
  t: bigint;
  startT: bigint;
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

/** Histogram and exponential histogram points, differenced per series then merged per window. */
function histograms(ctx: Ctx, list: Series[]): void {
  let budget = MAX_HISTOGRAM_POINTS;
  const explicit = ctx.db.prepare(`SELECT time_unix_nano AS t, start_time_unix_nano AS startT, count, sum, min, max, bucket_counts, explicit_bounds
    FROM metric_histogram_points WHERE series_id = ? AND time_unix_nano >= ? AND time_unix_nano < ? AND (flags & 1) = 0 ORDER BY time_unix_nano LIMIT ?`);
  const exponential = ctx.db.prepare(`SELECT time_unix_nano AS t, start_time_unix_nano AS startT, count, sum, min, max, scale, zero_count, zero_threshold,
      positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts
    FROM metric_exp_histogram_points WHERE series_id = ? AND time_unix_nano >= ? AND time_unix_nano < ? AND (flags & 1) = 0 ORDER BY time_unix_nano LIMIT ?`);
  for (const s of list) {
    const stmt = s.type === 'histogram' ? explicit : exponential;
    const rows = stmt.all(s.id, ctx.start - ctx.step, ctx.end, budget + 1) as Array<Record<string, unknown>>;
    budget -= rows.length;
    if (budget < 0) throw badRequest(`more than ${MAX_HISTOGRAM_POINTS} histogram points in range: narrow start/end or add matchers`);
    const delta = s.temporality !== 2;
    let prev: { p: HistPoint; buckets: unknown } | undefined;
    for (const r of rows) {
      const p: HistPoint = { t: r.t as bigint, startT: r.startT as bigint, count: Number(r.count), sum: r.sum as number | null, min: r.min as number | null, max: r.max as number | null };
      const buckets = s.type === 'histogram' ? explicitBuckets(r) : expBuckets(r);
      const w = windowOf(ctx, p.t);
      if (w >= 0) {
        const a = acc(s.group, w);
        if (p.min !== null && p.min < a.mn) a.mn = p.min;
        if (p.max !== null && p.max > a.mx) a.mx = p.max;
        if (delta) addHist(a, p.count, p.sum ?? 0, buckets);
        else if (prev) {
          const reset = p.count < prev.p.count || p.startT !== prev.p.startT;
          const d = reset ? buckets : subtractBuckets(buckets, prev.buckets);
          // A changed bucket layout cannot be differenced: treat it as a reset.
          if (d === undefined) addHist(a, p.count, p.sum ?? 0, buckets);
          else addHist(a, reset ? p.count : p.count - prev.p.count, reset ? p.sum ?? 0 : (p.sum ?? 0) - (prev.p.sum ?? 0), d);
        }
      }
      prev = { p, buckets };
    }
  }
}

type Explicit = { kind: 'explicit'; key: string; counts: number[] };
type Exp = { kind: 'exp' } & ExpAcc;

function explicitBuckets(r: Record<string, unknown>): Explicit {
  return { kind: 'explicit', key: r.explicit_bounds as string, counts: JSON.parse(r.bucket_counts as string) as number[] };
}

function sparse(offset: number, counts: number[]): Map<number, number> {
  const m = new Map<number, number>();
  counts.forEach((c, i) => { if (c) m.set(offset + i, c); });
  return m;
}

function expBuckets(r: Record<string, unknown>): Exp {
  return {
    kind: 'exp', scale: Number(r.scale), zero: Number(r.zero_count), zeroThreshold: Number(r.zero_threshold),
    pos: sparse(Number(r.positive_offset), JSON.parse(r.positive_bucket_counts as string) as number[]),
    neg: sparse(Number(r.negative_offset), JSON.parse(r.negative_bucket_counts as string) as number[]),
  };
}

/** Re-index sparse exponential buckets at a coarser scale (each step down merges pairs). */
function downscale(m: Map<number, number>, by: number): Map<number, number> {
  if (by <= 0) return m;
  const out = new Map<number, number>();
  for (const [i, c] of m) {
    const j = i >> by;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function combineSparse(a: Map<number, number>, b: Map<number, number>, sign: 1 | -1): Map<number, number> {
  const out = new Map(a);
  for (const [i, c] of b) out.set(i, (out.get(i) ?? 0) + sign * c);
  return out;
}

function subtractBuckets(cur: Explicit | Exp, prev: unknown): Explicit | Exp | undefined {
  if (cur.kind === 'explicit') {
    const p = prev as Explicit;
    if (p.key !== cur.key || p.counts.length !== cur.counts.length) return undefined;
    return { kind: 'explicit', key: cur.key, counts: cur.counts.map((c, i) => c - p.counts[i]) };
  }
  const p = prev as Exp;
  const scale = Math.min(cur.scale, p.scale);
  return {
    kind: 'exp', scale, zero: cur.zero - p.zero, zeroThreshold: Math.max(cur.zeroThreshold, p.zeroThreshold),
    pos: combineSparse(downscale(cur.pos, cur.scale - scale), downscale(p.pos, p.scale - scale), -1),
    neg: combineSparse(downscale(cur.neg, cur.scale - scale), downscale(p.neg, p.scale - scale), -1),
  };
}

function addHist(a: Acc, count: number, sum: number, b: Explicit | Exp): void {
  a.c += count;
  a.sm += sum;
  a.inc += count;
  if (b.kind === 'explicit') {
    a.hist ??= new Map();
    const have = a.hist.get(b.key);
    if (!have) a.hist.set(b.key, b.counts.slice());
    else for (let i = 0; i < have.length; i++) have[i] += b.counts[i] ?? 0;
    return;
  }
  if (!a.exp) {
    a.exp = { scale: b.scale, zero: b.zero, zeroThreshold: b.zeroThreshold, pos: new Map(b.pos), neg: new Map(b.neg) };
    return;
  }
  const e = a.exp;
  const scale = Math.min(e.scale, b.scale);
  e.pos = combineSparse(downscale(e.pos, e.scale - scale), downscale(b.pos, b.scale - scale), 1);
  e.neg = combineSparse(downscale(e.neg, e.scale - scale), downscale(b.neg, b.scale - scale), 1);
  e.scale = scale;
  e.zero += b.zero;
  e.zeroThreshold = Math.max(e.zeroThreshold, b.zeroThreshold);
}

/** Summaries: count and sum only (their quantiles cannot be combined across windows or series). */
function summaryAggregates(ctx: Ctx, list: Series[]): void {
  const stmt = ctx.db.prepare(`SELECT time_unix_nano AS t, start_time_unix_nano AS startT, count, sum FROM metric_summary_points
    WHERE series_id = ? AND time_unix_nano >= ? AND time_unix_nano < ? AND (flags & 1) = 0 ORDER BY time_unix_nano LIMIT ?`);
  for (const s of list) {
    const rows = stmt.all(s.id, ctx.start - ctx.step, ctx.end, MAX_HISTOGRAM_POINTS + 1) as Array<{ t: bigint; startT: bigint; count: bigint; sum: number }>;
    if (rows.length > MAX_HISTOGRAM_POINTS) throw badRequest(`more than ${MAX_HISTOGRAM_POINTS} summary points in range: narrow start/end`);
    let prev: (typeof rows)[number] | undefined;
    for (const r of rows) {
      const w = windowOf(ctx, r.t);
      if (w >= 0 && prev) {
        const reset = r.count < prev.count || r.startT !== prev.startT;
        const a = acc(s.group, w);
        const dc = Number(reset ? r.count : r.count - prev.count);
        a.c += dc;
        a.inc += dc;
        a.sm += reset ? r.sum : r.sum - prev.sum;
      }
      prev = r;
    }
  }
}

/** Metric names with their types, units and series counts. */
export function metricNames(db: Database.Database, q: URLSearchParams): unknown {
  const prefix = q.get('prefix') ?? '';
  const rows = db.prepare(`SELECT metric_name AS name, metric_type AS type, unit, max(description) AS description, count(*) AS series
    FROM metric_series WHERE metric_name >= ? AND metric_name < ? GROUP BY metric_name, metric_type, unit ORDER BY metric_name LIMIT 10001`)
    .safeIntegers(false).all(prefix, prefix + '\u{10ffff}') as unknown[];
  return { names: rows.slice(0, 10000), ...(rows.length > 10000 ? { truncated: true } : {}) };
}
