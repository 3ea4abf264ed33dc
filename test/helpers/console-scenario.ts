/**
 * A Vigil as `pipelines.yaml` runs it (security, anomaly, spanmetrics, alerts, SQLite store,
 * Prometheus), on ephemeral ports, fed by the OpenTelemetry JS SDK with what the console and the
 * report must show: ordinary requests, an SQL injection whose span also carries an XSS attribute,
 * a slow operation, auth failures from one IP (a block), and a metric that jumps (an anomaly).
 * The alert's notifications go to two webhook channels on a local HTTP server: `webhook/pager`
 * accepts them, `webhook/chat` refuses them (400, with HTML in its answer), so the Alerts page has
 * a sent and a failed delivery.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startTest } from './collector';
import { logExporter, metricExporter, traceExporter } from './sdk';
import type { ApiExtension } from '../../extensions/api';
import type { PrometheusExporter } from '../../exporters/prometheus/exporter';

export const XSS = '<script>alert(1)</script>';
export const ATTACKER_IP = '203.0.113.5';
export const BRUTE_IP = '192.0.2.44';
/** What the refusing webhook channel answers: HTML the console must show as text. */
export const HOOK_REFUSAL = '<img src=x onerror=alert(2)>';

export interface Scenario {
  api: string;
  /** The prometheus exporter (:9464 in pipelines.yaml) and Vigil's own metrics (:8888), host:port. */
  prometheus: string;
  selfMetrics?: string;
  dbPath: string;
  dataDir: string;
  attackTraceId: string;
  slowTraceId: string;
  /** Notification bodies the accepting webhook channel received. */
  pagerBodies: string[];
  /** Send more ordinary requests (for live updates). */
  requests(n: number, name?: string): Promise<void>;
  stop(): Promise<void>;
}

export function scenarioYaml(dataDir: string, interval = '1s', selfMetrics = false, hookBase = 'http://127.0.0.1:9'): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 2048
    spike_limit_mib: 256
  security:
    persist: false
    profile:
      enabled: false
  anomaly:
    persist: false
    include:
      names: [queue.depth]
    algorithm:
      warmup: 20
  batch:
    timeout: 50ms
connectors:
  security_events:
  anomaly_events:
    persist: false
  spanmetrics:
    metrics_flush_interval: 1s   # the Grafana check waits for span metrics to reach Prometheus
  alerts:
    evaluation_interval: 250ms
    groups:
      - name: console
        rules:
          - alert: AttackerIP
            kind: security
            min_score: 0.7
            window: 5m
            severity: critical
            annotations:
              summary: 'security threat on {{ $labels.service.name }}'
    route:
      receiver: team
      group_by: [alertname]
      group_wait: 100ms
      group_interval: 1s
      repeat_interval: 1h
exporters:
  sqlite:
    path: ${join(dataDir, 'vigil.db')}
  prometheus:
    endpoint: 127.0.0.1:0
  webhook/pager:
    url: ${hookBase}/ok
  webhook/chat:
    url: ${hookBase}/reject
extensions:
  api:
    endpoint: 127.0.0.1:0
    console:
      update_interval: ${interval}
