/**
 * The per-minute span rollup the console's Performance page reads: written by the sqlite exporter
 * with the spans, its RED figures equal to the spans', its quantiles within one histogram bucket
 * of the exact ones, dropped by retention with its spans, built for a store that predates it; and
 * the events index the Security and Anomalies pages use.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateSettings, Host } from '../src/component';
import { silentLogger } from '../src/logger';
import type { Span, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { openStore } from '../exporters/sqlite/store';
import { BUCKET_GROWTH } from '../exporters/sqlite/span-rollup';
import { THREAT_EVENT_CONDITION, THREAT_EXPRESSIONS } from '../exporters/sqlite/schema';
import { openSqlite } from '../src/storage/sqlite';
import { spanSummary, spanSummaryRaw, threatSummary, anomalySummary } from '../src/query/summary';

const host: Host = { getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] };
const dir = mkdtempSync(join(tmpdir(), 'vigil-console-rollup-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

function make(path: string, retention: SqliteConfig['retention'] = { max_age: 0, max_size_mib: 0, check_interval: '5m' }) {
  const config: SqliteConfig = {
    path, flush_interval: '20ms', batch_size: 1000, max_in_flight_rows: 100000, retention,
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  };
  const settings: CreateSettings<SqliteConfig> = { id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir };
  return sqliteExporterFactory.create(settings, ['traces', 'logs']) as ReturnType<typeof sqliteExporterFactory.create> & { flush(): Promise<void> };
}

const NOW_MS = Date.now();
const MS = 1_000_000n;
const scope = { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 };
let seq = 0;

function span(name: string, startMs: number, durMs: number, error: boolean): Span {
  const n = ++seq;
  const start = BigInt(Math.floor(startMs)) * MS;
  return {
    traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0,
    name, kind: 2, startTimeUnixNano: start, endTimeUnixNano: start + BigInt(Math.round(durMs * 1e6)), attributes: {}, droppedAttributesCount: 0,
    events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: error ? 2 : 0, message: '' },
  };
}

function traces(service: string, spans: Span[]): Traces {
  return { resourceSpans: [{ resource: { attributes: { 'service.name': service }, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope, schemaUrl: '', spans }] }] };
}

/** A deterministic pseudo-random stream, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

t.test('rollup RED equals the spans, quantiles within one bucket, slowest per operation', async (t) => {
  const path = join(dir, 'red.db');
  const ex = make(path);
  await ex.start!(host);
  const rand = rng(7);
  // 3 services × 3 operations over the last 40 minutes, log-normal-ish durations from 50 µs to
  // seconds, 3 % errors; 30 small writes, so most (minute, group) rows are merged across commits.
  for (let w = 0; w < 30; w++) {
    for (const service of ['api', 'db', 'auth']) {
      const spans: Span[] = [];
      for (let k = 0; k < 60; k++) {
        const op = ['get', 'put', 'list'][Math.floor(rand() * 3)];
        const dur = Math.exp(rand() * 10 - 3) * (op === 'list' ? 4 : 1);
        spans.push(span(op, NOW_MS - 40 * 60_000 + rand() * 39 * 60_000, dur, rand() < 0.03));
      }
      await ex.traces!.consume(traces(service, spans));
    }
  }
  await ex.flush();
  await ex.shutdown!();

  const store = openStore(path);
  t.teardown(() => store.close());
  const r = { startMs: NOW_MS - 3_600_000, endMs: NOW_MS };
  const rolled = spanSummary(store.db, r, 20_000, NOW_MS);
  const raw = spanSummaryRaw(store.db, r, 1_000_000);
  t.equal(rolled.source, 'rollup');
  t.equal(raw.sampled, false);
  t.equal(rolled.total, 30 * 3 * 60);
  t.equal(rolled.total, raw.total);
  t.ok(rolled.read < rolled.total / 2, `read ${rolled.read} rollup rows for ${rolled.total} spans`);
  t.same(rolled.series.count, raw.series.count, 'spans per minute');
  t.same(rolled.series.errors, raw.series.errors, 'errors per minute');

  const within = (got: number, want: number) => got <= want * BUCKET_GROWTH * (1 + 1e-9) && got >= want / (BUCKET_GROWTH * (1 + 1e-9));
  for (const [list, name] of [[rolled.services, 'service'], [rolled.operations, 'operation']] as const) {
    const exact = name === 'service' ? raw.services : raw.operations;
    t.equal(list.length, exact.length, `${name}s`);
    for (const row of list) {
      const want = exact.find((x) => x.service === row.service && x.operation === row.operation)!;
      t.ok(want, `${row.service}/${row.operation ?? ''} exists in the spans`);
      t.equal(row.count, want.count, `${row.service}/${row.operation ?? ''} count`);
      t.equal(row.errors, want.errors, `${row.service}/${row.operation ?? ''} errors`);
      for (const q of ['p50_ms', 'p90_ms', 'p99_ms'] as const) {
        t.ok(within(row[q], want[q]), `${row.service}/${row.operation ?? ''} ${q}: rollup ${row[q]} vs spans ${want[q]} (bucket ×${BUCKET_GROWTH.toFixed(4)})`);
      }
    }
  }
  // The slowest span of each operation, with its trace.
  const maxByOp = store.db.prepare(`SELECT service_name, name, max(end_time_unix_nano - start_time_unix_nano) / 1e6 AS d, trace_id FROM spans GROUP BY service_name, name ORDER BY d DESC`).safeIntegers(false).all() as Array<{ service_name: string; name: string; d: number; trace_id: string }>;
  t.same(rolled.slowest.map((s) => [s.service, s.operation, s.trace_id]), maxByOp.map((m) => [m.service_name, m.name, m.trace_id]), 'slowest per operation, slowest first');
  t.ok(Math.abs(rolled.slowest[0].duration_ms - maxByOp[0].d) < 1e-6);

  // A custom range ending in the past mid-minute: the tail minute comes from the spans.
  const past = { startMs: NOW_MS - 3_600_000, endMs: NOW_MS - 20 * 60_000 + 30_000 };
  const a = spanSummary(store.db, past, 20_000, NOW_MS);
  const b = spanSummaryRaw(store.db, past, 1_000_000);
  t.equal(a.total, b.total, 'a range ending mid-minute in the past counts the same spans');
  t.same(a.series.count, b.series.count);
});

t.test('a store written before the rollup gets it built when the exporter opens it; retention drops both', async (t) => {
  const path = join(dir, 'old.db');
  let ex = make(path);
  await ex.start!(host);
  const old = NOW_MS - 3 * 3_600_000;
  await ex.traces!.consume(traces('svc', [span('a', old, 5, false), span('a', old + 1, 7, true), span('b', NOW_MS - 60_000, 3, false)]));
  await ex.flush();
  await ex.shutdown!();
  const rw = new Database(path);
  rw.exec('DROP TABLE span_rollup_1m; DROP TABLE span_rollup_1h');
  rw.close();

  ex = make(path, { max_age: '2h', max_size_mib: 0, check_interval: '100ms' });
  await ex.start!(host);
  // Retention runs once at start: the old spans and their rollup minute go, the recent ones stay.
  const store = openStore(path);
  t.teardown(() => store.close());
  const q = (sql: string) => store.db.prepare(sql).pluck().safeIntegers(false).get() as number;
  const deadline = Date.now() + 10_000;
  while (q('SELECT count(*) FROM spans') !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(q('SELECT count(*) FROM spans'), 1, 'the old spans are past max_age');
  t.equal(q('SELECT count(*) FROM span_rollup_1m'), 1, 'the rollup keeps only the recent minute');
  t.equal(q('SELECT sum(count) FROM span_rollup_1m'), 1);
  t.equal(q('SELECT name FROM span_rollup_1m'), 'b' as unknown as number, 'built from the stored spans');
  t.equal(q('SELECT count(*) FROM span_rollup_1h'), 1, 'the hourly rollup too keeps only the recent hour');
  t.equal(q('SELECT sum(count) FROM span_rollup_1h'), 1);
  await ex.shutdown!();
});

t.test('security and anomaly events are read through the logs_event_ts index', async (t) => {
  const path = join(dir, 'events.db');
  const ex = make(path);
  await ex.start!(host);
  const ts = BigInt(NOW_MS - 1000) * MS;
  const rec = (eventName: string, attributes: Record<string, unknown>) => ({
    timeUnixNano: ts, observedTimeUnixNano: ts, severityNumber: 13, severityText: 'WARN', body: 'x', attributes, droppedAttributesCount: 0, flags: 0,
    traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), eventName,
  });
  await ex.logs!.consume({ resourceLogs: [{ resource: { attributes: { 'service.name': 'svc' }, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords: [
    rec('security.threat', { 'event.name': 'security.threat', 'security.threat.type': 'xss', 'security.threat.severity': 'high', 'security.threat.score': 0.8, 'security.threat.source_ip': '203.0.113.9', 'security.threat.user': 'eve', 'security.threat.attribute': 'http.url', 'security.threat.evidence': '<script>' }),
    rec('anomaly', { 'event.name': 'anomaly', 'anomaly.kind': 'metric', 'anomaly.name': 'm', 'anomaly.value': 9, 'anomaly.score': 0.9 }),
    rec('', {}),
  ] }] }] } as never);
  await ex.flush();
  await ex.shutdown!();
  const store = openStore(path);
  t.teardown(() => store.close());
  const r = { startMs: NOW_MS - 3_600_000, endMs: NOW_MS };
  const th = threatSummary(store.db, r);
  t.equal(th.total, 1);
  t.match(th.recent[0], { type: 'xss', severity: 'high', score: 0.8, source_ip: '203.0.113.9', user: 'eve', attribute: 'http.url', evidence: '<script>', trace_id: 'ab'.repeat(16) });
  t.same(th.top_ips, [{ ip: '203.0.113.9', count: 1, max_score: 0.8, types: ['xss'] }]);
  t.equal(anomalySummary(store.db, r).items[0].value, 9);
  const plan = store.db.prepare(`EXPLAIN QUERY PLAN SELECT ts_unix_nano FROM logs WHERE event_name = ? AND event_name <> '' AND ts_unix_nano >= ? AND ts_unix_nano < ? ORDER BY ts_unix_nano DESC LIMIT 10`)
    .all('security.threat', 0, 1) as Array<{ detail: string }>;
  t.match(plan.map((p) => p.detail).join('\n'), /logs_event_ts/, 'the query plan uses the events index');
  // The threat fields come from the covering index logs_threat_fields, read without the table rows.
  const threatPlan = store.db.prepare(`EXPLAIN QUERY PLAN SELECT ts_unix_nano, ${THREAT_EXPRESSIONS.join(', ')}, trace_id, span_id, service_name FROM logs INDEXED BY logs_threat_fields
    WHERE ${THREAT_EVENT_CONDITION} AND ts_unix_nano >= ? AND ts_unix_nano < ?`).all(0, 1) as Array<{ detail: string }>;
  t.match(threatPlan.map((p) => p.detail).join('\n'), /COVERING INDEX logs_threat_fields|USING INDEX logs_threat_fields/, 'the threat fields index serves the query');
  // A store last opened by an older writer has no such index: the same summary through logs_event_ts.
  const withIndex = threatSummary(store.db, r);
  const writable = openSqlite(path);
  writable.exec('DROP INDEX logs_threat_fields');
  writable.close();
  const other = openStore(path);
  t.teardown(() => other.close());
  t.same(threatSummary(other.db, r), withIndex, 'same summary without the index');
});
