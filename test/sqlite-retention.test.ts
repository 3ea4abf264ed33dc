import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateSettings, Host } from '../src/component';
import { RetryableError } from '../src/errors';
import { silentLogger } from '../src/logger';
import type { Logs, Metrics, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { openStore } from '../exporters/sqlite/store';

const host: Host = { getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] };
const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-ret-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

function make(cfg: Partial<SqliteConfig>) {
  const config: SqliteConfig = {
    path: join(dir, 'x.db'), flush_interval: '20ms', batch_size: 1000, max_in_flight_rows: 100000,
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' },
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false }, ...cfg,
  };
  const settings: CreateSettings<SqliteConfig> = { id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir };
  return sqliteExporterFactory.create(settings, ['traces', 'metrics', 'logs']) as ReturnType<typeof sqliteExporterFactory.create> & { flush(): Promise<void> };
}

const NOW = BigInt(Date.now()) * 1_000_000n;
const HOUR = 3_600_000_000_000n;
const res = { attributes: { 'service.name': 'svc' }, droppedAttributesCount: 0 };
const scope = { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 };

function spans(starts: bigint[], pad = ''): Traces {
  return { resourceSpans: [{ resource: res, schemaUrl: '', scopeSpans: [{ scope, schemaUrl: '', spans: starts.map((s, i) => ({
    traceId: (s + BigInt(i)).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0,
    name: 'op', kind: 1, startTimeUnixNano: s, endTimeUnixNano: s + 1000n, attributes: (pad ? { pad } : {}) as Record<string, string>, droppedAttributesCount: 0,
    events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
  })) }] }] };
}

function logs(times: bigint[]): Logs {
  return { resourceLogs: [{ resource: res, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords: times.map((ts) => ({
    timeUnixNano: ts, observedTimeUnixNano: ts, severityNumber: 9, severityText: 'INFO', body: 'm', attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '',
  })) }] }] };
}

function gauge(name: string, times: bigint[]): Metrics {
  return { resourceMetrics: [{ resource: res, schemaUrl: '', scopeMetrics: [{ scope, schemaUrl: '', metrics: [{ name, description: '', unit: '', metadata: {}, data: { type: 'gauge', dataPoints: times.map((ts) => ({
    attributes: {}, startTimeUnixNano: 0n, timeUnixNano: ts, value: 1.5, isInt: false, flags: 0, exemplars: [],
  })) } }] }] }] };
}

async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('retention deletes rows past max_age, then the oldest rows until under max_size_mib', async (t) => {
  const path = join(dir, 'retention.db');
  const ex = make({ path, retention: { max_age: '24h', max_size_mib: 1.5, check_interval: '100ms' } });
  await ex.start!(host);
  const old = [NOW - 240n * HOUR, NOW - 100n * HOUR];
  await ex.traces!.consume(spans(old));
  await ex.logs!.consume(logs([...old, NOW]));
  await ex.metrics!.consume(gauge('old.only', old));
  await ex.metrics!.consume(gauge('mixed', [...old, NOW]));
  // ~5 MB of recent spans, one per second over the last hours, against a 1.5 MiB limit (an empty
  // store already takes ~0.75 MiB: one 32 KiB page per table and index).
  const recent = Array.from({ length: 4000 }, (_, i) => NOW - 2n * HOUR + BigInt(i) * 1_000_000_000n);
  for (let i = 0; i < recent.length; i += 500) await ex.traces!.consume(spans(recent.slice(i, i + 500), 'x'.repeat(1200)));
  await ex.flush();

  const store = openStore(path);
  t.teardown(() => store.close());
  const db = store.db;
  const count = db.prepare('SELECT count(*) FROM spans').pluck().safeIntegers(false);
  const used = (): number => (Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }))) * Number(db.pragma('page_size', { simple: true }));
  await eventually(() => count.get() as number < 4000 && used() <= 1.5 * 1024 * 1024);

  t.equal(db.prepare('SELECT count(*) FROM spans WHERE start_time_unix_nano < ?').pluck().get(NOW - 24n * HOUR), 0n, 'spans past max_age are gone');
  t.equal(db.prepare('SELECT count(*) FROM logs WHERE ts_unix_nano < ?').pluck().get(NOW - 24n * HOUR), 0n, 'logs past max_age are gone');
  t.equal(db.prepare('SELECT count(*) FROM logs').pluck().get(), 1n, 'the recent log stays');
  const points = db.prepare('SELECT s.metric_name, p.time_unix_nano FROM metric_number_points p JOIN metric_series s USING (series_id)').all() as Array<{ metric_name: string; time_unix_nano: bigint }>;
  t.same(points, [{ metric_name: 'mixed', time_unix_nano: NOW }], 'old points gone, the recent one kept');
  t.same(db.prepare('SELECT metric_name FROM metric_series').pluck().all(), ['mixed'], 'a series left without points is removed');

  const remaining = count.get() as number;
  t.ok(remaining > 0 && remaining < 4000, `size limit deleted some spans (${remaining} left)`);
  t.ok(used() <= 1.5 * 1024 * 1024, `used ${used()} bytes`);
  const oldestLeft = db.prepare('SELECT min(start_time_unix_nano) FROM spans').pluck().get() as bigint;
  const newerThanOldest = recent.filter((s) => s >= oldestLeft).length;
  t.equal(remaining, newerThanOldest, 'what is left is exactly the newest spans: deletion went oldest first');
  t.equal(db.prepare('SELECT max(start_time_unix_nano) FROM spans').pluck().get(), recent[recent.length - 1]);
  await ex.shutdown!();
});

