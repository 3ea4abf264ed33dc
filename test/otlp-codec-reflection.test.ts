/**
 * The hand-written decoder against protobufjs reflection (loaded from proto/) on the same bytes:
 * reflection output is mapped to the model by the small, independent converter below and the two
 * results must agree field by field. The bytes come both from our encoder and from protobufjs's.
 */
import t from 'tap';
import { Double, KvList } from '../src/model/common';
import type { AnyValue, Attributes, Signal } from '../src/model';
import { MESSAGE_TYPES, decode, encode, messageType } from '../src/otlp';
import { canon, fullLogs, fullMetrics, fullTraces } from './otlp-codec-fixtures';

type O = Record<string, any>;
const OPTS = { longs: String, enums: Number, defaults: true, oneofs: true, arrays: true };

const hex = (b: Uint8Array | undefined): string => (b && b.length ? Buffer.from(b).toString('hex') : '');
const int64 = (s: string): number | bigint => (Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s));
const big = (s: string | number): bigint => BigInt(s);

function anyValue(v: O | null | undefined): AnyValue {
  if (!v || !v.value) return null;
  switch (v.value) {
    case 'stringValue': return v.stringValue;
    case 'boolValue': return v.boolValue;
    case 'intValue': return int64(v.intValue);
    case 'doubleValue': return Number.isInteger(v.doubleValue) ? new Double(v.doubleValue) : v.doubleValue;
    case 'bytesValue': return new Uint8Array(v.bytesValue);
    case 'arrayValue': return (v.arrayValue.values as O[]).map(anyValue);
    case 'kvlistValue': return new KvList(attrs(v.kvlistValue.values));
  }
  throw new Error('unexpected AnyValue ' + v.value);
}

function attrs(list: O[]): Attributes {
  const out: Attributes = {};
  for (const kv of list) Object.defineProperty(out, kv.key, { value: anyValue(kv.value), enumerable: true, writable: true, configurable: true });
  return out;
}

const resource = (r: O | null) => ({ attributes: attrs(r?.attributes ?? []), droppedAttributesCount: r?.droppedAttributesCount ?? 0 });
const scope = (s: O | null) => ({ name: s?.name ?? '', version: s?.version ?? '', attributes: attrs(s?.attributes ?? []), droppedAttributesCount: s?.droppedAttributesCount ?? 0 });
const times = (p: O) => ({ startTimeUnixNano: big(p.startTimeUnixNano), timeUnixNano: big(p.timeUnixNano) });
const exemplars = (list: O[]) => list.map((e) => ({
  filteredAttributes: attrs(e.filteredAttributes), timeUnixNano: big(e.timeUnixNano),
  value: e.value === 'asInt' ? int64(e.asInt) : e.value === 'asDouble' ? e.asDouble : 0, isInt: e.value === 'asInt',
  spanId: hex(e.spanId), traceId: hex(e.traceId),
}));

function traces(o: O) {
  return { resourceSpans: o.resourceSpans.map((rs: O) => ({
    resource: resource(rs.resource), schemaUrl: rs.schemaUrl,
    scopeSpans: rs.scopeSpans.map((ss: O) => ({ scope: scope(ss.scope), schemaUrl: ss.schemaUrl, spans: ss.spans.map((s: O) => ({
      traceId: hex(s.traceId), spanId: hex(s.spanId), traceState: s.traceState, parentSpanId: hex(s.parentSpanId), flags: s.flags,
      name: s.name, kind: s.kind, startTimeUnixNano: big(s.startTimeUnixNano), endTimeUnixNano: big(s.endTimeUnixNano),
      attributes: attrs(s.attributes), droppedAttributesCount: s.droppedAttributesCount,
      events: s.events.map((e: O) => ({ timeUnixNano: big(e.timeUnixNano), name: e.name, attributes: attrs(e.attributes), droppedAttributesCount: e.droppedAttributesCount })),
      droppedEventsCount: s.droppedEventsCount,
      links: s.links.map((l: O) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), traceState: l.traceState, attributes: attrs(l.attributes), droppedAttributesCount: l.droppedAttributesCount, flags: l.flags })),
      droppedLinksCount: s.droppedLinksCount,
      status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
    })) })),
  })) };
}

