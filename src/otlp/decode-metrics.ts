/** ExportMetricsServiceRequest (or MetricsData) bytes → Metrics, straight from the buffer. */
import type {
  Exemplar, ExpBuckets, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, MetricData, Metrics,
  NumberDataPoint, ResourceMetrics, ScopeMetrics, SummaryDataPoint, ValueAtQuantile,
} from '../model';
import { emptyResource, emptyScope } from '../model/common';
import { DecodeError } from './errors';
import { decodeResource, decodeScope, nested, readAttribute } from './decode-common';
import { chargeItem, chargeValues } from './limits';
import { Reader, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './reader';

const T = (field: number, wire: number): number => (field << 3) | wire;

const REQ_FIELDS = [undefined, 'resourceMetrics'];
const RM_FIELDS = [undefined, 'resource', 'scopeMetrics', 'schemaUrl'];
const SM_FIELDS = [undefined, 'scope', 'metrics', 'schemaUrl'];
const METRIC_FIELDS = [undefined, 'name', 'description', 'unit', undefined, 'gauge', undefined, 'sum', undefined,
  'histogram', 'exponentialHistogram', 'summary', 'metadata'];
const SUM_FIELDS = [undefined, 'dataPoints', 'aggregationTemporality', 'isMonotonic'];
const HISTOGRAM_FIELDS = SUM_FIELDS.slice(0, 3);
const GAUGE_FIELDS = SUM_FIELDS.slice(0, 2);
const NDP_FIELDS = [undefined, undefined, 'startTimeUnixNano', 'timeUnixNano', 'asDouble', 'exemplars', 'asInt', 'attributes', 'flags'];
const HDP_FIELDS = [undefined, undefined, 'startTimeUnixNano', 'timeUnixNano', 'count', 'sum', 'bucketCounts',
  'explicitBounds', 'exemplars', 'attributes', 'flags', 'min', 'max'];
const EDP_FIELDS = [undefined, 'attributes', 'startTimeUnixNano', 'timeUnixNano', 'count', 'sum', 'scale', 'zeroCount',
  'positive', 'negative', 'flags', 'exemplars', 'min', 'max', 'zeroThreshold'];
const BUCKETS_FIELDS = [undefined, 'offset', 'bucketCounts'];
const SDP_FIELDS = [undefined, undefined, 'startTimeUnixNano', 'timeUnixNano', 'count', 'sum', 'quantileValues', 'attributes', 'flags'];
const VAQ_FIELDS = [undefined, 'quantile', 'value'];
const EX_FIELDS = [undefined, undefined, 'timeUnixNano', 'asDouble', 'spanId', 'traceId', 'asInt', 'filteredAttributes'];

export function decodeMetrics(buf: Uint8Array): Metrics {
  const r = new Reader(buf);
  const end = r.buf.length;
  const resourceMetrics: ResourceMetrics[] = [];
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === T(1, WIRE_LEN)) resourceMetrics.push(nested(r, end, 'resourceMetrics', resourceMetrics.length, decodeResourceMetrics));
    else r.skip(tag, end, REQ_FIELDS);
  }
  r.finish(end);
  return { resourceMetrics };
}

function decodeResourceMetrics(r: Reader, end: number): ResourceMetrics {
  chargeItem();
  const rm: ResourceMetrics = { resource: emptyResource(), schemaUrl: '', scopeMetrics: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(1, WIRE_LEN): nested(r, end, 'resource', -1, (r2, e) => decodeResource(r2, e, rm.resource)); break;
      case T(2, WIRE_LEN): rm.scopeMetrics.push(nested(r, end, 'scopeMetrics', rm.scopeMetrics.length, decodeScopeMetrics)); break;
      case T(3, WIRE_LEN): rm.schemaUrl = r.string(end); break;
      default: r.skip(tag, end, RM_FIELDS);
    }
  }
  r.finish(end);
  return rm;
}

