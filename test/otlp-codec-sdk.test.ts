/**
 * Payloads written by the real OpenTelemetry JS serializers (the ones the SDK's OTLP exporters
 * use) decode to exactly what the SDK recorded: ids, names, attributes, nanosecond times, values.
 */
import t from 'tap';
import { SpanKind, SpanStatusCode, ValueType, context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { KvList } from '../src/model/common';
import type { HistogramDataPoint, Logs, Metric, Metrics, NumberDataPoint, Traces } from '../src/model';
import { decodeLogs, decodeMetrics, decodeTraces, logsFromJson, metricsFromJson, tracesFromJson } from '../src/otlp';

const RESOURCE = { 'service.name': 'checkout', 'service.version': '1.4.2', 'process.pid': 4242 };
const hrNanos = (hr: [number, number]): bigint => BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1]);
const fromJsonText = (u: Uint8Array) => JSON.parse(Buffer.from(u).toString('utf8'));

t.test('traces from the SDK serializers', async (t) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(RESOURCE), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('codec-test', '2.0.0');
  // A start time with sub-millisecond precision: [seconds, nanoseconds].
  const root = tracer.startSpan('GET /orders/{id}', {
    kind: SpanKind.SERVER, startTime: [1_700_000_000, 123_456_789],
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 503, ratio: 0.75, ok: false, tags: ['a', 'b'], counts: [1, 2] },
  });
  root.addEvent('exception', { 'exception.type': 'TimeoutError' }, [1_700_000_000, 200_000_001]);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
  const child = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT, startTime: [1_700_000_000, 150_000_000],
    links: [{ context: { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 }, attributes: { why: 'retry of' } }],
  }, trace.setSpan(context.active(), root));
  child.end([1_700_000_000, 180_000_000]);
  root.end([1_700_000_000, 223_456_789]);
  const spans = exporter.getFinishedSpans();

  const check = (tr: Traces, how: string) => {
    t.equal(tr.resourceSpans.length, 1, how);
    const rs = tr.resourceSpans[0];
    t.equal(rs.resource.attributes['service.name'], 'checkout', how);
    t.equal(rs.resource.attributes['process.pid'], 4242, how);
    const ss = rs.scopeSpans[0];
    t.same([ss.scope.name, ss.scope.version], ['codec-test', '2.0.0'], how);
    t.equal(ss.spans.length, 2, how);
    for (const sdk of spans) {
      const span = ss.spans.find((s) => s.spanId === sdk.spanContext().spanId);
      if (!span) { t.fail(`${how}: span ${sdk.name} missing`); continue; }
      t.equal(span.traceId, sdk.spanContext().traceId, `${how}: trace id`);
      t.equal(span.parentSpanId, sdk.parentSpanContext?.spanId ?? '', `${how}: parent`);
      t.equal(span.name, sdk.name, how);
      t.equal(span.kind, sdk.kind + 1, `${how}: kind (OTLP = SDK + 1)`);
      t.equal(span.startTimeUnixNano, hrNanos(sdk.startTime), `${how}: start time to the nanosecond`);
      t.equal(span.endTimeUnixNano, hrNanos(sdk.endTime), `${how}: end time`);
      t.equal(span.flags & 0xff, sdk.spanContext().traceFlags, `${how}: trace flags`);
    }
    const root2 = ss.spans.find((s) => s.name === 'GET /orders/{id}')!;
    t.same(root2.attributes['http.request.method'], 'GET', how);
    t.equal(root2.attributes['http.response.status_code'], 503, how);
    t.equal(root2.attributes.ratio, 0.75, how);
    t.equal(root2.attributes.ok, false, how);
    t.same(root2.attributes.tags, ['a', 'b'], how);
    t.same(root2.attributes.counts, [1, 2], how);
    t.same(root2.status, { code: 2, message: 'upstream timeout' }, how);
    t.equal(root2.events[0].name, 'exception', how);
    t.equal(root2.events[0].timeUnixNano, 1_700_000_000_200_000_001n, how);
    t.equal(root2.events[0].attributes['exception.type'], 'TimeoutError', how);
    const child2 = ss.spans.find((s) => s.name === 'SELECT orders')!;
    t.equal(child2.links[0].traceId, 'ab'.repeat(16), how);
    t.equal(child2.links[0].spanId, 'cd'.repeat(8), how);
    t.equal(child2.links[0].attributes.why, 'retry of', how);
  };
  check(decodeTraces(ProtobufTraceSerializer.serializeRequest(spans)!), 'protobuf');
  check(tracesFromJson(fromJsonText(JsonTraceSerializer.serializeRequest(spans)!)), 'json');
  await provider.shutdown();
});

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

