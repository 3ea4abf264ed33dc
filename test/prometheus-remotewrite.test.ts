import t, { Test } from 'tap';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { CertFactory } from './helpers/certs';
import { prometheusRemoteWriteExporterFactory, RemoteWriteConfig } from '../exporters/prometheusremotewrite';
import type { Component, SignalConsumers } from '../src/component';
import { PermanentError } from '../src/errors';
import { FLAG_NO_RECORDED_VALUE, Metrics, Temporality } from '../src/model';
import { DecodedWriteRequest, decodeWriteRequest } from '../src/prometheus/remotewrite';
import { snappyDecompress } from '../src/prometheus/snappy';
import { T0, gauge, hasPrometheus, histPoint, metric, metrics, numberPoint, settings, startPrometheus, sum } from './prometheus-fixtures';

const host = { getExtension: () => undefined, reportStatus: () => undefined };
const RES = { 'service.name': 'checkout', 'service.instance.id': 'pod-1', 'host.name': 'web-1' };

interface Fake {
  url: string;
  requests: { headers: IncomingMessage['headers']; body: DecodedWriteRequest }[];
  /** Status to answer for the n-th request (0-based); 204 when undefined. */
  answer?: (n: number) => number | undefined;
  server: Server;
}

async function fakeReceiver(t: Test): Promise<Fake> {
  const fake: Fake = { url: '', requests: [], server: undefined as unknown as Server };
  let n = 0;
  fake.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const status = fake.answer?.(n++) ?? 204;
      if (status < 300) fake.requests.push({ headers: req.headers, body: decodeWriteRequest(snappyDecompress(Buffer.concat(chunks))) });
      res.writeHead(status).end(status >= 300 ? 'nope' : undefined);
    });
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/api/v1/write`;
  t.teardown(() => new Promise<void>((r) => fake.server.close(() => r())));
  return fake;
}

type Exp = Component & SignalConsumers;

async function exporter(t: Test, config: Partial<RemoteWriteConfig>): Promise<Exp> {
  const ex = prometheusRemoteWriteExporterFactory.create(settings(prometheusRemoteWriteExporterFactory.configSchema, config), ['metrics']);
  await ex.start!(host);
  t.teardown(() => ex.shutdown!());
  return ex;
}

const fast = { retry_on_failure: { initial_interval: '10ms', max_interval: '20ms', max_elapsed_time: '2s' } };

function samplesByName(reqs: Fake['requests']): Map<string, { labels: Record<string, string>; value: number; timestamp: number; stale: boolean }[]> {
  const out = new Map<string, { labels: Record<string, string>; value: number; timestamp: number; stale: boolean }[]>();
  for (const r of reqs) for (const ts of r.body.timeseries) {
    const list = out.get(ts.labels.__name__) ?? [];
    for (const s of ts.samples) list.push({ labels: ts.labels, ...s });
    out.set(ts.labels.__name__, list);
  }
  return out;
}

t.test('sends translated series as snappy protobuf, accumulating deltas', async (t) => {
  const fake = await fakeReceiver(t);
  const ex = await exporter(t, { endpoint: fake.url, sending_queue: { enabled: false }, send_metadata: true, external_labels: { cluster: 'eu' } });
  const delta = (v: number, at: number) => metrics(RES, [
    metric('orders', '', sum([numberPoint(v, { region: 'x' }, at, at - 100)], true, Temporality.DELTA), 'Orders'),
    metric('lat', 's', { type: 'histogram', aggregationTemporality: Temporality.CUMULATIVE, dataPoints: [histPoint([0.5], [v, 1], v, {}, at)] }),
  ]);
  await ex.metrics!.consume(delta(2, 1000));
  await ex.metrics!.consume(delta(5, 2000));
  t.equal(fake.requests.length, 2);
  const h = fake.requests[0].headers;
  t.equal(h['content-encoding'], 'snappy');
  t.equal(h['content-type'], 'application/x-protobuf');
  t.equal(h['x-prometheus-remote-write-version'], '0.1.0');

  const by = samplesByName(fake.requests);
  const orders = by.get('orders_total')!;
  t.same(orders.map((s) => s.value), [2, 7], 'the second delta is sent as the running total');
  t.same(orders.map((s) => s.timestamp), [Number(T0 / 1_000_000n) + 1000, Number(T0 / 1_000_000n) + 2000], 'point timestamps in ms');
  t.same(orders[0].labels, { __name__: 'orders_total', cluster: 'eu', instance: 'pod-1', job: 'checkout', otel_scope_name: 'test-scope', otel_scope_version: '1.0', region: 'x' });
  const ts = fake.requests[0].body.timeseries[0];
  t.same(Object.keys(ts.labels), Object.keys(ts.labels).slice().sort(), 'labels are sorted by name, as remote write requires');
  t.same(by.get('lat_seconds_bucket')!.filter((s) => s.labels.le === '+Inf').map((s) => s.value), [3, 6]);
  t.same(by.get('lat_seconds_count')!.map((s) => s.value), [3, 6]);
  t.equal(by.get('target_info')![0].labels.host_name, 'web-1');
  const md = fake.requests[0].body.metadata.find((m) => m.family === 'orders_total');
  t.same(md, { type: 1, family: 'orders_total', help: 'Orders', unit: '' }, 'metadata when send_metadata is on');
});

t.test('retries 5xx and 429, gives up on other 4xx without retrying', async (t) => {
  const fake = await fakeReceiver(t);
  let calls = 0;
  fake.answer = (n) => { calls++; return n < 2 ? (n === 0 ? 503 : 429) : undefined; };
  const ex = await exporter(t, { endpoint: fake.url, sending_queue: { enabled: false }, ...fast });
  await ex.metrics!.consume(metrics(RES, [metric('up', '', gauge([numberPoint(1)]))]));
  t.equal(calls, 3, 'two refusals, then accepted');
  t.equal(samplesByName(fake.requests).get('up')![0].value, 1);

  const bad = await fakeReceiver(t);
  let badCalls = 0;
  bad.answer = () => { badCalls++; return 400; };
  const ex2 = await exporter(t, { endpoint: bad.url, sending_queue: { enabled: false }, ...fast });
  await t.rejects(ex2.metrics!.consume(metrics(RES, [metric('up', '', gauge([numberPoint(1)]))])), PermanentError);
  t.equal(badCalls, 1, 'a 400 is not retried');
});

t.test('large batches are split; a retry resumes after the parts already accepted', async (t) => {
  const fake = await fakeReceiver(t);
  fake.answer = (n) => (n === 1 ? 503 : undefined);
  const ex = await exporter(t, { endpoint: fake.url, sending_queue: { enabled: false }, max_batch_size_bytes: 2048, target_info: { enabled: false }, ...fast });
  const points = Array.from({ length: 200 }, (_, i) => numberPoint(i, { idx: String(i) }));
  await ex.metrics!.consume(metrics(RES, [metric('g', '', gauge(points))]));
  t.ok(fake.requests.length > 3, `split into ${fake.requests.length} requests`);
  const got = samplesByName(fake.requests).get('g')!.map((s) => s.value).sort((a, b) => a - b);
  t.same(got, points.map((p) => Number(p.value)), 'every series exactly once');
});

t.test('a no-recorded-value point is sent as the Prometheus staleness marker', async (t) => {
  const fake = await fakeReceiver(t);
  const ex = await exporter(t, { endpoint: fake.url, sending_queue: { enabled: false }, target_info: { enabled: false } });
  await ex.metrics!.consume(metrics(RES, [metric('temp', '', gauge([numberPoint(21, {}, 1000)]))]));
  const end = numberPoint(0, {}, 2000);
  end.flags = FLAG_NO_RECORDED_VALUE;
  await ex.metrics!.consume(metrics(RES, [metric('temp', '', gauge([end]))]));
  const s = samplesByName(fake.requests).get('temp')!;
  t.same(s.map((x) => x.stale), [false, true]);
  t.ok(Number.isNaN(s[1].value));
});

t.test('with the queue on, consume returns before delivery and the data still arrives in order', async (t) => {
  const fake = await fakeReceiver(t);
  const ex = await exporter(t, { endpoint: fake.url, target_info: { enabled: false } });
  for (let i = 1; i <= 5; i++) await ex.metrics!.consume(metrics(RES, [metric('c', '', sum([numberPoint(1, {}, i * 1000)], true, Temporality.DELTA))]));
  await ex.shutdown!();
  t.same(samplesByName(fake.requests).get('c_total')!.map((s) => s.value), [1, 2, 3, 4, 5]);
});

// ---- against a real Prometheus, when the package is installed ----

if (!hasPrometheus) t.comment('prometheus is not installed: the real-server check did not run (the fake receiver above still did)');
else t.test('a real Prometheus accepts the writes and answers queries with the sent values', async (t) => {
  const base = await startPrometheus(t, 'global:\n  scrape_interval: 15s\n');
  const ex = await exporter(t, { endpoint: `${base}/api/v1/write`, sending_queue: { enabled: false } });
  const now = Date.now();
  const at = now - 2000 - Number(T0 / 1_000_000n);
  const md: Metrics = metrics(RES, [
    metric('http.server.requests', '', sum([numberPoint(4, { route: '/a' }, at - 1000, at - 5000)], true, Temporality.DELTA)),
    metric('http.server.request.duration', 's', { type: 'histogram', aggregationTemporality: Temporality.CUMULATIVE, dataPoints: [histPoint([0.1, 1], [2, 3, 1], 2.5, {}, at)] }),
  ]);
  await ex.metrics!.consume(md);
  await ex.metrics!.consume(metrics(RES, [metric('http.server.requests', '', sum([numberPoint(6, { route: '/a' }, at, at - 1000)], true, Temporality.DELTA))]));
  const q = async (query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${(now / 1000).toFixed(3)}`);
    const j = (await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return j.data.result;
  };
  const total = await q('http_server_requests_total{job="checkout"}');
  t.equal(total.length, 1);
  t.equal(total[0].value[1], '10', 'accumulated deltas');
  t.equal(total[0].metric.route, '/a');
  const le = await q('http_server_request_duration_seconds_bucket{le="1"}');
  t.equal(le[0]?.value[1], '5');
  const info = await q('target_info');
  t.equal(info[0]?.metric.host_name, 'web-1');
});

