/**
 * Two defects of metric queries, found from outside.
 *
 * 1. Counter increases over raw points and over the 1-minute rollup must agree on any data, resets
 * included (a restart within a minute, a restart whose new value climbs above the old one, resets
 * at bucket edges, points arriving in several batches). Property test with a seeded generator:
 * random counters are written through the sqlite exporter, then `increase` is asked with a 30 s
 * step (raw) and with a 1 m step (rollup); each 1 m window must equal the sum of its two 30 s ones
 * and the total must equal the true increase the generator computed.
 *
 * 2. Histogram quantiles beyond the data: a histogram whose bucket bounds are far wider than its
 * observations (OTel's default bounds, meant for milliseconds, used for seconds) answered p90 = 4.5 s
 * for a recorded max of 0.13 s. The quantile is interpolated inside the bucket narrowed to the
 * recorded min and max.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateSettings } from '../src/component';
import { silentLogger } from '../src/logger';
import { Metrics, Temporality } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { openStore } from '../exporters/sqlite/store';
import { queryMetrics } from '../src/query/metrics';
import { histogramQuantile } from '../src/query/quantile';

const dir = mkdtempSync(join(tmpdir(), 'vigil-rollup-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const MIN = 60_000_000_000n;
const T0 = 1_900_000_000n * 1_000_000_000n - (1_900_000_000n * 1_000_000_000n) % MIN; // a whole minute

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

interface Pt { t: bigint; start: bigint; v: number }

/** A counter with restarts; returns its points and the increase Prometheus would compute. */
function counterSeries(r: () => number, minutes: number): { points: Pt[]; increase: number } {
  const points: Pt[] = [];
  let t = T0 + BigInt(Math.floor(r() * 5e9));
  let start = t - 1_000_000_000n;
  let v = Math.floor(r() * 100);
  let increase = 0;
  const end = T0 + BigInt(minutes) * MIN;
  let first = true;
  while (t < end) {
    const roll = r();
    if (roll < 0.15) { // restart: a new start time, a value that may be below or above the old one
      start = t - BigInt(Math.floor(r() * 1e9));
      const nv = Math.floor(r() * 200);
      if (!first) increase += nv;
      v = nv;
    } else {
      const d = Math.floor(r() * 50);
      if (!first) increase += d;
      v += d;
    }
    points.push({ t, start, v });
    first = false;
    t += BigInt(Math.floor(1e9 + r() * 25e9)); // 1 to 26 s apart: several per minute, or one, or none
  }
  return { points, increase };
}

