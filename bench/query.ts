/**
 * Query API benchmark: fills a store through the sqlite exporter's own write path (the factory and
 * its worker, so the schema, indexes and rollup are exactly what Vigil writes), then times
 *
 * - metric aggregations over N stored points of one metric (default 1,000,000: 200 series × 5,000
 *   points 1 s apart), for gauges and counters, from the 1-minute rollup (step ≥ 1m) and from raw
 *   points (step < 1m);
 * - trace by id (default 100,000 spans in traces of 10), random ids;
 * - a span search.
 *
 * Times are the engine's (src/query against a read-only connection) and, for a subset, end to end
 * over HTTP through the api extension. Targets from issue 8: aggregation ≤ 50 ms, trace ≤ 5 ms.
 *
 *   npm run build && node dist/bench/query.js [--db FILE] [--series 200] [--points 5000] [--interval-ms 1000] [--spans 100000] [--runs 20]
 *
 * With --db FILE and an existing file, the data is reused (generation takes a while).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/logger';
import type { Metrics, NumberDataPoint, Span, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { openStore } from '../exporters/sqlite/store';
import { getTrace, queryMetrics, searchSpans, QueryService } from '../src/query';
import { ApiExtension } from '../extensions/api';

function arg(name: string, def: number): number;
function arg(name: string, def: string | undefined): string | undefined;
function arg(name: string, def: number | string | undefined): number | string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  return typeof def === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

const SERIES = arg('series', 200);
const POINTS = arg('points', 5000);
const INTERVAL_MS = arg('interval-ms', 1000);
const SPANS = arg('spans', 100_000);
const RUNS = arg('runs', 20);
const T0 = BigInt(Date.UTC(2025, 0, 6, 0, 0, 0)) * 1_000_000n; // minute-aligned start of the data
const resource = { attributes: { 'service.name': 'bench', 'host.name': 'node-1' }, droppedAttributesCount: 0 };
const scope = { name: 'bench', version: '1', attributes: {}, droppedAttributesCount: 0 };

function metricsBatch(fromPoint: number, toPoint: number): Metrics {
  const gauge: NumberDataPoint[] = [];
  const counter: NumberDataPoint[] = [];
  for (let s = 0; s < SERIES; s++) {
    const attributes = { instance: `i-${s}`, zone: `z-${s % 4}` };
    for (let p = fromPoint; p < toPoint; p++) {
      const t = T0 + BigInt(p * INTERVAL_MS) * 1_000_000n;
      gauge.push({ attributes, startTimeUnixNano: 0n, timeUnixNano: t, value: 50 + 40 * Math.sin((p + s) / 300), isInt: false, exemplars: [], flags: 0 });
      // A counter that restarts every 1,000 points (a process restart: new start time).
      const run = Math.floor(p / 1000);
      counter.push({ attributes, startTimeUnixNano: T0 + BigInt(run * 1000 * INTERVAL_MS) * 1_000_000n, timeUnixNano: t, value: (p % 1000) * (1 + (s % 5)), isInt: true, exemplars: [], flags: 0 });
    }
  }
  return {
    resourceMetrics: [{
      resource, schemaUrl: '',
      scopeMetrics: [{
        scope, schemaUrl: '',
        metrics: [
          { name: 'bench.gauge', description: '', unit: '1', metadata: {}, data: { type: 'gauge', dataPoints: gauge } },
          { name: 'bench.requests', description: '', unit: '{request}', metadata: {}, data: { type: 'sum', isMonotonic: true, aggregationTemporality: 2, dataPoints: counter } },
        ],
      }],
    }],
  };
}

const traceIdOf = (k: number): string => (BigInt(k + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32);

function tracesBatch(from: number, to: number): Traces {
  const spans: Span[] = [];
  for (let k = from; k < to; k++) {
    const trace = Math.floor(k / 10);
    const i = k % 10;
    const start = T0 + BigInt(k) * 1_000_000n;
    spans.push({
      traceId: traceIdOf(trace), spanId: (k + 1).toString(16).padStart(16, '0'), traceState: '',
      parentSpanId: i === 0 ? '' : (trace * 10 + 1).toString(16).padStart(16, '0'), flags: 1,
      name: i === 0 ? 'GET /api/items/{id}' : `db ${i}`, kind: i === 0 ? 2 : 3, startTimeUnixNano: start, endTimeUnixNano: start + BigInt(1 + i) * 1_000_000n,
      attributes: { 'http.route': '/api/items/{id}', 'http.response.status_code': k % 50 === 0 ? 500 : 200 }, droppedAttributesCount: 0,
      events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: k % 50 === 0 ? 2 : 0, message: '' },
    });
  }
  return { resourceSpans: [{ resource, schemaUrl: '', scopeSpans: [{ scope, schemaUrl: '', spans }] }] };
}

async function generate(path: string): Promise<void> {
  const config: SqliteConfig = {
    path, flush_interval: '1s', batch_size: 20000, max_in_flight_rows: 200000,
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' },
    timeout: '60s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  };
  const ex = sqliteExporterFactory.create({ id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: tmpdir() }, ['traces', 'metrics']);
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] });
  const t0 = Date.now();
  const per = Math.max(1, Math.floor(5000 / SERIES));
  for (let p = 0; p < POINTS; p += per) await ex.metrics!.consume(metricsBatch(p, Math.min(POINTS, p + per)));
  for (let k = 0; k < SPANS; k += 1000) await ex.traces!.consume(tracesBatch(k, Math.min(SPANS, k + 1000)));
  await ex.shutdown!();
  process.stdout.write(`generated ${2 * SERIES * POINTS} metric points (2 metrics) and ${SPANS} spans in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

function median(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Wall time and this process's CPU time: the machine is shared, and on a loaded machine the wall
 * time mostly measures waiting for a core; the CPU time is what the query costs.
 */
