/** batch and memory_limiter processors, driven directly. */
import t from 'tap';
import { batchFactory, BatchConfig } from '../processors/batch';
import { splitByItems } from '../processors/batch/split';
import { createMemoryLimiter, MemoryLimiterConfig } from '../processors/memory_limiter';
import { PermanentError, RetryableError } from '../src/errors';
import { silentLogger } from '../src/logger';
import { countItems, Logs, Metrics, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';

function traces(resources: number, spansPer: number, tag = ''): Traces {
  return {
    resourceSpans: Array.from({ length: resources }, (_, r) => ({
      resource: { attributes: { r: `${tag}${r}` }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{
        scope: { name: 'sc', version: '', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: Array.from({ length: spansPer }, (_, i) => ({ name: `${r}-${i}` }) as never),
      }],
    })),
  };
}

function settings<C>(config: C) {
  return { id: 'p', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: ':memory:' };
}

t.test('splitByItems keeps resources and never exceeds the max', async (t) => {
  const data = traces(3, 5);
  const chunks = splitByItems('traces', data, 4, 15);
  t.same(chunks.map((c) => countItems('traces', c)), [4, 4, 4, 3]);
  const names = chunks.flatMap((c) => c.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => `${rs.resource.attributes.r}:${s.name}`))));
  t.equal(names.length, 15);
  t.equal(new Set(names).size, 15, 'every span exactly once');
  t.equal(data.resourceSpans[0].scopeSpans[0].spans.length, 5, 'input untouched');
  const metrics: Metrics = {
    resourceMetrics: [{
      resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeMetrics: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics: [
        { name: 'a', description: '', unit: '', metadata: {}, data: { type: 'gauge', dataPoints: [1, 2, 3].map((v) => ({ value: v }) as never) } },
        { name: 'b', description: '', unit: '', metadata: {}, data: { type: 'gauge', dataPoints: [4, 5].map((v) => ({ value: v }) as never) } },
      ] }],
    }],
  };
  const mc = splitByItems('metrics', metrics, 2, 5);
  t.same(mc.map((c) => countItems('metrics', c)), [2, 2, 1]);
  t.same(mc[1].resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name), ['a', 'b'], 'a metric split across batches keeps its name');
});

t.test('batch: sends at send_batch_size, on timeout, split at send_batch_max_size, flushes on shutdown', async (t) => {
  const sent: number[] = [];
  const next = { consume: async (d: Traces) => void sent.push(countItems('traces', d)) };
  const cfg: BatchConfig = { send_batch_size: 10, send_batch_max_size: 15, timeout: '100ms', max_pending_items: 1000 };
  const p = batchFactory.create(settings(cfg), 'traces', next) as ReturnType<typeof batchFactory.create> & { shutdown(): Promise<void> };
  await p.consume(traces(1, 4));
  await p.consume(traces(1, 4));
  t.same(sent, [], 'below the size: waiting');
  await p.consume(traces(1, 4));
  await new Promise((r) => setImmediate(r));
  t.same(sent, [12], 'sent at the size');
  await p.consume(traces(2, 19));
  await new Promise((r) => setImmediate(r));
  t.same(sent, [12, 15, 15], 'split at the max; the rest (8) waits');
  await new Promise((r) => setTimeout(r, 200));
  t.same(sent, [12, 15, 15, 8], 'rest sent on timeout');
  await p.consume(traces(1, 3));
  await p.shutdown();
  t.same(sent, [12, 15, 15, 8, 3], 'flushed on shutdown');
});

t.test('batch: retries refused batches and pushes back instead of dropping', async (t) => {
  let refuse = 2;
  const got: number[] = [];
  const next = {
    consume: async (d: Logs) => {
      if (refuse-- > 0) throw new RetryableError('queue full', 20);
      got.push(countItems('logs', d));
    },
  };
  const logs = (n: number): Logs => ({ resourceLogs: [{ resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: Array.from({ length: n }, () => ({}) as never) }] }] });
  const p = batchFactory.create(settings({ send_batch_size: 5, send_batch_max_size: 0, timeout: '10ms', max_pending_items: 8 }), 'logs', next) as any;
  await p.consume(logs(5));
  await t.rejects(p.consume(logs(5)), RetryableError, 'over max_pending_items while the first batch is retried');
  await new Promise((r) => setTimeout(r, 150));
  t.same(got, [5], 'the refused batch got through on retry');
  await p.consume(logs(2));
  await p.shutdown();
  t.same(got, [5, 2]);

  const dropped: number[] = [];
  const perm = batchFactory.create(settings({ send_batch_size: 1, send_batch_max_size: 0, timeout: '10ms', max_pending_items: 10 }), 'logs', { consume: async () => { dropped.push(1); throw new PermanentError('bad'); } }) as any;
  await perm.consume(logs(1));
  await perm.shutdown();
  t.same(dropped, [1], 'permanent errors are not retried');
});

t.test('memory_limiter refuses above the soft limit and recovers', async (t) => {
  let rss = 100 * 1024 * 1024;
  const passed: unknown[] = [];
  const cfg: MemoryLimiterConfig = { check_interval: '20ms', limit_mib: 200, spike_limit_mib: 50, limit_percentage: 0, spike_limit_percentage: 0 };
  const ml = createMemoryLimiter(settings(cfg), { consume: async (d: Traces) => void passed.push(d) }, () => rss);
  await ml.start();
  t.equal(ml.gate.softBytes, 150 * 1024 * 1024);
  await ml.consume(traces(1, 1));
  rss = 160 * 1024 * 1024;
  await new Promise((r) => setTimeout(r, 60));
  await t.rejects(ml.consume(traces(1, 1)), RetryableError);
  try {
    await ml.consume(traces(1, 1));
  } catch (e) {
    t.ok((e as RetryableError).retryAfterMs! >= 1000, 'tells the sender when to retry');
  }
  rss = 120 * 1024 * 1024;
  await new Promise((r) => setTimeout(r, 60));
  await ml.consume(traces(1, 1));
  t.equal(passed.length, 2);
  await ml.shutdown();
});
