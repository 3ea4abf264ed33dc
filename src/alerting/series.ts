/**
 * Bounded, in-memory windows of the metric streams rules watch, and the window functions
 * (avg, max, min, sum, count, last, increase, rate, quantile) computed over them.
 *
 * A series is a metric name plus its labels: the point attributes and the configured resource
 * attributes (service.name ...). Times are the points' own timestamps, as in Prometheus.
 * Cumulative sums and histograms are turned into increases over the window using the newest sample
 * before the window as the base (or zero when the stream started inside the window, which OTLP's
 * start time tells); a drop in a cumulative value is a counter reset, as in Prometheus's increase().
 */
import {
  Attributes, ExponentialHistogramDataPoint, HistogramDataPoint, Metrics, NumberDataPoint, SummaryDataPoint,
  Temporality, nanosToMillis, stringValue, FLAG_NO_RECORDED_VALUE, streamAttributes,
} from '../model';
import { Labels, setLabel } from './labels';

export interface NumSample { t: number; v: number }
export interface HistSample { t: number; count: number; sum: number; bounds: number[]; buckets: number[] }

export interface Series {
  key: string;
  metric: string;
  labels: Labels;
  type: 'number' | 'histogram' | 'summary';
  cumulative: boolean;
  /** Start time of the newest cumulative point (a change means the stream restarted). */
  startMs: number;
  num: NumSample[];
  hist: HistSample[];
  /** Summary: the newest quantiles. */
  quantiles?: Array<{ quantile: number; value: number }>;
}

/** Longer label values are cut, which bounds the work any matcher regex can do on them. */
export const MAX_LABEL_VALUE = 1024;

export function attributesToLabels(out: Labels, attrs: Attributes, only?: readonly string[]): void {
  for (const k of only ?? Object.keys(attrs)) {
    if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
    const v = stringValue(attrs[k]);
    if (v !== undefined && v !== '') setLabel(out, k, v.length > MAX_LABEL_VALUE ? v.slice(0, MAX_LABEL_VALUE) : v);
  }
}

function seriesKey(metric: string, labels: Labels): string {
  // Any fixed order will do for an in-memory key.
  return metric + '\u0000' + Object.keys(labels).sort().map((k) => `${k}\u0001${labels[k]}`).join('\u0000');
}

/** Converts an exponential histogram into explicit upper bounds (zero and negative counts go to the ≤ 0 bucket). */
function expToExplicit(p: ExponentialHistogramDataPoint): { bounds: number[]; buckets: number[] } {
  const base = Math.pow(2, Math.pow(2, -p.scale));
  const bounds = [0];
  const buckets = [p.zeroCount + p.negative.bucketCounts.reduce((a, b) => a + b, 0)];
  p.positive.bucketCounts.forEach((c, i) => {
    bounds.push(Math.pow(base, p.positive.offset + i + 1));
    buckets.push(c);
  });
  buckets.push(0);
  return { bounds, buckets };
}

export class SeriesStore {
  private readonly series = new Map<string, Series>();
  private readonly byMetric = new Map<string, Set<Series>>();
  /** metric name → how long its samples are kept. */
  private readonly retention = new Map<string, number>();
  dropped = 0;

  constructor(
    private readonly resourceLabels: readonly string[],
    private readonly maxSeries: number,
    private readonly maxSamples: number,
    /** When watching began (streams starting later count from zero). */
    private readonly since: number = Date.now(),
  ) {}

  /** Keep samples of `metric` for at least `ms`. */
  watch(metric: string, ms: number): void {
    this.retention.set(metric, Math.max(this.retention.get(metric) ?? 0, ms));
  }

  get size(): number {
    return this.series.size;
  }

