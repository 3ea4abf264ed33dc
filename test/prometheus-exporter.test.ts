import t from 'tap';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { prometheusExporterFactory, PrometheusExporter, PrometheusExporterConfig } from '../exporters/prometheus';
import { FLAG_NO_RECORDED_VALUE, Temporality } from '../src/model';
import { findSample, parseExposition } from '../src/prometheus/textparse';
import { expPoint, gauge, hasPrometheus, histPoint, metric, metrics, numberPoint, settings, startPrometheus, sum } from './prometheus-fixtures';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

function exporter(config: Partial<PrometheusExporterConfig> = {}): PrometheusExporter {
  return prometheusExporterFactory.create(settings(prometheusExporterFactory.configSchema, config), ['metrics']) as PrometheusExporter;
}

const RES = { 'service.name': 'checkout', 'service.namespace': 'shop', 'service.instance.id': 'pod-7', 'host.name': 'web-1', 'deployment.environment': 'prod' };

function everyKind() {
  return metrics(RES, [
    metric('http.server.requests', '{request}', sum([numberPoint(42, { 'http.request.method': 'GET' }), numberPoint(3, { 'http.request.method': 'POST' })]), 'Requests served'),
    metric('queue.depth', '{item}', sum([numberPoint(-2)], false), 'Items waiting'),
    metric('process.memory.usage', 'By', gauge([numberPoint(1048576)]), 'Resident memory'),
    metric('http.server.request.duration', 's', { type: 'histogram', aggregationTemporality: Temporality.CUMULATIVE, dataPoints: [histPoint([0.1, 0.5, 1], [4, 3, 2, 1], 5.25)] }, 'Request latency'),
    metric('rpc.duration', 's', {
      type: 'exponentialHistogram', aggregationTemporality: Temporality.CUMULATIVE,
      // scale 0: base 2; positive bucket i holds (2^i, 2^(i+1)].
      dataPoints: [expPoint({ scale: 0, zeroCount: 2, positive: { offset: -1, bucketCounts: [1, 3, 5] }, negative: { offset: 0, bucketCounts: [4] }, sum: 9.5 })],
    }, 'RPC latency'),
    metric('gc.pause', 's', { type: 'summary', dataPoints: [{ attributes: {}, startTimeUnixNano: 0n, timeUnixNano: 1n, flags: 0, count: 10, sum: 0.5, quantileValues: [{ quantile: 0.5, value: 0.04 }, { quantile: 0.99, value: 0.2 }] }] }, 'GC pauses'),
  ]);
}

t.test('every metric kind is exposed with its Prometheus type, name and values', async (t) => {
  const ex = exporter();
  ex.consumeMetrics(everyKind());
  const body = ex.scrape('text');
  const p = parseExposition(body);
  const type = (n: string) => p.families.get(n)?.type;
  t.equal(type('http_server_requests_total'), 'counter');
  t.equal(type('queue_depth'), 'gauge', 'a non-monotonic sum is a gauge');
  t.equal(type('process_memory_usage_bytes'), 'gauge');
  t.equal(type('http_server_request_duration_seconds'), 'histogram');
  t.equal(type('rpc_duration_seconds'), 'histogram', 'an exponential histogram becomes a classic one');
  t.equal(type('gc_pause_seconds'), 'summary');
  t.equal(type('target_info'), 'gauge');

  const id = { job: 'shop/checkout', instance: 'pod-7' };
  t.equal(findSample(p, 'http_server_requests_total', { ...id, http_request_method: 'GET' })?.value, 42);
  t.equal(findSample(p, 'http_server_requests_total', { http_request_method: 'POST' })?.value, 3);
  t.equal(findSample(p, 'queue_depth', id)?.value, -2);
  t.equal(findSample(p, 'process_memory_usage_bytes', id)?.value, 1048576);
  t.equal(findSample(p, 'process_memory_usage_bytes')?.labels.otel_scope_name, 'test-scope');

  const le = (name: string, bound: string) => findSample(p, name + '_bucket', { le: bound })?.value;
  t.same(['0.1', '0.5', '1', '+Inf'].map((b) => le('http_server_request_duration_seconds', b)), [4, 7, 9, 10], 'buckets are cumulative');
  t.equal(findSample(p, 'http_server_request_duration_seconds_sum')?.value, 5.25);
  t.equal(findSample(p, 'http_server_request_duration_seconds_count')?.value, 10);

  // negative bucket 0 = [-2, -1): le -1 → 4; zero bucket le 0 → 6; (0.5,1] → 7; (1,2] → 10; (2,4] → 15.
  t.same(['-1', '0', '1', '2', '4', '+Inf'].map((b) => le('rpc_duration_seconds', b)), [4, 6, 7, 10, 15, 15]);
  t.equal(findSample(p, 'rpc_duration_seconds_count')?.value, 15);

  t.equal(findSample(p, 'gc_pause_seconds', { quantile: '0.99' })?.value, 0.2);
  t.equal(findSample(p, 'gc_pause_seconds_count')?.value, 10);

  const info = findSample(p, 'target_info');
  t.same(info?.labels, { job: 'shop/checkout', instance: 'pod-7', host_name: 'web-1', deployment_environment: 'prod' }, 'target_info carries the other resource attributes');
  t.notOk('host_name' in (findSample(p, 'queue_depth')?.labels ?? {}), 'resource attributes are not on every series by default');

  if (hasPromtool) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body });
    t.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
  }
});