function decodeScopeMetrics(r: Reader, end: number): ScopeMetrics {
  chargeItem();
  const sm: ScopeMetrics = { scope: emptyScope(), schemaUrl: '', metrics: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(1, WIRE_LEN): nested(r, end, 'scope', -1, (r2, e) => decodeScope(r2, e, sm.scope)); break;
      case T(2, WIRE_LEN): sm.metrics.push(nested(r, end, 'metrics', sm.metrics.length, decodeMetric)); break;
      case T(3, WIRE_LEN): sm.schemaUrl = r.string(end); break;
      default: r.skip(tag, end, SM_FIELDS);
    }
  }
  r.finish(end);
  return sm;
}

function decodeMetric(r: Reader, end: number): Metric {
  chargeItem();
  const m: Metric = { name: '', description: '', unit: '', metadata: {}, data: { type: 'empty', dataPoints: [] } };
  let nMeta = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(1, WIRE_LEN): m.name = r.string(end); break;
      case T(2, WIRE_LEN): m.description = r.string(end); break;
      case T(3, WIRE_LEN): m.unit = r.string(end); break;
      case T(5, WIRE_LEN): m.data = nested(r, end, 'gauge', -1, (r2, e) => decodeData(r2, e, 'gauge')); break;
      case T(7, WIRE_LEN): m.data = nested(r, end, 'sum', -1, (r2, e) => decodeData(r2, e, 'sum')); break;
      case T(9, WIRE_LEN): m.data = nested(r, end, 'histogram', -1, (r2, e) => decodeData(r2, e, 'histogram')); break;
      case T(10, WIRE_LEN): m.data = nested(r, end, 'exponentialHistogram', -1, (r2, e) => decodeData(r2, e, 'exponentialHistogram')); break;
      case T(11, WIRE_LEN): m.data = nested(r, end, 'summary', -1, (r2, e) => decodeData(r2, e, 'summary')); break;
      case T(12, WIRE_LEN): readAttribute(r, end, m.metadata, 'metadata', nMeta++); break;
      default: r.skip(tag, end, METRIC_FIELDS);
    }
  }
  r.finish(end);
  return m;
}

type PointDecoder = (r: Reader, end: number) => unknown;
const POINT_DECODERS: Record<Exclude<MetricData['type'], 'empty'>, PointDecoder> = {
  gauge: decodeNumberPoint,
  sum: decodeNumberPoint,
  histogram: decodeHistogramPoint,
  exponentialHistogram: decodeExpHistogramPoint,
  summary: decodeSummaryPoint,
};

/** Gauge, Sum, Histogram, ExponentialHistogram and Summary share field numbers 1-3. */
function decodeData(r: Reader, end: number, type: Exclude<MetricData['type'], 'empty'>): MetricData {
  const decodePoint = POINT_DECODERS[type];
  const dataPoints: unknown[] = [];
  let temporality = 0;
  let monotonic = false;
  const fields = type === 'sum' ? SUM_FIELDS : type === 'gauge' || type === 'summary' ? GAUGE_FIELDS : HISTOGRAM_FIELDS;
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === T(1, WIRE_LEN)) dataPoints.push(nested(r, end, 'dataPoints', dataPoints.length, decodePoint));
    else if (tag === T(2, WIRE_VARINT) && fields.length > 2) temporality = r.varint32() | 0;
    else if (tag === T(3, WIRE_VARINT) && fields.length > 3) monotonic = r.bool();
    else r.skip(tag, end, fields);
  }
  r.finish(end);
  switch (type) {
    case 'gauge': return { type, dataPoints: dataPoints as NumberDataPoint[] };
    case 'sum': return { type, dataPoints: dataPoints as NumberDataPoint[], aggregationTemporality: temporality, isMonotonic: monotonic };
    case 'histogram': return { type, dataPoints: dataPoints as HistogramDataPoint[], aggregationTemporality: temporality };
    case 'exponentialHistogram': return { type, dataPoints: dataPoints as ExponentialHistogramDataPoint[], aggregationTemporality: temporality };
    case 'summary': return { type, dataPoints: dataPoints as SummaryDataPoint[] };
  }
}