t.test('backpressure: bounded rows in flight, then a retryable refusal', async (t) => {
  const path = join(dir, 'bp.db');
  // Nothing commits by itself: a long flush interval and a batch size never reached.
  const ex = make({ path, durability: 'buffered', flush_interval: '1h', batch_size: 1_000_000, max_in_flight_rows: 10, timeout: '100ms' });
  await ex.start!(host);
  await ex.traces!.consume(spans(Array.from({ length: 8 }, (_, i) => NOW + BigInt(i))));
  const t0 = Date.now();
  const err = await ex.traces!.consume(spans([NOW + 100n, NOW + 101n, NOW + 102n])).then(() => undefined, (e) => e);
  t.type(err, RetryableError, 'refused while the writer is behind');
  t.ok(Date.now() - t0 >= 90, 'it waited for room up to the timeout first');
  t.equal((ex as unknown as { inFlightRows(): number }).inFlightRows(), 8);

  // Once the writer catches up, a waiting write goes through.
  const waiting = ex.traces!.consume(spans([NOW + 200n, NOW + 201n, NOW + 202n]));
  await ex.flush();
  await waiting;
  await ex.shutdown!();
  const store = openStore(path);
  t.teardown(() => store.close());
  t.equal(store.db.prepare('SELECT count(*) FROM spans').pluck().get(), 11n, 'accepted rows are all stored, the refused ones are not');
});

t.test('a writer thread that dies: reported once, later writes refused as retryable', async (t) => {
  const { WriterClient } = await import('../exporters/sqlite/client');
  const { tracesToRows } = await import('../exporters/sqlite/rows');
  const deaths: string[] = [];
  const client = new WriterClient({ path: join(dir, 'dead.db'), batchSize: 10, flushIntervalMs: 10, maxAgeMs: 0, maxSizeBytes: 0, checkIntervalMs: 0 },
    100, silentLogger(), () => undefined, (e) => deaths.push(e.message));
  await client.start();
  await client.write(tracesToRows(spans([NOW])));
  await (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  await eventually(() => deaths.length > 0, 2000);
  t.equal(deaths.length, 1);
  t.match(deaths[0], /writer thread exited/);
  await t.rejects(client.write(tracesToRows(spans([NOW + 1n]))), RetryableError);
  await client.close();
});

t.test('retention per signal and per log event name overrides max_age (longer and shorter)', async (t) => {
  const path = join(dir, 'per-signal.db');
  const ex = make({ path, retention: {
    max_age: '24h', max_size_mib: 0, check_interval: '100ms',
    traces: { max_age: '1h' }, metrics: { max_age: 0 }, logs: { by_event_name: { 'security.finding': '2160h' } },
  } as SqliteConfig['retention'] });
  await ex.start!(host);
  const at = [NOW - 100n * HOUR, NOW - 2n * HOUR, NOW];
  await ex.traces!.consume(spans(at));
  const named = (name: string): Logs => { const l = logs(at); for (const r of l.resourceLogs[0].scopeLogs[0].logRecords) r.eventName = name; return l; };
  await ex.logs!.consume(named(''));
  await ex.logs!.consume(named('security.finding'));
  await ex.metrics!.consume(gauge('kept.forever', at));
  await ex.flush();
  const store = openStore(path);
  t.teardown(async () => { store.close(); await ex.shutdown!(); });
  const db = store.db;
  const n = (sql: string) => Number(db.prepare(sql).pluck().get());
  await eventually(() => n('SELECT count(*) FROM spans') === 1 && n("SELECT count(*) FROM logs WHERE event_name = ''") === 2);
  t.equal(n('SELECT count(*) FROM spans'), 1, 'traces: max_age 1h keeps only the recent span');
  t.equal(n("SELECT count(*) FROM logs WHERE event_name = ''"), 2, 'other logs follow max_age 24h');
  t.equal(n("SELECT count(*) FROM logs WHERE event_name = 'security.finding'"), 3, 'security findings are kept 90 days');
  t.equal(n('SELECT count(*) FROM metric_number_points'), 3, 'metrics: max_age 0 keeps points forever');
});
