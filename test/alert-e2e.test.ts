/**
 * End to end: the OpenTelemetry JS SDK sends metrics and a security event over OTLP; the `alerts`
 * connector evaluates rules on them and emits notification records into a logs pipeline; the
 * HTTP API and the CLI list, acknowledge and silence.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { captureExporter, startTest } from './helpers/collector';
import { loadAndValidate } from '../src/service';
import { ConfigError } from '../src/errors';
import type { ApiExtension } from '../extensions/api';
import { parseNotification, Notification } from '../src/alerting/notification';
import type { LogRecord } from '../src/model';
import { alertsListCommand, alertsAckCommand, silencesAddCommand, silencesListCommand, silencesExpireCommand } from '../src/cli/commands/alerts';

/** Runs a CLI command, returning its exit code and stdout. */
async function cli(cmd: { run(a: string[]): Promise<number> }, args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string | Uint8Array) => { out += String(s); return true; }) as typeof process.stdout.write;
  try {
    return { code: await cmd.run(args), out };
  } finally {
    process.stdout.write = write;
  }
}

t.test('SDK metrics and security events → rules → notifications; API and CLI', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-alert-e2e-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { factory, capture } = captureExporter();
  const yaml = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
connectors:
  alerts:
    evaluation_interval: 250ms
    groups:
      - name: checkout
        rules:
          - alert: CheckoutErrors
            metric: checkout.errors
            function: increase
            window: 20s
            op: '>'
            threshold: 3
            severity: critical
            annotations:
              summary: '{{ $value }} errors on {{ $labels.service.name }}'
          - alert: AttackerIP
            kind: security
            min_score: 0.7
            window: 20s
            severity: warning
    route:
      receiver: team
      group_by: [alertname]
      group_wait: 300ms
      group_interval: 1s
      repeat_interval: 1h
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
    metrics:
      receivers: [otlp]
      exporters: [alerts]
    logs:
      receivers: [otlp]
      exporters: [alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [capture]
`;
  const vigil = await startTest(yaml, [factory]);
  t.teardown(() => vigil.shutdown());
  const api = `http://${vigil.collector.component<ApiExtension>('extension', 'api')?.address}`;
  const notifications = (): Notification[] => capture.logs.flatMap((l) => l.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)))
    .map((r: LogRecord) => parseNotification(r)).filter((n): n is Notification => !!n);

  // The SDK: a counter exported every 200 ms over OTLP/HTTP, cumulative as the SDK does by default.
  const resource = resourceFromAttributes({ 'service.name': 'checkout' });
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `http://${vigil.http}/v1/metrics`, temporalityPreference: AggregationTemporality.CUMULATIVE }),
    exportIntervalMillis: 200,
  });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  t.teardown(() => meterProvider.shutdown());
  const errors = meterProvider.getMeter('checkout').createCounter('checkout.errors');
  errors.add(2, { 'payment.provider': 'acme' });
  await new Promise((r) => setTimeout(r, 600));
  t.equal(notifications().length, 0, 'two errors are below the threshold');
  errors.add(3, { 'payment.provider': 'acme' });
  await capture.waitFor(() => notifications().some((n) => n.payload.groupLabels.alertname === 'CheckoutErrors'), 8000);
  const n = notifications().find((x) => x.payload.groupLabels.alertname === 'CheckoutErrors')!;
  t.equal(n.receiver, 'team');
  t.equal(n.status, 'firing');
  t.same(n.payload.alerts[0].labels, { alertname: 'CheckoutErrors', 'payment.provider': 'acme', 'service.name': 'checkout', severity: 'critical' });
  t.equal(n.payload.alerts[0].annotations.summary, '5 errors on checkout', 'annotation templated with the value');

  // A security event from the SDK's logger, shaped as the security processor emits them.
  const loggerProvider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://${vigil.http}/v1/logs` }) })] });
  t.teardown(() => loggerProvider.shutdown());
  loggerProvider.getLogger('sec').emit({
    eventName: 'security.threat', body: 'sqli',
    attributes: { 'event.name': 'security.threat', 'security.threat.type': 'sqli', 'security.threat.score': 0.92, 'security.threat.severity': 'high', 'client.address': '203.0.113.9' },
  });
  await capture.waitFor(() => notifications().some((x) => x.payload.groupLabels.alertname === 'AttackerIP'), 8000);
  const sec = notifications().find((x) => x.payload.groupLabels.alertname === 'AttackerIP')!;
  t.equal(sec.payload.alerts[0].labels['client.address'], '203.0.113.9');
  t.equal(sec.payload.alerts[0].labels['security.threat.type'], 'sqli');

  // API: list.
  const list = await (await fetch(`${api}/api/alerts?state=firing`)).json() as Array<{ fingerprint: string; alertname: string; since: string; labels: Record<string, string> }>;
  t.same(list.map((a) => a.alertname).sort(), ['AttackerIP', 'CheckoutErrors']);
  const fp = list.find((a) => a.alertname === 'CheckoutErrors')!.fingerprint;
  t.equal(fp, n.payload.alerts[0].fingerprint, 'the API and the payload agree on the fingerprint');
  const groups = await (await fetch(`${api}/api/alerts/groups`)).json() as Array<{ groupKey: string }>;
  t.same(groups.map((g) => g.groupKey).sort(), ['{}:{alertname="AttackerIP"}', '{}:{alertname="CheckoutErrors"}']);
  const bad = await fetch(`${api}/api/alerts?filter=${encodeURIComponent('x=~"(a+)+"')}`);
  t.equal(bad.status, 400, 'unsafe filter regexes are refused');

  // CLI: list, ack, silences.
  const listed = await cli(alertsListCommand, ['--api', api, '--filter', 'alertname="CheckoutErrors"']);
  t.equal(listed.code, 0);
  t.match(listed.out, new RegExp(`${fp}\\s+firing`));
  t.notMatch(listed.out, /AttackerIP/, 'filtered');
  const acked = await cli(alertsAckCommand, [fp, '--api', api, '--by', 'alice', '--comment', 'looking']);
  t.equal(acked.code, 0);
  const after = await (await fetch(`${api}/api/alerts`)).json() as Array<{ fingerprint: string; acknowledged?: { by: string } }>;
  t.equal(after.find((a) => a.fingerprint === fp)?.acknowledged?.by, 'alice');
  t.equal((await cli(alertsAckCommand, ['ffffffffffffffff', '--api', api])).code, 1, 'acknowledging an unknown alert fails');

  const added = await cli(silencesAddCommand, ['alertname="AttackerIP"', 'client.address=~"203\\.0\\.113\\..*"', '--api', api, '--comment', 'pen test', '--author', 'bob', '--duration', '2h']);
  t.equal(added.code, 0);
  const id = added.out.trim();
  t.match(id, /^[0-9a-f-]{36}$/);
  const sl = await cli(silencesListCommand, ['--api', api]);
  t.match(sl.out, new RegExp(`${id}\\s+active`));
  t.match(sl.out, /client\.address=~"203\\\\\.0\\\\\.113\\\\\.\.\*"/);
  const view = await (await fetch(`${api}/api/alerts?filter=alertname%3D%22AttackerIP%22`)).json() as Array<{ status: { state: string; silencedBy: string[] } }>;
  t.same(view[0].status, { state: 'suppressed', silencedBy: [id], inhibitedBy: [] });
  t.equal((await cli(silencesAddCommand, ['alertname="x"', '--api', api])).code, 2, 'a silence needs a comment');
  const expired = await cli(silencesExpireCommand, [id, '--api', api]);
  t.equal(expired.code, 0);
  const am = await (await fetch(`${api}/api/v2/silence/${id}`)).json() as { status: { state: string } };
  t.equal(am.status.state, 'expired', 'Alertmanager v2 path agrees');
  t.equal((await cli(silencesExpireCommand, [id, '--api', api])).code, 1, 'expiring twice fails');

  // Self-telemetry.
  const metrics = await vigil.telemetry.registry.metrics();
  t.match(metrics, /vigil_connector_alerts_active\{connector="alerts",state="firing"\} 2/);
  t.match(metrics, /vigil_connector_alerts_notifications_sent_total\{connector="alerts",receiver="team",status="firing"\} [1-9]/);

  // API errors answer with a status and a message saying what is wrong.
  const post = (path: string, body: unknown) => fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const noEnd = await post('/api/silences', { matchers: [{ name: 'a', value: 'b', isRegex: false }], createdBy: 'x', comment: 'y' });
  t.equal(noEnd.status, 400);
  t.match(((await noEnd.json()) as { error: string }).error, /endsAt is required/);
  t.equal((await post('/api/alerts/not-a-fingerprint/ack', {})).status, 400);
  t.equal((await post('/api/alerts/ffffffffffffffff/ack', {})).status, 404);
  t.equal((await fetch(`${api}/api/silences/nope`, { method: 'DELETE' })).status, 404);
  t.equal((await fetch(`${api}/api/alerts?state=bogus`)).status, 400);
});

t.test('vigil validate (the engine) reports alerting problems at their place in pipelines.yaml', async (t) => {
  const yaml = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
connectors:
  alerts:
    groups:
      - name: g
        rules:
          - alert: A
            metric: cpu
            threshold: 1
            for: soon
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [alerts]
`;
  let err: unknown;
  try {
    loadAndValidate({ yaml: [yaml] });
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ConfigError);
  const issue = (err as InstanceType<typeof ConfigError>).issues.find((i) => i.path.includes('for'));
  t.ok(issue, 'the bad duration is reported');
  t.match(issue?.path, /connectors\.alerts\.groups(\.|\[)0/);
  t.match(issue?.message, /invalid duration "soon"/);
  t.equal(issue?.line, 15, 'on the line of the offending key');
});
