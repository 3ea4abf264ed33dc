/**
 * Query engine pieces on their own: histogram_quantile interpolation (checked against values worked
 * out from the bucket layout), exponential buckets read as explicit ones, time parsing, and the
 * bounded span search stopping at its scan limit with a cursor that continues the walk.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Span, Traces } from '../src/model';
import { silentLogger } from '../src/logger';
import { Telemetry } from '../src/telemetry';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { openStore } from '../exporters/sqlite/store';
import { histogramQuantile, expToExplicit } from '../src/query/quantile';
import { parseTime } from '../src/query/params';
import { searchSpans } from '../src/query/search';

t.test('histogram_quantile interpolation', async (t) => {
  const bounds = [1, 2, 4];
  // 10 observations: 2 in (0,1], 4 in (1,2], 3 in (2,4], 1 above 4.
  const counts = [2, 4, 3, 1];
  t.equal(histogramQuantile(0.1, bounds, counts), 0 + 1 * (1 / 2), 'rank 1 of 2 in the first bucket, which starts at 0');
  t.equal(histogramQuantile(0.5, bounds, counts), 1 + 1 * (3 / 4), 'rank 5: 3 into (1,2] holding 4');
  t.equal(histogramQuantile(0.9, bounds, counts), 2 + 2 * (3 / 3), 'rank 9: top of (2,4]');
  t.equal(histogramQuantile(0.95, bounds, counts), 4, 'rank in +Inf answers the highest finite bound');
  t.equal(histogramQuantile(0.5, bounds, [0, 0, 0, 0]), null, 'no observations');
  t.equal(histogramQuantile(0.5, [-1, 0, 1], [0, 2, 2, 0]), 0, 'negative bounds: rank 2 of 4 at the top of (-1, 0]');
  t.equal(histogramQuantile(0.5, [], [3]), null, 'only +Inf: no answer');
});

t.test('exponential buckets as explicit ones', async (t) => {
  // Scale 0: base 2; bucket i is (2^i, 2^(i+1)].
  const pos = new Map([[0, 4], [2, 4]]); // 4 in (1,2], 4 in (4,8]
  const e = expToExplicit(0, 2, 0, pos, new Map());
  t.same(e.bounds, [-0, 0, 1, 2, 4, 8]);
  t.same(e.counts, [0, 2, 0, 4, 0, 4, 0]);
  t.equal(histogramQuantile(0.5, e.bounds, e.counts), 1 + 1 * (3 / 4), 'rank 5 of 10: 3 into (1,2] after 2 zeros');
  const neg = expToExplicit(1, 0, 0, new Map(), new Map([[0, 2]])); // scale 1: base √2; (-√2, -1]
  t.equal(neg.bounds.length, 3);
  t.ok(Math.abs(neg.bounds[0] + Math.SQRT2) < 1e-12 && neg.bounds[1] === -1);
});

t.test('time parameters', async (t) => {
  const now = 1_736_150_400_000_000_000n;
  t.equal(parseTime('2025-01-06T08:00:00Z', 'start', now), 1_736_150_400_000_000_000n);
  t.equal(parseTime('2025-01-06T09:00:00.000000123+01:00', 'start', now), 1_736_150_400_000_000_123n);
  t.equal(parseTime('1736150400', 'start', now), 1_736_150_400_000_000_000n, 'seconds');
  t.equal(parseTime('1736150400.5', 'start', now), 1_736_150_400_500_000_000n, 'fractional seconds');
  t.equal(parseTime('1736150400123', 'start', now), 1_736_150_400_123_000_000n, 'milliseconds');
  t.equal(parseTime('1736150400123456789', 'start', now), 1_736_150_400_123_456_789n, 'nanoseconds');
  t.equal(parseTime('now-1m', 'start', now), now - 60_000_000_000n);
  t.throws(() => parseTime('tomorrow', 'end', now), { status: 400 } as never, 'a 400 ApiError');
  t.throws(() => parseTime('2025-13-45T00:00:00Z', 'end', now), /end: .* is not a time/);
});

t.test('span search stops at its scan limit and continues from the cursor', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-query-engine-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'q.db');
  const config: SqliteConfig = {
    path, flush_interval: '10ms', batch_size: 1000, max_in_flight_rows: 10000,
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' }, timeout: '5s',
    sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  };
  const ex = sqliteExporterFactory.create({ id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir }, ['traces']);
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined });
  const T0 = 1_736_150_400_000_000_000n;
  const spans: Span[] = [];
  // 50 spans one ms apart; every tenth one is slow.
  for (let i = 0; i < 50; i++) {
    spans.push({
      traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), parentSpanId: '', traceState: '', flags: 0,
      name: 'op', kind: 2, startTimeUnixNano: T0 + BigInt(i) * 1_000_000n, endTimeUnixNano: T0 + BigInt(i) * 1_000_000n + (i % 10 === 0 ? 900_000_000n : 1_000_000n),
      attributes: { i }, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
    });
  }
  const traces: Traces = { resourceSpans: [{ resource: { attributes: { 'service.name': 's' }, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans }] }] };
  await ex.traces!.consume(traces);
  await ex.shutdown!();
  const store = openStore(path);
  t.teardown(() => store.close());
  const now = T0 + 60_000_000_000n;
  const found: number[] = [];
  let cursor: string | undefined;
  let limited = 0;
  for (let round = 0; round < 20; round++) {
    const q = new URLSearchParams(`min_duration=500ms&start=${T0}&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
    const page = searchSpans(store.db, q, now, 12);
    found.push(...page.items.map((s) => s.attributes.i as number));
    if (page.scan_limited) limited++;
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  t.same(found, [40, 30, 20, 10, 0], 'every slow span, newest first, each once');
  t.ok(limited >= 3, `walks of 12 candidates stopped at the limit (${limited} times)`);
});
