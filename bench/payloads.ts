/**
 * Request bodies for the load generator: realistic telemetry made with the OpenTelemetry JS SDK and
 * encoded once, up front, with the SDK's own OTLP serializers, so the generator spends its CPU on
 * sending and the server sees exactly what an instrumented service would send it.
 */
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, ValueType, context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import {
  ProtobufTraceSerializer, JsonTraceSerializer,
  ProtobufMetricsSerializer, JsonMetricsSerializer,
  ProtobufLogsSerializer, JsonLogsSerializer,
} from '@opentelemetry/otlp-transformer';

import type { BenchSignal } from './otlp-paths';

export type { BenchSignal } from './otlp-paths';
export type Encoding = 'protobuf' | 'json';

export interface PayloadOptions {
  signal: BenchSignal;
  encoding: Encoding;
  gzip: boolean;
  /** Items (spans, metric data points, log records) in each request. */
  itemsPerRequest: number;
  /** How many different requests to pre-encode; the generator cycles through them. */
  distinct: number;
}

export interface Payload {
  body: Buffer;
  items: number;
  /** Where each trace/span id sits in `body`, so every sent copy can carry ids of its own. */
  idSlots?: IdSlots;
  /** Where each metric point's time sits, so every sent copy holds new points, not rewrites of old ones. */
  timeSlots?: TimeSlots;
}

export interface PayloadSet {
  options: PayloadOptions;
  contentType: string;
  contentEncoding?: string;
  payloads: Payload[];
}

/** Offsets of each point time: 8 little-endian bytes (protobuf fixed64) or 19 decimal digits (JSON). */
export interface TimeSlots {
  form: 'le64' | 'dec';
  offsets: number[];
}

/** Offsets of the last 4 bytes (binary) or last 8 hex digits (JSON) of each id occurrence. */
export interface IdSlots {
  form: 'binary' | 'hex';
  offsets: number[];
}

const SERVICES = ['checkout', 'cart', 'payments', 'catalog', 'frontend', 'auth', 'shipping', 'search', 'recommendations', 'ads'];
const ROUTES = ['/api/cart/{id}', '/api/checkout', '/api/products', '/api/products/{id}', '/login', '/api/search', '/api/orders/{id}', '/health'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
  'curl/8.5.0',
  'okhttp/4.12.0',
];

function pick<T>(list: readonly T[], i: number): T {
  return list[i % list.length];
}

function resourceFor(variant: number): Resource {
  const service = pick(SERVICES, variant);
  return resourceFromAttributes({
    'service.name': service,
    'service.version': `1.${variant % 7}.${variant % 3}`,
    'service.namespace': 'shop',
    'service.instance.id': randomBytes(8).toString('hex'),
    'deployment.environment.name': 'production',
    'host.name': `node-${variant % 4}.eu-west-1.compute.internal`,
    'host.arch': 'amd64',
    'os.type': 'linux',
    'process.pid': 1000 + variant,
    'process.runtime.name': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.language': 'nodejs',
  });
}

/** Milliseconds-since-epoch with a sub-millisecond part, so encoded times use all their nanosecond digits. */
function msWithNanos(baseMs: number, offsetMs: number): number {
  return baseMs + offsetMs + (offsetMs * 7919) % 1000 / 1000;
}

function httpAttributes(i: number): Record<string, string | number> {
  const route = pick(ROUTES, i);
  const status = i % 23 === 0 ? 500 : i % 11 === 0 ? 404 : 200;
  return {
    'http.request.method': pick(METHODS, i),
    'http.route': route,
    'url.path': route.replace('{id}', String(10_000 + i)),
    'url.scheme': 'https',
    'url.query': i % 3 === 0 ? `q=item${i}&page=${i % 5}` : '',
    'server.address': 'shop.example.com',
    'server.port': 443,
    'client.address': `10.${i % 200}.${(i * 7) % 250}.${(i * 13) % 250}`,
    'user_agent.original': pick(AGENTS, i),
    'network.protocol.version': '1.1',
    'http.response.status_code': status,
  };
}

