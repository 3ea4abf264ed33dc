#!/usr/bin/env node
'use strict';
/**
 * A simulated multi-phase model-building run, instrumented with the OpenTelemetry JS SDK as Vigil's
 * `pipeline_runs` connector reads it:
 *
 * - a root span for the run (cicd.pipeline.name, cicd.pipeline.run.id, and at the end
 *   cicd.pipeline.result and error.type);
 * - a "run started" log record (event name cicd.pipeline.run.start) sent as the run begins, so the
 *   run shows up before any span has ended;
 * - one child span per phase (cicd.pipeline.task.name, cicd.pipeline.task.run.id,
 *   cicd.pipeline.task.type), each also carrying the run id;
 * - gauges recorded with the run id and the phase: pipeline.progress (0..1 over the whole run),
 *   pipeline.step, and training.loss while training.
 *
 * Usage: node examples/pipeline-run/pipeline-run.js [--endpoint http://127.0.0.1:4318]
 *          [--pipeline model-build] [--run-id ID] [--scale 1] [--fail-at PHASE] [--stall-at PHASE]
 * Also a module: require('./pipeline-run.js').runPipeline(options) (see pipeline-run.d.ts).
 */
const { context, trace, SpanStatusCode } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');
const { randomUUID } = require('node:crypto');

const DEFAULT_PHASES = [
  { name: 'prepare-data', ms: 600, type: 'build' },
  { name: 'merge', ms: 300, type: 'build' },
  { name: 'train', ms: 1500, type: 'build', steps: 10 },
  { name: 'compress', ms: 300, type: 'build' },
  { name: 'evaluate', ms: 500, type: 'test' },
];

const DEFAULT_ATTRIBUTES = {
  pipelineName: 'cicd.pipeline.name',
  runId: 'cicd.pipeline.run.id',
  result: 'cicd.pipeline.result',
  phaseName: 'cicd.pipeline.task.name',
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runPipeline(options = {}) {
  const endpoint = (options.endpoint || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://127.0.0.1:4318').replace(/\/$/, '');
  const pipeline = options.pipeline || 'model-build';
  const runId = options.runId || randomUUID();
  const phases = options.phases || DEFAULT_PHASES;
  const scale = options.scale ?? 1;
  const a = { ...DEFAULT_ATTRIBUTES, ...(options.attributes || {}) };
  const resource = resourceFromAttributes({ 'service.name': options.serviceName || 'model-builder' });

  // Simple (not batching) processors: each phase is sent as soon as it ends, which is what makes
  // the run visible live. A real job would use the Batch processors with a short delay.
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))] });
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics`, temporalityPreference: AggregationTemporality.CUMULATIVE }),
    exportIntervalMillis: options.metricIntervalMs || 1000,
  });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const loggerProvider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs` }) })] });
  const tracer = tracerProvider.getTracer('pipeline-run-example');
  const meter = meterProvider.getMeter('pipeline-run-example');
  const logger = loggerProvider.getLogger('pipeline-run-example');
  const progress = meter.createGauge('pipeline.progress', { description: 'Progress of the run, 0..1' });
  const step = meter.createGauge('pipeline.step', { description: 'Step within the current phase' });
  const loss = meter.createGauge('training.loss', { description: 'Training loss' });
  const flush = async () => {
    await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush(), loggerProvider.forceFlush()]);
  };

  const runAttrs = { [a.pipelineName]: pipeline, [a.runId]: runId };
  const root = tracer.startSpan(`run ${pipeline}`, { attributes: runAttrs });
  const ctx = trace.setSpan(context.active(), root);
  const traceId = root.spanContext().traceId;
  logger.emit({ eventName: 'cicd.pipeline.run.start', body: `${pipeline} run ${runId} started`, attributes: { ...runAttrs, 'event.name': 'cicd.pipeline.run.start' }, context: ctx });
  await flush();

  const totalSteps = phases.reduce((n, p) => n + (p.steps || 1), 0);
  let done = 0;
  let outcome = 'success';
  let errorType;
  for (let i = 0; i < phases.length; i++) {
    const p = phases[i];
    if (options.beforePhase) await options.beforePhase(p.name, i);
    const phaseAttrs = { ...runAttrs, [a.phaseName]: p.name, 'cicd.pipeline.task.run.id': `${runId}/${p.name}`, 'cicd.pipeline.task.type': p.type || 'build' };
    const span = tracer.startSpan(p.name, { attributes: phaseAttrs }, ctx);
    const steps = p.steps || 1;
    const pointAttrs = { ...runAttrs, [a.phaseName]: p.name };
    for (let s = 0; s < steps; s++) {
      await sleep((p.ms * scale) / steps);
      done++;
      progress.record(done / totalSteps, pointAttrs);
      step.record(s + 1, pointAttrs);
      if (p.name === 'train') loss.record(2 * Math.exp(-s / 3) + 0.05, pointAttrs);
      await meterProvider.forceFlush();
    }
    if (options.stallAt === p.name) {
      // The job hangs here: nothing more is sent and no span ends.
      await flush();
      await shutdown();
      return { runId, traceId, pipeline, result: 'stalled' };
    }
    if (options.failAt === p.name) {
      errorType = options.errorType || 'TrainingDiverged';
      span.setAttribute('error.type', errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${p.name} failed` });
      span.end();
      outcome = 'failure';
      break;
    }
    span.end();
    await tracerProvider.forceFlush();
  }
  root.setAttribute(a.result, outcome);
  if (errorType) {
    root.setAttribute('error.type', errorType);
    root.setStatus({ code: SpanStatusCode.ERROR });
  }
  root.end();
  await flush();
  await shutdown();
  return { runId, traceId, pipeline, result: outcome, errorType };

  async function shutdown() {
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
  }
}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--endpoint') o.endpoint = v;
    else if (k === '--pipeline') o.pipeline = v;
    else if (k === '--run-id') o.runId = v;
    else if (k === '--scale') o.scale = Number(v);
    else if (k === '--fail-at') o.failAt = v;
    else if (k === '--stall-at') o.stallAt = v;
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

module.exports = { runPipeline, DEFAULT_PHASES };

if (require.main === module) {
  runPipeline(parseArgs(process.argv.slice(2))).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => { console.error(e.message); process.exitCode = 1; },
  );
}
