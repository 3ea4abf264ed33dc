/**
 * `anomaly` processor (metrics): scores every selected gauge, sum and histogram point stream online
 * and writes the score on the point as `anomaly.score`; points at or above `threshold` also get
 * `anomaly.expected.min` / `anomaly.expected.max`. The `anomaly_events` connector turns those
 * points into anomaly events for a logs pipeline. See README.md.
 */
import type { Component, Consumer, CreateSettings, ProcessorFactory } from '../../src/component';
import {
  Attributes, Double, HistogramDataPoint, Metrics, NumberDataPoint, Signal, Temporality, ExponentialHistogramDataPoint,
  FLAG_NO_RECORDED_VALUE, Nanos, nanosToMillis, setAttr, streamAttributes,
} from '../../src/model';
import { parseDuration } from '../../src/util/duration';
import { CommonConfig, Selector, algorithmProblems, algorithmWarnings, commonProperties, seriesKey, toParams } from './config';
import { EXPECTED_MAX_ATTR, EXPECTED_MIN_ATTR, SCORE_ATTR } from './events';
import { Entry, SeriesTracker } from './series';

export interface AnomalyProcessorConfig extends CommonConfig {
  /** How a histogram point becomes one value: its mean, or a quantile estimated from its buckets. */
  histogram_value: 'mean' | 'p50' | 'p90' | 'p95' | 'p99';
}

interface HistMemory {
  count: number;
  sum: number;
  buckets: number[];
}

export class AnomalyProcessor implements Component, Consumer<'metrics'> {
  private readonly tracker: SeriesTracker;
  private readonly selector: Selector;
  private readonly hist = new Map<Entry, HistMemory>();
  private timer?: NodeJS.Timeout;
  private readonly scored;
  private readonly anomalies;
  private readonly seriesGauge;

  constructor(private readonly s: CreateSettings<AnomalyProcessorConfig>, private readonly next: Consumer<'metrics'>) {
    const c = s.config;
    this.tracker = new SeriesTracker({
      component: s.id, params: toParams(c), maxSeries: c.max_series, idleMs: parseDuration(c.series_idle_timeout),
      dataDir: c.persist ? s.dataDir : undefined,
    });
    this.selector = new Selector(c);
    this.scored = s.telemetry.counter('vigil_processor_anomaly_scored_points_total', 'Metric points scored', ['processor']).labels(s.id);
    this.anomalies = s.telemetry.counter('vigil_processor_anomaly_anomalies_total', 'Points scored at or above the threshold', ['processor']).labels(s.id);
    this.seriesGauge = s.telemetry.gauge('vigil_processor_anomaly_series', 'Series tracked', ['processor']).labels(s.id);
  }

  async start(): Promise<void> {
    this.tracker.open();
    const every = Math.max(100, parseDuration(this.s.config.persist_interval));
    this.timer = setInterval(() => this.housekeeping(), every);
    this.timer.unref();
  }

