/**
 * Main-thread side of the store: turns the data model into compact flat rows that the writer
 * thread inserts as they are. This runs on the event loop for every item, so it does as little as
 * possible: no hashing, no id lookups (resources, scopes and series are resolved in the worker),
 * times stay bigint (the structured clone carries them and SQLite binds them as INTEGER).
 */
import { EXP_HISTOGRAM_COLS, HISTOGRAM_COLS, LOG_COLS, METRIC_COLS, NUMBER_COLS, RESOURCE_COLS, SCOPE_COLS, SPAN_COLS, SUMMARY_COLS } from './columns';
import {
  AnyValue, Attributes, Double, Exemplar, InstrumentationScope, KvList, Logs, Metrics, Resource, Traces, attributesToJs, anyValueToJs, streamAttributes,
} from '../../src/model';

/** A batch as posted to the writer thread. Every array is flat: `*_COLS` values per row. */
export interface RowBatch {
  resources: unknown[];
  scopes: unknown[];
  spans?: unknown[];
  logs?: unknown[];
  metrics?: unknown[];
  numberPoints?: unknown[];
  histogramPoints?: unknown[];
  expHistogramPoints?: unknown[];
  summaryPoints?: unknown[];
  /** Rows that will be inserted (the unit of backpressure). */
  rows: number;
}

export * from './columns';

/**
 * Attributes as JSON text. Most attribute values are strings, numbers and booleans, which
 * JSON.stringify handles natively (Double has toJSON); only maps with bigints, bytes or nested
 * values take the slower converting path.
 */
export function attributesJson(attrs: Attributes): string {
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v === 'object' && v !== null && !(v instanceof Double)) return JSON.stringify(attributesToJs(attrs));
    if (typeof v === 'bigint') return JSON.stringify(attributesToJs(attrs));
  }
  return JSON.stringify(attrs);
}

const EMPTY = '{}';
const attrs = (a: Attributes): string => {
  for (const _ in a) return attributesJson(a);
  return EMPTY;
};

export function serviceName(r: Resource): string {
  const v = r.attributes['service.name'];
  return typeof v === 'string' ? v : '';
}