t.test('metrics from the SDK serializers', async (t) => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes(RESOURCE), readers: [reader],
    views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('codec-test', '2.0.0');
  const attrs = { 'http.route': '/orders' };
  meter.createCounter('requests', { valueType: ValueType.INT, description: 'served', unit: '{request}' }).add(7, attrs);
  meter.createUpDownCounter('in.flight').add(-2.5, attrs);
  meter.createGauge('temperature', { unit: 'Cel' }).record(21.5, attrs);
  const h = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
  for (const v of [5, 50, 500, 60]) h.record(v, attrs);
  const eh = meter.createHistogram('payload.size', { unit: 'By' });
  for (const v of [1, 2, 4, 1024]) eh.record(v, attrs);
  const { resourceMetrics } = await reader.collect();

  const check = (m: Metrics, how: string) => {
    const sm = m.resourceMetrics[0].scopeMetrics[0];
    t.equal(m.resourceMetrics[0].resource.attributes['service.name'], 'checkout', how);
    const byName = (n: string): Metric => sm.metrics.find((x) => x.name === n)!;
    const sdkPoint = (n: string) => resourceMetrics.scopeMetrics[0].metrics.find((x) => x.descriptor.name === n)!.dataPoints[0];

    const requests = byName('requests');
    t.same([requests.description, requests.unit, requests.data.type], ['served', '{request}', 'sum'], how);
    const rp = requests.data.dataPoints[0] as NumberDataPoint;
    t.same([rp.value, rp.isInt], [7, true], `${how}: int counter value`);
    t.equal(rp.attributes['http.route'], '/orders', how);
    t.equal(rp.timeUnixNano, hrNanos(sdkPoint('requests').endTime), `${how}: point time to the nanosecond`);
    t.equal(rp.startTimeUnixNano, hrNanos(sdkPoint('requests').startTime), `${how}: start time`);
    t.ok(requests.data.type === 'sum' && requests.data.isMonotonic && requests.data.aggregationTemporality === 2, `${how}: monotonic cumulative`);

    const inFlight = byName('in.flight');
    t.ok(inFlight.data.type === 'sum' && !inFlight.data.isMonotonic, how);
    t.same((inFlight.data.dataPoints[0] as NumberDataPoint).value, -2.5, how);
    t.equal(byName('temperature').data.type, 'gauge', how);
    t.equal((byName('temperature').data.dataPoints[0] as NumberDataPoint).value, 21.5, how);

    const lat = byName('latency');
    t.equal(lat.data.type, 'histogram', how);
    const hp = lat.data.dataPoints[0] as HistogramDataPoint;
    t.same([hp.count, hp.sum, hp.min, hp.max], [4, 615, 5, 500], `${how}: histogram count/sum/min/max`);
    t.same(hp.explicitBounds, [10, 100], how);
    t.same(hp.bucketCounts, [1, 2, 1], how);

    const size = byName('payload.size');
    t.equal(size.data.type, 'exponentialHistogram', how);
    if (size.data.type === 'exponentialHistogram') {
      const ep = size.data.dataPoints[0];
      const sdk = sdkPoint('payload.size').value as any;
      t.same([ep.count, ep.sum, ep.scale, ep.zeroCount], [sdk.count, sdk.sum, sdk.scale, sdk.zeroCount], `${how}: exp histogram`);
      t.same(ep.positive, { offset: sdk.positive.offset, bucketCounts: sdk.positive.bucketCounts }, how);
    }
  };
  check(decodeMetrics(ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!), 'protobuf');
  check(metricsFromJson(fromJsonText(JsonMetricsSerializer.serializeRequest(resourceMetrics)!)), 'json');
  await provider.shutdown();
});

t.test('logs from the SDK serializers', async (t) => {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(RESOURCE), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('codec-test', '2.0.0');
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const spanId = 'b7ad6b7169203331';
  const ctx = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: 1 });
  logger.emit({
    timestamp: [1_700_000_000, 987_654_321], observedTimestamp: [1_700_000_001, 5],
    severityNumber: SeverityNumber.WARN2, severityText: 'WARN',
    body: { msg: 'disk almost full', free: 1.5, parts: ['a', 2] },
    attributes: { 'log.file.name': 'app.log', big: 2 ** 40 }, context: ctx, eventName: 'disk.pressure',
  });
  logger.emit({ body: 'plain line', timestamp: [1_700_000_002, 0] });
  const records = exporter.getFinishedLogRecords();

  const check = (l: Logs, how: string) => {
    const sl = l.resourceLogs[0].scopeLogs[0];
    t.same([sl.scope.name, sl.scope.version], ['codec-test', '2.0.0'], how);
    const [a, b] = sl.logRecords;
    t.equal(a.timeUnixNano, 1_700_000_000_987_654_321n, `${how}: time to the nanosecond`);
    t.equal(a.observedTimeUnixNano, 1_700_000_001_000_000_005n, how);
    t.same([a.severityNumber, a.severityText], [14, 'WARN'], how);
    t.same([a.traceId, a.spanId, a.flags & 0xff], [traceId, spanId, 1], how);
    t.ok(a.body instanceof KvList, `${how}: structured body is a KvList`);
    const body = (a.body as KvList).values;
    t.equal(body.msg, 'disk almost full', how);
    t.equal(body.free, 1.5, how);
    t.same(body.parts, ['a', 2], how);
    t.equal(a.attributes.big, 2 ** 40, how);
    t.equal(a.eventName, records[0].eventName ?? '', `${how}: event name`);
    t.equal(b.body, 'plain line', how);
    t.same([b.traceId, b.spanId], ['', ''], how);
  };
  check(decodeLogs(ProtobufLogsSerializer.serializeRequest(records)!), 'protobuf');
  check(logsFromJson(fromJsonText(JsonLogsSerializer.serializeRequest(records)!)), 'json');
  t.equal(records[0].eventName, 'disk.pressure', 'the SDK kept the event name, so the check above is meaningful');
  await provider.shutdown();
});