t.test('promoted resource attributes, const labels, label collisions and escaping', async (t) => {
  const ex = exporter({ promote_resource_attributes: ['deployment.environment'], const_labels: { region: 'eu-1' } });
  ex.consumeMetrics(metrics(RES, [
    metric('jobs', '', gauge([numberPoint(1, { 'a.b': 'x', a_b: 'y', msg: 'say "hi"\\\nbye' })])),
  ]));
  const p = parseExposition(ex.scrape());
  const s = findSample(p, 'jobs');
  t.equal(s?.labels.deployment_environment, 'prod');
  t.equal(s?.labels.region, 'eu-1');
  t.equal(s?.labels.a_b, 'x;y', 'attributes that sanitise to one name are joined in key order');
  t.equal(s?.labels.msg, 'say "hi"\\\nbye', 'quotes, backslashes and newlines survive escaping');

  const h = histPoint([1], [1, 0], 0.5, { le: 'oops', route: '/' });
  ex.consumeMetrics(metrics(RES, [metric('h', 's', { type: 'histogram', aggregationTemporality: Temporality.CUMULATIVE, dataPoints: [h] })]));
  const hp = parseExposition(ex.scrape());
  t.equal(findSample(hp, 'h_seconds_bucket', { route: '/', le: '1' })?.value, 1, 'an attribute named le cannot clash with the bucket label');

  const all = exporter({ resource_to_telemetry_conversion: { enabled: true } });
  all.consumeMetrics(metrics(RES, [metric('jobs', '', gauge([numberPoint(1)]))]));
  const q = findSample(parseExposition(all.scrape()), 'jobs');
  t.equal(q?.labels.host_name, 'web-1');
  t.equal(q?.labels.service_name, 'checkout');
});