function metricData(m: O) {
  const num = (p: O) => ({ attributes: attrs(p.attributes), ...times(p), exemplars: exemplars(p.exemplars), flags: p.flags,
    value: p.value === 'asInt' ? int64(p.asInt) : p.value === 'asDouble' ? p.asDouble : 0, isInt: p.value === 'asInt' });
  const opt = (p: O, k: string) => (p[`_${k}`] === k ? p[k] : undefined);
  switch (m.data) {
    case 'gauge': return { type: 'gauge', dataPoints: m.gauge.dataPoints.map(num) };
    case 'sum': return { type: 'sum', dataPoints: m.sum.dataPoints.map(num), aggregationTemporality: m.sum.aggregationTemporality, isMonotonic: m.sum.isMonotonic };
    case 'histogram': return { type: 'histogram', aggregationTemporality: m.histogram.aggregationTemporality, dataPoints: m.histogram.dataPoints.map((p: O) => ({
      attributes: attrs(p.attributes), ...times(p), exemplars: exemplars(p.exemplars), flags: p.flags, count: Number(p.count), sum: opt(p, 'sum'),
      bucketCounts: p.bucketCounts.map(Number), explicitBounds: p.explicitBounds, min: opt(p, 'min'), max: opt(p, 'max') })) };
    case 'exponentialHistogram': return { type: 'exponentialHistogram', aggregationTemporality: m.exponentialHistogram.aggregationTemporality,
      dataPoints: m.exponentialHistogram.dataPoints.map((p: O) => ({
        attributes: attrs(p.attributes), ...times(p), exemplars: exemplars(p.exemplars), flags: p.flags, count: Number(p.count), sum: opt(p, 'sum'),
        scale: p.scale, zeroCount: Number(p.zeroCount),
        positive: { offset: p.positive?.offset ?? 0, bucketCounts: (p.positive?.bucketCounts ?? []).map(Number) },
        negative: { offset: p.negative?.offset ?? 0, bucketCounts: (p.negative?.bucketCounts ?? []).map(Number) },
        min: opt(p, 'min'), max: opt(p, 'max'), zeroThreshold: p.zeroThreshold })) };
    case 'summary': return { type: 'summary', dataPoints: m.summary.dataPoints.map((p: O) => ({
      attributes: attrs(p.attributes), ...times(p), flags: p.flags, count: Number(p.count), sum: p.sum,
      quantileValues: p.quantileValues.map((q: O) => ({ quantile: q.quantile, value: q.value })) })) };
  }
  return { type: 'empty', dataPoints: [] };
}

function metrics(o: O) {
  return { resourceMetrics: o.resourceMetrics.map((rm: O) => ({
    resource: resource(rm.resource), schemaUrl: rm.schemaUrl,
    scopeMetrics: rm.scopeMetrics.map((sm: O) => ({ scope: scope(sm.scope), schemaUrl: sm.schemaUrl, metrics: sm.metrics.map((m: O) => ({
      name: m.name, description: m.description, unit: m.unit, metadata: attrs(m.metadata), data: metricData(m),
    })) })),
  })) };
}

function logs(o: O) {
  return { resourceLogs: o.resourceLogs.map((rl: O) => ({
    resource: resource(rl.resource), schemaUrl: rl.schemaUrl,
    scopeLogs: rl.scopeLogs.map((sl: O) => ({ scope: scope(sl.scope), schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.map((r: O) => ({
      timeUnixNano: big(r.timeUnixNano), observedTimeUnixNano: big(r.observedTimeUnixNano), severityNumber: r.severityNumber,
      severityText: r.severityText, body: anyValue(r.body), attributes: attrs(r.attributes), droppedAttributesCount: r.droppedAttributesCount,
      flags: r.flags, traceId: hex(r.traceId), spanId: hex(r.spanId), eventName: r.eventName,
    })) })),
  })) };
}

const viaReflection: Record<Signal, (o: O) => unknown> = { traces, metrics, logs };
const fixtures = { traces: fullTraces, metrics: fullMetrics, logs: fullLogs };

for (const signal of ['traces', 'metrics', 'logs'] as const) {
  t.test(`${signal}: our decoder agrees with protobufjs reflection`, async (t) => {
    const type = messageType(MESSAGE_TYPES[signal].request);
    const ours = encode(signal, fixtures[signal]() as never);
    const reflected = viaReflection[signal](type.toObject(type.decode(ours), OPTS));
    t.strictSame(canon(decode(signal, ours)), canon(reflected), 'bytes from our encoder');
    // And bytes that protobufjs itself wrote from the same message.
    const theirs = type.encode(type.decode(ours)).finish();
    t.strictSame(canon(decode(signal, theirs)), canon(reflected), 'bytes from protobufjs');
  });
}

t.test('repeated scalars are read both packed and unpacked', async (t) => {
  // HistogramDataPoint with bucket_counts (6) and explicit_bounds (7) one value per tag.
  const le = (n: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(n); return b; };
  const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
  const point = Buffer.concat([Buffer.from([0x31]), u64(3), Buffer.from([0x31]), u64(4), Buffer.from([0x39]), le(2.5)]);
  const hist = Buffer.concat([Buffer.from([0x0a, point.length]), point]);
  const metric = Buffer.concat([Buffer.from([0x0a, 1, 0x68, 0x4a, hist.length]), hist]);
  const sm = Buffer.concat([Buffer.from([0x12, metric.length]), metric]);
  const rm = Buffer.concat([Buffer.from([0x12, sm.length]), sm]);
  const req = Buffer.concat([Buffer.from([0x0a, rm.length]), rm]);
  const m = decode('metrics', req);
  const data = m.resourceMetrics[0].scopeMetrics[0].metrics[0].data;
  t.equal(data.type, 'histogram');
  t.same((data as any).dataPoints[0].bucketCounts, [3, 4]);
  t.same((data as any).dataPoints[0].explicitBounds, [2.5]);
  // And protobufjs agrees on the same bytes.
  const type = messageType(MESSAGE_TYPES.metrics.request);
  const obj = type.toObject(type.decode(req), OPTS) as O;
  t.same(obj.resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts.map(Number), [3, 4]);
});
