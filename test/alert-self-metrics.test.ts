/**
 * The default alert rules that watch Vigil itself (group `vigil-defaults` of the shipped
 * pipelines.yaml) fire when their condition really occurs, end to end: the condition is produced in a
 * running collector (an exporter whose destination is down, an exporter whose sending queue is full,
 * a memory limiter refusing data), the collector's own metrics reach the rules through the `alerts`
 * connector's `self_metrics_interval`, and the notification leaves the connector.
 *
 * The rules are read from pipelines.yaml as shipped; only the timings are shortened (evaluation
 * every 200 ms instead of 1 m, self metrics every 200 ms instead of 15 s, group_wait 100 ms) so the
 * test does not wait minutes.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { captureExporter, startTest } from './helpers/collector';
import { parseNotification, Notification } from '../src/alerting/notification';
import type { LogRecord } from '../src/model';
import { freePort } from './prometheus-fixtures';

t.setTimeout(120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('default self-metric rules fire: exporter failing, sending queue full, memory limiter refusing', async (t) => {
  const shipped = parse(readFileSync(join(__dirname, '..', 'pipelines.yaml'), 'utf8')) as { connectors: { alerts: { groups: unknown; route: Record<string, unknown> } } };
  const alerts = {
    evaluation_interval: '200ms',
    self_metrics_interval: '200ms',
    groups: shipped.connectors.alerts.groups,
    route: { ...shipped.connectors.alerts.route, group_wait: '100ms', group_interval: '200ms' },
  };
  // A destination that answers only when the test is done: the one request in flight holds the only
  // consumer, the next fills the one-slot queue, the one after is refused.
  const held: ServerResponse[] = [];
  let release = false;
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  const stuck: Server = createServer((_req, res) => (release ? answer(res) : held.push(res)));
  await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
  t.teardown(() => { stuck.closeAllConnections(); return new Promise<void>((r) => stuck.close(() => r())); });
  const down = await freePort(); // nothing listens there
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-self-alerts-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { factory, capture } = captureExporter();
  const yaml = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  memory_limiter/tiny:
    check_interval: 10s      # above its limit it forces a GC at each check: not too often
    limit_mib: 1
connectors:
  alerts: ${JSON.stringify(alerts)}
exporters:
  otlphttp/down:
    endpoint: http://127.0.0.1:${down}
    retry_on_failure: { enabled: false }
  otlphttp/stuck:
    endpoint: http://127.0.0.1:${(stuck.address() as AddressInfo).port}
    timeout: 0s
    retry_on_failure: { enabled: false }
    sending_queue: { queue_size: 1, num_consumers: 1 }
  nop:
  capture:
service:
  data_dir: ${dataDir}
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp/down]
    logs:
      receivers: [otlp]
      exporters: [otlphttp/stuck]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter/tiny]
      exporters: [nop, alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [capture]
`;
  const running = await startTest(yaml, [factory]);
  t.teardown(() => running.shutdown());
  const otlp = (path: string, body: unknown) => fetch(`http://${running.http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] };
  const now = String(BigInt(Date.now()) * 1_000_000n);

  // Spans to a destination that is down: sent, failed, dropped (no retry).
  t.equal((await otlp('/v1/traces', { resourceSpans: [{ resource, scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '1'.repeat(16), name: 'op', kind: 1, startTimeUnixNano: now, endTimeUnixNano: now }] }] }] })).status, 200, 'spans accepted into the queue');
  // Logs until the stuck exporter's queue is full and refuses.
  let refused = 0;
  for (let i = 0; i < 10 && !refused; i++) {
    const r = await otlp('/v1/logs', { resourceLogs: [{ resource, scopeLogs: [{ logRecords: [{ timeUnixNano: now, body: { stringValue: `line ${i}` } }] }] }] });
    if (r.status !== 200) refused = r.status;
  }
  t.ok(refused >= 500, `the full queue refuses logs with a retryable status (${refused})`);
  // Metrics into a pipeline whose memory limiter is far over its 1 MiB limit.
  const gauge = { resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 1 }] } }] }] }] };
  t.equal((await otlp('/v1/metrics', gauge)).status, 503, 'the memory limiter refuses metrics');

  const notifications = (): Notification[] => capture.logs.flatMap((l) => l.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)))
    .map((r: LogRecord) => parseNotification(r)).filter((n): n is Notification => !!n);
  const want = ['ExporterFailingSpans', 'ExporterQueueFullLogs', 'MemoryLimiterRefusing'];
  const end = Date.now() + 60_000;
  while (!want.every((name) => notifications().some((n) => n.payload.commonLabels.alertname === name)) && Date.now() < end) await sleep(100);
  const byName = (name: string) => notifications().find((n) => n.payload.commonLabels.alertname === name);

  const failing = byName('ExporterFailingSpans');
  t.ok(failing, 'ExporterFailingSpans fired and was notified');
  t.equal(failing?.receiver, 'default', 'to the default receiver');
  t.equal(failing?.payload.alerts[0].labels.exporter, 'otlphttp/down');
  t.equal(failing?.payload.alerts[0].labels.severity, 'critical');
  t.equal(failing?.payload.alerts[0].labels['service.name'], 'vigil', 'Vigil\'s own metrics are service.name=vigil');
  t.match(failing?.payload.alerts[0].annotations.summary, /^exporter otlphttp\/down failed to send 1 spans$/);

  const full = byName('ExporterQueueFullLogs');
  t.ok(full, 'ExporterQueueFullLogs fired and was notified');
  t.equal(full?.payload.alerts[0].labels.exporter, 'otlphttp/stuck');
  t.match(full?.payload.alerts[0].annotations.summary, /^exporter otlphttp\/stuck refused \d+ log records: sending queue full$/);

  const memory = byName('MemoryLimiterRefusing');
  t.ok(memory, 'MemoryLimiterRefusing fired and was notified');
  t.equal(memory?.payload.alerts[0].labels.processor, 'memory_limiter/tiny');
  t.equal(memory?.payload.alerts[0].labels.severity, 'warning');

  t.notOk(notifications().some((n) => ['ExporterFailingLogs', 'ExporterFailingMetrics', 'ExporterQueueFullSpans'].includes(n.payload.commonLabels.alertname)),
    'rules whose condition did not occur stay quiet');
  // Let the stuck exporter finish, so that shutting down does not wait for it.
  release = true;
  held.splice(0).forEach(answer);
});