  /** Calls `onPoint` for every stored number point (test-health rules that count events). */
  ingest(m: Metrics, nowMs: number, onPoint?: (s: Series, sample: NumSample, increase: number) => void): void {
    for (const rm of m.resourceMetrics) {
      const res: Labels = {};
      attributesToLabels(res, rm.resource.attributes, this.resourceLabels);
      for (const sm of rm.scopeMetrics) for (const metric of sm.metrics) {
        if (!this.retention.has(metric.name)) continue;
        const d = metric.data;
        const cumulative = (d.type === 'sum' || d.type === 'histogram' || d.type === 'exponentialHistogram') && d.aggregationTemporality === Temporality.CUMULATIVE
          || d.type === 'summary';
        const points = [...(d.dataPoints as Array<{ timeUnixNano: bigint }>)].sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : a.timeUnixNano > b.timeUnixNano ? 1 : 0));
        for (const p of points as Array<NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint>) {
          if (p.flags & FLAG_NO_RECORDED_VALUE) continue;
          const labels: Labels = { ...res };
          attributesToLabels(labels, streamAttributes(p.attributes));
          const t = p.timeUnixNano ? nanosToMillis(p.timeUnixNano) : nowMs;
          const startMs = p.startTimeUnixNano ? nanosToMillis(p.startTimeUnixNano) : 0;
          const type = d.type === 'gauge' || d.type === 'sum' ? 'number' : d.type === 'summary' ? 'summary' : 'histogram';
          const s = this.getSeries(metric.name, labels, type, cumulative);
          if (!s) continue;
          if (type === 'number') {
            const v = Number((p as NumberDataPoint).value);
            const prev = s.num[s.num.length - 1];
            let inc = v;
            if (cumulative) {
              const restarted = !prev || (startMs !== 0 && startMs !== s.startMs);
              // A stream first seen here counts from zero only if it started after we began watching;
              // otherwise its earlier history is unknown and this point only sets the base.
              if (restarted) inc = startMs !== 0 && startMs >= this.since ? v : prev && startMs === s.startMs ? Math.max(0, v - prev.v) : 0;
              else inc = v < prev.v ? v : v - prev.v;
            }
            const sample = { t, v };
            this.push(s.num, sample);
            s.startMs = startMs || s.startMs;
            onPoint?.(s, sample, inc);
          } else if (type === 'summary') {
            const sp = p as SummaryDataPoint;
            this.push(s.hist, { t, count: sp.count, sum: sp.sum, bounds: [], buckets: [] });
            s.quantiles = sp.quantileValues.map((q) => ({ quantile: q.quantile, value: q.value }));
            s.startMs = startMs || s.startMs;
          } else {
            const hp = p as HistogramDataPoint | ExponentialHistogramDataPoint;
            const { bounds, buckets } = 'explicitBounds' in hp ? { bounds: hp.explicitBounds, buckets: hp.bucketCounts } : expToExplicit(hp);
            this.push(s.hist, { t, count: hp.count, sum: hp.sum ?? 0, bounds: bounds.slice(), buckets: buckets.slice() });
            s.startMs = startMs || s.startMs;
          }
        }
      }
    }
  }

  private push<T extends { t: number }>(arr: T[], sample: T): void {
    // Points normally arrive in order; a late one is inserted where it belongs.
    let i = arr.length;
    while (i > 0 && arr[i - 1].t > sample.t) i--;
    if (i > 0 && arr[i - 1].t === sample.t) arr[i - 1] = sample;
    else arr.splice(i, 0, sample);
    if (arr.length > this.maxSamples) arr.splice(0, arr.length - this.maxSamples);
  }

  private getSeries(metric: string, labels: Labels, type: Series['type'], cumulative: boolean): Series | undefined {
    const key = seriesKey(metric, labels);
    let s = this.series.get(key);
    if (s && (s.type !== type || s.cumulative !== cumulative)) {
      // The metric changed shape: start over rather than mix incompatible samples.
      this.remove(s);
      s = undefined;
    }
    if (!s) {
      if (this.series.size >= this.maxSeries) { this.dropped++; return undefined; }
      s = { key, metric, labels, type, cumulative, startMs: 0, num: [], hist: [] };
      this.series.set(key, s);
      let set = this.byMetric.get(metric);
      if (!set) this.byMetric.set(metric, (set = new Set()));
      set.add(s);
    }
    return s;
  }

  private remove(s: Series): void {
    this.series.delete(s.key);
    this.byMetric.get(s.metric)?.delete(s);
  }

  /** Series of a metric. */
  select(metric: string): Series[] {
    return [...(this.byMetric.get(metric) ?? [])];
  }

  /** Drops samples older than each metric's retention (keeping one before it, the base of increases) and empty series. */
  gc(nowMs: number): void {
    for (const s of [...this.series.values()]) {
      const keep = this.retention.get(s.metric) ?? 0;
      const from = nowMs - keep;
      for (const arr of [s.num, s.hist] as Array<Array<{ t: number }>>) {
        let i = 0;
        while (i + 1 < arr.length && arr[i + 1].t < from) i++;
        if (i > 0) arr.splice(0, i);
      }
      const last = s.type === 'number' ? s.num[s.num.length - 1] : s.hist[s.hist.length - 1];
      if (!last || last.t < from) this.remove(s);
    }
  }
}