function makeSpans(variant: number, count: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFor(variant), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('bench-http-server', '1.0.0');
  const base = Date.now() - 60_000;
  // Traces of five spans: a server span with its handler, db and outgoing-call children.
  for (let i = 0; i < count; i += 5) {
    const t0 = msWithNanos(base, i * 3);
    const attrs = httpAttributes(i + variant);
    const root = tracer.startSpan(`${attrs['http.request.method']} ${attrs['http.route']}`, { kind: SpanKind.SERVER, attributes: attrs, startTime: t0 });
    const status = Number(attrs['http.response.status_code']);
    if (status >= 500) root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
    const parentCtx = trace.setSpanContext(context.active(), root.spanContext());
    const childCount = Math.min(4, count - i - 1);
    for (let c = 0; c < childCount; c++) {
      const child = tracer.startSpan(
        c === 0 ? 'handler' : c === 1 ? 'SELECT shop.orders' : c === 2 ? 'GET' : 'cache.get',
        {
          kind: c === 2 ? SpanKind.CLIENT : SpanKind.INTERNAL,
          startTime: msWithNanos(t0, 0.2 + c),
          attributes: c === 1
            ? { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT id, total FROM orders WHERE user_id = $1', 'db.namespace': 'shop' }
            : c === 2 ? { 'http.request.method': 'GET', 'server.address': 'inventory', 'url.full': `http://inventory/api/stock/${i}` } : { 'code.function.name': 'handle' },
        },
        parentCtx,
      );
      if (c === 1) child.addEvent('rows fetched', { 'db.response.returned_rows': i % 40 }, msWithNanos(t0, 1.5));
      child.end(msWithNanos(t0, 1 + c * 2.5));
    }
    root.end(msWithNanos(t0, 12 + (i % 30)));
  }
  return exporter.getFinishedSpans().slice(0, count);
}

/** A reader that only hands collected metrics back to the caller. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function makeMetrics(variant: number, count: number): Promise<{ rm: ResourceMetrics; points: number }> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource: resourceFor(variant), readers: [reader] });
  const meter = provider.getMeter('bench-http-server', '1.0.0');
  const duration = meter.createHistogram('http.server.request.duration', { unit: 's', description: 'Duration of HTTP server requests.' });
  const requests = meter.createCounter('http.server.requests', { description: 'HTTP requests served.' });
  const active = meter.createUpDownCounter('http.server.active_requests', { valueType: ValueType.INT });
  const cpu = meter.createGauge('process.cpu.utilization', { unit: '1' });
  const memory = meter.createGauge('process.memory.usage', { unit: 'By', valueType: ValueType.INT });
  // Five instruments, each recorded under count/5 distinct attribute sets: one data point per set.
  const perInstrument = Math.max(1, Math.ceil(count / 5));
  for (let i = 0; i < perInstrument; i++) {
    const a = httpAttributes(i * 31 + variant);
    const attrs = { 'http.request.method': a['http.request.method'], 'http.route': a['http.route'], 'http.response.status_code': a['http.response.status_code'], 'server.address': a['server.address'], 'series': i };
    for (let r = 0; r < 4; r++) duration.record(0.002 + ((i * 17 + r * 29) % 500) / 1000, attrs);
    requests.add(1 + (i % 50), attrs);
    active.add(i % 9, attrs);
    cpu.record(((i * 13) % 100) / 100, attrs);
    memory.record(50_000_000 + i * 4096, attrs);
  }
  const { resourceMetrics } = await reader.collect();
  // Trim to the requested number of points so `items` is exact.
  let budget = count;
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      const keep = Math.max(0, Math.min(budget, m.dataPoints.length));
      (m as { dataPoints: unknown[] }).dataPoints = m.dataPoints.slice(0, keep);
      budget -= keep;
    }
    sm.metrics = sm.metrics.filter((m) => m.dataPoints.length > 0);
  }
  await provider.shutdown();
  return { rm: resourceMetrics, points: count - budget };
}

const LOG_BODIES = [
  'GET /api/products 200 in 12ms',
  'user login succeeded',
  'payment authorised for order',
  'cache miss for key product:{id}, loading from database',
  'retrying request to inventory service after timeout',
  'connection pool exhausted, waiting for a free connection',
];

function makeLogs(variant: number, count: number) {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFor(variant), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('bench-http-server', '1.0.0');
  const base = Date.now() - 60_000;
  for (let i = 0; i < count; i++) {
    const a = httpAttributes(i + variant);
    const sev = i % 20 === 0 ? SeverityNumber.ERROR : i % 7 === 0 ? SeverityNumber.WARN : SeverityNumber.INFO;
    logger.emit({
      timestamp: msWithNanos(base, i),
      observedTimestamp: msWithNanos(base, i + 0.4),
      severityNumber: sev,
      severityText: sev === SeverityNumber.ERROR ? 'ERROR' : sev === SeverityNumber.WARN ? 'WARN' : 'INFO',
      body: `${pick(LOG_BODIES, i + variant)} (request ${variant}-${i})`,
      attributes: {
        'http.request.method': a['http.request.method'],
        'url.path': a['url.path'],
        'http.response.status_code': a['http.response.status_code'],
        'client.address': a['client.address'],
        'user_agent.original': a['user_agent.original'],
        'log.logger': 'app.http',
        'thread.id': i % 16,
      },
    });
  }
  return exporter.getFinishedLogRecords();
}

function idSlots(body: Buffer, ids: Set<string>, form: 'binary' | 'hex'): IdSlots {
  const offsets: number[] = [];
  for (const hex of ids) {
    const needle = form === 'binary' ? Buffer.from(hex, 'hex') : Buffer.from(hex, 'latin1');
    const tail = form === 'binary' ? 4 : 8;
    for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + needle.length)) {
      offsets.push(at + needle.length - tail);
    }
  }
  return { form, offsets: offsets.sort((a, b) => a - b) };
}

function timeSlots(body: Buffer, times: Set<bigint>, form: 'le64' | 'dec'): TimeSlots {
  const offsets: number[] = [];
  for (const t of times) {
    let needle: Buffer;
    if (form === 'le64') {
      needle = Buffer.alloc(8);
      needle.writeBigUInt64LE(t);
    } else needle = Buffer.from(`"${t}"`, 'latin1');
    const skip = form === 'dec' ? 1 : 0;
    for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + needle.length)) offsets.push(at + skip);
  }
  return { form, offsets: offsets.sort((a, b) => a - b) };
}

/**
 * A copy of `p.body` made new for request number `seq`: trace and span ids XORed with `seq` in
 * their last 32 bits (the same id maps to the same new id, so parent links stay intact), metric
 * point times moved `seq` microseconds later. A store that keys on ids or on (series, time) then
 * sees every request's items as new ones.
 */
export function withFreshIds(p: Payload, seq: number): Buffer {
  if (!p.idSlots && !p.timeSlots) return p.body;
  const out = Buffer.from(p.body);
  const x = seq >>> 0;
  if (p.idSlots?.form === 'binary') {
    for (const off of p.idSlots.offsets) out.writeUInt32BE((out.readUInt32BE(off) ^ x) >>> 0, off);
  } else if (p.idSlots) {
    for (const off of p.idSlots.offsets) {
      const v = (parseInt(out.toString('latin1', off, off + 8), 16) ^ x) >>> 0;
      out.write(v.toString(16).padStart(8, '0'), off, 'latin1');
    }
  }
  const shift = BigInt(x) * 1000n;
  if (p.timeSlots?.form === 'le64') {
    for (const off of p.timeSlots.offsets) out.writeBigUInt64LE(out.readBigUInt64LE(off) + shift, off);
  } else if (p.timeSlots) {
    // 19 digits stay 19 digits: the shift is far smaller than the time.
    for (const off of p.timeSlots.offsets) out.write(String(BigInt(out.toString('latin1', off, off + 19)) + shift), off, 'latin1');
  }
  return out;
}

function toBuffer(u: Uint8Array | undefined): Buffer {
  if (!u) throw new Error('serializer returned nothing');
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export async function buildPayloads(options: PayloadOptions): Promise<PayloadSet> {
  const { signal, encoding, gzip, itemsPerRequest, distinct } = options;
  if (!(itemsPerRequest >= 1)) throw new Error('items per request must be at least 1');
  const payloads: Payload[] = [];
  for (let v = 0; v < Math.max(1, distinct); v++) {
    let body: Buffer;
    let items: number;
    let slots: IdSlots | undefined;
    let tslots: TimeSlots | undefined;
    if (signal === 'traces') {
      const spans = makeSpans(v, itemsPerRequest);
      items = spans.length;
      body = toBuffer((encoding === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(spans));
      const ids = new Set<string>();
      for (const s of spans) {
        ids.add(s.spanContext().traceId);
        ids.add(s.spanContext().spanId);
      }
      if (!gzip) slots = idSlots(body, ids, encoding === 'json' ? 'hex' : 'binary');
    } else if (signal === 'metrics') {
      const { rm, points } = await makeMetrics(v, itemsPerRequest);
      items = points;
      body = toBuffer((encoding === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer).serializeRequest(rm));
      const times = new Set<bigint>();
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) for (const dp of m.dataPoints) times.add(BigInt(dp.endTime[0]) * 1_000_000_000n + BigInt(dp.endTime[1]));
      }
      if (!gzip) tslots = timeSlots(body, times, encoding === 'json' ? 'dec' : 'le64');
    } else {
      const records = makeLogs(v, itemsPerRequest);
      items = records.length;
      body = toBuffer((encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(records));
    }
    if (gzip) body = gzipSync(body);
    payloads.push({ body, items, idSlots: slots, timeSlots: tslots });
  }
  return {
    options,
    contentType: encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    contentEncoding: gzip ? 'gzip' : undefined,
    payloads,
  };
}
