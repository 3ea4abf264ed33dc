import t from 'tap';
import Ajv from 'ajv';
import type { CreateSettings } from '../src/component';
import { PermanentError, RetryableError } from '../src/errors';
import { silentLogger } from '../src/logger';
import type { AnySignalData, Logs, Signal, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import {
  Backoff, ExporterHelperConfig, Sender, createExporter, exporterHelperProperties, resolveHelperConfig,
} from '../src/exporterhelper';

function traces(n: number): Traces {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: (i + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0,
    name: 's', kind: 1, startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes: {}, droppedAttributesCount: 0,
    events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
  }));
  return { resourceSpans: [{ resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans }] }] };
}

function logs(n: number): Logs {
  const logRecords = Array.from({ length: n }, () => ({
    timeUnixNano: 1n, observedTimeUnixNano: 1n, severityNumber: 9, severityText: 'INFO', body: 'x', attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '',
  }));
  return { resourceLogs: [{ resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords }] }] };
}

const FAST_RETRY = { enabled: true, initial_interval: '10ms', randomization_factor: 0, multiplier: 2, max_interval: '40ms', max_elapsed_time: '2s' };

function settings(config: ExporterHelperConfig): CreateSettings<ExporterHelperConfig> & { telemetry: Telemetry } {
  return { id: 'test/x', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: '/nonexistent' };
}

async function metric(tel: Telemetry, name: string): Promise<number> {
  const m = tel.registry.getSingleMetric(name);
  if (!m) return NaN;
  const v = (await m.get()).values.find((x) => x.labels.exporter === 'test/x');
  return v ? v.value : 0;
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** A sender whose answers are scripted per call. */
function scripted(script: Array<'ok' | Error | { delayMs: number }>): Sender & { calls: number; times: number[]; aborted: number; got: AnySignalData[] } {
  const s = {
    calls: 0, times: [] as number[], aborted: 0, got: [] as AnySignalData[],
    async send(_signal: Signal, data: AnySignalData, ctx: { signal: AbortSignal }): Promise<void> {
      const step = script[Math.min(s.calls, script.length - 1)];
      s.calls++;
      s.times.push(Date.now());
      if (step instanceof Error) throw step;
      if (step !== 'ok') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, step.delayMs);
          ctx.signal.addEventListener('abort', () => { s.aborted++; clearTimeout(timer); resolve(); });
        });
        if (ctx.signal.aborted) return;
      }
      s.got.push(data);
    },
  };
  return s;
}