function decodeNumberPoint(r: Reader, end: number): NumberDataPoint {
  chargeItem();
  const p: NumberDataPoint = { attributes: {}, startTimeUnixNano: 0n, timeUnixNano: 0n, exemplars: [], flags: 0, value: 0, isInt: false };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(7, WIRE_LEN): readAttribute(r, end, p.attributes, 'attributes', nAttrs++); break;
      case T(2, WIRE_I64): p.startTimeUnixNano = r.fixed64(); break;
      case T(3, WIRE_I64): p.timeUnixNano = r.fixed64(); break;
      case T(4, WIRE_I64): p.value = r.double(); p.isInt = false; break;
      case T(6, WIRE_I64): p.value = r.sfixed64(); p.isInt = true; break;
      case T(5, WIRE_LEN): p.exemplars.push(nested(r, end, 'exemplars', p.exemplars.length, decodeExemplar)); break;
      case T(8, WIRE_VARINT): p.flags = r.varint32(); break;
      default: r.skip(tag, end, NDP_FIELDS);
    }
  }
  r.finish(end);
  return p;
}

function decodeHistogramPoint(r: Reader, end: number): HistogramDataPoint {
  chargeItem();
  const p: HistogramDataPoint = {
    attributes: {}, startTimeUnixNano: 0n, timeUnixNano: 0n, exemplars: [], flags: 0,
    count: 0, sum: undefined, bucketCounts: [], explicitBounds: [], min: undefined, max: undefined,
  };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(9, WIRE_LEN): readAttribute(r, end, p.attributes, 'attributes', nAttrs++); break;
      case T(2, WIRE_I64): p.startTimeUnixNano = r.fixed64(); break;
      case T(3, WIRE_I64): p.timeUnixNano = r.fixed64(); break;
      case T(4, WIRE_I64): p.count = r.fixed64Number(); break;
      case T(5, WIRE_I64): p.sum = r.double(); break;
      // Repeated scalars may come packed (the proto3 default) or one per tag; both are legal.
      case T(6, WIRE_LEN): packedFixed64(r, end, p.bucketCounts); break;
      case T(6, WIRE_I64): chargeValues(1); p.bucketCounts.push(r.fixed64Number()); break;
      case T(7, WIRE_LEN): packedDouble(r, end, p.explicitBounds); break;
      case T(7, WIRE_I64): chargeValues(1); p.explicitBounds.push(r.double()); break;
      case T(8, WIRE_LEN): p.exemplars.push(nested(r, end, 'exemplars', p.exemplars.length, decodeExemplar)); break;
      case T(10, WIRE_VARINT): p.flags = r.varint32(); break;
      case T(11, WIRE_I64): p.min = r.double(); break;
      case T(12, WIRE_I64): p.max = r.double(); break;
      default: r.skip(tag, end, HDP_FIELDS);
    }
  }
  r.finish(end);
  return p;
}

function decodeExpHistogramPoint(r: Reader, end: number): ExponentialHistogramDataPoint {
  chargeItem();
  const p: ExponentialHistogramDataPoint = {
    attributes: {}, startTimeUnixNano: 0n, timeUnixNano: 0n, exemplars: [], flags: 0,
    count: 0, sum: undefined, scale: 0, zeroCount: 0, positive: { offset: 0, bucketCounts: [] },
    negative: { offset: 0, bucketCounts: [] }, min: undefined, max: undefined, zeroThreshold: 0,
  };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(1, WIRE_LEN): readAttribute(r, end, p.attributes, 'attributes', nAttrs++); break;
      case T(2, WIRE_I64): p.startTimeUnixNano = r.fixed64(); break;
      case T(3, WIRE_I64): p.timeUnixNano = r.fixed64(); break;
      case T(4, WIRE_I64): p.count = r.fixed64Number(); break;
      case T(5, WIRE_I64): p.sum = r.double(); break;
      case T(6, WIRE_VARINT): p.scale = r.sint32(); break;
      case T(7, WIRE_I64): p.zeroCount = r.fixed64Number(); break;
      case T(8, WIRE_LEN): nested(r, end, 'positive', -1, (r2, e) => decodeBuckets(r2, e, p.positive)); break;
      case T(9, WIRE_LEN): nested(r, end, 'negative', -1, (r2, e) => decodeBuckets(r2, e, p.negative)); break;
      case T(10, WIRE_VARINT): p.flags = r.varint32(); break;
      case T(11, WIRE_LEN): p.exemplars.push(nested(r, end, 'exemplars', p.exemplars.length, decodeExemplar)); break;
      case T(12, WIRE_I64): p.min = r.double(); break;
      case T(13, WIRE_I64): p.max = r.double(); break;
      case T(14, WIRE_I64): p.zeroThreshold = r.double(); break;
      default: r.skip(tag, end, EDP_FIELDS);
    }
  }
  r.finish(end);
  return p;
}

