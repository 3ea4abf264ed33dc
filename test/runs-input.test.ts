/**
 * pipeline_runs and bad input, sent with the OpenTelemetry JS SDK (and raw OTLP/JSON where the SDK
 * would correct the data itself): run spans without ids, phase spans before their run or without
 * any run, and clocks that disagree. Each has a defined outcome and nothing else is affected.
 */
import t from 'tap';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { getJson, getRun, RunJson, startRunsVigil, tempDir, waitRun } from './helpers/runs';

function tracerFor(endpoint: string) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'ci' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
  });
  return { tracer: provider.getTracer('runs-input-test'), provider };
}

t.test('bad input', async (t) => {
  const tmp = tempDir('vigil-runs-');
  t.teardown(tmp.cleanup);
  const v = await startRunsVigil(tmp.dir, '    stall_timeout: 1500ms\n');
  t.teardown(() => v.shutdown());
  const { tracer, provider } = tracerFor(v.otlp);
  t.teardown(() => provider.shutdown());
  const rejected = v.connector.tracker.rejected;

  t.test('a run span without a run id, its phase sent before it', async (t) => {
    const root = tracer.startSpan('deploy', { attributes: { 'cicd.pipeline.name': 'deploy' } });
    const ctx = trace.setSpan(context.active(), root);
    // No run id on the phase either: it can only be placed by its trace, which is not known yet.
    const phase = tracer.startSpan('build', { attributes: { 'cicd.pipeline.task.name': 'build' } }, ctx);
    phase.end();
    await provider.forceFlush();
    await v.capture.waitFor(() => v.connector.tracker.parkedSpans === 1);
    t.equal((await getJson<{ runs: RunJson[] }>(`${v.api}/api/runs`)).body.runs.length, 0, 'no run yet: the phase is held');
    root.setAttribute('cicd.pipeline.result', 'success');
    root.end();
    await provider.forceFlush();
    const traceId = root.spanContext().traceId;
    const r = await waitRun(v.api, traceId, (x) => x.status === 'succeeded', 'the trace id is the run id');
    t.equal(r.pipeline, 'deploy');
    t.same(r.phases.map((p) => [p.name, p.status]), [['build', 'succeeded']], 'the held phase joined its run');
    t.equal(v.connector.tracker.parkedSpans, 0);
  });

  t.test('a phase span whose run never comes is dropped after the stall timeout', async (t) => {
    const lonely = tracer.startSpan('lint', { attributes: { 'cicd.pipeline.task.name': 'lint' } });
    lonely.end();
    await provider.forceFlush();
    await v.capture.waitFor(() => rejected.orphan_expired === 1, 20_000);
    t.equal(v.connector.tracker.parkedSpans, 0);
    t.notOk(await getRun(v.api, lonely.spanContext().traceId), 'no run was made up for it');
  });

  t.test('clocks that disagree', async (t) => {
    const hour = 3_600_000;
    const now = Date.now();
    // The job's host is two hours ahead of Vigil: its times are kept as sent, its liveness is
    // judged by arrival.
    const phase = tracer.startSpan('test', { startTime: now + 2 * hour, attributes: { 'cicd.pipeline.name': 'skewed', 'cicd.pipeline.run.id': 'sk-1', 'cicd.pipeline.task.name': 'test' } });
    phase.end(now + 2 * hour + 5000);
    await provider.forceFlush();
    const r = await waitRun(v.api, 'sk-1', () => true, 'seen');
    t.equal(r.status, 'running');
    t.equal(r.phases[0].duration_ms, 5000, 'the duration comes from the span itself');
    t.ok(r.updated_at >= now - 1000 && r.updated_at <= Date.now() + 1000, 'updated_at is Vigil\'s clock');
    const stalled = await waitRun(v.api, 'sk-1', (x) => x.status === 'stalled', 'stalls on Vigil\'s clock, not the sender\'s');
    t.ok(stalled.updated_at < Date.now());

    // An end before the start cannot come from the SDK (it corrects it), so it is sent as raw OTLP/JSON.
    const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ci' } }] },
        scopeSpans: [{ spans: [{
          traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'package', kind: 1,
          startTimeUnixNano: ns(now), endTimeUnixNano: ns(now - 60_000),
          attributes: [
            { key: 'cicd.pipeline.run.id', value: { stringValue: 'sk-2' } },
            { key: 'cicd.pipeline.name', value: { stringValue: 'skewed' } },
            { key: 'cicd.pipeline.task.name', value: { stringValue: 'package' } },
          ],
          status: { code: SpanStatusCode.OK },
        }] }],
      }],
    };
    const res = await fetch(`${v.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.equal(res.status, 200, 'accepted');
    const r2 = await waitRun(v.api, 'sk-2', () => true, 'seen');
    t.equal(r2.phases[0].duration_ms, 0, 'an end before the start counts as no time');
    t.equal(rejected.clock_skew, 1, 'and is counted');
  });

  t.test('the collector kept working', async (t) => {
    const ok = tracer.startSpan('run', { attributes: { 'cicd.pipeline.name': 'after', 'cicd.pipeline.run.id': 'after-1', 'cicd.pipeline.result': 'success' } });
    ok.end();
    await provider.forceFlush();
    const r = await waitRun(v.api, 'after-1', (x) => x.status === 'succeeded', 'a normal run after the bad input');
    t.equal(r.pipeline, 'after');
  });
});
