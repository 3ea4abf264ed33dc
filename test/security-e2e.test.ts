import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { captureExporter, startTest } from './helpers/collector';
import { RESOURCE, logExporter, traceExporter } from './helpers/sdk';
import type { ApiExtension } from '../extensions/api';
import type { LogRecord } from '../src/model';

t.test('SDK spans with an injection and auth failures from one IP become security events and a block that expires', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-sec-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { factory, capture } = captureExporter();
  const yaml = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  security:
    persist: false
    profile:
      enabled: false
    brute_force:
      block_duration: 1500ms
connectors:
  security_events:
exporters:
  capture:
extensions:
  api:
    endpoint: 127.0.0.1:0
service:
  data_dir: ${dataDir}
  extensions: [api]
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      processors: [security]
      exporters: [security_events]
    logs:
      receivers: [otlp]
      processors: [security]
      exporters: [security_events]
    logs/security:
      receivers: [security_events]
      exporters: [capture]
`;
  const vigil = await startTest(yaml, [factory]);
  t.teardown(() => vigil.shutdown());
  const api = vigil.collector.component<ApiExtension>('extension', 'api');
  const base = `http://${api?.address}`;

  const tracerProvider = new BasicTracerProvider({ resource: resourceFromAttributes(RESOURCE), spanProcessors: [new SimpleSpanProcessor(traceExporter('http/json', vigil))] });
  t.teardown(() => tracerProvider.shutdown());
  const tracer = tracerProvider.getTracer('shop');
  const benign = tracer.startSpan('GET /products', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/products', 'url.query': "q=O'Brien+shoes&page=2", 'client.address': '198.51.100.10' } });
  benign.end();
  const evil = tracer.startSpan('GET /products', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/products', 'url.query': 'id=1%27%20UNION%20SELECT%20password%20FROM%20users--', 'client.address': '203.0.113.5', 'enduser.id': 'mallory' },
  });
  const evilTrace = evil.spanContext();
  evil.end();
  await tracerProvider.forceFlush();

  await capture.waitFor(() => capture.logs.length >= 1);
  const first = capture.logs[0].resourceLogs[0];
  const ev = first.scopeLogs[0].logRecords[0];
  t.equal(capture.logs.flatMap((l) => l.resourceLogs).flatMap((r) => r.scopeLogs).flatMap((s) => s.logRecords).length, 1, 'only the injected request produced an event');
  t.equal(ev.eventName, 'security.threat');
  t.equal(ev.attributes['event.name'], 'security.threat');
  t.equal(ev.attributes['security.threat.type'], 'sql_injection');
  t.equal(ev.attributes['security.threat.attribute'], 'url.query');
  t.equal(ev.attributes['security.threat.source_ip'], '203.0.113.5');
  t.equal(ev.attributes['security.threat.user'], 'mallory');
  t.match(String(ev.attributes['security.threat.evidence']), /union select/);
  t.equal(ev.traceId, evilTrace.traceId);
  t.equal(ev.spanId, evilTrace.spanId);
  t.equal(first.resource.attributes['service.name'], RESOURCE['service.name'], 'resource of the original');

  // Six failed logins from one IP, emitted with the OpenTelemetry JS logs API.
  const loggerProvider = new LoggerProvider({ resource: resourceFromAttributes(RESOURCE), processors: [new SimpleLogRecordProcessor({ exporter: logExporter('http/json', vigil) })] });
  t.teardown(() => loggerProvider.shutdown());
  const logger = loggerProvider.getLogger('auth');
  for (let i = 0; i < 6; i++) {
    logger.emit({ eventName: 'auth.failure', severityNumber: SeverityNumber.WARN, body: 'login failed', attributes: { 'user.id': 'admin', 'client.address': '192.0.2.44', 'auth.method': 'password' } });
  }
  await loggerProvider.forceFlush();
  const events = (): LogRecord[] => capture.logs.flatMap((l) => l.resourceLogs).flatMap((r) => r.scopeLogs).flatMap((s) => s.logRecords);
  await capture.waitFor(() => events().some((e) => e.attributes['security.threat.type'] === 'brute_force' && e.attributes['security.threat.source_ip'] === '192.0.2.44'));

  const blocked = (await (await fetch(`${base}/api/security/blocked`)).json()) as { blocked: Array<{ ip: string }> };
  t.same(blocked.blocked.map((b) => b.ip), ['192.0.2.44']);
  const status = (await (await fetch(`${base}/api/security/status`)).json()) as Record<string, any>;
  t.not(status.status, 'normal');
  t.ok(status.threats_by_type.sql_injection >= 1 && status.threats_by_type.brute_force >= 1);
  t.ok(status.recent_alerts_count >= 2);
  t.ok(status.top_ips.some((x: { ip: string }) => x.ip === '192.0.2.44'));

  // The block expires.
  const end = Date.now() + 5000;
  let list: Array<{ ip: string }> = blocked.blocked;
  while (list.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    list = ((await (await fetch(`${base}/api/security/blocked`)).json()) as { blocked: Array<{ ip: string }> }).blocked;
  }
  t.same(list, [], 'block list empty after block_duration');
});
