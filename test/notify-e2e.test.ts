/**
 * End to end: a gauge from the OpenTelemetry JS SDK crosses a threshold; the `alerts` connector
 * fires and routes the group to the webhook, email and github exporters of a YAML-started
 * collector; each far side (HTTP server, SMTP server, fake GitHub API) receives exactly one
 * firing notification for the group, then exactly one resolve after the metric recovers.
 */
import t from 'tap';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { ParsedMail, simpleParser } from 'mailparser';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { startTest } from './helpers/collector';
import { FakeGitHub } from './fixtures/notify/fake-github';
import { FakeServer, sleep, waitFor } from './fixtures/notify/helpers';

t.test('SDK metric → alert → webhook, email and GitHub: one firing, then one resolve', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-notify-e2e-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

  const secret = 'e2e-secret';
  const hook = await new FakeServer().start();
  t.teardown(() => hook.close());
  const gh = await new FakeGitHub().start();
  t.teardown(() => gh.close());
  const mails: ParsedMail[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, logger: false,
    onData(stream, _s, cb) { simpleParser(stream).then((m) => { mails.push(m); cb(); }, cb); },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => smtp.close(() => r())));
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  process.env.VIGIL_E2E_GITHUB_TOKEN = 'test-token';
  t.teardown(() => { delete process.env.VIGIL_E2E_GITHUB_TOKEN; });
  const retry = `retry_on_failure: { initial_interval: 200ms, max_elapsed_time: 10s }`;
  const yaml = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
connectors:
  alerts:
    evaluation_interval: 200ms
    external_url: http://vigil.example
    groups:
      - name: queues
        rules:
          - alert: QueueBacklog
            metric: queue.depth
            function: last
            window: 5s
            op: '>'
            threshold: 100
            severity: critical
            annotations:
              summary: 'queue backlog on {{ $labels.service.name }}'
    route:
      receiver: oncall
      group_by: [alertname]
      group_wait: 300ms
      group_interval: 1s
      repeat_interval: 1h
exporters:
  webhook:
    url: ${hook.url}/alerts
    secret: ${secret}
    ${retry}
  email:
    host: 127.0.0.1
    port: ${smtpPort}
    starttls: disabled
    from: vigil@alerts.example
    to: [oncall@example.com]
    ${retry}
  github:
    repository: acme/ops
    token: \${env:VIGIL_E2E_GITHUB_TOKEN}
    base_url: ${gh.url}
    write_interval: 10ms
    content_interval: 20ms
    ${retry}
service:
  data_dir: ${dataDir}
  telemetry:
    metrics:
      address: null
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [webhook, email, github]
`;
  const vigil = await startTest(yaml);
  t.teardown(() => vigil.shutdown());

  const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `http://${vigil.http}/v1/metrics` }), exportIntervalMillis: 200 });
  const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'billing' }), readers: [reader] });
  t.teardown(() => meterProvider.shutdown());
  const depth = meterProvider.getMeter('billing').createGauge('queue.depth');
  const attrs = { 'queue.name': 'invoices' };
  depth.record(20, attrs);
  await sleep(800);
  t.equal(hook.requests.length + mails.length + gh.issues.length, 0, 'nothing below the threshold');

  depth.record(250, attrs);
  await waitFor(() => hook.requests.length >= 1 && mails.length >= 1 && gh.issues.length >= 1, 10_000, 'firing notifications');
  await sleep(1500); // a group_interval and more: no duplicate may follow
  t.equal(hook.requests.length, 1, 'webhook: one firing notification');
  t.equal(mails.length, 1, 'email: one mail');
  t.equal(gh.issues.length, 1, 'github: one issue');
  t.equal(gh.issues[0].comments.length, 0, 'and no comment yet');

  const fired = JSON.parse(hook.requests[0].body);
  t.equal(hook.requests[0].headers['x-vigil-signature'], `sha256=${createHmac('sha256', secret).update(hook.requests[0].body).digest('hex')}`);
  t.equal(fired.status, 'firing');
  t.equal(fired.receiver, 'oncall');
  t.same(fired.groupLabels, { alertname: 'QueueBacklog' });
  t.same(fired.alerts[0].labels, { alertname: 'QueueBacklog', 'queue.name': 'invoices', 'service.name': 'billing', severity: 'critical' });
  t.equal(mails[0].subject, '[FIRING:1] alertname=QueueBacklog');
  t.match(mails[0].text, /queue backlog on billing/);
  t.equal(gh.issues[0].title, 'alertname=QueueBacklog: queue backlog on billing');
  t.same(gh.issues[0].labels, ['vigil-alert', 'severity:critical']);

  depth.record(5, attrs);
  await waitFor(() => hook.requests.length >= 2 && mails.length >= 2 && gh.issues[0].state === 'closed', 10_000, 'resolve notifications');
  await sleep(1500);
  t.equal(hook.requests.length, 2, 'webhook: one resolve');
  t.equal(JSON.parse(hook.requests[1].body).status, 'resolved');
  t.equal(mails.length, 2, 'email: one resolved mail');
  t.equal(mails[1].subject, '[RESOLVED] alertname=QueueBacklog');
  t.equal(mails[1].inReplyTo, mails[0].inReplyTo, 'in the same thread');
  t.equal(gh.issues.length, 1, 'github: still one issue');
  t.equal(gh.issues[0].comments.length, 1, 'closed with one comment');
  t.match(gh.issues[0].comments[0], /resolved/);
});
