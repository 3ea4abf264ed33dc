/**
 * webhook exporter against a local HTTP server: signature, payload, template, receivers filter,
 * and failure injection (500, 429 + Retry-After, timeouts, connection refused, 4xx) showing
 * retries, backoff and no duplicate once a delivery succeeded.
 */
import t from 'tap';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { webhookExporterFactory } from '../exporters/webhook';
import { NotifyTemplate, escapeHtml, templateError } from '../exporters/webhook/template';
import { PermanentError } from '../src/errors';
import type { ApiHandler, ApiRequest } from '../src/api';
import { notificationLogs } from '../src/alerting/notification';
import { Severity } from '../src/model';
import { CertFactory } from './helpers/certs';
import { FakeServer, build, counter, logsOf, notification, sleep, waitFor } from './fixtures/notify/helpers';

const SECRET = 'webhook-shared-secret';
t.jobs = 4;

const fast = { initial_interval: '100ms', randomization_factor: 0, multiplier: 2, max_interval: '2s', max_elapsed_time: '20s' };

function verified(body: string, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const want = Buffer.from(createHmac('sha256', SECRET).update(body).digest('hex'));
  const got = Buffer.from(header.slice(7));
  return got.length === want.length && timingSafeEqual(got, want);
}

const firing = () => notification([{ labels: { alertname: 'HighLatency', severity: 'critical', service: 'api' }, annotations: { summary: 'p95 over 500ms' } }]);

t.test('posts the v4 payload unchanged, signed, with headers; filters receivers; ignores other logs', async (t) => {
  const srv = await new FakeServer().start();
  t.teardown(() => srv.close());
  const { ex, telemetry } = build(webhookExporterFactory, {
    url: `${srv.url}/hook?token=abc`, secret: SECRET, headers: { Authorization: 'Bearer xyz' }, receivers: ['team'],
    sending_queue: { enabled: false },
  });
  const n = firing();
  const other = notification([{ labels: { alertname: 'Other' } }], { receiver: 'someone-else' });
  const plain = notificationLogs([]);
  plain.resourceLogs[0].scopeLogs[0].logRecords.push({
    timeUnixNano: 1n, observedTimeUnixNano: 1n, severityNumber: Severity.ERROR, severityText: 'ERROR', body: 'not a notification',
    attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '',
  });
  await ex.logs!.consume(logsOf(n, other));
  await ex.logs!.consume(plain);
  await ex.shutdown!();
  t.equal(srv.requests.length, 1, 'one request: other receiver and plain logs are skipped');
  const r = srv.requests[0];
  t.equal(r.method, 'POST');
  t.equal(r.url, '/hook?token=abc');
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.headers.authorization, 'Bearer xyz');
  t.ok(verified(r.body, r.headers['x-vigil-signature']), 'HMAC-SHA256 signature over the body verifies');
  t.notOk(verified(r.body + ' ', r.headers['x-vigil-signature']), 'and would not verify a changed body');
  t.match(r.headers['x-vigil-delivery'], /^[0-9a-f]{32}$/);
  const body = JSON.parse(r.body);
  t.same(body, n.payload, 'body is the Alertmanager v4 payload');
  t.equal(body.version, '4');
  t.equal(await counter(telemetry, 'vigil_exporter_sent_log_records_total'), 1);
});

t.test('body_template renders the notification; bad templates fail validation', async (t) => {
  const srv = await new FakeServer().start();
  t.teardown(() => srv.close());
  const { ex } = build(webhookExporterFactory, {
    url: srv.url, content_type: 'text/plain', sending_queue: { enabled: false },
    body_template: '{{ upper .Status }} {{ .CommonLabels.alertname }} ({{ len .Alerts }}): {{ .CommonAnnotations.summary }} {{ index .CommonLabels "service" | json }}',
  });
  await ex.logs!.consume(logsOf(firing()));
  await ex.shutdown!();
  t.equal(srv.requests[0].body, 'FIRING HighLatency (1): p95 over 500ms "api"');
  t.notOk(srv.requests[0].headers['x-vigil-signature'], 'no secret, no signature');
  t.match(templateError('{{ exec "rm" }}'), /unknown function/);
  t.match(templateError('{{ .Status'), /unterminated/);
  t.throws(() => build(webhookExporterFactory, { url: srv.url, body_template: '{{ len }}' }), /takes 1 argument/);
  t.equal(NotifyTemplate.compile('<b>{{ .X }}</b>').render({ X: '<script>' }, escapeHtml), '<b>&lt;script&gt;</b>', 'escaper applies to values');
});