t.test('with the queue, consume resolves once enqueued and the data is sent afterwards', async (t) => {
  const sender = scripted([{ delayMs: 30 }]);
  const st = settings({ timeout: '1s', sending_queue: { enabled: true, num_consumers: 1, queue_size: 10 }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['traces'], sender);
  await ex.traces!.consume(traces(3));
  t.equal(sender.got.length, 0, 'not sent yet when consume resolved');
  await until(() => sender.got.length === 1);
  await until(() => ex.pending() === 0);
  t.equal(await metric(st.telemetry, 'vigil_exporter_sent_spans_total'), 3);
  t.equal(await metric(st.telemetry, 'vigil_exporter_queue_capacity'), 10);
  await ex.shutdown!();
});

t.test('a full queue refuses with a retryable error and counts enqueue failures', async (t) => {
  const sender = scripted([{ delayMs: 200 }]);
  const st = settings({ timeout: '5s', sending_queue: { enabled: true, num_consumers: 1, queue_size: 2 }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['traces', 'logs'], sender);
  await ex.traces!.consume(traces(1)); // taken by the consumer
  await until(() => sender.calls === 1);
  await ex.traces!.consume(traces(1));
  await ex.logs!.consume(logs(1));
  t.equal(await metric(st.telemetry, 'vigil_exporter_queue_size'), 2);
  const err = await ex.logs!.consume(logs(4)).then(() => undefined, (e) => e);
  t.type(err, RetryableError);
  t.match(err.message, /sending queue is full/);
  t.equal(await metric(st.telemetry, 'vigil_exporter_enqueue_failed_log_records_total'), 4);
  await ex.shutdown!();
  t.equal(sender.got.length, 3, 'everything accepted was sent before shutdown resolved');
  t.equal(await metric(st.telemetry, 'vigil_exporter_sent_log_records_total'), 1);
  t.equal(await metric(st.telemetry, 'vigil_exporter_sent_spans_total'), 2);
});

t.test('retryable failures are retried with growing backoff until they succeed', async (t) => {
  const sender = scripted([new RetryableError('down'), new Error('connection reset'), new RetryableError('down'), 'ok']);
  const st = settings({ timeout: '1s', sending_queue: { enabled: false }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['traces'], sender);
  await ex.traces!.consume(traces(2));
  t.equal(sender.calls, 4);
  const gaps = sender.times.slice(1).map((x, i) => x - sender.times[i]);
  // initial 10ms, then ×2: 10, 20, 40 (no jitter); timers may fire a little late, never early
  t.ok(gaps[0] >= 9 && gaps[1] >= 19 && gaps[2] >= 39, `gaps ${gaps}`);
  t.ok(gaps[2] > gaps[0], 'the wait grows');
  t.equal(await metric(st.telemetry, 'vigil_exporter_sent_spans_total'), 2);
  t.equal(await metric(st.telemetry, 'vigil_exporter_send_failed_spans_total'), 0);
});

t.test('a permanent error is not retried: dropped and counted', async (t) => {
  const sender = scripted([new PermanentError('bad data')]);
  const st = settings({ timeout: '1s', sending_queue: { enabled: false }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['logs'], sender);
  await t.rejects(ex.logs!.consume(logs(5)), PermanentError);
  t.equal(sender.calls, 1);
  t.equal(await metric(st.telemetry, 'vigil_exporter_send_failed_log_records_total'), 5);

  const queued = scripted([new PermanentError('bad data'), 'ok']);
  const st2 = settings({ timeout: '1s', sending_queue: { enabled: true, num_consumers: 1, queue_size: 5 }, retry_on_failure: FAST_RETRY });
  const ex2 = createExporter(st2, ['logs'], queued);
  await ex2.logs!.consume(logs(5));
  await ex2.logs!.consume(logs(1));
  await ex2.shutdown!();
  t.equal(queued.calls, 2, 'the permanent failure was not retried and the next request went on');
  t.equal(await metric(st2.telemetry, 'vigil_exporter_send_failed_log_records_total'), 5);
  t.equal(await metric(st2.telemetry, 'vigil_exporter_sent_log_records_total'), 1);
});

t.test('Retry-After from the destination overrides a shorter backoff', async (t) => {
  const sender = scripted([new RetryableError('throttled', 150, true), 'ok']);
  const st = settings({ timeout: '1s', sending_queue: { enabled: false }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['traces'], sender);
  await ex.traces!.consume(traces(1));
  t.equal(sender.calls, 2);
  t.ok(sender.times[1] - sender.times[0] >= 149, `waited ${sender.times[1] - sender.times[0]}ms`);
});

t.test('a slow send is aborted at the timeout and retried', async (t) => {
  const sender = scripted([{ delayMs: 5000 }, 'ok']);
  const st = settings({ timeout: '50ms', sending_queue: { enabled: false }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['traces'], sender);
  const t0 = Date.now();
  await ex.traces!.consume(traces(1));
  t.ok(Date.now() - t0 < 1000, 'did not wait for the slow attempt');
  t.equal(sender.aborted, 1, 'the slow attempt saw its abort signal');
  t.equal(sender.calls, 2);
  t.equal(sender.got.length, 1);
});

t.test('retries stop at max_elapsed_time; without retry the first error is final', async (t) => {
  const sender = scripted([new RetryableError('down')]);
  const st = settings({ timeout: '1s', sending_queue: { enabled: false }, retry_on_failure: { ...FAST_RETRY, max_elapsed_time: '100ms' } });
  const ex = createExporter(st, ['traces'], sender);
  const err = await ex.traces!.consume(traces(7)).then(() => undefined, (e) => e);
  t.type(err, RetryableError);
  t.ok(sender.calls >= 3 && sender.calls <= 6, `attempts ${sender.calls}`);
  t.equal(await metric(st.telemetry, 'vigil_exporter_send_failed_spans_total'), 7);

  const once = scripted([new Error('boom')]);
  const st2 = settings({ timeout: '1s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false } });
  const ex2 = createExporter(st2, ['traces'], once);
  const err2 = await ex2.traces!.consume(traces(1)).then(() => undefined, (e) => e);
  t.type(err2, RetryableError, 'an unknown error reaches the receiver as retryable');
  t.equal(once.calls, 1);
});

t.test('shutdown refuses new data, drains within its bound, then drops the rest', async (t) => {
  const sender = scripted([new RetryableError('down')]);
  const st = settings({ timeout: '1s', sending_queue: { enabled: true, num_consumers: 1, queue_size: 10 }, retry_on_failure: { ...FAST_RETRY, max_elapsed_time: 0 } });
  const ex = createExporter(st, ['traces'], sender, { drainTimeoutMs: 100 });
  await ex.traces!.consume(traces(1));
  await ex.traces!.consume(traces(2));
  const t0 = Date.now();
  const stopping = ex.shutdown!();
  await t.rejects(ex.traces!.consume(traces(1)), RetryableError);
  await stopping;
  t.ok(Date.now() - t0 < 2000, 'the drain wait is bounded');
  t.equal(await metric(st.telemetry, 'vigil_exporter_send_failed_spans_total'), 3);
  t.equal(ex.pending(), 0);
  t.equal(await ex.shutdown!(), undefined, 'shutdown is idempotent');
});

t.test('backoff: exponential, capped, jitter within ±randomization_factor', async (t) => {
  const r = resolveHelperConfig({ retry_on_failure: { initial_interval: '100ms', multiplier: 2, max_interval: '500ms', randomization_factor: 0.5 } }).retry;
  const lo = new Backoff(r, () => 0);
  t.same([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()], [50, 100, 200, 250, 250]);
  const hi = new Backoff(r, () => 0.999999);
  const v = hi.next();
  t.ok(v > 149.9 && v < 150, `upper bound ${v}`);
});

t.test('schema fragments carry the Collector defaults and validate', async (t) => {
  const ajv = new Ajv({ useDefaults: true, allowUnionTypes: true });
  const validate = ajv.compile({ type: 'object', properties: exporterHelperProperties({ sending_queue: { enabled: false } }) });
  const cfg: Record<string, any> = {};
  t.ok(validate(cfg));
  t.equal(cfg.timeout, '5s');
  t.same(cfg.sending_queue, { enabled: false, num_consumers: 10, queue_size: 1000, max_size_mib: 512, full_policy: 'refuse' });
  t.same(cfg.retry_on_failure, { enabled: true, initial_interval: '5s', randomization_factor: 0.5, multiplier: 1.5, max_interval: '30s', max_elapsed_time: '300s' });
  t.notOk(validate({ sending_queue: { queue_size: 0 } }), 'queue_size must be positive');
  t.notOk(validate({ retry_on_failure: { initial_interval: 'soon' } }), 'durations are checked');
  const resolved = resolveHelperConfig(cfg);
  t.equal(resolved.retry.maxElapsedMs, 300_000);
  t.equal(resolved.timeoutMs, 5000);
});

t.test('num_consumers bounds the requests sent at once', async (t) => {
  let now = 0;
  let peak = 0;
  let done = 0;
  const sender: Sender = {
    async send() {
      now++;
      peak = Math.max(peak, now);
      await new Promise((r) => setTimeout(r, 30));
      now--;
      done++;
    },
  };
  const st = settings({ timeout: '1s', sending_queue: { enabled: true, num_consumers: 3, queue_size: 100 }, retry_on_failure: FAST_RETRY });
  const ex = createExporter(st, ['traces'], sender);
  for (let i = 0; i < 9; i++) await ex.traces!.consume(traces(1));
  await ex.shutdown!();
  t.equal(done, 9);
  t.equal(peak, 3);
});