/** The body as (type, text): strings stay plain text so they can be searched with LIKE. */
export function encodeBody(v: AnyValue): [string, string | null] {
  if (typeof v === 'string') return ['string', v];
  if (v === null || v === undefined) return ['empty', null];
  if (typeof v === 'boolean') return ['bool', v ? 'true' : 'false'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['int', String(v)] : ['double', JSON.stringify(v)];
  if (typeof v === 'bigint') return ['int', v.toString()];
  if (v instanceof Double) return ['double', JSON.stringify(v.value)];
  if (v instanceof Uint8Array) return ['bytes', anyValueToJs(v) as string];
  if (v instanceof KvList) return ['kvlist', JSON.stringify(anyValueToJs(v))];
  return ['array', JSON.stringify(anyValueToJs(v))];
}

function exemplarsJson(ex: Exemplar[] | undefined): string | null {
  if (!ex || ex.length === 0) return null;
  return JSON.stringify(ex.map((e) => ({
    time_unix_nano: e.timeUnixNano.toString(),
    ...(e.isInt ? { as_int: e.value.toString() } : { as_double: Number(e.value) }),
    span_id: e.spanId,
    trace_id: e.traceId,
    filtered_attributes: attributesToJs(e.filteredAttributes),
  })));
}

class Builder {
  readonly batch: RowBatch = { resources: [], scopes: [], rows: 0 };

  resource(r: Resource, schemaUrl: string): number {
    const b = this.batch.resources;
    b.push(attrs(r.attributes), r.droppedAttributesCount, schemaUrl, serviceName(r));
    return b.length / RESOURCE_COLS - 1;
  }

  scope(s: InstrumentationScope, schemaUrl: string): number {
    const b = this.batch.scopes;
    b.push(s.name, s.version, attrs(s.attributes), s.droppedAttributesCount, schemaUrl);
    return b.length / SCOPE_COLS - 1;
  }
}

export function tracesToRows(t: Traces): RowBatch {
  const b = new Builder();
  const out: unknown[] = [];
  for (const rs of t.resourceSpans) {
    const ri = b.resource(rs.resource, rs.schemaUrl);
    for (const ss of rs.scopeSpans) {
      if (ss.spans.length === 0) continue;
      const si = b.scope(ss.scope, ss.schemaUrl);
      for (const s of ss.spans) {
        out.push(
          ri, si, s.traceId, s.spanId, s.parentSpanId, s.traceState, s.flags, s.name, s.kind,
          s.startTimeUnixNano, s.endTimeUnixNano, s.status.code, s.status.message, attrs(s.attributes), s.droppedAttributesCount,
          s.events.length === 0 ? null : JSON.stringify(s.events.map((e) => ({
            time_unix_nano: e.timeUnixNano.toString(), name: e.name, attributes: attributesToJs(e.attributes), dropped_attributes_count: e.droppedAttributesCount,
          }))),
          s.droppedEventsCount,
          s.links.length === 0 ? null : JSON.stringify(s.links.map((l) => ({
            trace_id: l.traceId, span_id: l.spanId, trace_state: l.traceState, attributes: attributesToJs(l.attributes), dropped_attributes_count: l.droppedAttributesCount, flags: l.flags,
          }))),
          s.droppedLinksCount,
        );
      }
    }
  }
  b.batch.spans = out;
  b.batch.rows = out.length / SPAN_COLS;
  return b.batch;
}

export function logsToRows(l: Logs): RowBatch {
  const b = new Builder();
  const out: unknown[] = [];
  for (const rl of l.resourceLogs) {
    const ri = b.resource(rl.resource, rl.schemaUrl);
    for (const sl of rl.scopeLogs) {
      if (sl.logRecords.length === 0) continue;
      const si = b.scope(sl.scope, sl.schemaUrl);
      for (const r of sl.logRecords) {
        const [bodyType, body] = encodeBody(r.body);
        // OTLP: when the event time is unset, the observed time stands for it.
        const ts = r.timeUnixNano !== 0n ? r.timeUnixNano : r.observedTimeUnixNano;
        out.push(
          ri, si, ts, r.timeUnixNano, r.observedTimeUnixNano, r.severityNumber, r.severityText, bodyType, body,
          attrs(r.attributes), r.droppedAttributesCount, r.flags, r.traceId, r.spanId, r.eventName,
        );
      }
    }
  }
  b.batch.logs = out;
  b.batch.rows = out.length / LOG_COLS;
  return b.batch;
}

const TYPE_NAMES = { gauge: 'gauge', sum: 'sum', histogram: 'histogram', exponentialHistogram: 'exponential_histogram', summary: 'summary' } as const;

export function metricsToRows(m: Metrics): RowBatch {
  const b = new Builder();
  const metrics: unknown[] = [];
  const num: unknown[] = [];
  const hist: unknown[] = [];
  const exp: unknown[] = [];
  const sum: unknown[] = [];
  for (const rm of m.resourceMetrics) {
    const ri = b.resource(rm.resource, rm.schemaUrl);
    for (const sm of rm.scopeMetrics) {
      if (sm.metrics.length === 0) continue;
      const si = b.scope(sm.scope, sm.schemaUrl);
      for (const metric of sm.metrics) {
        const d = metric.data;
        if (d.type === 'empty' || d.dataPoints.length === 0) continue;
        const mi = metrics.length / METRIC_COLS;
        const temporality = 'aggregationTemporality' in d ? d.aggregationTemporality : 0;
        const monotonic = d.type === 'sum' && d.isMonotonic ? 1 : 0;
        metrics.push(ri, si, metric.name, metric.description, metric.unit, TYPE_NAMES[d.type], temporality, monotonic, attrs(metric.metadata));
        switch (d.type) {
          case 'gauge':
          case 'sum':
            for (const p of d.dataPoints) {
              // An int point is bound as BigInt so SQLite stores it as INTEGER: typeof(value) keeps as_int vs as_double.
              const v = p.isInt ? BigInt(p.value) : Number(p.value);
              num.push(mi, attrs(streamAttributes(p.attributes)), p.startTimeUnixNano, p.timeUnixNano, v, p.flags, exemplarsJson(p.exemplars));
            }
            break;
          case 'histogram':
            for (const p of d.dataPoints) {
              hist.push(mi, attrs(streamAttributes(p.attributes)), p.startTimeUnixNano, p.timeUnixNano, p.count, p.sum ?? null, p.min ?? null, p.max ?? null,
                JSON.stringify(p.bucketCounts), JSON.stringify(p.explicitBounds), p.flags, exemplarsJson(p.exemplars));
            }
            break;
          case 'exponentialHistogram':
            for (const p of d.dataPoints) {
              exp.push(mi, attrs(streamAttributes(p.attributes)), p.startTimeUnixNano, p.timeUnixNano, p.count, p.sum ?? null, p.min ?? null, p.max ?? null,
                p.scale, p.zeroCount, p.zeroThreshold, p.positive.offset, JSON.stringify(p.positive.bucketCounts),
                p.negative.offset, JSON.stringify(p.negative.bucketCounts), p.flags, exemplarsJson(p.exemplars));
            }
            break;
          case 'summary':
            for (const p of d.dataPoints) {
              sum.push(mi, attrs(streamAttributes(p.attributes)), p.startTimeUnixNano, p.timeUnixNano, p.count, p.sum, JSON.stringify(p.quantileValues), p.flags);
            }
            break;
        }
      }
    }
  }
  const batch = b.batch;
  batch.metrics = metrics;
  if (num.length) batch.numberPoints = num;
  if (hist.length) batch.histogramPoints = hist;
  if (exp.length) batch.expHistogramPoints = exp;
  if (sum.length) batch.summaryPoints = sum;
  batch.rows = num.length / NUMBER_COLS + hist.length / HISTOGRAM_COLS + exp.length / EXP_HISTOGRAM_COLS + sum.length / SUMMARY_COLS;
  return batch;
}
