import {
  Attributes, InstrumentationScope, Nanos, Resource, SpanId, TraceId,
  cloneAttributes, cloneResource, cloneScope, setAttr,
} from './common';

/** OTLP AggregationTemporality values. */
export const Temporality = { UNSPECIFIED: 0, DELTA: 1, CUMULATIVE: 2 } as const;
/**
 * Point attributes that annotate one point rather than identify its stream: the `anomaly`
 * processor's verdict on it. They travel with the point (OTLP, file and debug exporters show them),
 * but anything that keys series by attributes (a Prometheus series, a stored series, an alert
 * rule's series, the anomaly processor's own state) must leave them out, or a score that changes
 * with every point would make every point a new series.
 */
export const ANOMALY_SCORE_ATTR = 'anomaly.score';
export const ANOMALY_EXPECTED_MIN_ATTR = 'anomaly.expected.min';
export const ANOMALY_EXPECTED_MAX_ATTR = 'anomaly.expected.max';
export const POINT_ANNOTATIONS: ReadonlySet<string> = new Set([ANOMALY_SCORE_ATTR, ANOMALY_EXPECTED_MIN_ATTR, ANOMALY_EXPECTED_MAX_ATTR]);

/** The attributes that identify a point's stream: `attrs` without point annotations (the same object when it has none). */
export function streamAttributes(attrs: Attributes): Attributes {
  const keys = Object.keys(attrs);
  if (!keys.some((k) => POINT_ANNOTATIONS.has(k))) return attrs;
  const out: Attributes = {};
  for (const k of keys) if (!POINT_ANNOTATIONS.has(k)) setAttr(out, k, attrs[k]);
  return out;
}

/** DataPointFlags: the point is a "no recorded value" staleness marker. */
export const FLAG_NO_RECORDED_VALUE = 1;

export interface Exemplar {
  filteredAttributes: Attributes;
  timeUnixNano: Nanos;
  /** Same rule as NumberDataPoint.value / isInt. */
  value: number | bigint;
  isInt: boolean;
  spanId: SpanId;
  traceId: TraceId;
}

interface PointBase {
  attributes: Attributes;
  startTimeUnixNano: Nanos;
  timeUnixNano: Nanos;
  exemplars: Exemplar[];
  flags: number;
}

export interface NumberDataPoint extends PointBase {
  /** as_double → number; as_int → number, or bigint beyond ±2^53. */
  value: number | bigint;
  /** True when the point was sent as as_int. */
  isInt: boolean;
}

export interface HistogramDataPoint extends PointBase {
  count: number;
  sum?: number;
  bucketCounts: number[];
  explicitBounds: number[];
  min?: number;
  max?: number;
}

export interface ExpBuckets {
  offset: number;
  bucketCounts: number[];
}

export interface ExponentialHistogramDataPoint extends PointBase {
  count: number;
  sum?: number;
  scale: number;
  zeroCount: number;
  positive: ExpBuckets;
  negative: ExpBuckets;
  min?: number;
  max?: number;
  zeroThreshold: number;
}

export interface ValueAtQuantile {
  quantile: number;
  value: number;
}

export interface SummaryDataPoint extends Omit<PointBase, 'exemplars'> {
  count: number;
  sum: number;
  quantileValues: ValueAtQuantile[];
}

export interface GaugeData { type: 'gauge'; dataPoints: NumberDataPoint[] }
export interface SumData { type: 'sum'; dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean }
export interface HistogramData { type: 'histogram'; dataPoints: HistogramDataPoint[]; aggregationTemporality: number }
export interface ExponentialHistogramData { type: 'exponentialHistogram'; dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality: number }
export interface SummaryData { type: 'summary'; dataPoints: SummaryDataPoint[] }
/** A metric whose data field was not set (legal on the wire, carries no points). */
export interface EmptyData { type: 'empty'; dataPoints: never[] }

export type MetricData = GaugeData | SumData | HistogramData | ExponentialHistogramData | SummaryData | EmptyData;

export interface Metric {
  name: string;
  description: string;
  unit: string;
  metadata: Attributes;
  data: MetricData;
}

export interface ScopeMetrics {
  scope: InstrumentationScope;
  schemaUrl: string;
  metrics: Metric[];
}

export interface ResourceMetrics {
  resource: Resource;
  schemaUrl: string;
  scopeMetrics: ScopeMetrics[];
}

export interface Metrics {
  resourceMetrics: ResourceMetrics[];
}

export function countDataPoints(m: Metrics): number {
  let n = 0;
  for (const rm of m.resourceMetrics) for (const sm of rm.scopeMetrics) for (const metric of sm.metrics) n += metric.data.dataPoints.length;
  return n;
}

function clonePoint<P extends { attributes: Attributes; exemplars?: Exemplar[] }>(p: P): P {
  const out = { ...p, attributes: cloneAttributes(p.attributes) };
  if (p.exemplars) out.exemplars = p.exemplars.map((e) => ({ ...e, filteredAttributes: cloneAttributes(e.filteredAttributes) }));
  for (const k of ['bucketCounts', 'explicitBounds', 'quantileValues'] as const) {
    const v = (p as Record<string, unknown>)[k];
    if (Array.isArray(v)) (out as Record<string, unknown>)[k] = v.map((x) => (typeof x === 'object' ? { ...x } : x));
  }
  const eh = p as unknown as ExponentialHistogramDataPoint;
  if (eh.positive) {
    const o = out as unknown as ExponentialHistogramDataPoint;
    o.positive = { offset: eh.positive.offset, bucketCounts: eh.positive.bucketCounts.slice() };
    o.negative = { offset: eh.negative.offset, bucketCounts: eh.negative.bucketCounts.slice() };
  }
  return out;
}

export function cloneMetric(m: Metric): Metric {
  const data = { ...m.data, dataPoints: (m.data.dataPoints as PointBase[]).map(clonePoint) } as MetricData;
  return { name: m.name, description: m.description, unit: m.unit, metadata: cloneAttributes(m.metadata), data };
}

export function cloneMetrics(m: Metrics): Metrics {
  return {
    resourceMetrics: m.resourceMetrics.map((rm) => ({
      resource: cloneResource(rm.resource),
      schemaUrl: rm.schemaUrl,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({ scope: cloneScope(sm.scope), schemaUrl: sm.schemaUrl, metrics: sm.metrics.map(cloneMetric) })),
    })),
  };
}
