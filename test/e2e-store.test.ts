/**
 * End to end: the OpenTelemetry JS SDK sends traces, metrics and logs (HTTP/protobuf, HTTP/JSON,
 * gRPC) through otlp → memory_limiter → batch into the sqlite and file exporters; the test reads the
 * database and the OTLP/JSON file back and compares them with what the SDK made, field by field.
 */
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { otlpConfig, startTest } from './helpers/collector';
import { RESOURCE, TRANSPORTS, exportAsync, hrToNanos, logExporter, makeLogs, makeMetrics, makeSpans, metricExporter, traceExporter } from './helpers/sdk';

t.test('SDK → Vigil → SQLite and file, field by field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  const db = join(dir, 'vigil.db');
  const file = join(dir, 'out.jsonl');
  const extra = `processors:
  memory_limiter: { limit_mib: 4096 }
  batch: { timeout: 50ms }
exporters:
  sqlite: { path: ${db}, flush_interval: 50ms }
  file: { path: ${file} }
`;
  const vigil = await startTest(otlpConfig(['sqlite', 'file'], { processors: ['memory_limiter', 'batch'], extra }));

  const sent = { spans: [] as Awaited<ReturnType<typeof makeSpans>>, logs: [] as Awaited<ReturnType<typeof makeLogs>>, metrics: [] as Awaited<ReturnType<typeof makeMetrics>>[] };
  for (const tr of TRANSPORTS) {
    const spans = await makeSpans(`e2e-${tr}`);
    const logs = await makeLogs(`e2e-${tr}`);
    const metrics = await makeMetrics(`e2e-${tr}`);
    const te = traceExporter(tr, vigil);
    const le = logExporter(tr, vigil);
    const me = metricExporter(tr, vigil);
    t.equal((await exportAsync(te, spans)).code, 0, `${tr} traces accepted`);
    t.equal((await exportAsync(le, logs)).code, 0, `${tr} logs accepted`);
    t.equal((await exportAsync(me, metrics)).code, 0, `${tr} metrics accepted`);
    await Promise.all([te.shutdown(), le.shutdown(), me.shutdown()]);
    sent.spans.push(...spans);
    sent.logs.push(...logs);
    sent.metrics.push(metrics);
  }
  // Shutdown flushes the batch processor and commits everything the exporters were given.
  await vigil.shutdown();

  const d = new Database(db, { readonly: true });
  d.defaultSafeIntegers(true);
  t.teardown(() => d.close());

  t.test('spans in SQLite', async (t) => {
    const rows = d.prepare(`SELECT s.*, r.attributes AS resource_attributes, sc.name AS scope_name, sc.version AS scope_version
      FROM spans s JOIN resources r USING (resource_id) JOIN scopes sc USING (scope_id)`).all() as any[];
    t.equal(rows.length, sent.spans.length, 'every span stored once');
    const byId = new Map(rows.map((r) => [r.span_id, r]));
    for (const s of sent.spans) {
      const r = byId.get(s.spanContext().spanId);
      t.ok(r, `span ${s.spanContext().spanId}`);
      t.equal(r.trace_id, s.spanContext().traceId);
      t.equal(r.parent_span_id, s.parentSpanContext?.spanId ?? '');
      t.equal(r.name, s.name);
      t.equal(Number(r.kind), s.kind + 1);
      t.equal(r.start_time_unix_nano, hrToNanos(s.startTime), 'start ns exact');
      t.equal(r.end_time_unix_nano, hrToNanos(s.endTime), 'end ns exact');
      t.equal(r.duration_nano, hrToNanos(s.endTime) - hrToNanos(s.startTime));
      t.equal(Number(r.status_code), s.status.code);
      t.equal(r.service_name, 'checkout');
      t.same(JSON.parse(r.attributes), s.attributes);
      const res = JSON.parse(r.resource_attributes);
      for (const [k, v] of Object.entries(RESOURCE)) t.equal(res[k], v);
      t.equal(r.scope_name, 'vigil-test');
      t.equal(r.scope_version, '0.0.1');
      if (s.events.length) {
        const ev = JSON.parse(r.events);
        t.equal(ev[0].name, s.events[0].name);
        t.equal(ev[0].time_unix_nano, String(hrToNanos(s.events[0].time)));
        t.same(ev[0].attributes, s.events[0].attributes);
      }
      if (s.links.length) t.equal(JSON.parse(r.links)[0].span_id, s.links[0].context.spanId);
    }
  });

  t.test('logs in SQLite', async (t) => {
    const rows = d.prepare('SELECT * FROM logs ORDER BY ts_unix_nano').all() as any[];
    t.equal(rows.length, sent.logs.length);
    for (const l of sent.logs) {
      const r = rows.find((x) => x.time_unix_nano === hrToNanos(l.hrTime) && Number(x.severity_number) === l.severityNumber);
      t.ok(r, `log ${l.severityText}`);
      t.equal(r.observed_time_unix_nano, hrToNanos(l.hrTimeObserved));
      t.equal(r.severity_text, l.severityText);
      t.same(JSON.parse(r.attributes), l.attributes);
      if (typeof l.body === 'string') t.equal(r.body, l.body);
      else t.same(JSON.parse(r.body), l.body);
    }
    t.equal(rows.filter((r) => r.event_name === 'auth.failure').length, 3, 'event names kept');
  });

  t.test('metrics in SQLite', async (t) => {
    const counter = d.prepare(`SELECT p.value, p.time_unix_nano, s.attributes, s.unit, s.is_monotonic FROM metric_number_points p JOIN metric_series s USING (series_id) WHERE s.metric_name = 'http.server.requests'`).all() as any[];
    t.equal(counter.length, 3, 'one counter point per transport (resources differ)');
    for (const c of counter) {
      t.equal(Number(c.value), 5);
      t.same(JSON.parse(c.attributes), { route: '/a' });
      t.equal(c.unit, '{request}');
      t.equal(Number(c.is_monotonic), 1);
    }
    const sdkPoint = sent.metrics[0].scopeMetrics[0].metrics.find((m) => m.descriptor.name === 'http.server.requests')!.dataPoints[0];
    t.ok(counter.some((c) => c.time_unix_nano === hrToNanos(sdkPoint.endTime)), 'point time ns exact');
    const gauge = d.prepare(`SELECT p.value FROM metric_number_points p JOIN metric_series s USING (series_id) WHERE s.metric_name = 'cpu.temperature'`).all() as any[];
    t.same(gauge.map((g) => g.value), [71.5, 71.5, 71.5]);
    const hist = d.prepare(`SELECT p.* FROM metric_histogram_points p JOIN metric_series s USING (series_id) WHERE s.metric_name = 'http.server.request.duration'`).all() as any[];
    t.equal(hist.length, 3);
    t.same(JSON.parse(hist[0].bucket_counts), [1, 1, 1, 1]);
    t.same(JSON.parse(hist[0].explicit_bounds), [0.1, 0.5, 1]);
    t.equal(Number(hist[0].count), 4);
    t.equal(hist[0].sum, 3.95);
  });

  t.test('the file exporter wrote OTLP/JSON lines with the same data', async (t) => {
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const spans = lines.filter((l) => l.resourceSpans).flatMap((l) => l.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));
    t.equal(spans.length, sent.spans.length);
    for (const s of sent.spans) {
      const j = spans.find((x: any) => x.spanId === s.spanContext().spanId);
      t.equal(j.traceId, s.spanContext().traceId);
      t.equal(j.startTimeUnixNano, String(hrToNanos(s.startTime)), 'nanoseconds as a decimal string');
      t.equal(j.name, s.name);
    }
    const logs = lines.filter((l) => l.resourceLogs).flatMap((l) => l.resourceLogs.flatMap((r: any) => r.scopeLogs.flatMap((s: any) => s.logRecords)));
    t.equal(logs.length, sent.logs.length);
    const points = lines.filter((l) => l.resourceMetrics).flatMap((l) => l.resourceMetrics.flatMap((r: any) => r.scopeMetrics.flatMap((s: any) => s.metrics)));
    t.ok(points.some((m: any) => m.name === 'http.server.request.duration' && m.histogram.dataPoints[0].bucketCounts.join() === '1,1,1,1'));
  });
});