t.test('deltas accumulate into cumulative series; cumulative points replace; old points are ignored', async (t) => {
  const ex = exporter();
  const d = (v: number, at: number) => metrics(RES, [metric('hits', '', sum([numberPoint(v, {}, at, at - 10)], true, Temporality.DELTA))]);
  ex.consumeMetrics(d(3, 1000));
  ex.consumeMetrics(d(4, 2000));
  t.equal(findSample(parseExposition(ex.scrape()), 'hits_total')?.value, 7);

  const dh = (counts: number[], at: number) => metrics(RES, [metric('lat', 's', { type: 'histogram', aggregationTemporality: Temporality.DELTA, dataPoints: [histPoint([1], counts, counts[0] * 0.5 + counts[1] * 2, {}, at)] })]);
  ex.consumeMetrics(dh([1, 1], 1000));
  ex.consumeMetrics(dh([2, 0], 2000));
  let p = parseExposition(ex.scrape());
  t.equal(findSample(p, 'lat_seconds_bucket', { le: '1' })?.value, 3);
  t.equal(findSample(p, 'lat_seconds_count')?.value, 4);
  t.equal(findSample(p, 'lat_seconds_sum')?.value, 3.5);

  const de = (at: number, scale: number, counts: number[]) => metrics(RES, [metric('exp', 's', { type: 'exponentialHistogram', aggregationTemporality: Temporality.DELTA, dataPoints: [expPoint({ scale, positive: { offset: 0, bucketCounts: counts }, sum: 1 }, at)] })]);
  ex.consumeMetrics(de(1000, 1, [1, 1])); // (1,√2], (√2,2]
  ex.consumeMetrics(de(2000, 0, [5])); // (1,2] at the coarser scale
  p = parseExposition(ex.scrape());
  t.equal(findSample(p, 'exp_seconds_bucket', { le: '2' })?.value, 7, 'exponential deltas merge at the coarser scale');

  const c = (v: number, at: number) => metrics(RES, [metric('orders', '', sum([numberPoint(v, {}, at)]))]);
  ex.consumeMetrics(c(10, 2000));
  ex.consumeMetrics(c(15, 3000));
  ex.consumeMetrics(c(12, 2500));
  t.equal(findSample(parseExposition(ex.scrape()), 'orders_total')?.value, 15, 'an out-of-order cumulative point does not move the series back');
});

t.test('staleness: series expire after metric_expiration, and on a no-recorded-value point', async (t) => {
  const ex = exporter({ metric_expiration: '150ms' });
  ex.consumeMetrics(metrics(RES, [metric('a', '', gauge([numberPoint(1)])), metric('b', '', gauge([numberPoint(2)]))]));
  const gone = numberPoint(0, {}, 2000);
  gone.flags = FLAG_NO_RECORDED_VALUE;
  ex.consumeMetrics(metrics(RES, [metric('b', '', gauge([gone]))]));
  let p = parseExposition(ex.scrape());
  t.ok(findSample(p, 'a'));
  t.notOk(findSample(p, 'b'), 'the producer ended series b');
  await new Promise((r) => setTimeout(r, 220));
  p = parseExposition(ex.scrape());
  t.notOk(findSample(p, 'a'), 'series a was not updated within 150ms');
  t.notOk(p.families.has('a'), 'its family is gone too');
});

t.test('max_series bounds memory', async (t) => {
  const ex = exporter({ max_series: 3 });
  ex.consumeMetrics(metrics({}, [metric('m', '', gauge([1, 2, 3, 4, 5].map((i) => numberPoint(i, { i: String(i) }))))]));
  t.equal(parseExposition(ex.scrape()).samples.filter((s) => s.name === 'm').length, 3);
});