t.test('500 then success: retried with backoff, one delivery id, nothing after success', async (t) => {
  let calls = 0;
  const srv = await new FakeServer((_r, res) => { calls++; res.writeHead(calls <= 2 ? 500 : 200).end(calls <= 2 ? 'boom' : 'ok'); }).start();
  t.teardown(() => srv.close());
  const { ex, telemetry } = build(webhookExporterFactory, { url: srv.url, secret: SECRET, retry_on_failure: fast });
  await ex.logs!.consume(logsOf(firing()));
  await waitFor(() => srv.requests.length >= 3, 5000, 'three attempts');
  await sleep(500);
  t.equal(srv.requests.length, 3, 'two failures, one success, then nothing more');
  const gaps = [srv.requests[1].at - srv.requests[0].at, srv.requests[2].at - srv.requests[1].at];
  t.ok(gaps[0] >= 90, `first retry after the initial interval (${gaps[0]} ms)`);
  t.ok(gaps[1] >= 180, `second retry waits longer (${gaps[1]} ms)`);
  t.equal(new Set(srv.requests.map((r) => r.headers['x-vigil-delivery'])).size, 1, 'same delivery id on every attempt');
  t.ok(srv.requests.every((r) => verified(r.body, r.headers['x-vigil-signature'])));
  await ex.shutdown!();
  t.equal(await counter(telemetry, 'vigil_exporter_sent_log_records_total'), 1);
  t.equal(await counter(telemetry, 'vigil_exporter_send_failed_log_records_total'), 0);
});

t.test('delivery status per channel: retrying with the error, then failed once retries run out; sent on success', async (t) => {
  let down = true;
  const srv = await new FakeServer((_r, res) => { res.writeHead(down ? 503 : 200).end(down ? 'maintenance' : 'ok'); }).start();
  t.teardown(() => srv.close());
  // The API server as the exporters see it: they register GET /api/alerts/notifications on it.
  const routes = new Map<string, ApiHandler>();
  const api = { route: (m: string, p: string, h: ApiHandler) => void routes.set(`${m} ${p}`, h) };
  const host = { getExtension: (id: string) => (id === 'api' ? api : undefined) } as never;
  const list = async () => {
    const h = routes.get('GET /api/alerts/notifications')!;
    return ((await h({ query: new URLSearchParams() } as ApiRequest)) as any).channels;
  };
  const { ex } = build(webhookExporterFactory, { url: srv.url, sending_queue: { enabled: false }, retry_on_failure: { ...fast, max_elapsed_time: '1s' } }, { id: 'webhook/oncall' });
  await ex.start!(host);
  const failing = ex.logs!.consume(logsOf(firing()));
  await waitFor(() => srv.requests.length >= 2, 5000, 'a retry');
  let d = (await list())[0].deliveries[0];
  t.match(d, { state: 'retrying', alertname: 'HighLatency', receiver: 'team', status: 'firing' }, 'retrying while the channel answers 503');
  t.match(d.error, /answered 503: maintenance/);
  await t.rejects(failing, 'given up after max_elapsed_time');
  d = (await list())[0].deliveries[0];
  t.equal(d.state, 'failed', 'failed once retries ran out');
  t.ok(d.attempts >= 2);
  down = false;
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'DiskFull' } }])));
  const [channel] = await list();
  t.equal(channel.channel, 'webhook/oncall');
  t.equal(channel.type, 'webhook');
  t.same(channel.deliveries.map((x: any) => [x.alertname, x.state, x.error ?? '']), [['DiskFull', 'sent', ''], ['HighLatency', 'failed', d.error]], 'newest first');
  await ex.shutdown!();
});

t.test('429 with Retry-After: the wait follows the header, not the shorter backoff', async (t) => {
  let calls = 0;
  const srv = await new FakeServer((_r, res) => {
    calls++;
    if (calls === 1) res.writeHead(429, { 'Retry-After': '1' }).end('slow down');
    else res.writeHead(200).end();
  }).start();
  t.teardown(() => srv.close());
  const { ex } = build(webhookExporterFactory, { url: srv.url, retry_on_failure: fast });
  await ex.logs!.consume(logsOf(firing()));
  await waitFor(() => srv.requests.length >= 2, 5000, 'the retry');
  const gap = srv.requests[1].at - srv.requests[0].at;
  t.ok(gap >= 950, `retried after Retry-After (${gap} ms)`);
  await ex.shutdown!();
  t.equal(srv.requests.length, 2);
});

