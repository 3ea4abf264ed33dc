/**
 * The shipped pipelines.yaml, as a new user runs it (ports and paths moved through its environment
 * variables): SDK spans with an injection become a security event in the store and in the API,
 * ordinary spans are stored and queryable, health answers 200.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { silentLogger } from '../src/logger';
import { startCollector } from '../src/service';
import type { OtlpReceiver } from '../receivers/otlp';
import type { ApiExtension } from '../extensions/api';
import type { HealthCheckExtension } from '../extensions/health_check';
import { exportAsync, traceExporter } from './helpers/sdk';

t.test('default pipelines.yaml end to end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-default-'));
  const env = {
    ...process.env,
    VIGIL_API_ENDPOINT: '127.0.0.1:0', VIGIL_HEALTH_ENDPOINT: '127.0.0.1:0', VIGIL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
    VIGIL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', VIGIL_PROMETHEUS_ENDPOINT: '127.0.0.1:0', VIGIL_METRICS_ENDPOINT: '127.0.0.1:0',
    VIGIL_DB: join(dir, 'vigil.db'), VIGIL_DATA_DIR: dir,
  };
  const vigil = await startCollector({ configFiles: [resolve(__dirname, '..', 'pipelines.yaml')], env, logger: silentLogger() });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : vigil.shutdown()));
  const http = vigil.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints.http!;
  const api = vigil.collector.getExtension<ApiExtension>('api')!.address!;
  const health = vigil.collector.getExtension<HealthCheckExtension>('health_check')!.address!;

  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'shop' }), spanProcessors: [new SimpleSpanProcessor(mem)] });
  const tracer = provider.getTracer('shop');
  const attack = tracer.startSpan('GET /search', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/search', 'url.query': "q=1' UNION SELECT password FROM users--", 'client.address': '203.0.113.9' } });
  attack.end();
  for (let i = 0; i < 5; i++) tracer.startSpan('GET /items/:id', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': `/items/${i}`, 'http.route': '/items/:id' } }).end();
  const spans = mem.getFinishedSpans();
  t.equal((await exportAsync(traceExporter('http/protobuf', { http, grpc: '' }), spans)).code, 0);

  t.equal((await fetch(`http://${health}/`)).status, 200, 'healthy');
  // The batch processor sends within 200 ms; the store commits within its flush interval.
  let status: any;
  for (let i = 0; i < 50; i++) {
    status = await (await fetch(`http://${api}/api/security/status`)).json();
    if (status.threats_by_type?.sql_injection) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status.threats_by_type.sql_injection, 1, 'the injection is counted');
  t.same(status.top_ips.map((x: any) => x.ip), ['203.0.113.9']);

  stopped = true;
  await vigil.shutdown();
  const db = new Database(join(dir, 'vigil.db'), { readonly: true });
  t.teardown(() => db.close());
  const stored = db.prepare("SELECT span_id FROM spans WHERE service_name = 'shop'").all() as Array<{ span_id: string }>;
  t.equal(stored.length, spans.length, 'every span stored');
  const events = db.prepare("SELECT span_id, json_extract(attributes, '$.\"security.threat.type\"') AS type FROM logs WHERE event_name = 'security.threat'").all() as Array<{ span_id: string; type: string }>;
  t.same(events, [{ span_id: attack.spanContext().spanId, type: 'sql_injection' }], 'one security event, pointing at the offending span');
});