t.test('HTTP: text by default, OpenMetrics with exemplars by negotiation, gzip', async (t) => {
  const ex = exporter({ endpoint: '127.0.0.1:0', enable_open_metrics: true });
  await ex.start();
  t.teardown(() => ex.shutdown());
  const withExemplar = numberPoint(9, { route: '/pay' });
  withExemplar.exemplars = [{ filteredAttributes: {}, timeUnixNano: withExemplar.timeUnixNano, value: 1, isInt: true, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }];
  const hp = histPoint([0.1, 1], [0, 1, 0], 0.3);
  hp.exemplars = [{ filteredAttributes: {}, timeUnixNano: hp.timeUnixNano, value: 0.3, isInt: false, traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331' }];
  ex.consumeMetrics(metrics(RES, [
    metric('payments', '', sum([withExemplar]), 'Payments'),
    metric('pay.latency', 's', { type: 'histogram', aggregationTemporality: Temporality.CUMULATIVE, dataPoints: [hp] }, 'Latency'),
  ]));
  const url = `http://127.0.0.1:${ex.address!.port}/metrics`;

  const text = await fetch(url);
  t.match(text.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.equal(findSample(parseExposition(await text.text()), 'payments_total')?.value, 9);

  // What Prometheus 2.x sends.
  const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const om = await fetch(url, { headers: { accept } });
  t.match(om.headers.get('content-type'), /^application\/openmetrics-text; version=1\.0\.0/);
  const omBody = await om.text();
  const p = parseExposition(omBody, true);
  t.ok(p.eof, 'ends with # EOF');
  t.equal(p.families.get('payments')?.type, 'counter', 'OpenMetrics names the counter family without _total');
  t.equal(p.families.get('pay_latency_seconds')?.unit, 'seconds');
  t.equal(p.families.get('target')?.type, 'info');
  const s = findSample(p, 'payments_total');
  t.same(s?.exemplar?.labels, { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
  t.equal(findSample(p, 'pay_latency_seconds_bucket', { le: '1' })?.exemplar?.value, 0.3, 'a histogram exemplar sits on the bucket its value falls in');
  t.notOk(findSample(p, 'pay_latency_seconds_bucket', { le: '0.1' })?.exemplar);

  const plain = exporter({ endpoint: '127.0.0.1:0' });
  await plain.start();
  t.teardown(() => plain.shutdown());
  const r = await fetch(`http://127.0.0.1:${plain.address!.port}/metrics`, { headers: { accept } });
  t.match(r.headers.get('content-type'), /^text\/plain/, 'OpenMetrics only when enabled');
  await r.text();

  const gz = await new Promise<Buffer>((resolve, reject) => {
    // fetch() would decompress transparently; a raw request shows what went over the wire.
    require('node:http').get(url, { headers: { 'accept-encoding': 'gzip' } }, (res: import('node:http').IncomingMessage) => {
      t.equal(res.headers['content-encoding'], 'gzip');
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
    }).on('error', reject);
  });
  t.equal(findSample(parseExposition(gunzipSync(gz).toString()), 'payments_total')?.value, 9);

  const nf = await fetch(`http://127.0.0.1:${ex.address!.port}/other`);
  t.equal(nf.status, 404);
  await nf.text();
});

if (!hasPrometheus) t.comment('prometheus is not installed: the real-scrape check did not run');
else t.test('a real Prometheus scrapes it (OpenMetrics negotiated) and answers queries with the values', async (t) => {
  const ex = exporter({ endpoint: '127.0.0.1:0', enable_open_metrics: true });
  await ex.start();
  t.teardown(() => ex.shutdown());
  const p = numberPoint(9, { route: '/pay' });
  p.exemplars = [{ filteredAttributes: {}, timeUnixNano: p.timeUnixNano, value: 1, isInt: true, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }];
  ex.consumeMetrics(everyKind());
  ex.consumeMetrics(metrics(RES, [metric('payments', '', sum([p]), 'Payments')]));
  // The README's minimal config, with a short interval for the test.
  const base = await startPrometheus(t, `global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: vigil
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:${ex.address!.port}']
`);
  const q = async (query: string) => {
    const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
    return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  };
  let up: Awaited<ReturnType<typeof q>> = [];
  for (let i = 0; i < 100 && !(up.length && up[0].value[1] === '1'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    up = await q('up{job="vigil"}');
  }
  t.equal(up[0]?.value[1], '1', 'the scrape succeeded');
  t.ok(ex.scrapeCounts.openmetrics > 0 && ex.scrapeCounts.text === 0, 'Prometheus asked for, and got, OpenMetrics');
  const pay = await q('payments_total');
  t.equal(pay[0]?.value[1], '9');
  t.equal(pay[0]?.metric.job, 'shop/checkout', 'honor_labels keeps the job from service.namespace/service.name');
  t.equal((await q('http_server_request_duration_seconds_bucket{le="0.5"}'))[0]?.value[1], '7');
  t.equal((await q('rpc_duration_seconds_count'))[0]?.value[1], '15');
  t.equal((await q('target_info'))[0]?.metric.host_name, 'web-1');
});
