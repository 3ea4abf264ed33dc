/**
 * Persistent sending queues (`sending_queue.storage: file_storage`): what was acknowledged survives a
 * restart and a kill -9 and is delivered in order once the destination is back; full queues refuse
 * (or drop the oldest, counted); a torn tail is skipped; storage problems are clear; two exporters
 * share one storage; a queue left by a renamed exporter is reported.
 */
import t from 'tap';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { ExporterFactory } from '../src/component';
import { RetryableError } from '../src/errors';
import { createExporter, exporterHelperProperties } from '../src/exporterhelper';
import type { Traces } from '../src/model';
import { decode } from '../src/otlp';
import { QueueFile } from '../extensions/file_storage/queue-file';
import { postSpans, spanIdOf, startSenders } from './helpers/otlp-json';
import { startTest } from './helpers/collector';
import { startVigil } from './helpers/vigil-process';

const dir = mkdtempSync(join(tmpdir(), 'vigil-pq-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

/** A destination that can be up or down; records span ids per exporter id, in arrival order. */
const dest = { up: true, got: new Map<string, string[]>() };
const received = (id: string): string[] => dest.got.get(id) ?? [];
const flakyFactory: ExporterFactory = {
  kind: 'exporter', type: 'flaky', description: 'test destination', signals: ['traces'],
  configSchema: { type: 'object', properties: { ...exporterHelperProperties({ retry_on_failure: { initial_interval: '20ms', max_interval: '50ms' } }) } },
  create: (settings, signals) => createExporter(settings, signals, {
    async send(_signal, data) {
      if (!dest.up) throw new RetryableError('destination down', 20);
      const ids = dest.got.get(settings.id) ?? [];
      for (const rs of (data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) ids.push(s.spanId);
      dest.got.set(settings.id, ids);
    },
  }),
};

function config(storageDir: string, exporters: Record<string, string>, extra = ''): string {
  const ex = Object.entries(exporters).map(([id, q]) => `  ${id}:\n    sending_queue: { storage: file_storage, num_consumers: 1${q ? `, ${q}` : ''} }\n`).join('');
  return `extensions:
  file_storage:
    directory: ${storageDir}
${extra}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
${ex}
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [${Object.keys(exporters).join(', ')}]
`;
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const range = (a: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + i);

t.test('acknowledged while the destination is down, kept through a restart, delivered in order after', async (t) => {
  const storage = join(dir, 'replay');
  dest.up = false;
  dest.got.clear();
  const a = await startTest(config(storage, { flaky: '' }), [flakyFactory]);
  for (let i = 0; i < 5; i++) t.equal((await postSpans(a.http, range(i * 10 + 1, 10))).status, 200);
  await a.shutdown();
  t.same(received('flaky'), [], 'nothing delivered while down');
  dest.up = true;
  const b = await startTest(config(storage, { flaky: '' }), [flakyFactory]);
  await until(() => received('flaky').length === 50);
  t.same(received('flaky'), range(1, 50).map(spanIdOf), 'every acknowledged span, in order');
  await b.shutdown();
  t.same(QueueFile.describe(join(storage, 'exporter_flaky.db'))?.count, 0, 'delivered requests are removed from disk');
});

t.test('full queue, default policy: refused retryably (503), nothing acknowledged is lost', async (t) => {
  dest.up = false;
  dest.got.clear();
  const a = await startTest(config(join(dir, 'full'), { flaky: 'max_size_mib: 0.01' }), [flakyFactory]);
  const acked: number[] = [];
  let refused = 0;
  for (let i = 0; i < 100 && refused === 0; i++) {
    const ids = range(i * 10 + 1, 10);
    const r = await postSpans(a.http, ids);
    if (r.status === 200) acked.push(...ids);
    else if (r.status === 503) refused++;
  }
  t.equal(refused, 1, 'a full queue answers 503');
  t.ok(acked.length > 0);
  dest.up = true;
  await until(() => received('flaky').length >= acked.length);
  t.same(received('flaky'), acked.map(spanIdOf), 'every acknowledged span delivered');
  await a.shutdown();
});

t.test('full queue, drop_oldest: accepts, drops the oldest requests and counts them', async (t) => {
  dest.up = false;
  dest.got.clear();
  const a = await startTest(config(join(dir, 'drop'), { flaky: 'max_size_mib: 0.01, full_policy: drop_oldest' }), [flakyFactory]);
  for (let i = 0; i < 60; i++) t.equal((await postSpans(a.http, range(i * 10 + 1, 10))).status, 200);
  const metrics = await a.telemetry.registry.getSingleMetric('vigil_exporter_queue_dropped_spans_total')!.get();
  const dropped = metrics.values.find((v) => v.labels.exporter === 'flaky')?.value ?? 0;
  t.ok(dropped > 0, `${dropped} spans dropped`);
  dest.up = true;
  await until(() => received('flaky').length + dropped >= 600);
  t.equal(received('flaky').length + dropped, 600, 'every span is either delivered or counted as dropped');
  // The first request was already being sent (and retried) when the queue filled: it is never
  // dropped, as it may be delivered any moment. The oldest of the others went.
  t.same(received('flaky'), [...range(1, 10), ...range(11 + dropped, 590 - dropped)].map(spanIdOf), 'the oldest went, the newest were kept, in order');
  await a.shutdown();
});

t.test('a torn record at the tail (kill -9 mid-write) is skipped; the complete ones are kept', async (t) => {
  const src = join(dir, 'torn-src');
  const dst = join(dir, 'torn-dst');
  rmSync(src, { recursive: true, force: true });
  for (const d of [src, dst]) {
    rmSync(d, { recursive: true, force: true });
    require('node:fs').mkdirSync(d, { recursive: true });
  }
  const q = new QueueFile(join(src, 'q.db'), 'exporter/x', { fsync: false, maxFileBytes: 0 });
  for (let i = 1; i <= 3; i++) q.append('traces', 1, Buffer.alloc(3000, i));
  // What a kill -9 leaves: the file and its WAL as they are, not checkpointed. The last write is torn.
  copyFileSync(join(src, 'q.db'), join(dst, 'q.db'));
  copyFileSync(join(src, 'q.db-wal'), join(dst, 'q.db-wal'));
  q.close();
  const wal = join(dst, 'q.db-wal');
  truncateSync(wal, statSync(wal).size - 1000);
  appendFileSync(wal, Buffer.alloc(700, 0xab));
  const r = new QueueFile(join(dst, 'q.db'), 'exporter/x', { fsync: false, maxFileBytes: 0 });
  t.equal(r.stats().count, 2, 'the two complete records are there');
  t.same([r.next(0)?.data[0], r.next(1)?.data[0]], [1, 2]);
  t.equal(r.append('traces', 1, Buffer.alloc(10)), 3, 'and the queue goes on from there');
  r.close();
});

t.test('storage problems: not a directory at start; disk full refused retryably at run time', async (t) => {
  const notDir = join(dir, 'a-file');
  writeFileSync(notDir, 'x');
  await t.rejects(startTest(config(notDir, { flaky: '' }), [flakyFactory]), /file_storage directory .*a-file is not a writable directory/);

  dest.up = false;
  dest.got.clear();
  const a = await startTest(config(join(dir, 'disk-full'), { flaky: '' }, '    max_file_size_mib: 0.2'), [flakyFactory]);
  const acked: number[] = [];
  let refusal: { status: number; body?: Record<string, unknown> } | undefined;
  for (let i = 0; i < 200 && !refusal; i++) {
    const ids = range(i * 20 + 1, 20);
    const r = await postSpans(a.http, ids, { service: 'x'.repeat(2000) });
    if (r.status === 200) acked.push(...ids);
    else refusal = r;
  }
  t.equal(refusal?.status, 503, 'a full disk is a retryable refusal');
  t.match(refusal?.body, { message: /cannot write: .*full/ });
  dest.up = true;
  await until(() => received('flaky').length >= acked.length);
  t.same(received('flaky'), acked.map(spanIdOf), 'everything acknowledged before is delivered');
  await a.shutdown();
});

t.test('two exporters share one storage; a queue left by a renamed exporter is reported', async (t) => {
  const storage = join(dir, 'shared');
  dest.up = false;
  dest.got.clear();
  const a = await startTest(config(storage, { 'flaky/a': '', 'flaky/b': '' }), [flakyFactory]);
  t.equal((await postSpans(a.http, range(1, 10))).status, 200);
  await a.shutdown();
  t.same(readdirSync(storage).filter((f) => f.endsWith('.db')).sort(), ['exporter_flaky~2fa.db', 'exporter_flaky~2fb.db'], 'one file per exporter');

  dest.up = true;
  // flaky/a is now called flaky/c: its queue must not be forgotten silently.
  const b = await startTest(config(storage, { 'flaky/c': '', 'flaky/b': '' }), [flakyFactory]);
  await until(() => received('flaky/b').length === 10);
  t.same(received('flaky/b'), range(1, 10).map(spanIdOf), 'the exporter still configured delivers its queue');
  await until(() => b.collector.componentStatuses().some((c) => c.id === 'file_storage' && c.status === 'recoverable_error'));
  const st = b.collector.componentStatuses().find((c) => c.id === 'file_storage');
  t.match(st?.error, /exporter_flaky~2fa\.db holds 1 request\(s\) for "exporter\/flaky\/a", which is not configured/, 'the orphaned queue is reported');
  await b.shutdown();

  const c = await startTest(config(storage, { 'flaky/a': '' }), [flakyFactory]);
  await until(() => received('flaky/a').length === 10);
  t.pass('renamed back, the old queue is delivered');
  await c.shutdown();
});

t.test('kill -9 of a real Vigil with a persistent queue: every acknowledged span reaches the destination', async (t) => {
  // The destination: an OTLP/HTTP server that records span ids (down at first).
  const got = new Set<string>();
  let up = false;
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (!up) return void res.writeHead(503, { 'Retry-After': '1' }).end();
      const body = Buffer.concat(chunks);
      const data = decode('traces', req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
      for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) got.add(s.spanId);
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  t.teardown(() => sink.close());
  const port = (sink.address() as { port: number }).port;
  const work = join(dir, 'kill');
  require('node:fs').mkdirSync(work, { recursive: true });
  const cfg = join(work, 'edge.yaml');
  writeFileSync(cfg, `extensions:
  file_storage:
    directory: ${join(work, 'queue')}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${port}
    retry_on_failure: { initial_interval: 100ms, max_interval: 500ms }
    sending_queue: { storage: file_storage }
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
`);
  const vigil = await startVigil(cfg, work);
  const senders = startSenders(vigil.http, 3);
  const { acked } = senders;
  await until(() => acked.length >= 1500);
  // Let the destination come up mid-run, so that some requests are in flight at the kill.
  up = true;
  await until(() => got.size > 0);
  await vigil.kill9();
  await senders.stop();
  const again = await startVigil(cfg, work);
  await until(() => acked.every((id) => got.has(spanIdOf(id))), 60_000).catch(() => undefined);
  const lost = acked.filter((id) => !got.has(spanIdOf(id)));
  t.equal(lost.length, 0, `acknowledged spans lost: ${lost.length} of ${acked.length}`);
  t.equal(await again.stop(), 0);
  t.ok(existsSync(join(work, 'queue', 'exporter_otlphttp.db')));
});

t.test('sending_queue.batch: queued requests are merged into sends of min_size..max_size items, on disk and in memory', async (t) => {
  const sends = new Map<string, string[][]>();
  const batchFactory: ExporterFactory = {
    kind: 'exporter', type: 'batchdest', description: 'records each send', signals: ['traces'],
    configSchema: { type: 'object', properties: { ...exporterHelperProperties() } },
    create: (settings, signals) => createExporter(settings, signals, {
      async send(_signal, data) {
        const ids: string[] = [];
        for (const rs of (data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) ids.push(s.spanId);
        sends.set(settings.id, [...(sends.get(settings.id) ?? []), ids]);
      },
    }),
  };
  const batch = 'batch: { min_size: 50, max_size: 60, flush_timeout: 3s }';
  const yaml = config(join(dir, 'batch'), { 'batchdest/disk': batch }, '').replace(
    'exporters:\n',
    `exporters:\n  batchdest/mem:\n    sending_queue: { num_consumers: 2, ${batch} }\n`,
  ).replace('exporters: [batchdest/disk]', 'exporters: [batchdest/disk, batchdest/mem]');
  const a = await startTest(yaml, [batchFactory]);
  t.teardown(() => a.shutdown());
  for (let i = 0; i < 10; i++) t.equal((await postSpans(a.http, range(i * 10 + 1, 10))).status, 200);
  t.equal((await postSpans(a.http, range(101, 3))).status, 200);
  for (const id of ['batchdest/disk', 'batchdest/mem']) {
    await until(() => (sends.get(id) ?? []).flat().length === 103);
    const sizes = sends.get(id)!.map((s) => s.length);
    t.same(sizes, [50, 50, 3], `${id}: two sends of min_size, then the rest after flush_timeout`);
    t.same(sends.get(id)!.flat(), range(1, 103).map(spanIdOf), `${id}: every span once, in order`);
  }
});