service:
  data_dir: ${dataDir}
  extensions: [api]
  telemetry:
    metrics:
      address: ${selfMetrics ? '127.0.0.1:0' : 'null'}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, security, batch]
      exporters: [sqlite, security_events, anomaly_events, spanmetrics]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, anomaly, batch]
      exporters: [sqlite, prometheus, anomaly_events]
    metrics/spanmetrics:
      receivers: [spanmetrics]
      exporters: [prometheus]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, security, batch]
      exporters: [sqlite, security_events, anomaly_events]
    logs/events:
      receivers: [security_events, anomaly_events]
      processors: [batch]
      exporters: [sqlite, alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [sqlite, webhook/pager, webhook/chat]
`;
}

async function waitFor(what: string, pred: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startScenario(opts: { interval?: string; selfMetrics?: boolean } = {}): Promise<Scenario> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-console-'));
  const pagerBodies: string[] = [];
  const hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/ok') {
        pagerBodies.push(Buffer.concat(chunks).toString());
        res.end('ok');
      } else {
        res.writeHead(400, { 'content-type': 'text/html' }).end(HOOK_REFUSAL);
      }
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const hookBase = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  const vigil = await startTest(scenarioYaml(dataDir, opts.interval, opts.selfMetrics, hookBase)).catch((e) => {
    hooks.close();
    throw e;
  });
  const api = `http://${vigil.collector.component<ApiExtension>('extension', 'api')!.address}`;
  const promAddr = vigil.collector.component<PrometheusExporter>('exporter', 'prometheus')!.address!;
  const resource = resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.4.2' });

  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(traceExporter('http/json', vigil))] });
  const tracer = tracerProvider.getTracer('shop');
  const requests = async (n: number, name = 'GET /api/orders') => {
    for (let i = 0; i < n; i++) {
      const s = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/api/orders', 'http.response.status_code': 200, 'client.address': '198.51.100.10' } });
      s.end();
    }
    await tracerProvider.forceFlush();
  };
  await requests(20);
  const failing = tracer.startSpan('GET /api/orders', { kind: SpanKind.SERVER, attributes: { 'http.response.status_code': 500 } });
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'database unavailable' });
  failing.end();

  // The attack: an SQL injection from one IP, with an attacker-chosen attribute that is HTML.
  const attack = tracer.startSpan('GET /products', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/products', 'url.query': 'id=1%27%20UNION%20SELECT%20password%20FROM%20users--', 'client.address': ATTACKER_IP, 'enduser.id': 'mallory', 'user_agent.original': XSS },
  });
  const attackTraceId = attack.spanContext().traceId;
  attack.end();

  // A slow operation with a child: 1.5 s of checkout, 1.2 s of it in the payment call.
  const t0 = Date.now() - 2000;
  const slow = tracer.startSpan('POST /api/checkout', { kind: SpanKind.SERVER, startTime: t0, attributes: { 'http.request.method': 'POST', 'url.path': '/api/checkout' } });
  const slowTraceId = slow.spanContext().traceId;
  const { context, trace } = await import('@opentelemetry/api');
  const child = tracer.startSpan('charge card', { kind: SpanKind.CLIENT, startTime: t0 + 200 }, trace.setSpan(context.active(), slow));
  child.end(t0 + 1400);
  slow.end(t0 + 1500);
  await tracerProvider.forceFlush();

  // Auth failures from one IP: a brute-force block.
  const loggerProvider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logExporter('http/json', vigil) })] });
  const logger = loggerProvider.getLogger('auth');
  for (let i = 0; i < 6; i++) {
    logger.emit({ eventName: 'auth.failure', severityNumber: SeverityNumber.WARN, body: 'login failed', attributes: { 'user.id': 'admin', 'client.address': BRUTE_IP, 'auth.method': 'password' } });
  }
  await loggerProvider.forceFlush();

  // A queue depth that behaves, then jumps.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter('http/json', vigil), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  let depth = 0;
  meterProvider.getMeter('shop').createObservableGauge('queue.depth').addCallback((r) => r.observe(depth, { queue: 'orders' }));
  // Spaced so the 40 points span more than two seconds: the console charts the series at a 1 s
  // step, and a fast machine would otherwise put them all in one bucket.
  for (let i = 0; i < 40; i++) {
    depth = 10 + (i % 3);
    await reader.forceFlush();
    await new Promise((r) => setTimeout(r, 60));
  }
  depth = 500;
  await reader.forceFlush();

  const json = async (path: string) => (await fetch(`${api}${path}`)).json() as Promise<any>;
  await waitFor('the attack, the block and the anomaly in the store', async () => {
    const sec = await json('/api/console/security?start=now-1h');
    const an = await json('/api/console/anomalies?start=now-1h');
    return sec.threats?.total >= 2 && sec.blocked?.length >= 1 && an.anomalies?.items?.length >= 1;
  });
  await waitFor('the alert to fire', async () => (await json('/api/alerts')).some((a: any) => a.state === 'firing'));

  return {
    api, dataDir, dbPath: join(dataDir, 'vigil.db'), attackTraceId, slowTraceId, pagerBodies,
    prometheus: `${promAddr.host}:${promAddr.port}`,
    ...(vigil.metricsAddress ? { selfMetrics: vigil.metricsAddress } : {}),
    requests,
    async stop() {
      await Promise.allSettled([tracerProvider.shutdown(), loggerProvider.shutdown(), meterProvider.shutdown()]);
      await vigil.shutdown();
      await new Promise((resolve) => hooks.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
