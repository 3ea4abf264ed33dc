import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { captureExporter, startTest } from './helpers/collector';
import { metricExporter, RESOURCE } from './helpers/sdk';
import { numericValue } from '../src/model';
import { SeriesTracker } from '../processors/anomaly/series';
import { DEFAULT_PARAMS } from '../processors/anomaly/algorithm';
import Database from 'better-sqlite3';
import { freePort } from './prometheus-fixtures';

t.test('metrics from the OpenTelemetry JS SDK produce an anomaly event when the value jumps', async (t) => {
  const { factory, capture } = captureExporter();
  const yaml = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  anomaly:
    persist: false
    include:
      names: [queue.depth]
    algorithm:
      warmup: 20
exporters:
  capture:
connectors:
  anomaly_events:
    persist: false
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [anomaly]
      exporters: [capture, anomaly_events]
    logs:
      receivers: [anomaly_events]
      exporters: [capture]
`;
  const vigil = await startTest(yaml, [factory]);
  t.teardown(() => vigil.shutdown());
  const exporter = metricExporter('http/json', vigil);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes(RESOURCE), readers: [reader] });
  t.teardown(() => provider.shutdown());
  let value = 0;
  provider.getMeter('test').createObservableGauge('queue.depth').addCallback((r) => r.observe(value, { queue: 'orders' }));

  // A steady, slightly noisy queue depth ...
  for (let i = 0; i < 60; i++) {
    value = 10 + (i % 3);
    await reader.forceFlush();
  }
  await capture.waitFor(() => capture.metrics.length >= 60);
  t.equal(capture.logs.length, 0, 'no event while the series behaves like itself');
  const scored = capture.metrics[59].resourceMetrics[0].scopeMetrics[0].metrics[0].data.dataPoints[0].attributes;
  t.type(numericValue(scored['anomaly.score']), 'number', 'points carry anomaly.score');

  // ... then it jumps.
  value = 500;
  await reader.forceFlush();
  await capture.waitFor(() => capture.logs.length > 0, 5000);
  const rec = capture.logs[0].resourceLogs[0].scopeLogs[0].logRecords[0];
  t.equal(rec.eventName, 'anomaly');
  t.equal(rec.attributes['event.name'], 'anomaly');
  t.equal(rec.attributes['anomaly.kind'], 'metric');
  t.equal(rec.attributes['anomaly.name'], 'queue.depth');
  t.equal(numericValue(rec.attributes['anomaly.value']), 500);
  t.ok(numericValue(rec.attributes['anomaly.score'])! >= 0.75);
  t.ok(numericValue(rec.attributes['anomaly.expected.max'])! < 500);
  t.equal(rec.attributes.queue, 'orders');
  t.equal(capture.logs[0].resourceLogs[0].resource.attributes['service.name'], RESOURCE['service.name']);
});

t.test('series state persists across a restart: no new warm-up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-anomaly-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const opts = { component: 'anomaly', params: { ...DEFAULT_PARAMS, warmup: 50 }, maxSeries: 10, idleMs: 3_600_000, dataDir: dir };
  const a = new SeriesTracker(opts);
  a.open();
  for (let i = 0; i < 80; i++) a.score(a.entry('s1', Date.now()), 10 + (i % 2), 1.7e9 + 60 * i);
  a.close();

  const b = new SeriesTracker(opts);
  b.open();
  t.equal(b.size, 1);
  const r = b.score(b.entry('s1', Date.now()), 1000, 1.7e9 + 60 * 80);
  t.ok(r.ready, 'not warming up again');
  t.ok(r.score >= 0.75, `a jump right after the restart is scored: ${r.score}`);
  b.close();

  // A fresh tracker (no persisted state) would still be warming up.
  const c = new SeriesTracker({ ...opts, dataDir: undefined });
  c.open();
  t.equal(c.score(c.entry('s1', Date.now()), 1000, 1.7e9 + 60 * 80).ready, false);
});

t.test('the series cap evicts the least recently seen series', async (t) => {
  const tr = new SeriesTracker({ component: 'x', params: DEFAULT_PARAMS, maxSeries: 2, idleMs: 1000 });
  tr.entry('a', 0);
  tr.entry('b', 1);
  tr.entry('a', 2);
  tr.entry('c', 3);
  t.equal(tr.size, 2);
  t.equal(tr.evicted, 1, 'b went');
  tr.evictIdle(1002.5);
  t.equal(tr.size, 1, 'a (last seen at 2) is idle after 1000 ms');
});

t.test('a score on every point does not split the stream: one stored series, one Prometheus series', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-anomaly-stream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const promPort = await freePort();
  const { factory, capture } = captureExporter();
  const yaml = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  anomaly:
    persist: false
    algorithm:
      warmup: 5
exporters:
  capture:
  sqlite:
    path: ${join(dir, 'vigil.db')}
  prometheus:
    endpoint: 127.0.0.1:${promPort}
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [anomaly]
      exporters: [capture, sqlite, prometheus]
`;
  const vigil = await startTest(yaml, [factory]);
  let stopped = false;
  t.teardown(() => (stopped ? undefined : vigil.shutdown()));
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter('http/protobuf', vigil), exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: resourceFromAttributes(RESOURCE), readers: [reader] });
  t.teardown(() => provider.shutdown());
  let value = 0;
  provider.getMeter('test').createObservableGauge('queue.depth').addCallback((r) => r.observe(value, { queue: 'orders' }));
  for (let i = 0; i < 40; i++) {
    value = 10 + ((i * 7) % 5) + (i === 30 ? 300 : 0);
    await reader.forceFlush();
  }
  await capture.waitFor(() => capture.metrics.length >= 40);
  const scores = new Set(capture.metrics.map((m) => numericValue(m.resourceMetrics[0].scopeMetrics[0].metrics[0].data.dataPoints[0].attributes['anomaly.score'])));
  t.ok(scores.size > 5, `the points carry ${scores.size} different scores`);

  const exposition = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text();
  const lines = exposition.split('\n').filter((l) => l.startsWith('queue_depth{'));
  t.equal(lines.length, 1, `one Prometheus series: ${lines.join(' | ')}`);
  t.notMatch(lines[0], /anomaly/, 'the score is not a label');
  t.match(lines[0], /queue="orders"/);

  await vigil.shutdown();
  stopped = true;
  const db = new Database(join(dir, 'vigil.db'), { readonly: true });
  t.teardown(() => db.close());
  const series = db.prepare("SELECT series_id, attributes FROM metric_series WHERE metric_name = 'queue.depth'").all() as Array<{ series_id: number; attributes: string }>;
  t.equal(series.length, 1, 'one stored series');
  t.same(JSON.parse(series[0].attributes), { queue: 'orders' });
  const points = db.prepare('SELECT COUNT(*) AS n FROM metric_number_points WHERE series_id = ?').get(series[0].series_id) as { n: number };
  // Every point is in it: one row per distinct timestamp (two flushes within the SDK's clock
  // resolution give the same time, and one stream has one point per time).
  const times = new Set(capture.metrics.map((m) => m.resourceMetrics[0].scopeMetrics[0].metrics[0].data.dataPoints[0].timeUnixNano));
  t.equal(points.n, times.size, `every point stored in it (${times.size} distinct times)`);
});
