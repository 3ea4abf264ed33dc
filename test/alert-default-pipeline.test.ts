/**
 * Alerting is on in the shipped pipelines.yaml: the alerts API answers, an alert (here posted the
 * way Prometheus does) is delivered to the webhook named by VIGIL_WEBHOOK_URL and stored as a
 * notification record in the store; with VIGIL_WEBHOOK_URL unset the webhook exporter is off; and
 * where alerting is not configured, the API says how to turn it on instead of a bare 404.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger } from '../src/logger';
import { startCollector } from '../src/service';
import type { ApiExtension } from '../extensions/api';
import { webhookExporterFactory } from '../exporters/webhook';
import { build, logsOf, notification } from './fixtures/notify/helpers';
import { otlpConfig, startTest } from './helpers/collector';

// Starting whole collectors (and Prometheus) is slow on a loaded machine: a generous bound, not a speed check.
t.setTimeout(300_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('default pipelines.yaml: alerting on, notifications to VIGIL_WEBHOOK_URL and the store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-default-alerts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const received: Array<{ body: any }> = [];
  const hook = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => { received.push({ body: JSON.parse(body) }); res.writeHead(200).end(); });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => hook.close(r)));
  const env = {
    ...process.env,
    VIGIL_API_ENDPOINT: '127.0.0.1:0', VIGIL_HEALTH_ENDPOINT: '127.0.0.1:0', VIGIL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
    VIGIL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', VIGIL_PROMETHEUS_ENDPOINT: '127.0.0.1:0', VIGIL_METRICS_ENDPOINT: '127.0.0.1:0',
    VIGIL_DB: join(dir, 'vigil.db'), VIGIL_DATA_DIR: dir,
    VIGIL_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
  };
  const vigil = await startCollector({ configFiles: [resolve(__dirname, '..', 'pipelines.yaml')], env, logger: silentLogger() });
  t.teardown(() => vigil.shutdown());
  const api = `http://${vigil.collector.getExtension<ApiExtension>('api')!.address}`;
  t.equal((await fetch(`${api}/api/alerts`)).status, 200, 'the alerts API answers');
  const status = await (await fetch(`${api}/api/v2/status`)).json() as { config: { original: string } };
  t.match(status.config.original, /receiver: default/);
  // An alert that started long ago is sent at once (no group_wait), as Alertmanager does.
  const startsAt = new Date(Date.now() - 3600_000).toISOString();
  const posted = await fetch(`${api}/api/v2/alerts`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname: 'FromPrometheus', severity: 'critical', 'service.name': 'shop' }, annotations: { summary: 'it broke' }, startsAt }]),
  });
  t.equal(posted.status, 200);
  for (let i = 0; i < 300 && !received.length; i++) await sleep(100);
  t.equal(received.length, 1, 'the webhook got the notification');
  t.equal(received[0]?.body.receiver, 'default');
  t.equal(received[0]?.body.alerts[0].labels.alertname, 'FromPrometheus');
  let stored: any[] = [];
  for (let i = 0; i < 100 && !stored.length; i++) {
    stored = ((await (await fetch(`${api}/api/logs?event_name=alert.notification&start=now-1h`)).json()) as { items?: any[] }).items ?? [];
    if (!stored.length) await sleep(100);
  }
  t.equal(stored.length, 1, 'the notification is stored and visible through the query API');
});

t.test('an empty webhook url turns the exporter off', async (t) => {
  const { ex } = build(webhookExporterFactory, { url: '', sending_queue: { enabled: false } });
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'A' } }])));
  t.pass('accepted without sending anywhere');
  await ex.shutdown!();
});

t.test('without the alerts connector, the API says how to turn alerting on', async (t) => {
  const running = await startTest(otlpConfig(['debug'], { extra: 'exporters:\n  debug: { verbosity: basic }\nextensions:\n  api: { endpoint: 127.0.0.1:0 }\n' }).replace('service:\n', 'service:\n  extensions: [api]\n'));
  t.teardown(() => running.shutdown());
  const api = `http://${running.collector.getExtension<ApiExtension>('api')!.address}`;
  for (const path of ['/api/alerts', '/api/v2/alerts', '/api/silences']) {
    const r = await fetch(api + path);
    t.equal(r.status, 404);
    t.match(((await r.json()) as { error: string }).error, /alerting is not configured: add the `alerts` connector/, path);
  }
  t.match(((await (await fetch(`${api}/api/nothing`)).json()) as { error: string }).error, /no API route/, 'other paths unchanged');
});
