import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateSettings, Host } from '../src/component';
import { silentLogger } from '../src/logger';
import { Double, KvList, Logs, Metrics, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import Database from 'better-sqlite3';
import { decodeBody, openStore, parseAttributes, spansOfTrace, traceKey } from '../exporters/sqlite/store';

const host: Host = { getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] };
const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

function config(path: string, over: Partial<SqliteConfig> = {}): SqliteConfig {
  return {
    path, flush_interval: '50ms', batch_size: 1000, max_in_flight_rows: 100000,
    // No age limit: the fixtures' fixed times (T0, late 2025) may be older than any max_age by now.
    retention: { max_age: 0, max_size_mib: 1024, check_interval: '5m' },
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
    ...over,
  };
}

function make(cfg: SqliteConfig) {
  const settings: CreateSettings<SqliteConfig> = { id: 'sqlite', config: cfg, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir };
  return sqliteExporterFactory.create(settings, ['traces', 'metrics', 'logs']) as ReturnType<typeof sqliteExporterFactory.create> & { flush(): Promise<void> };
}

const T0 = 1_763_000_000_123_456_789n; // beyond 2^53: must survive exactly
const resource = { attributes: { 'service.name': 'checkout', 'host.name': 'h1', 'k8s.pod.uid': 'abc' }, droppedAttributesCount: 2 };
const scope = { name: 'io.vigil.test', version: '1.2.3', attributes: { 'scope.attr': true }, droppedAttributesCount: 1 };

const traces: Traces = {
  resourceSpans: [{
    resource, schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    scopeSpans: [{
      scope, schemaUrl: 'https://scope/schema',
      spans: [{
        traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceState: 'vendor=x', parentSpanId: 'eee19b7ec3c1b173', flags: 257,
        name: 'GET /cart', kind: 2, startTimeUnixNano: T0, endTimeUnixNano: T0 + 1_500_001n,
        attributes: { 'http.method': 'GET', 'http.status_code': 200, ratio: 0.25, whole: new Double(3), ok: true, big: 9007199254740993n, tags: ['a', 'b'], raw: new Uint8Array([1, 2, 255]), nested: new KvList({ a: 1 }) },
        droppedAttributesCount: 3,
        events: [{ timeUnixNano: T0 + 5n, name: 'exception', attributes: { 'exception.type': 'Boom' }, droppedAttributesCount: 4 }],
        droppedEventsCount: 5,
        links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceState: 'l=1', attributes: { why: 'retry' }, droppedAttributesCount: 6, flags: 1 }],
        droppedLinksCount: 7,
        status: { code: 2, message: 'upstream failed' },
      }, {
        traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b175', traceState: '', parentSpanId: 'eee19b7ec3c1b174', flags: 0,
        name: 'SELECT cart', kind: 3, startTimeUnixNano: T0 + 10n, endTimeUnixNano: T0 + 20n, attributes: {}, droppedAttributesCount: 0,
        events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
      }],
    }],
  }],
};