function decodeBuckets(r: Reader, end: number, into: ExpBuckets): void {
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(1, WIRE_VARINT): into.offset = r.sint32(); break;
      case T(2, WIRE_LEN): {
        const e = r.lengthEnd(end);
        chargeValues(e - r.pos);
        while (r.pos < e) into.bucketCounts.push(r.uint64Number());
        r.finish(e);
        break;
      }
      case T(2, WIRE_VARINT): chargeValues(1); into.bucketCounts.push(r.uint64Number()); break;
      default: r.skip(tag, end, BUCKETS_FIELDS);
    }
  }
  r.finish(end);
}

function decodeSummaryPoint(r: Reader, end: number): SummaryDataPoint {
  chargeItem();
  const p: SummaryDataPoint = { attributes: {}, startTimeUnixNano: 0n, timeUnixNano: 0n, flags: 0, count: 0, sum: 0, quantileValues: [] };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(7, WIRE_LEN): readAttribute(r, end, p.attributes, 'attributes', nAttrs++); break;
      case T(2, WIRE_I64): p.startTimeUnixNano = r.fixed64(); break;
      case T(3, WIRE_I64): p.timeUnixNano = r.fixed64(); break;
      case T(4, WIRE_I64): p.count = r.fixed64Number(); break;
      case T(5, WIRE_I64): p.sum = r.double(); break;
      case T(6, WIRE_LEN): p.quantileValues.push(nested(r, end, 'quantileValues', p.quantileValues.length, decodeQuantile)); break;
      case T(8, WIRE_VARINT): p.flags = r.varint32(); break;
      default: r.skip(tag, end, SDP_FIELDS);
    }
  }
  r.finish(end);
  return p;
}

function decodeQuantile(r: Reader, end: number): ValueAtQuantile {
  chargeItem();
  const q: ValueAtQuantile = { quantile: 0, value: 0 };
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === T(1, WIRE_I64)) q.quantile = r.double();
    else if (tag === T(2, WIRE_I64)) q.value = r.double();
    else r.skip(tag, end, VAQ_FIELDS);
  }
  r.finish(end);
  return q;
}

function decodeExemplar(r: Reader, end: number): Exemplar {
  chargeItem();
  const ex: Exemplar = { filteredAttributes: {}, timeUnixNano: 0n, value: 0, isInt: false, spanId: '', traceId: '' };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case T(7, WIRE_LEN): readAttribute(r, end, ex.filteredAttributes, 'filteredAttributes', nAttrs++); break;
      case T(2, WIRE_I64): ex.timeUnixNano = r.fixed64(); break;
      case T(3, WIRE_I64): ex.value = r.double(); ex.isInt = false; break;
      case T(6, WIRE_I64): ex.value = r.sfixed64(); ex.isInt = true; break;
      case T(4, WIRE_LEN): ex.spanId = r.id(end, 8, 'spanId'); break;
      case T(5, WIRE_LEN): ex.traceId = r.id(end, 16, 'traceId'); break;
      default: r.skip(tag, end, EX_FIELDS);
    }
  }
  r.finish(end);
  return ex;
}

function packedFixed64(r: Reader, end: number, out: number[]): void {
  const e = r.lengthEnd(end);
  if ((e - r.pos) % 8 !== 0) throw new DecodeError('packed fixed64 length is not a multiple of 8', 'bucketCounts');
  chargeValues((e - r.pos) / 8);
  while (r.pos < e) out.push(r.fixed64Number());
}

function packedDouble(r: Reader, end: number, out: number[]): void {
  const e = r.lengthEnd(end);
  if ((e - r.pos) % 8 !== 0) throw new DecodeError('packed double length is not a multiple of 8', 'explicitBounds');
  chargeValues((e - r.pos) / 8);
  while (r.pos < e) out.push(r.double());
}