function metricsOf(series: Array<{ name: string; points: Pt[] }>): Metrics {
  return {
    resourceMetrics: [{
      resource: { attributes: { 'service.name': 'app' }, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeMetrics: [{
        scope: { name: 't', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '',
        metrics: series.map((s) => ({
          name: s.name, description: '', unit: '', metadata: {},
          data: {
            type: 'sum' as const, aggregationTemporality: Temporality.CUMULATIVE, isMonotonic: true,
            dataPoints: s.points.map((p) => ({ attributes: {}, startTimeUnixNano: p.start, timeUnixNano: p.t, exemplars: [], flags: 0, value: p.v, isInt: true })),
          },
        })),
      }],
    }],
  };
}

async function exporter(path: string) {
  const cfg = {
    path, flush_interval: '20ms', batch_size: 1000, max_in_flight_rows: 100000,
    retention: { max_age: 0, max_size_mib: 1024, check_interval: '5m' },
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  } as SqliteConfig;
  const settings: CreateSettings<SqliteConfig> = { id: 'sqlite', config: cfg, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir };
  const ex = sqliteExporterFactory.create(settings, ['metrics']);
  await ex.start?.({ getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] } as never);
  return ex;
}

t.test('histogram quantiles stay within the recorded min and max', async (t) => {
  // 100 observations between 0.01 and 0.13 s, all in the (0, 5] bucket of OTel's default bounds.
  const bounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
  const counts = bounds.map((_, i) => (i === 1 ? 100 : 0)).concat([0]);
  t.equal(histogramQuantile(0.9, bounds, counts), 4.5, 'without min/max: linear inside (0, 5], as Prometheus does for classic buckets');
  const p90 = histogramQuantile(0.9, bounds, counts, { min: 0.01, max: 0.13 })!;
  t.ok(Math.abs(p90 - (0.01 + 0.12 * 0.9)) < 1e-12, `interpolated inside (0.01, 0.13]: ${p90}`);
  t.equal(histogramQuantile(1, bounds, counts, { min: 0.01, max: 0.13 }), 0.13, 'the top rank is the recorded max');
  t.equal(histogramQuantile(0, bounds, counts, { min: 0.01, max: 0.13 }), 0.01, 'rank 0 is the recorded min');
  // A rank in the +Inf bucket answers inside (highest bound, max], not the highest bound.
  t.equal(histogramQuantile(0.99, [1, 2], [0, 0, 10], { min: 3, max: 7 }), 3 + 4 * 0.99);
  t.equal(histogramQuantile(0.99, [1, 2], [0, 0, 10]), 2, 'without max: the highest finite bound');

  // End to end: stored through the sqlite exporter, asked through the query API's function.
  const path = join(dir, 'h.db');
  const ex = await exporter(path);
  const tq = T0 + 10n * MIN;
  await ex.metrics!.consume({
    resourceMetrics: [{
      resource: { attributes: { 'service.name': 'app' }, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeMetrics: [{
        scope: { name: 't', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '',
        metrics: [{
          name: 'latency', description: '', unit: 's', metadata: {},
          data: {
            type: 'histogram', aggregationTemporality: Temporality.DELTA,
            dataPoints: [{ attributes: {}, startTimeUnixNano: tq - 10_000_000_000n, timeUnixNano: tq, exemplars: [], flags: 0, count: 100, sum: 7, min: 0.01, max: 0.13, bucketCounts: counts, explicitBounds: bounds }],
          },
        }],
      }],
    }],
  } as unknown as Metrics);
  await ex.shutdown!();
  const store = openStore(path);
  t.teardown(() => store.close());
  const res = queryMetrics(store.db, new URLSearchParams({ name: 'latency', agg: 'quantile', q: '0.9', step: '1h', start: String(Number(T0) / 1e9), end: String(Number(tq) / 1e9 + 60) }), tq + MIN);
  const v = res.series[0].points[0][1]!;
  t.ok(v >= 0.01 && v <= 0.13, `p90 from the store lies within the recorded range: ${v}`);
});

t.test('increase over raw points and over the 1m rollup agree on random counters with resets', async (t) => {
  const path = join(dir, 'p.db');
  const ex = await exporter(path);
  const CASES = 60;
  const MINUTES = 12;
  const r = rng(20251202);
  const truth = new Map<string, number>();
  const all: Array<{ name: string; points: Pt[] }> = [];
  for (let i = 0; i < CASES; i++) {
    const { points, increase } = counterSeries(r, MINUTES);
    all.push({ name: `c${i}`, points });
    truth.set(`c${i}`, increase);
  }
  // Points arrive in batches cut at random places, as exports do (every batch in time order).
  let cut = 0;
  while (cut < 400) {
    const size = 1 + Math.floor(r() * 6);
    const batch = all.map((s) => ({ name: s.name, points: s.points.slice(cut, cut + size) })).filter((s) => s.points.length);
    if (!batch.length) break;
    await ex.metrics!.consume(metricsOf(batch));
    cut += size;
  }
  await ex.shutdown!();

  const store = openStore(path);
  t.teardown(() => store.close());
  const now = T0 + BigInt(MINUTES + 5) * MIN;
  const q = (name: string, step: string) => queryMetrics(store.db, new URLSearchParams({
    name, agg: 'increase', step, start: String(Number(T0) / 1e9), end: String(Number(T0 + BigInt(MINUTES + 1) * MIN) / 1e9),
  }), now);
  let disagreements = 0;
  for (const [name, inc] of truth) {
    const raw = q(name, '30s');
    const rolled = q(name, '1m');
    t.equal(rolled.source, 'rollup_1m');
    const perMinuteRaw = new Map<number, number>();
    for (const [ts, v] of raw.series[0]?.points ?? []) {
      const m = ts - (ts % 60);
      perMinuteRaw.set(m, (perMinuteRaw.get(m) ?? 0) + (v ?? 0));
    }
    const perMinuteRollup = new Map((rolled.series[0]?.points ?? []).map(([ts, v]) => [ts, v ?? 0]));
    const minutes = new Set([...perMinuteRaw.keys(), ...perMinuteRollup.keys()]);
    for (const m of minutes) {
      if ((perMinuteRaw.get(m) ?? 0) !== (perMinuteRollup.get(m) ?? 0)) {
        disagreements++;
        t.fail(`${name} minute ${m}: raw ${perMinuteRaw.get(m)} vs rollup ${perMinuteRollup.get(m)}`);
      }
    }
    const sum = (pts: Array<[number, number | null]>) => pts.reduce((a, [, v]) => a + (v ?? 0), 0);
    t.equal(sum(raw.series[0]?.points ?? []), inc, `${name}: raw total is the true increase`);
    t.equal(sum(rolled.series[0]?.points ?? []), inc, `${name}: rollup total is the true increase`);
  }
  t.equal(disagreements, 0, 'every minute agrees');
});
