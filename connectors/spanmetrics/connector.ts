/**
 * Spans → RED metrics, as the Collector's spanmetrics connector: per resource and per combination of
 * service.name, span.name, span.kind, status.code (plus configured dimensions) a call counter and a
 * duration histogram, flushed every `metrics_flush_interval`.
 */
import type { Component, Consumer, CreateSettings } from '../../src/component';
import {
  AnyValue, Attributes, Exemplar, HistogramDataPoint, Metric, Metrics, NumberDataPoint, Resource, ResourceMetrics,
  SpanKind, StatusCode, Temporality, Traces, cloneAttributes, setAttr, stringValue,
} from '../../src/model';
import { parseDuration } from '../../src/util/duration';

export interface SpanMetricsConfig {
  namespace: string;
  histogram: { disable: boolean; unit: 'ms' | 's'; explicit: { buckets: (string | number)[] } };
  dimensions: { name: string; default?: string | null }[];
  exclude_dimensions: string[];
  aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE' | 'AGGREGATION_TEMPORALITY_DELTA';
  metrics_flush_interval: string | number;
  metrics_expiration: string | number;
  aggregation_cardinality_limit: number;
  resource_metrics_key_attributes: string[];
  exemplars: { enabled: boolean; max_per_data_point: number };
}

export const DEFAULT_BUCKETS = ['2ms', '4ms', '6ms', '8ms', '10ms', '50ms', '100ms', '200ms', '400ms', '800ms', '1s', '1400ms', '2s', '5s', '10s', '15s'];

const KIND_NAMES: Record<number, string> = {
  [SpanKind.UNSPECIFIED]: 'SPAN_KIND_UNSPECIFIED', [SpanKind.INTERNAL]: 'SPAN_KIND_INTERNAL', [SpanKind.SERVER]: 'SPAN_KIND_SERVER',
  [SpanKind.CLIENT]: 'SPAN_KIND_CLIENT', [SpanKind.PRODUCER]: 'SPAN_KIND_PRODUCER', [SpanKind.CONSUMER]: 'SPAN_KIND_CONSUMER',
};
const STATUS_NAMES: Record<number, string> = {
  [StatusCode.UNSET]: 'STATUS_CODE_UNSET', [StatusCode.OK]: 'STATUS_CODE_OK', [StatusCode.ERROR]: 'STATUS_CODE_ERROR',
};

const OVERFLOW_ATTR = 'otel.metric.overflow';

interface SeriesState {
  attributes: Attributes;
  calls: number;
  bucketCounts: number[];
  sum: number;
  min: number;
  max: number;
  exemplars: Exemplar[];
  startNs: bigint;
  lastSeenMs: number;
  updatedSinceFlush: boolean;
}

