/**
 * Micro benchmark of the sqlite exporter alone (no receiver, no decoding): spans built in the
 * data model are consumed as fast as the exporter accepts them, and the clock stops when shutdown
 * has committed them all. Reports sustained spans/s, the main thread's share (mapping + posting)
 * and checks that every span is in the file.
 *
 *   npm run build && node dist/bench/sqlite-insert.js [spans=500000] [batch=500] [dir=/tmp]
 *   (BATCH_SIZE and MAX_IN_FLIGHT in the environment override the exporter's batch_size and
 *   max_in_flight_rows)
 *
 * With `points` first, it stores gauge points instead (100 series, one point per second each) and
 * then times the metric aggregations the schema is built for, over the raw points and the 1-minute
 * rollup, and a trace-by-id style point lookup:
 *
 *   node dist/bench/sqlite-insert.js points [points=1000000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../src/logger';
import type { Metrics, NumberDataPoint, Span, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { RetryableError } from '../src/errors';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { tracesToRows } from '../exporters/sqlite/rows';
import { traceKey } from '../exporters/sqlite/schema';

function makeBatch(n: number, seq: number, t0: bigint): Traces {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const k = seq * n + i;
    const traceId = ((BigInt(k >> 3) * 0x9e3779b97f4a7c15n) & ((1n << 128n) - 1n)).toString(16).padStart(32, '0');
    spans.push({
      traceId, spanId: (k + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: k % 8 ? (k).toString(16).padStart(16, '0') : '', flags: 1,
      name: `GET /api/items/{id}`, kind: 2, startTimeUnixNano: t0 + BigInt(k) * 10_000n, endTimeUnixNano: t0 + BigInt(k) * 10_000n + 1_234_567n,
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/items/{id}', 'http.response.status_code': 200, 'url.path': `/api/items/${k % 1000}`, 'server.address': 'api.internal', 'network.peer.port': 443 },
      droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: k % 50 === 0 ? 2 : 0, message: '' },
    });
  }
  return { resourceSpans: [{ resource: { attributes: { 'service.name': `svc-${seq % 5}`, 'service.version': '1.4.2', 'host.name': 'node-1', 'telemetry.sdk.language': 'nodejs' }, droppedAttributesCount: 0 }, schemaUrl: '',
    scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans }] }] };
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 500_000);
  const per = Number(process.argv[3] ?? 500);
  const dir = mkdtempSync(join(process.argv[4] ?? tmpdir(), 'vigil-sqlite-bench-'));
  const path = join(dir, 'bench.db');
  const config: SqliteConfig = {
    path, flush_interval: '1s', batch_size: Number(process.env.BATCH_SIZE ?? 50000), max_in_flight_rows: Number(process.env.MAX_IN_FLIGHT ?? 100000),
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' },
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  };
  const ex = sqliteExporterFactory.create({ id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir }, ['traces']);
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] });
  const batches = Math.ceil(total / per);
  // Pre-build the data: the benchmark measures the exporter, not the generator.
  const data = Array.from({ length: Math.min(batches, 64) }, (_, i) => makeBatch(per, i, 1_763_000_000_000_000_000n));
  // The main thread's share: mapping the model to rows (posting is measured in the run below).
  const m0 = process.hrtime.bigint();
  for (const d of data) tracesToRows(d);
  const mapUsPerSpan = Number(process.hrtime.bigint() - m0) / 1e3 / (data.length * per);
  let refused = 0;
  let mainMs = 0;
  const started = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    const d = b < data.length ? data[b] : makeBatch(per, b, 1_763_000_000_000_000_000n);
    for (;;) {
      const t0 = process.hrtime.bigint();
      try {
        const p = ex.traces!.consume(d);
        // the synchronous part of consume: mapping and posting (waiting for room is not CPU)
        mainMs += Number(process.hrtime.bigint() - t0) / 1e6;
        await p;
        break;
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        refused++;
      }
    }
  }
  const accepted = process.hrtime.bigint();
  await ex.shutdown!();
  const done = process.hrtime.bigint();
  const secs = Number(done - started) / 1e9;
  const db = new Database(path, { readonly: true });
  const stored = db.prepare('SELECT count(*) FROM spans').pluck().get() as number;
  // trace by id: all spans of a trace (8 per trace here), through the trace_key index
  const byTraceStmt = db.prepare('SELECT * FROM spans WHERE trace_key = ? AND trace_id = ?');
  const byTrace = { all: (id: string): unknown[] => byTraceStmt.all(traceKey(id), id) };
  const ids = db.prepare('SELECT trace_id FROM spans WHERE rowid % 997 = 0 LIMIT 200').pluck().all() as string[];
  const lt0 = process.hrtime.bigint();
  let found = 0;
  for (const id of ids) found += byTrace.all(id).length;
  const traceByIdMs = Number(process.hrtime.bigint() - lt0) / 1e6 / Math.max(1, ids.length);
  db.close();
  const out = {
    spans: batches * per, stored, lost: batches * per - stored, seconds: +secs.toFixed(2), spansPerSec: Math.round(stored / secs),
    acceptSeconds: +(Number(accepted - started) / 1e9).toFixed(2), drainSeconds: +(Number(done - accepted) / 1e9).toFixed(2),
    mapUsPerSpan: +mapUsPerSpan.toFixed(2), consumeSyncUsPerSpan: +((mainMs * 1000) / (batches * per)).toFixed(2), refusedRetries: refused, traceByIdMs: +traceByIdMs.toFixed(3), spansPerTraceFound: +(found / Math.max(1, ids.length)).toFixed(1), fileMB: +(statSync(path).size / 1e6).toFixed(1),
  };
  const raw = rawInsertLoop(join(dir, 'raw.db'), data, batches, per);
  process.stdout.write(JSON.stringify({ ...out, rawSpansPerSec: raw, storeVsRaw: +(out.spansPerSec / raw).toFixed(2) }) + '\n');
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The yardstick: the same spans inserted by a plain better-sqlite3 loop (WAL, synchronous=NORMAL,
 * one transaction per request, a prepared statement, one index on trace_id) into a table of the
 * span's main columns, attributes as JSON. No mapping to the store's schema, no worker thread.
 */