t.test('4xx other than 429 is permanent: no retry, counted as failed', async (t) => {
  const srv = await new FakeServer((_r, res) => { res.writeHead(400).end('bad payload'); }).start();
  t.teardown(() => srv.close());
  const { ex, telemetry } = build(webhookExporterFactory, { url: srv.url, sending_queue: { enabled: false }, retry_on_failure: fast });
  await t.rejects(ex.logs!.consume(logsOf(firing())), PermanentError);
  await sleep(300);
  t.equal(srv.requests.length, 1, 'a single attempt');
  t.equal(await counter(telemetry, 'vigil_exporter_send_failed_log_records_total'), 1);
  await ex.shutdown!();
});

t.test('an attempt that times out is retried; the late answer does not count twice', async (t) => {
  let calls = 0;
  const srv = await new FakeServer(async (_r, res) => {
    calls++;
    if (calls === 1) await sleep(800);
    if (!res.destroyed) res.writeHead(200).end();
  }).start();
  t.teardown(() => srv.close());
  const { ex, telemetry } = build(webhookExporterFactory, { url: srv.url, timeout: '200ms', retry_on_failure: fast });
  const t0 = Date.now();
  await ex.logs!.consume(logsOf(firing()));
  await waitFor(() => srv.requests.length >= 2, 5000, 'retry after timeout');
  t.ok(srv.requests[1].at - t0 >= 250, 'second attempt after the timeout and a backoff');
  await sleep(1000);
  t.equal(srv.requests.length, 2, 'no further attempt');
  await ex.shutdown!();
  t.equal(await counter(telemetry, 'vigil_exporter_sent_log_records_total'), 1);
});

t.test('connection refused is retried until the receiver comes up, then delivered once', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const { ex, telemetry } = build(webhookExporterFactory, { url: `http://127.0.0.1:${port}/`, retry_on_failure: fast });
  await ex.logs!.consume(logsOf(firing()));
  await sleep(400); // a few refused attempts
  const srv = new FakeServer();
  await new Promise<void>((resolve, reject) => {
    // The same port, now with a listener.
    (srv as unknown as { server: import('node:http').Server }).server.once('error', reject).listen(port, '127.0.0.1', () => resolve());
  });
  t.teardown(() => srv.close());
  await waitFor(() => srv.requests.length >= 1, 5000, 'delivery');
  await sleep(600);
  t.equal(srv.requests.length, 1, 'delivered exactly once');
  await ex.shutdown!();
  t.equal(await counter(telemetry, 'vigil_exporter_sent_log_records_total'), 1);
});

t.test('a failure of one notification in a batch does not resend the others', async (t) => {
  const seen = new Map<string, number>();
  const srv = await new FakeServer((r, res) => {
    const name = JSON.parse(r.body).commonLabels.alertname as string;
    seen.set(name, (seen.get(name) ?? 0) + 1);
    res.writeHead(name === 'B' && seen.get('B') === 1 ? 503 : 200).end();
  }).start();
  t.teardown(() => srv.close());
  const { ex } = build(webhookExporterFactory, { url: srv.url, retry_on_failure: fast });
  const [a, b, c] = ['A', 'B', 'C'].map((x) => notification([{ labels: { alertname: x } }]));
  await ex.logs!.consume(logsOf(a, b, c));
  await waitFor(() => (seen.get('B') ?? 0) >= 2, 5000, 'B retried');
  await ex.shutdown!();
  t.same(Object.fromEntries(seen), { A: 1, B: 2, C: 1 });
});

t.test('https with ca_file; an unknown CA is refused unless insecure_skip_verify', async (t) => {
  // Made now with openssl: no private key lives in the repository.
  const certs = new CertFactory();
  t.teardown(() => certs.cleanup());
  const ca = certs.ca('webhook-ca');
  const server = certs.issue(ca, 'webhook-server');
  const got: string[] = [];
  const srv = createHttpsServer(certs.read(server), (req, res) => {
    let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => { got.push(b); res.writeHead(200).end(); });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { srv.closeAllConnections(); srv.close(); });
  const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
  const noRetry = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };
  const trusted = build(webhookExporterFactory, { url, tls: { ca_file: ca.cert }, ...noRetry }).ex;
  await trusted.logs!.consume(logsOf(firing()));
  const untrusted = build(webhookExporterFactory, { url, ...noRetry }).ex;
  await t.rejects(untrusted.logs!.consume(logsOf(firing())), /failed/);
  const skip = build(webhookExporterFactory, { url, tls: { insecure_skip_verify: true }, ...noRetry }).ex;
  await skip.logs!.consume(logsOf(firing()));
  t.equal(got.length, 2, 'trusted and skip-verify deliveries arrive, the untrusted one does not');
  await Promise.all([trusted, untrusted, skip].map((e) => e.shutdown!()));
});
