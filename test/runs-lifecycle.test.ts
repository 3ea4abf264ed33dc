/**
 * pipeline_runs end to end with the OpenTelemetry JS SDK (examples/pipeline-run): a run seen while in
 * progress, success, failure with error.type (and the alert it raises), a stall, and the run events
 * and metrics that come out. Then bad input, sent with the SDK (and raw OTLP/JSON where the SDK would
 * correct the data itself): run spans without ids, phase spans before their run or without any run,
 * and clocks that disagree; each has a defined outcome and nothing else is affected.
 */
import t from 'tap';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { runPipeline } from '../examples/pipeline-run/pipeline-run.js';
import { EXPECTED_PHASES_YAML, FAST_PHASES, RunJson, eventsOf, getJson, getRun, startRunsVigil, tempDir, waitRun } from './helpers/runs';

t.test('a run in progress, then its success', async (t) => {
  const tmp = tempDir('vigil-runs-');
  t.teardown(tmp.cleanup);
  const v = await startRunsVigil(tmp.dir, EXPECTED_PHASES_YAML);
  t.teardown(() => v.shutdown());

  let inProgress: RunJson | undefined;
  const outcome = await runPipeline({
    endpoint: v.otlp, pipeline: 'model-build', runId: 'run-1', phases: FAST_PHASES,
    beforePhase: async (name) => {
      if (name !== 'compress') return;
      // prepare-data, merge and train have ended; the root span has not.
      inProgress = await waitRun(v.api, 'run-1', (r) => r.phases.filter((p) => p.status === 'succeeded').length === 3 && r.progress !== undefined && r.progress > 0.7, 'three phases done');
    },
  });
  t.equal(outcome.result, 'success');
  const r = inProgress!;
  t.equal(r.status, 'running', 'running before the root span ends');
  t.equal(r.pipeline, 'model-build');
  t.equal(r.current_phase, 'compress', 'the next phase is where the run is');
  t.equal(r.phase_index, 4);
  t.equal(r.phase_count, 5, 'phase 4 of 5');
  t.ok(Math.abs(r.progress! - 7 / 9) < 1e-9, `progress from pipeline.progress (${r.progress})`);
  t.same(r.phases.map((p) => p.status), ['succeeded', 'succeeded', 'succeeded', 'running', 'pending']);
  t.equal(r.trace_id, outcome.traceId, 'the run links to its trace');
  t.ok(r.phases[2].duration_ms! >= 100, 'train took its time');

  const done = await waitRun(v.api, 'run-1', (x) => x.status !== 'running', 'run ended');
  t.equal(done.status, 'succeeded');
  t.equal(done.result, 'success');
  t.equal(done.progress, 1);
  t.ok(done.ended_at! >= done.started_at);
  t.same(done.phases.map((p) => p.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
  t.equal(done.metrics['training.loss'].length, 5, 'loss curve: one point per training step');
  t.ok(done.metrics['training.loss'][0][1] > done.metrics['training.loss'][4][1], 'loss went down');
  t.same(done.previous, [], 'first run of the pipeline');

  await v.capture.waitFor(() => eventsOf(v.capture, 'pipeline.run.succeeded').length === 1);
  const started = eventsOf(v.capture, 'pipeline.run.started');
  t.equal(started.length, 1, 'one started event');
  t.equal(started[0].attributes['cicd.pipeline.run.id'], 'run-1');
  const ok = eventsOf(v.capture, 'pipeline.run.succeeded')[0];
  t.equal(ok.attributes['cicd.pipeline.result'], 'success');
  t.equal(ok.traceId, outcome.traceId);

  await v.capture.waitFor(() => v.capture.metrics.some((m) => m.resourceMetrics.some((rm) => rm.scopeMetrics.some((sm) => sm.metrics.some((x) => x.name === 'pipeline.runs')))));
  const last = v.capture.metrics[v.capture.metrics.length - 1].resourceMetrics[0].scopeMetrics[0].metrics;
  const runs = last.find((m) => m.name === 'pipeline.runs')!;
  t.same(runs.data.dataPoints.map((p) => [p.attributes['cicd.pipeline.result'], (p as { value: number }).value]), [['success', 1]]);
  const hist = last.find((m) => m.name === 'pipeline.phase.duration')!;
  t.equal(hist.data.dataPoints.length, 5, 'a duration histogram per phase');
  const active = last.find((m) => m.name === 'pipeline.runs.active')!;
  t.ok(active.data.dataPoints.every((p) => (p as { value: number }).value === 0), 'no run in progress any more');

  const list = await getJson<{ runs: RunJson[] }>(`${v.api}/api/runs?pipeline=model-build&status=succeeded&limit=10`);
  t.same(list.body.runs.map((x) => x.id), ['run-1']);
  t.same((await getJson<{ runs: RunJson[] }>(`${v.api}/api/runs?status=failed`)).body.runs, []);
  t.equal((await getJson(`${v.api}/api/runs?status=bogus`)).status, 400, 'unknown status: 400');
  t.equal((await getJson(`${v.api}/api/runs?limit=-1`)).status, 400, 'bad limit: 400');
  t.equal((await getJson(`${v.api}/api/runs/nope`)).status, 404);
});

t.test('a failure with error.type, and a stall', async (t) => {
  const tmp = tempDir('vigil-runs-');
  t.teardown(tmp.cleanup);
  const alerts = `    evaluation_interval: 100ms
    groups:
      - name: runs
        rules:
          - alert: PipelineRunFailed
            kind: event
            event_name: pipeline.run.failed
            by: [cicd.pipeline.name, cicd.pipeline.run.id, error.type]
            severity: critical
`;
  const v = await startRunsVigil(tmp.dir, `${EXPECTED_PHASES_YAML}    stall_timeout: 600ms\n`, '127.0.0.1:0', alerts);
  t.teardown(() => v.shutdown());

  const failed = await runPipeline({ endpoint: v.otlp, pipeline: 'model-build', runId: 'run-fail', phases: FAST_PHASES, failAt: 'train', errorType: 'TrainingDiverged' });
  t.equal(failed.result, 'failure');
  const f = await waitRun(v.api, 'run-fail', (r) => r.status !== 'running', 'failed');
  t.equal(f.status, 'failed');
  t.equal(f.result, 'failure');
  t.equal(f.error_type, 'TrainingDiverged');
  t.same(f.phases.map((p) => p.status), ['succeeded', 'succeeded', 'failed', 'pending', 'pending'], 'the failing phase, and the ones never reached');
  await v.capture.waitFor(() => eventsOf(v.capture, 'pipeline.run.failed').length === 1);
  const ev = eventsOf(v.capture, 'pipeline.run.failed')[0];
  t.equal(ev.attributes['error.type'], 'TrainingDiverged');
  t.match(String(ev.body), /model-build run run-fail failed \(TrainingDiverged\)/);
  // The alerts connector turns the event into an alert.
  let firing: Array<{ alertname: string; labels: Record<string, string> }> = [];
  const until = Date.now() + 20_000;
  while (!firing.length && Date.now() < until) {
    firing = (await getJson<typeof firing>(`${v.api}/api/alerts?state=firing`)).body;
    if (!firing.length) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(firing.length, 1, 'one alert for the failed run');
  t.equal(firing[0].alertname, 'PipelineRunFailed');
  t.equal(firing[0].labels['cicd.pipeline.run.id'], 'run-fail');
  t.equal(firing[0].labels['error.type'], 'TrainingDiverged');

  await runPipeline({ endpoint: v.otlp, pipeline: 'model-build', runId: 'run-hang', phases: FAST_PHASES, stallAt: 'merge' });
  const s = await waitRun(v.api, 'run-hang', (r) => r.status === 'stalled', 'stalled');
  t.equal(s.current_phase, 'merge', 'stalled in the phase that reported progress last');
  await v.capture.waitFor(() => eventsOf(v.capture, 'pipeline.run.stalled').length === 1);
  t.equal(eventsOf(v.capture, 'pipeline.run.stalled')[0].attributes['cicd.pipeline.run.id'], 'run-hang');
  const stalled = await getJson<{ runs: RunJson[] }>(`${v.api}/api/runs?status=stalled`);
  t.same(stalled.body.runs.map((r) => r.id), ['run-hang']);
});

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