function rawInsertLoop(path: string, data: Traces[], batches: number, per: number): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE spans (trace_id TEXT, span_id TEXT, parent_span_id TEXT, name TEXT, kind INTEGER, start_ns INTEGER, end_ns INTEGER,
    status_code INTEGER, service TEXT, attributes TEXT); CREATE INDEX spans_trace ON spans (trace_id);`);
  const ins = db.prepare('INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertBatch = db.transaction((t: Traces) => {
    for (const rs of t.resourceSpans) {
      const service = String(rs.resource.attributes['service.name'] ?? '');
      for (const ss of rs.scopeSpans) {
        for (const sp of ss.spans) {
          ins.run(sp.traceId, sp.spanId, sp.parentSpanId, sp.name, sp.kind, sp.startTimeUnixNano, sp.endTimeUnixNano, sp.status.code, service, JSON.stringify(sp.attributes));
        }
      }
    }
  });
  db.defaultSafeIntegers(true);
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) insertBatch(b < data.length ? data[b] : makeBatch(per, b, 1_763_000_000_000_000_000n));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  return Math.round((batches * per) / secs);
}

async function points(total: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-bench-'));
  const path = join(dir, 'bench.db');
  const config: SqliteConfig = {
    path, flush_interval: '1s', batch_size: 10000, max_in_flight_rows: 100000,
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' },
    timeout: '30s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  };
  const ex = sqliteExporterFactory.create({ id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir }, ['metrics']);
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] });
  const SERIES = 100;
  const perSeries = Math.ceil(total / SERIES);
  const t0 = 1_763_000_000_000_000_000n;
  const SEC = 1_000_000_000n;
  const started = process.hrtime.bigint();
  // 50 timestamps × 100 series per request
  for (let i = 0; i < perSeries; i += 50) {
    const dataPoints: NumberDataPoint[] = [];
    for (let k = i; k < Math.min(perSeries, i + 50); k++) {
      for (let s = 0; s < SERIES; s++) {
        dataPoints.push({ attributes: { route: `/r${s % 10}`, pod: `p${s}` }, startTimeUnixNano: 0n, timeUnixNano: t0 + BigInt(k) * SEC, value: (k % 97) + s, isInt: false, flags: 0, exemplars: [] });
      }
    }
    const m: Metrics = { resourceMetrics: [{ resource: { attributes: { 'service.name': 'api' }, droppedAttributesCount: 0 }, schemaUrl: '', scopeMetrics: [{ scope: { name: 'm', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics: [
      { name: 'queue.depth', description: '', unit: '1', metadata: {}, data: { type: 'gauge', dataPoints } },
    ] }] }] };
    await ex.metrics!.consume(m);
  }
  await ex.shutdown!();
  const insertSecs = Number(process.hrtime.bigint() - started) / 1e9;
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  const stored = Number(db.prepare('SELECT count(*) FROM metric_number_points').pluck().get());
  const from = t0;
  const to = t0 + BigInt(perSeries) * SEC;
  const step = 300n * SEC;
  const time = (label: string, fn: () => unknown[]): Record<string, unknown> => {
    fn();
    const runs: number[] = [];
    let rows = 0;
    for (let r = 0; r < 5; r++) {
      const a = process.hrtime.bigint();
      rows = fn().length;
      runs.push(Number(process.hrtime.bigint() - a) / 1e6);
    }
    runs.sort((x, y) => x - y);
    return { query: label, medianMs: +runs[2].toFixed(2), rows };
  };
  const raw = db.prepare(`SELECT p.series_id, (p.time_unix_nano - ?) / ? AS b, avg(p.value), min(p.value), max(p.value)
    FROM metric_series s JOIN metric_number_points p ON p.series_id = s.series_id
    WHERE s.metric_name = 'queue.depth' AND p.time_unix_nano >= ? AND p.time_unix_nano < ? GROUP BY p.series_id, b`);
  const rolled = db.prepare(`SELECT r.series_id, (r.bucket_unix_nano - ?) / ? AS b, sum(r.sum) / sum(r.count), min(r.min), max(r.max)
    FROM metric_series s JOIN metric_number_rollup_1m r ON r.series_id = s.series_id
    WHERE s.metric_name = 'queue.depth' AND r.bucket_unix_nano >= ? AND r.bucket_unix_nano < ? GROUP BY r.series_id, b`);
  const byRoute = db.prepare(`SELECT (r.bucket_unix_nano - ?) / ? AS b, sum(r.sum) / sum(r.count)
    FROM metric_series s JOIN metric_number_rollup_1m r ON r.series_id = s.series_id
    WHERE s.metric_name = 'queue.depth' AND json_extract(s.attributes, '$.route') = '/r3' AND r.bucket_unix_nano >= ? AND r.bucket_unix_nano < ? GROUP BY b`);
  const out = {
    points: stored, insertSeconds: +insertSecs.toFixed(2), pointsPerSec: Math.round(stored / insertSecs), fileMB: +(statSync(path).size / 1e6).toFixed(1),
    queries: [
      time('avg/min/max per 5m, all series, raw points', () => raw.all(from, step, from, to)),
      time('avg/min/max per 5m, all series, 1m rollup', () => rolled.all(from, step, from, to)),
      time('avg per 5m, route=/r3 (10 series), 1m rollup', () => byRoute.all(from, step, from, to)),
    ],
  };
  db.close();
  process.stdout.write(JSON.stringify(out) + '\n');
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === 'points') void points(Number(process.argv[3] ?? 1_000_000));
else void main();