const metrics: Metrics = {
  resourceMetrics: [{
    resource, schemaUrl: '',
    scopeMetrics: [{
      scope, schemaUrl: '',
      metrics: [
        { name: 'queue.depth', description: 'items waiting', unit: '{item}', metadata: {}, data: { type: 'gauge', dataPoints: [
          { attributes: { queue: 'a' }, startTimeUnixNano: 0n, timeUnixNano: T0, value: 7, isInt: true, flags: 0, exemplars: [] },
          { attributes: { queue: 'b' }, startTimeUnixNano: 0n, timeUnixNano: T0, value: 2.0, isInt: false, flags: 1, exemplars: [] },
        ] } },
        { name: 'http.requests', description: '', unit: '1', metadata: { m: 'x' }, data: { type: 'sum', aggregationTemporality: 2, isMonotonic: true, dataPoints: [
          { attributes: { route: '/cart' }, startTimeUnixNano: T0 - 1000n, timeUnixNano: T0, value: 9007199254740993n, isInt: true, flags: 0,
            exemplars: [{ filteredAttributes: { user: 'u1' }, timeUnixNano: T0 - 3n, value: 1.5, isInt: false, spanId: 'eee19b7ec3c1b174', traceId: '5b8efff798038103d269b633813fc60c' }] },
          { attributes: { route: '/cart' }, startTimeUnixNano: T0 - 1000n, timeUnixNano: T0 + 30_000_000_000n, value: 9007199254740999n, isInt: true, flags: 0, exemplars: [] },
        ] } },
        { name: 'http.duration', description: 'latency', unit: 'ms', metadata: {}, data: { type: 'histogram', aggregationTemporality: 1, dataPoints: [
          { attributes: {}, startTimeUnixNano: T0 - 10n, timeUnixNano: T0, count: 6, sum: 123.5, min: 1, max: 90, bucketCounts: [1, 2, 3], explicitBounds: [10, 50], flags: 0, exemplars: [] },
        ] } },
        { name: 'size', description: '', unit: 'By', metadata: {}, data: { type: 'exponentialHistogram', aggregationTemporality: 2, dataPoints: [
          { attributes: { k: 'v' }, startTimeUnixNano: T0 - 10n, timeUnixNano: T0, count: 10, sum: 55, scale: 3, zeroCount: 1, zeroThreshold: 0.001,
            positive: { offset: -2, bucketCounts: [1, 4, 3] }, negative: { offset: 1, bucketCounts: [1] }, min: -2, max: 9, flags: 0, exemplars: [] },
        ] } },
        { name: 'rpc.latency', description: '', unit: 's', metadata: {}, data: { type: 'summary', dataPoints: [
          { attributes: {}, startTimeUnixNano: T0 - 10n, timeUnixNano: T0, count: 4, sum: 2.5, quantileValues: [{ quantile: 0.5, value: 0.4 }, { quantile: 0.99, value: 1.2 }], flags: 0 },
        ] } },
      ],
    }],
  }],
};

