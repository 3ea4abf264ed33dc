/**
 * The real OpenTelemetry JS SDK as the client: spans, metrics and log records made by the SDK and
 * sent by its own OTLP exporters (HTTP/JSON, HTTP/protobuf, gRPC).
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, LoggerProvider, LogRecordExporter, ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as HttpJsonTraces } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter as HttpJsonMetrics } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoMetrics } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as GrpcMetrics } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogs } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as HttpProtoLogs } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { SeverityNumber } from '@opentelemetry/api-logs';

export type Transport = 'http/json' | 'http/protobuf' | 'grpc';
export const TRANSPORTS: Transport[] = ['http/json', 'http/protobuf', 'grpc'];

export const RESOURCE = {
  'service.name': 'checkout',
  'service.version': '1.4.2',
  'deployment.environment.name': 'test',
  'host.name': 'web-1',
};

export function traceExporter(t: Transport, ep: { http: string; grpc: string }, compression?: 'gzip'): SpanExporter {
  const opts = { ...(compression ? { compression: compression as never } : {}) };
  if (t === 'http/json') return new HttpJsonTraces({ url: `http://${ep.http}/v1/traces`, ...opts });
  if (t === 'http/protobuf') return new HttpProtoTraces({ url: `http://${ep.http}/v1/traces`, ...opts });
  return new GrpcTraces({ url: `http://${ep.grpc}`, ...opts });
}

export function metricExporter(t: Transport, ep: { http: string; grpc: string }): PushMetricExporter {
  const opts = { temporalityPreference: AggregationTemporality.CUMULATIVE };
  if (t === 'http/json') return new HttpJsonMetrics({ url: `http://${ep.http}/v1/metrics`, ...opts });
  if (t === 'http/protobuf') return new HttpProtoMetrics({ url: `http://${ep.http}/v1/metrics`, ...opts });
  return new GrpcMetrics({ url: `http://${ep.grpc}`, ...opts });
}

export function logExporter(t: Transport, ep: { http: string; grpc: string }): LogRecordExporter {
  if (t === 'http/json') return new HttpJsonLogs({ url: `http://${ep.http}/v1/logs` });
  if (t === 'http/protobuf') return new HttpProtoLogs({ url: `http://${ep.http}/v1/logs` });
  return new GrpcLogs({ url: `http://${ep.grpc}` });
}

/** A parent server span with a child client span and an event, and a link; made by the SDK. */
export async function makeSpans(tag: string): Promise<ReadableSpan[]> {
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ ...RESOURCE, 'test.tag': tag }), spanProcessors: [new SimpleSpanProcessor(mem)] });
  const tracer = provider.getTracer('vigil-test', '0.0.1');
  const parent = tracer.startSpan('GET /api/orders/:id', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/api/orders/42', 'http.response.status_code': 200, 'http.route': '/api/orders/:id', ratio: 0.25, ok: true, tags: ['a', 'b'] },
  });
  const ctx = trace.setSpan(context.active(), parent);
  const child = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM orders WHERE id = $1' }, links: [{ context: parent.spanContext(), attributes: { 'link.kind': 'same-trace' } }] }, ctx);
  child.addEvent('rows fetched', { rows: 3 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'slow query' });
  child.end();
  parent.end();
  await provider.forceFlush();
  const out = mem.getFinishedSpans();
  await provider.shutdown();
  return out;
}

export async function makeLogs(tag: string): Promise<ReadableLogRecord[]> {
  const mem = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ ...RESOURCE, 'test.tag': tag }), processors: [new SimpleLogRecordProcessor({ exporter: mem })] });
  const logger = provider.getLogger('vigil-test-logs', '0.0.2');
  logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'disk almost full', attributes: { 'disk.free_bytes': 1024, mount: '/var' } });
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: { structured: 'body', n: 2 } as never, attributes: { 'user.id': 'u-7' }, eventName: 'auth.failure' } as never);
  await provider.forceFlush();
  const out = mem.getFinishedLogRecords();
  await provider.shutdown();
  return out;
}

/** The SDK's ExportResult: code 0 is SUCCESS. */
export interface ExportResult {
  code: number;
  error?: Error;
}

export function exportAsync<T>(exporter: { export(items: T, cb: (r: ExportResult) => void): void }, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}


/**
 * Records a counter, an up-down counter, a gauge and a histogram with the SDK, and collects them
 * once (the same ResourceMetrics is then exported by the OTLP exporter under test).
 */
export async function makeMetrics(tag: string): Promise<ResourceMetrics> {
  const mem = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: mem, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ ...RESOURCE, 'test.tag': tag }), readers: [reader] });
  const meter = provider.getMeter('vigil-test-metrics', '0.0.3');
  meter.createCounter('http.server.requests', { unit: '{request}', description: 'requests served' }).add(5, { route: '/a' });
  meter.createUpDownCounter('queue.depth').add(-3, { queue: 'q1' });
  meter.createGauge('cpu.temperature', { unit: 'Cel' }).record(71.5, { core: 0 });
  const h = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
  for (const v of [0.05, 0.2, 0.7, 3]) h.record(v, { route: '/a' });
  await provider.forceFlush();
  const batches = mem.getMetrics();
  await provider.shutdown();
  return batches[batches.length - 1];
}

/** [seconds, nanoseconds] HrTime → bigint nanoseconds. */
export function hrToNanos(t: [number, number]): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}