function stats(samples: Array<[number, number]>): string {
  const wall = samples.map((x) => x[0]);
  const cpu = samples.map((x) => x[1]);
  return `cpu median ${median(cpu).toFixed(2)} ms, wall median ${median(wall).toFixed(2)} ms (max ${Math.max(...wall).toFixed(2)})`;
}

function time<T>(f: () => T): [[number, number], T] {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  const r = f();
  const d = process.cpuUsage(c);
  return [[Number(process.hrtime.bigint() - t) / 1e6, (d.user + d.system) / 1000], r];
}

async function main(): Promise<void> {
  const given = arg('db', undefined);
  const dir = given ? undefined : mkdtempSync(join(tmpdir(), 'vigil-query-bench-'));
  const path = given ?? join(dir!, 'bench.db');
  if (!existsSync(path)) await generate(path);
  const store = openStore(path);
  const db = store.db;
  const count = (sql: string) => Number(db.prepare(sql).pluck().get());
  process.stdout.write(`store: ${count("SELECT count(*) FROM metric_number_points p JOIN metric_series s USING (series_id) WHERE s.metric_name = 'bench.gauge'")} bench.gauge points, `
    + `${count('SELECT count(*) FROM metric_number_rollup_1m')} rollup rows (both metrics), ${count('SELECT count(*) FROM spans')} spans\n`);
  const start = T0;
  const end = T0 + BigInt(POINTS * INTERVAL_MS) * 1_000_000n;
  const now = end + 60_000_000_000n;
  const cases: Array<[string, string]> = [
    ['gauge avg, step 1m, per series (rollup)', 'name=bench.gauge&agg=avg&step=1m'],
    ['gauge avg, step 5m, all series merged (rollup)', 'name=bench.gauge&agg=avg&step=5m&by='],
    ['gauge max, step 1m, by zone (rollup)', 'name=bench.gauge&agg=max&step=1m&by=zone'],
    ['counter rate, step 1m, per series (rollup)', 'name=bench.requests&agg=rate&step=1m'],
    ['counter rate, step 5m, sum by zone (rollup)', 'name=bench.requests&agg=rate&step=5m&by=zone'],
    ['gauge avg, step 1m, one series (rollup)', 'name=bench.gauge&agg=avg&step=1m&match[]=instance%3D%22i-7%22'],
    ['gauge avg, step 30s, all merged (raw points)', 'name=bench.gauge&agg=avg&step=30s&by='],
    ['counter rate, step 30s, all merged (raw points)', 'name=bench.requests&agg=rate&step=30s&by='],
  ];
  process.stdout.write(`\nmetric queries over the whole range (${SERIES} series × ${POINTS} points of each metric), ${RUNS} runs each, engine only:\n`);
  for (const [label, qs] of cases) {
    const q = new URLSearchParams(`${qs}&start=${start}&end=${end}`);
    const [, first] = time(() => queryMetrics(db, q, now));
    const ms: Array<[number, number]> = [];
    for (let i = 0; i < RUNS; i++) ms.push(time(() => queryMetrics(db, q, now))[0]);
    const pts = first.series.reduce((n, s) => n + s.points.length, 0);
    process.stdout.write(`  ${label.padEnd(50)} ${stats(ms)}  (${first.series.length} series, ${pts} points out, ${first.source})\n`);
  }

  const traces = Math.floor(SPANS / 10);
  if (traces > 0) {
    const ids = Array.from({ length: 1000 }, (_, i) => traceIdOf((i * 7919) % traces));
    const ms = ids.map((id) => time(() => getTrace(db, id))[0]);
    process.stdout.write(`\ntrace by id (10 spans each, ${SPANS} spans stored), 1000 random ids, engine only: ${stats(ms)}\n`);
    const q = new URLSearchParams(`service=bench&attr.http.response.status_code=500&start=${start}&end=${now}&limit=100`);
    const sms: Array<[number, number]> = [];
    for (let i = 0; i < RUNS; i++) sms.push(time(() => searchSpans(db, q, now))[0]);
    process.stdout.write(`span search (service + attribute filter, newest 100 matches): ${stats(sms)}\n`);
  }

  // End to end over HTTP: the same engine behind the api extension.
  const api = new ApiExtension({ endpoint: '127.0.0.1:0', max_request_body_size: 1024 }, silentLogger());
  await api.start();
  const svc = new QueryService(path);
  svc.register(api);
  const base = `http://${api.address}`;
  // CPU here is client and server together (same process).
  const http = async (url: string): Promise<[number, number]> => {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    const d = process.cpuUsage(c);
    return [Number(process.hrtime.bigint() - t) / 1e6, (d.user + d.system) / 1000];
  };
  process.stdout.write('\nover HTTP (api extension, JSON encoding included; cpu = client + server, one process):\n');
  const httpCases: Array<[string, string]> = [
    ['gauge avg, step 5m, all merged (rollup)', `/api/metrics?name=bench.gauge&agg=avg&step=5m&by=&start=${start}&end=${end}`],
    ['counter rate, step 5m, by zone (rollup)', `/api/metrics?name=bench.requests&agg=rate&step=5m&by=zone&start=${start}&end=${end}`],
  ];
  if (traces > 0) httpCases.push(['trace by id', `/api/traces/${traceIdOf(12345 % traces)}`]);
  for (const [label, path] of httpCases) {
    await http(base + path);
    const ms: Array<[number, number]> = [];
    for (let i = 0; i < RUNS; i++) ms.push(await http(base + path));
    process.stdout.write(`  ${label.padEnd(50)} ${stats(ms)}\n`);
  }
  svc.close();
  await api.shutdown();
  store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