t.test('https with the shared tls block: a private CA and a client certificate; the wrong CA fails with a clear error', async (t) => {
  // Certificates made now with openssl (test/helpers/certs.ts); the receiver demands a client certificate (mTLS).
  const certs = new CertFactory();
  t.teardown(() => certs.cleanup());
  const ca = certs.ca('rw-ca');
  const other = certs.ca('rw-other-ca');
  const server = certs.issue(ca, 'rw-server');
  const client = certs.issue(ca, 'rw-client', { client: true });
  const got: DecodedWriteRequest[] = [];
  const srv = createHttpsServer({ ...certs.read(server), ca: readFileSync(ca.cert), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      got.push(decodeWriteRequest(snappyDecompress(Buffer.concat(chunks))));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { srv.closeAllConnections(); srv.close(); });
  const endpoint = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/api/v1/write`;
  const data = metrics(RES, [metric('up', '', gauge([numberPoint(1, {}, 1000)]))]);
  const noRetry = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };

  const good = await exporter(t, { endpoint, tls: { ca_file: ca.cert, cert_file: client.cert, key_file: client.key }, ...noRetry });
  await good.metrics!.consume(data);
  t.equal(got.length, 1, 'delivered over mutual TLS');
  t.ok(got[0].timeseries.some((s) => s.labels.__name__ === 'up'));

  const wrongCa = await exporter(t, { endpoint, tls: { ca_file: other.cert, cert_file: client.cert, key_file: client.key }, ...noRetry });
  await t.rejects(wrongCa.metrics!.consume(data), /remote write to 127\.0\.0\.1:\d+ failed: .*certificate/, 'a server certificate from another CA is refused, and the error says so');
  const systemCas = await exporter(t, { endpoint, ...noRetry });
  await t.rejects(systemCas.metrics!.consume(data), /failed: .*certificate/, 'without ca_file the system CAs do not trust it');
  t.equal(got.length, 1, 'nothing delivered by the refused ones');
  t.throws(() => prometheusRemoteWriteExporterFactory.create(settings<RemoteWriteConfig>(prometheusRemoteWriteExporterFactory.configSchema, { endpoint, tls: { ca_file: `${certs.dir}/missing.pem` } }), ['metrics']), /exporters\..*\.tls\.ca_file: cannot read .*missing\.pem/, 'a missing CA file fails at start, naming the file');
});