  private housekeeping(): void {
    this.tracker.evictIdle(Date.now());
    this.seriesGauge.set(this.tracker.size);
    try {
      this.tracker.persist();
    } catch (e) {
      this.s.logger.warn({ err: (e as Error).message }, 'anomaly: could not persist series state');
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.tracker.close();
  }

  async consume(data: Metrics): Promise<void> {
    const now = Date.now();
    for (const rm of data.resourceMetrics) {
      const res = rm.resource.attributes;
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          const d = m.data;
          if (d.type === 'gauge' || d.type === 'sum') {
            const counter = d.type === 'sum' && d.isMonotonic && d.aggregationTemporality === Temporality.CUMULATIVE;
            for (const p of d.dataPoints) this.scoreNumber(m.name, res, p, counter, now);
          } else if (d.type === 'histogram' || d.type === 'exponentialHistogram') {
            const cumulative = d.aggregationTemporality === Temporality.CUMULATIVE;
            for (const p of d.dataPoints) this.scoreHistogram(m.name, res, p, cumulative, now);
          }
        }
      }
    }
    await this.next.consume(data);
  }

  private scoreNumber(name: string, res: Attributes, p: NumberDataPoint, counter: boolean, now: number): void {
    if (p.flags & FLAG_NO_RECORDED_VALUE) return;
    if (!this.selector.selected(name, res, p.attributes)) return;
    const e = this.tracker.entry(seriesKey(name, res, streamAttributes(p.attributes)), now);
    let v = Number(p.value);
    if (counter) {
      // A cumulative counter is scored by its increase; a decrease means the counter restarted.
      const prev = e.lastRaw;
      e.lastRaw = v;
      if (prev === undefined) return;
      v = v >= prev ? v - prev : v;
    }
    this.mark(e, p.attributes, v, nanosToSeconds(p.timeUnixNano, now));
  }

  private scoreHistogram(name: string, res: Attributes, p: HistogramDataPoint | ExponentialHistogramDataPoint, cumulative: boolean, now: number): void {
    if (p.flags & FLAG_NO_RECORDED_VALUE) return;
    if (!this.selector.selected(name, res, p.attributes)) return;
    const e = this.tracker.entry(seriesKey(name, res, streamAttributes(p.attributes)), now);
    const mode = this.s.config.histogram_value;
    const explicit = 'explicitBounds' in p;
    let count = p.count;
    let sum = p.sum ?? NaN;
    let buckets = explicit ? p.bucketCounts.slice() : [];
    if (cumulative) {
      const prev = this.hist.get(e);
      this.hist.set(e, { count: p.count, sum, buckets: buckets.slice() });
      if (!prev) return;
      if (p.count >= prev.count) {
        count = p.count - prev.count;
        sum = sum - prev.sum;
        if (prev.buckets.length === buckets.length) buckets = buckets.map((b, i) => b - prev.buckets[i]);
      }
    }
    if (count <= 0) return;
    let v: number;
    if (mode === 'mean' || !explicit) v = sum / count;
    else v = bucketQuantile(Number(mode.slice(1)) / 100, (p as HistogramDataPoint).explicitBounds, buckets);
    if (!Number.isFinite(v)) return;
    this.mark(e, p.attributes, v, nanosToSeconds(p.timeUnixNano, now));
  }

  private mark(e: Entry, attrs: Attributes, value: number, timeSec: number): void {
    const r = this.tracker.score(e, value, timeSec);
    this.scored.inc();
    setAttr(attrs, SCORE_ATTR, new Double(r.score));
    if (r.score >= this.s.config.threshold && r.ready) {
      this.anomalies.inc();
      setAttr(attrs, EXPECTED_MIN_ATTR, new Double(r.expected[0]));
      setAttr(attrs, EXPECTED_MAX_ATTR, new Double(r.expected[1]));
    }
  }

  /** For tests and the README: how many series are tracked. */
  get seriesCount(): number {
    return this.tracker.size;
  }
}

/** Quantile by linear interpolation inside the bucket, as Prometheus' histogram_quantile. */
export function bucketQuantile(q: number, bounds: number[], counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return NaN;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    const next = cum + counts[i];
    if (next >= rank && counts[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? NaN; // +Inf bucket: its lower bound
      const lower = i === 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - cum) / counts[i]);
    }
    cum = next;
  }
  return bounds[bounds.length - 1] ?? NaN;
}

export const anomalyProcessorFactory: ProcessorFactory<AnomalyProcessorConfig> = {
  kind: 'processor',
  type: 'anomaly',
  description: 'Scores metric point streams online (0–1, `anomaly.score`) and marks anomalous points for the anomaly_events connector.',
  signals: ['metrics'],
  mutatesData: true,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...commonProperties,
      histogram_value: { enum: ['mean', 'p50', 'p90', 'p95', 'p99'], default: 'mean', description: 'Value scored for a histogram point.' },
    },
  },
  validate: algorithmProblems,
  warnings: algorithmWarnings,
  create<S extends Signal>(settings: CreateSettings<AnomalyProcessorConfig>, signal: S, next: Consumer<S>) {
    if (signal !== 'metrics') throw new Error('the anomaly processor scores metrics; use the anomaly_events connector for spans and logs');
    return new AnomalyProcessor(settings, next as unknown as Consumer<'metrics'>) as unknown as Component & Consumer<S>;
  },
};

/** A point's time in Unix seconds; a point without one (0) counts as arriving now. */
function nanosToSeconds(t: Nanos, nowMs: number): number {
  const ms = nanosToMillis(t);
  return ms > 0 ? ms / 1000 : nowMs / 1000;
}