interface ResourceState {
  resource: Resource;
  series: Map<string, SeriesState>;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export class SpanMetricsConnector implements Component {
  private readonly resources = new Map<string, ResourceState>();
  private readonly boundsMs: number[];
  private readonly unitScale: number;
  private readonly delta: boolean;
  private readonly flushMs: number;
  private readonly expirationMs: number;
  private readonly dims: { name: string; def?: string }[];
  private readonly useDefault: { service: boolean; name: boolean; kind: boolean; status: boolean };
  private seriesCount = 0;
  private lastFlushNs: bigint;
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  readonly traces: Consumer<'traces'>;

  constructor(private readonly s: CreateSettings<SpanMetricsConfig>, private readonly next: Consumer<'metrics'>, private readonly now: () => number = Date.now) {
    const c = s.config;
    // Bounds are in the histogram's unit; spans are measured in ms and scaled once here.
    this.unitScale = c.histogram.unit === 's' ? 1000 : 1;
    this.boundsMs = c.histogram.explicit.buckets.map((b) => parseDuration(b)).sort((a, b) => a - b);
    this.delta = c.aggregation_temporality === 'AGGREGATION_TEMPORALITY_DELTA';
    this.flushMs = parseDuration(c.metrics_flush_interval);
    this.expirationMs = parseDuration(c.metrics_expiration);
    this.dims = c.dimensions.map((d) => ({ name: d.name, def: d.default ?? undefined }));
    const ex = new Set(c.exclude_dimensions);
    this.useDefault = { service: !ex.has('service.name'), name: !ex.has('span.name'), kind: !ex.has('span.kind'), status: !ex.has('status.code') };
    this.lastFlushNs = BigInt(this.now()) * 1_000_000n;
    this.traces = { consume: async (td) => this.consumeTraces(td) };
  }

  consumeTraces(td: Traces): void {
    const nowMs = this.now();
    for (const rs of td.resourceSpans) {
      const rattrs = rs.resource.attributes;
      const rstate = this.resourceState(rs.resource);
      const service = stringValue(rattrs['service.name']) ?? '';
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const attrs: Attributes = {};
          if (this.useDefault.service) attrs['service.name'] = service;
          if (this.useDefault.name) attrs['span.name'] = span.name;
          if (this.useDefault.kind) attrs['span.kind'] = KIND_NAMES[span.kind] ?? KIND_NAMES[SpanKind.UNSPECIFIED];
          if (this.useDefault.status) attrs['status.code'] = STATUS_NAMES[span.status.code] ?? STATUS_NAMES[StatusCode.UNSET];
          for (const d of this.dims) {
            // Span attributes first, then the resource's, as the Collector looks them up.
            const v: AnyValue | undefined = hasOwn(span.attributes, d.name) ? span.attributes[d.name] : hasOwn(rattrs, d.name) ? rattrs[d.name] : d.def;
            if (v !== undefined && v !== null) setAttr(attrs, d.name, v);
          }
          let key = seriesKey(attrs);
          let st = rstate.series.get(key);
          if (!st) {
            if (this.seriesCount >= this.s.config.aggregation_cardinality_limit) {
              // Over the limit, spans still count, in one overflow series, so totals stay right.
              const overflow: Attributes = { [OVERFLOW_ATTR]: true };
              key = seriesKey(overflow);
              st = rstate.series.get(key);
              if (!st) st = this.newSeries(rstate, key, overflow);
            } else {
              st = this.newSeries(rstate, key, attrs);
            }
          }
          const durNs = span.endTimeUnixNano > span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0n;
          const durMs = Number(durNs) / 1e6;
          st.calls++;
          st.bucketCounts[bucketIndex(this.boundsMs, durMs)]++;
          const v = durMs / this.unitScale;
          st.sum += v;
          if (v < st.min) st.min = v;
          if (v > st.max) st.max = v;
          st.lastSeenMs = nowMs;
          st.updatedSinceFlush = true;
          if (this.s.config.exemplars.enabled && span.traceId) {
            st.exemplars.push({ filteredAttributes: {}, timeUnixNano: span.endTimeUnixNano, value: v, isInt: false, traceId: span.traceId, spanId: span.spanId });
            if (st.exemplars.length > this.s.config.exemplars.max_per_data_point) st.exemplars.shift();
          }
        }
      }
    }
  }

  private resourceState(res: Resource): ResourceState {
    const keys = this.s.config.resource_metrics_key_attributes;
    const attrs = keys.length ? Object.fromEntries(keys.filter((k) => hasOwn(res.attributes, k)).map((k) => [k, res.attributes[k]])) : res.attributes;
    const key = seriesKey(attrs);
    let r = this.resources.get(key);
    if (!r) {
      r = { resource: { attributes: cloneAttributes(res.attributes), droppedAttributesCount: 0 }, series: new Map() };
      this.resources.set(key, r);
    }
    return r;
  }

  private newSeries(r: ResourceState, key: string, attributes: Attributes): SeriesState {
    const st: SeriesState = {
      attributes: cloneAttributes(attributes), calls: 0, bucketCounts: new Array(this.boundsMs.length + 1).fill(0),
      sum: 0, min: Infinity, max: -Infinity, exemplars: [],
      startNs: this.delta ? this.lastFlushNs : BigInt(this.now()) * 1_000_000n, lastSeenMs: 0, updatedSinceFlush: false,
    };
    r.series.set(key, st);
    this.seriesCount++;
    return st;
  }

  /** The metrics of the interval that just ended (all live series when cumulative, updated ones when delta). */
  collect(): Metrics {
    const nowMs = this.now();
    const nowNs = BigInt(nowMs) * 1_000_000n;
    const ns = this.s.config.namespace;
    const temporality = this.delta ? Temporality.DELTA : Temporality.CUMULATIVE;
    const out: ResourceMetrics[] = [];
    for (const [rkey, r] of this.resources) {
      const callPoints: NumberDataPoint[] = [];
      const durPoints: HistogramDataPoint[] = [];
      for (const [key, st] of r.series) {
        if (!this.delta && this.expirationMs > 0 && nowMs - st.lastSeenMs > this.expirationMs) {
          r.series.delete(key);
          this.seriesCount--;
          continue;
        }
        if (this.delta && !st.updatedSinceFlush) continue;
        const start = this.delta ? this.lastFlushNs : st.startNs;
        const exemplars = st.exemplars.slice();
        callPoints.push({ attributes: cloneAttributes(st.attributes), startTimeUnixNano: start, timeUnixNano: nowNs, exemplars, flags: 0, value: st.calls, isInt: true });
        if (!this.s.config.histogram.disable) {
          durPoints.push({
            attributes: cloneAttributes(st.attributes), startTimeUnixNano: start, timeUnixNano: nowNs, exemplars, flags: 0,
            count: st.calls, sum: st.sum, bucketCounts: st.bucketCounts.slice(), explicitBounds: this.boundsMs.map((b) => b / this.unitScale),
            ...(st.calls ? { min: st.min, max: st.max } : {}),
          });
        }
        st.exemplars = [];
        st.updatedSinceFlush = false;
      }
      if (this.delta) {
        // Delta: every interval starts from zero, which also frees the series of quiet spans.
        this.seriesCount -= r.series.size;
        r.series.clear();
      }
      if (r.series.size === 0) this.resources.delete(rkey);
      if (!callPoints.length) continue;
      const metrics: Metric[] = [{
        name: `${ns}.calls`, description: 'Number of spans', unit: '{call}', metadata: {},
        data: { type: 'sum', isMonotonic: true, aggregationTemporality: temporality, dataPoints: callPoints },
      }];
      if (durPoints.length) {
        metrics.push({
          name: `${ns}.duration`, description: 'Span duration', unit: this.s.config.histogram.unit, metadata: {},
          data: { type: 'histogram', aggregationTemporality: temporality, dataPoints: durPoints },
        });
      }
      out.push({
        resource: { attributes: cloneAttributes(r.resource.attributes), droppedAttributesCount: 0 }, schemaUrl: '',
        scopeMetrics: [{ scope: { name: 'spanmetricsconnector', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics }],
      });
    }
    this.lastFlushNs = nowNs;
    return { resourceMetrics: out };
  }

  /** Collects and sends; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const md = this.collect();
      if (!md.resourceMetrics.length) return;
      try {
        await this.next.consume(md);
      } catch (err) {
        this.s.logger.warn({ err: (err as Error).message }, 'spanmetrics: the metrics pipeline refused a flush');
      }
    });
    return this.flushing;
  }

  async start(): Promise<void> {
    if (this.flushMs > 0) {
      this.timer = setInterval(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

/** First bucket whose upper bound is ≥ v (OpenTelemetry buckets are upper-inclusive). */
function bucketIndex(bounds: number[], v: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= bounds[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function seriesKey(attrs: Attributes): string {
  let k = '';
  for (const name of Object.keys(attrs).sort()) k += name + '\u0000' + (stringValue(attrs[name]) ?? '') + '\u0001';
  return k;
}