const logs: Logs = {
  resourceLogs: [{
    resource, schemaUrl: '',
    scopeLogs: [{
      scope, schemaUrl: '',
      logRecords: [
        { timeUnixNano: T0, observedTimeUnixNano: T0 + 1n, severityNumber: 17, severityText: 'ERROR', body: 'payment declined for order 42', attributes: { 'order.id': 42 }, droppedAttributesCount: 1, flags: 1, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', eventName: 'payment.declined' },
        { timeUnixNano: 0n, observedTimeUnixNano: T0 + 2n, severityNumber: 9, severityText: 'INFO', body: new KvList({ msg: 'hi', n: 2 }), attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' },
        { timeUnixNano: T0 + 3n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', body: null, attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' },
        { timeUnixNano: T0 + 4n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', body: 12345678901234567890n, attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' },
      ],
    }],
  }],
};

t.test('every field of spans, metric points and log records reads back', async (t) => {
  const path = join(dir, 'fields.db');
  const ex = make(config(path));
  await ex.start!(host);
  await ex.traces!.consume(traces);
  await ex.metrics!.consume(metrics);
  await ex.logs!.consume(logs);
  await ex.shutdown!();

  const store = openStore(path);
  t.teardown(() => store.close());
  const db = store.db;

  const spans = spansOfTrace(db, '5B8EFFF798038103D269B633813FC60C');
  t.equal(spans.length, 2);
  const s = spans[0] as Record<string, any>;
  t.equal(s.trace_id, '5b8efff798038103d269b633813fc60c');
  t.equal(s.span_id, 'eee19b7ec3c1b174');
  t.equal(s.parent_span_id, 'eee19b7ec3c1b173');
  t.equal(s.trace_state, 'vendor=x');
  t.equal(s.flags, 257n);
  t.equal(s.name, 'GET /cart');
  t.equal(s.kind, 2n);
  t.equal(s.start_time_unix_nano, T0);
  t.equal(s.end_time_unix_nano, T0 + 1_500_001n);
  t.equal(s.duration_nano, 1_500_001n);
  t.equal(s.status_code, 2n);
  t.equal(s.status_message, 'upstream failed');
  t.equal(s.service_name, 'checkout');
  t.same(parseAttributes(s.attributes), { 'http.method': 'GET', 'http.status_code': 200, ratio: 0.25, whole: 3, ok: true, big: '9007199254740993', tags: ['a', 'b'], raw: 'AQL/', nested: { a: 1 } });
  t.equal(s.dropped_attributes_count, 3n);
  t.same(JSON.parse(s.events), [{ time_unix_nano: String(T0 + 5n), name: 'exception', attributes: { 'exception.type': 'Boom' }, dropped_attributes_count: 4 }]);
  t.equal(s.dropped_events_count, 5n);
  t.same(JSON.parse(s.links), [{ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', trace_state: 'l=1', attributes: { why: 'retry' }, dropped_attributes_count: 6, flags: 1 }]);
  t.equal(s.dropped_links_count, 7n);
  t.same(parseAttributes(s.resource_attributes), resource.attributes);
  t.equal(s.scope_name, 'io.vigil.test');
  t.equal(s.scope_version, '1.2.3');
  t.equal((spans[1] as any).events, null);
  t.equal((spans[1] as any).links, null);

  const res = db.prepare('SELECT * FROM resources ORDER BY schema_url DESC').all() as any[];
  t.equal(res.length, 2, 'one resource row per distinct (attributes, schema_url), shared by signals');
  t.equal(res[0].dropped_attributes_count, 2n);
  t.equal(res[0].schema_url, 'https://opentelemetry.io/schemas/1.26.0');
  const sc = db.prepare('SELECT * FROM scopes ORDER BY scope_id').all() as any[];
  t.same(parseAttributes(sc[0].attributes), { 'scope.attr': true });
  t.equal(sc[0].dropped_attributes_count, 1n);
  t.equal(sc[0].schema_url, 'https://scope/schema');

  const series = db.prepare('SELECT * FROM metric_series ORDER BY series_id').all() as any[];
  t.same(series.map((x) => [x.metric_name, x.metric_type, x.unit]), [
    ['queue.depth', 'gauge', '{item}'], ['queue.depth', 'gauge', '{item}'], ['http.requests', 'sum', '1'],
    ['http.duration', 'histogram', 'ms'], ['size', 'exponential_histogram', 'By'], ['rpc.latency', 'summary', 's'],
  ]);
  const sum = series[2];
  t.equal(sum.aggregation_temporality, 2n);
  t.equal(sum.is_monotonic, 1n);
  t.same(parseAttributes(sum.attributes), { route: '/cart' });
  t.same(parseAttributes(sum.metadata), { m: 'x' });
  t.equal(sum.service_name, 'checkout');
  t.equal(series[0].description, 'items waiting');

  const num = db.prepare('SELECT p.*, typeof(p.value) AS vt, s.attributes AS a FROM metric_number_points p JOIN metric_series s USING (series_id) ORDER BY series_id, time_unix_nano').all() as any[];
  t.equal(num.length, 4);
  t.same([num[0].value, num[0].vt, num[0].flags], [7n, 'integer', 0n], 'as_int gauge stays an integer');
  t.same([num[1].value, num[1].vt, num[1].flags], [2, 'real', 1n], 'an integral double stays a double');
  t.equal(num[2].value, 9007199254740993n, 'int64 beyond 2^53 is exact');
  t.equal(num[2].start_time_unix_nano, T0 - 1000n);
  t.equal(num[2].time_unix_nano, T0);
  t.same(JSON.parse(num[2].exemplars), [{ time_unix_nano: String(T0 - 3n), as_double: 1.5, span_id: 'eee19b7ec3c1b174', trace_id: '5b8efff798038103d269b633813fc60c', filtered_attributes: { user: 'u1' } }]);
  t.equal(num[3].value, 9007199254740999n);

  const rollup = db.prepare('SELECT * FROM metric_number_rollup_1m WHERE series_id = ? ORDER BY bucket_unix_nano').all(num[2].series_id) as any[];
  t.equal(rollup.length, 1, 'both points of the sum fall in one minute bucket');
  t.equal(rollup[0].count, 2n);
  t.equal(rollup[0].bucket_unix_nano, T0 - (T0 % 60_000_000_000n));
  t.equal(rollup[0].first_time_unix_nano, T0);
  t.equal(rollup[0].last_time_unix_nano, T0 + 30_000_000_000n);
  t.equal(rollup[0].max, Number(9007199254740999n));

  const h = db.prepare('SELECT * FROM metric_histogram_points').get() as any;
  t.same([h.count, h.sum, h.min, h.max, JSON.parse(h.bucket_counts), JSON.parse(h.explicit_bounds), h.start_time_unix_nano, h.time_unix_nano],
    [6n, 123.5, 1, 90, [1, 2, 3], [10, 50], T0 - 10n, T0]);
  const e = db.prepare('SELECT * FROM metric_exp_histogram_points').get() as any;
  t.same([e.count, e.sum, e.min, e.max, e.scale, e.zero_count, e.zero_threshold, e.positive_offset, JSON.parse(e.positive_bucket_counts), e.negative_offset, JSON.parse(e.negative_bucket_counts)],
    [10n, 55, -2, 9, 3n, 1n, 0.001, -2n, [1, 4, 3], 1n, [1]]);
  const sm = db.prepare('SELECT * FROM metric_summary_points').get() as any;
  t.same([sm.count, sm.sum, JSON.parse(sm.quantile_values)], [4n, 2.5, [{ quantile: 0.5, value: 0.4 }, { quantile: 0.99, value: 1.2 }]]);

  const lr = db.prepare('SELECT * FROM logs ORDER BY rowid').all() as any[];
  t.equal(lr.length, 4);
  t.same([lr[0].time_unix_nano, lr[0].observed_time_unix_nano, lr[0].ts_unix_nano], [T0, T0 + 1n, T0]);
  t.same([lr[0].severity_number, lr[0].severity_text, lr[0].flags, lr[0].trace_id, lr[0].span_id, lr[0].event_name, lr[0].dropped_attributes_count, lr[0].service_name],
    [17n, 'ERROR', 1n, '5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174', 'payment.declined', 1n, 'checkout']);
  t.equal(decodeBody(lr[0].body_type, lr[0].body), 'payment declined for order 42');
  t.same(parseAttributes(lr[0].attributes), { 'order.id': 42 });
  t.equal(lr[1].ts_unix_nano, T0 + 2n, 'an unset time falls back to the observed time for ts');
  t.equal(lr[1].time_unix_nano, 0n);
  const kv = decodeBody(lr[1].body_type, lr[1].body);
  t.ok(kv instanceof KvList);
  t.same((kv as KvList).values, { msg: 'hi', n: 2 });
  t.equal(decodeBody(lr[2].body_type, lr[2].body), null);
  t.equal(decodeBody(lr[3].body_type, lr[3].body), 12345678901234567890n);
  const hits = db.prepare("SELECT count(*) FROM logs WHERE body LIKE '%declined%' AND severity_number >= 17").pluck().get();
  t.equal(hits, 1n, 'body text is searchable');
  const byAttr = db.prepare(`SELECT count(*) FROM spans WHERE json_extract(attributes, '$."http.status_code"') = 200`).pluck().get();
  t.equal(byAttr, 1n, 'attributes are queryable with json_extract');
});

t.test('shutdown commits everything that was accepted; duplicate points are stored once', async (t) => {
  const path = join(dir, 'drain.db');
  // A long flush interval and a large batch: nothing would be committed before shutdown.
  const ex = make(config(path, { flush_interval: '1h', batch_size: 1_000_000 }));
  await ex.start!(host);
  const N = 50;
  for (let i = 0; i < N; i++) {
    const copy: Traces = JSON.parse(JSON.stringify(traces, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Double ? v.value : v)), (_k, v) => (typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v));
    for (const sp of copy.resourceSpans[0].scopeSpans[0].spans) sp.spanId = (i * 2 + sp.spanId.length).toString(16).padStart(16, '0');
    await ex.traces!.consume(copy);
  }
  await ex.logs!.consume(logs);
  // the same gauge point three times (the last with another value)
  const gauge = (value: number): Metrics => ({ resourceMetrics: [{ resource, schemaUrl: '', scopeMetrics: [{ scope, schemaUrl: '', metrics: [
    { name: 'g', description: '', unit: '', metadata: {}, data: { type: 'gauge', dataPoints: [{ attributes: {}, startTimeUnixNano: 0n, timeUnixNano: T0, value, isInt: false, flags: 0, exemplars: [] }] } },
  ] }] }] });
  await ex.metrics!.consume(gauge(1.5));
  await ex.metrics!.consume(gauge(1.5));
  await ex.metrics!.consume(gauge(2.5));
  await ex.shutdown!();
  const store = openStore(path);
  t.teardown(() => store.close());
  t.equal(store.db.prepare('SELECT count(*) FROM spans').pluck().get(), BigInt(N * 2));
  t.equal(store.db.prepare('SELECT count(*) FROM logs').pluck().get(), 4n);
  t.same(store.db.prepare('SELECT value FROM metric_number_points').pluck().all(), [1.5], 'a point sent again is stored once: the first copy wins');
  const r = store.db.prepare('SELECT count, sum FROM metric_number_rollup_1m').get() as { count: bigint; sum: number };
  t.same([r.count, r.sum], [1n, 1.5], 'the rollup agrees with the raw points');
});

t.test('an unusable path fails at start, not at the first write', async (t) => {
  const ex = make(config(join(dir, 'fields.db', 'not-a-dir', 'x.db')));
  await t.rejects(ex.start!(host), /cannot open the SQLite store|ENOTDIR|EEXIST/);
  await ex.shutdown!();
});


t.test('trace lookups: ids sharing the indexed key stay apart; a version 1 file is migrated', async (t) => {
  // Same last 13 hex digits (the trace_key), different trace ids.
  const a = '00000000000000000001234567890abc';
  const b = 'ffffffffffffffffff01234567890abc';
  t.equal(traceKey(a), traceKey(b));
  const span = (traceId: string, spanId: string) => ({
    traceId, spanId, traceState: '', parentSpanId: '', flags: 0, name: 'op', kind: 1, startTimeUnixNano: T0, endTimeUnixNano: T0 + 1n,
    attributes: {}, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
  });
  const two: Traces = { resourceSpans: [{ resource, schemaUrl: '', scopeSpans: [{ scope, schemaUrl: '', spans: [span(a, '0000000000000001'), span(b, '0000000000000002')] }] }] };

  // A file as version 1 wrote it: trace_id indexed as text, no trace_key column.
  const path = join(dir, 'v1.db');
  const v1 = new Database(path);
  v1.exec(`CREATE TABLE vigil_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    INSERT INTO vigil_meta VALUES ('schema_version', '1');
    CREATE TABLE resources (resource_id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, service_name TEXT NOT NULL, attributes TEXT NOT NULL, dropped_attributes_count INTEGER NOT NULL, schema_url TEXT NOT NULL);
    CREATE TABLE scopes (scope_id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, version TEXT NOT NULL, attributes TEXT NOT NULL, dropped_attributes_count INTEGER NOT NULL, schema_url TEXT NOT NULL);
    CREATE TABLE spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT NOT NULL, trace_state TEXT NOT NULL, flags INTEGER NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,
      start_time_unix_nano INTEGER NOT NULL, end_time_unix_nano INTEGER NOT NULL, duration_nano INTEGER GENERATED ALWAYS AS (end_time_unix_nano - start_time_unix_nano) VIRTUAL,
      status_code INTEGER NOT NULL, status_message TEXT NOT NULL, service_name TEXT NOT NULL, resource_id INTEGER NOT NULL, scope_id INTEGER NOT NULL, attributes TEXT NOT NULL,
      dropped_attributes_count INTEGER NOT NULL, events TEXT, dropped_events_count INTEGER NOT NULL, links TEXT, dropped_links_count INTEGER NOT NULL);
    CREATE INDEX spans_trace_id ON spans (trace_id);
    INSERT INTO resources VALUES (1, 'h', 'old-svc', '{}', 0, '');
    INSERT INTO scopes VALUES (1, 'h', 's', '', '{}', 0, '');
    INSERT INTO spans VALUES ('${b}', '00000000000000aa', '', '', 0, 'old', 1, 1, 2, 0, '', 'old-svc', 1, 1, '{}', 0, NULL, 0, NULL, 0);`);
  v1.close();

  const ex = make(config(path));
  await ex.start!(host);
  await ex.traces!.consume(two);
  await ex.shutdown!();
  const store = openStore(path);
  t.teardown(() => store.close());
  t.equal(store.schemaVersion, 2);
  t.same(spansOfTrace(store.db, a).map((s) => s.span_id), ['0000000000000001']);
  t.same(spansOfTrace(store.db, b).map((s) => s.span_id).sort(), ['0000000000000002', '00000000000000aa'], 'the span stored before the migration is found by its key');
  const indexes = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spans' ORDER BY name").pluck().all();
  t.same(indexes, ['spans_service_start', 'spans_start', 'spans_trace_key']);
  const plan = store.db.prepare('EXPLAIN QUERY PLAN SELECT * FROM spans WHERE trace_key = ? AND trace_id = ?').all(1, a) as Array<{ detail: string }>;
  t.match(plan.map((p) => p.detail).join(' '), /spans_trace_key/);
});