// ---- window computations -------------------------------------------------------------------

export function inWindow<T extends { t: number }>(arr: readonly T[], from: number, to: number): T[] {
  return arr.filter((x) => x.t > from && x.t <= to);
}

function baseBefore<T extends { t: number }>(arr: readonly T[], from: number): T | undefined {
  let base: T | undefined;
  for (const x of arr) { if (x.t <= from) base = x; else break; }
  return base;
}

/** Increase of a number series over (from, to]: delta/gauge points add up, cumulative ones difference with reset handling. */
export function increase(s: Series, from: number, to: number): { value: number; samples: number } | undefined {
  const win = inWindow(s.num, from, to);
  if (!win.length) return undefined;
  if (!s.cumulative) return { value: win.reduce((a, x) => a + x.v, 0), samples: win.length };
  const base = baseBefore(s.num, from);
  let prev = base ? base.v : s.startMs > from ? 0 : undefined;
  let total = 0;
  for (const x of win) {
    if (prev !== undefined) total += x.v >= prev ? x.v - prev : x.v;
    prev = x.v;
  }
  return { value: total, samples: win.length };
}

/** Bucket counts (non-cumulative, last one +Inf) observed over (from, to]. */
export function histogramDelta(s: Series, from: number, to: number): { bounds: number[]; buckets: number[]; count: number; sum: number } | undefined {
  const win = inWindow(s.hist, from, to);
  if (!win.length) return undefined;
  const last = win[win.length - 1];
  const sameShape = (a: HistSample) => a.bounds.length === last.bounds.length && a.bounds.every((b, i) => b === last.bounds[i]);
  if (!s.cumulative) {
    const buckets = new Array(last.buckets.length).fill(0);
    let count = 0; let sum = 0;
    for (const x of win) {
      if (!sameShape(x)) continue;
      x.buckets.forEach((c, i) => { buckets[i] += c; });
      count += x.count; sum += x.sum;
    }
    return { bounds: last.bounds, buckets, count, sum };
  }
  const whole = { bounds: last.bounds, buckets: last.buckets.slice(), count: last.count, sum: last.sum };
  const minus = (base: HistSample) => ({
    bounds: last.bounds,
    buckets: last.buckets.map((c, i) => Math.max(0, c - (base.buckets[i] ?? 0))),
    count: last.count - base.count,
    sum: last.sum - base.sum,
  });
  const base = baseBefore(s.hist, from);
  if (base && sameShape(base)) return last.count >= base.count ? minus(base) : whole; // a drop is a reset
  // No sample before the window: a stream that started inside it counted from zero; otherwise
  // the first sample in the window is the best base there is.
  if (s.startMs > from) return whole;
  if (win.length > 1 && sameShape(win[0]) && last.count >= win[0].count) return minus(win[0]);
  return undefined;
}

/** Prometheus's histogram_quantile: linear interpolation inside the bucket holding the rank. */
export function bucketQuantile(q: number, bounds: readonly number[], buckets: readonly number[]): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < buckets.length; i++) {
    const prevCum = cum;
    cum += buckets[i];
    if (cum >= rank && buckets[i] > 0) {
      if (i >= bounds.length) return bounds.length ? bounds[bounds.length - 1] : NaN;
      const upper = bounds[i];
      const lower = i === 0 ? (upper > 0 ? 0 : upper) : bounds[i - 1];
      return lower + (upper - lower) * ((rank - prevCum) / buckets[i]);
    }
  }
  return bounds.length ? bounds[bounds.length - 1] : NaN;
}

/** Quantile of raw values (quantile_over_time). */
export function valuesQuantile(q: number, values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Summary quantile nearest to q (interpolated between the two closest reported quantiles). */
export function summaryQuantile(q: number, qs: ReadonlyArray<{ quantile: number; value: number }>): number {
  if (!qs.length) return NaN;
  const sorted = [...qs].sort((a, b) => a.quantile - b.quantile);
  if (q <= sorted[0].quantile) return sorted[0].value;
  for (let i = 1; i < sorted.length; i++) {
    if (q <= sorted[i].quantile) {
      const a = sorted[i - 1]; const b = sorted[i];
      return a.value + (b.value - a.value) * ((q - a.quantile) / (b.quantile - a.quantile));
    }
  }
  return sorted[sorted.length - 1].value;
}
