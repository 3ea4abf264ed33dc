/**
 * The store keeps what it acknowledged: kill -9 of a real Vigil process loses no answered span; one
 * bad row costs nobody else's rows; a store that cannot commit (full, file deleted) refuses new data
 * retryably and says why in its status.
 */
import t from 'tap';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComponentStatus, CreateSettings, Host } from '../src/component';
import { RetryableError } from '../src/errors';
import { silentLogger } from '../src/logger';
import type { Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { openSqlite } from '../src/storage/sqlite';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { postSpans, spanIdOf, startSenders } from './helpers/otlp-json';
import { startVigil } from './helpers/vigil-process';
import { otlpConfig, startTest } from './helpers/collector';

const dir = mkdtempSync(join(tmpdir(), 'vigil-durable-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

function storedSpanIds(path: string): Set<string> {
  const db = openSqlite(path);
  try {
    return new Set(db.prepare('SELECT span_id FROM spans').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

t.test('acknowledged: kill -9 of a real Vigil loses no span that was answered 200', async (t) => {
  const db = join(dir, 'kill.db');
  const cfg = join(dir, 'kill.yaml');
  writeFileSync(cfg, `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  memory_limiter: { limit_mib: 1024 }
exporters:
  sqlite:
    path: ${db}
    durability: acknowledged
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [sqlite]
`);
  const vigil = await startVigil(cfg, dir);
  // Four senders, 50 spans per request, until the kill; the kill comes while requests are in flight.
  const senders = startSenders(vigil.http, 4);
  const { acked } = senders;
  while (acked.length < 4000) await new Promise((r) => setTimeout(r, 5));
  await vigil.kill9();
  await senders.stop();
  t.ok(acked.length >= 4000, `${acked.length} spans acknowledged before the kill`);

  // A restart recovers the file and starts normally; then count.
  const again = await startVigil(cfg, dir);
  t.equal(await again.stop(), 0, 'the restarted Vigil stops cleanly');
  const stored = storedSpanIds(db);
  const lost = acked.filter((id) => !stored.has(spanIdOf(id)));
  t.equal(lost.length, 0, `acknowledged spans lost: ${lost.length} of ${acked.length}`);
});

const statuses: Array<{ status: ComponentStatus; error?: string }> = [];
const host: Host = { getExtension: () => undefined, reportStatus: (_id, status, e) => statuses.push({ status, error: e?.message }), componentStatuses: () => [] };

function make(path: string, over: Partial<SqliteConfig> = {}) {
  const config: SqliteConfig = {
    path, durability: 'acknowledged', flush_interval: '1s', batch_size: 50000, max_in_flight_rows: 100000,
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' },
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false }, ...over,
  };
  const settings: CreateSettings<SqliteConfig> = { id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir };
  return sqliteExporterFactory.create(settings, ['traces', 'metrics', 'logs']) as ReturnType<typeof sqliteExporterFactory.create> & { problem(): string | undefined };
}

const NOW = BigInt(Date.now()) * 1_000_000n;
function spans(first: number, n: number, start?: bigint, pad = ''): Traces {
  return { resourceSpans: [{ resource: { attributes: { 'service.name': 's' }, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{
    scope: { name: 'x', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '',
    spans: Array.from({ length: n }, (_, i) => ({
      traceId: (first + i).toString(16).padStart(32, '0'), spanId: spanIdOf(first + i), traceState: '', parentSpanId: '', flags: 0, name: 'op', kind: 1,
      startTimeUnixNano: start ?? NOW + BigInt(i), endTimeUnixNano: NOW + BigInt(i), attributes: (pad ? { pad } : {}) as Record<string, string>, droppedAttributesCount: 0,
      events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
    })),
  }] }] };
}

t.test('a row SQLite cannot bind is skipped; the other writes of the same transaction are kept', async (t) => {
  const path = join(dir, 'isolate.db');
  const ex = make(path);
  await ex.start!(host);
  // Sent together, so they share one group commit: a good batch, a batch with one bad row among
  // good ones (a time SQLite's signed INTEGER cannot hold), another good batch.
  const bad = spans(100, 5);
  bad.resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano = (1n << 64n) - 1n;
  await Promise.all([ex.traces!.consume(spans(1, 10)), ex.traces!.consume(bad), ex.traces!.consume(spans(200, 10))]);
  await ex.shutdown!();
  const stored = storedSpanIds(path);
  t.equal(stored.size, 24, 'every good row is stored');
  t.notOk(stored.has(spanIdOf(102)), 'the bad row is not');
  t.ok(stored.has(spanIdOf(101)) && stored.has(spanIdOf(103)), 'the bad row\'s neighbours in its own batch are');
});

t.test('the receiver refuses a time >= 2^63 as a partial success; other clients lose nothing', async (t) => {
  const path = join(dir, 'receiver.db');
  const c = await startTest(otlpConfig(['sqlite'], { extra: `exporters:\n  sqlite:\n    path: ${path}\n` }));
  const [withBad, other] = await Promise.all([
    postSpans(c.http, [1, 2, 3], { startNanos: (id) => (id === 2 ? '18446744073709551615' : String(NOW + BigInt(id))) }),
    postSpans(c.http, [10, 11, 12]),
  ]);
  t.equal(withBad.status, 200);
  t.match(withBad.body, { partialSuccess: { rejectedSpans: '1', errorMessage: /2\^63/ } }, 'the sender is told which item was refused');
  t.equal(other.status, 200);
  await c.shutdown();
  t.same([...storedSpanIds(path)].sort(), [1, 3, 10, 11, 12].map(spanIdOf).sort());
});

t.test('disk full (a file size limit): refused retryably, status says why, nothing acknowledged lost', async (t) => {
  const path = join(dir, 'full.db');
  statuses.length = 0;
  const ex = make(path, { max_file_size_mib: 1.5 });
  await ex.start!(host);
  const acked: number[] = [];
  let refusal: unknown;
  const pad = 'x'.repeat(2000);
  for (let i = 0; i < 200 && !refusal; i++) {
    try {
      await ex.traces!.consume(spans(i * 20 + 1, 20, undefined, pad));
      for (let k = 0; k < 20; k++) acked.push(i * 20 + 1 + k);
    } catch (e) {
      refusal = e;
    }
  }
  t.type(refusal, RetryableError, 'a full store refuses with a retryable error');
  t.match((refusal as Error).message, /full/);
  t.match(ex.problem(), /full/, 'the store says why');
  t.match(statuses.at(-1), { status: 'recoverable_error', error: /full/ }, 'and its status (the health check) turns red');
  await ex.shutdown!();
  const stored = storedSpanIds(path);
  t.ok(acked.length > 0);
  t.equal(acked.filter((id) => !stored.has(spanIdOf(id))).length, 0, `every one of the ${acked.length} acknowledged spans is stored`);
});

t.test('the database file deleted while running: new data refused, status red with the reason', async (t) => {
  const path = join(dir, 'deleted.db');
  statuses.length = 0;
  const ex = make(path);
  await ex.start!(host);
  await ex.traces!.consume(spans(1, 5));
  unlinkSync(path);
  // The writer notices within its file check interval.
  const end = Date.now() + 20_000;
  while (!ex.problem() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.match(ex.problem(), /was deleted/);
  t.match(statuses.at(-1), { status: 'recoverable_error', error: /was deleted/ });
  const err = await ex.traces!.consume(spans(10, 5)).then(() => undefined, (e) => e);
  t.type(err, RetryableError, 'written after the deletion: refused, not silently lost');
  await ex.shutdown!();
});
