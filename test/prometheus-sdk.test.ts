/**
 * End to end: the OpenTelemetry JS SDK sends OTLP to a collector started from YAML; its prometheus
 * exporter serves what arrived (and what the spanmetrics connector derived from spans).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { PrometheusExporter } from '../exporters/prometheus';
import type { OtlpReceiver } from '../receivers/otlp';
import { silentLogger } from '../src/logger';
import { findSample, parseExposition, ParsedExposition } from '../src/prometheus/textparse';
import { startCollector } from '../src/service';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

const YAML = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  prometheus:
    endpoint: 127.0.0.1:0
    promote_resource_attributes: [deployment.environment]
connectors:
  spanmetrics:
    metrics_flush_interval: 100ms
    histogram:
      explicit:
        buckets: [10ms, 100ms, 1s]
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheus]
    traces:
      receivers: [otlp]
      exporters: [spanmetrics]
    metrics/spans:
      receivers: [spanmetrics]
      exporters: [prometheus]
`;

t.test('SDK metrics and span metrics appear on /metrics with the right names, labels and values', async (t) => {
  const running = await startCollector({ yaml: [YAML], logger: silentLogger() });
  t.teardown(() => running.shutdown());
  const otlp = running.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints.http!;
  const prom = running.collector.component<PrometheusExporter>('exporter', 'prometheus')!.address!;
  const scrapeUrl = `http://127.0.0.1:${prom.port}/metrics`;

  const resource = resourceFromAttributes({ 'service.name': 'checkout', 'service.instance.id': 'pod-3', 'deployment.environment': 'test', 'host.name': 'web-1' });
  // Delta temporality on purpose: the exporter must turn it into the cumulative series Prometheus expects.
  const exporter = new OTLPMetricExporter({ url: `http://${otlp}/v1/metrics`, temporalityPreference: AggregationTemporality.DELTA });
  const provider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    views: [{ instrumentName: 'rpc.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } }],
  });
  const meter = provider.getMeter('shop', '2.0.0');
  const requests = meter.createCounter('http.server.requests', { unit: '{request}', description: 'Requests served' });
  const inflight = meter.createUpDownCounter('http.server.active_requests', { unit: '{request}' });
  const temp = meter.createGauge('cpu.temperature', { unit: 'Cel', description: 'CPU temperature' });
  const dur = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
  const rpc = meter.createHistogram('rpc.latency', { unit: 's' });

  requests.add(5, { route: '/a' });
  inflight.add(3);
  temp.record(71.5, { core: '0' });
  for (const v of [0.05, 0.2, 0.7, 3]) dur.record(v, { route: '/a' });
  for (const v of [0.25, 0.5, 1, 2, 4]) rpc.record(v);
  await provider.forceFlush();
  requests.add(2, { route: '/a' });
  inflight.add(-1);
  dur.record(0.3, { route: '/a' });
  await provider.forceFlush();
  await provider.shutdown();

  const tracer = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://${otlp}/v1/traces` }))] });
  const tr = tracer.getTracer('shop');
  const start = Date.now();
  for (const [ms, err] of [[5, false], [50, false], [500, true]] as const) {
    const s = tr.startSpan('GET /pay', { kind: SpanKind.SERVER, startTime: start });
    if (err) s.setStatus({ code: SpanStatusCode.ERROR });
    s.end(start + ms);
  }
  await tracer.forceFlush();
  await tracer.shutdown();

  let p: ParsedExposition | undefined;
  let body = '';
  // Span metrics come with the connector's next flush: wait until all three spans are counted.
  const spanCalls = (x: ParsedExposition) => x.samples.filter((s) => s.name === 'traces_span_metrics_calls_total').reduce((n, s) => n + s.value, 0);
  for (let i = 0; i < 100; i++) {
    body = await (await fetch(scrapeUrl)).text();
    p = parseExposition(body);
    if (spanCalls(p) >= 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  p = p!;
  const id = { job: 'checkout', instance: 'pod-3', deployment_environment: 'test' };

  const req = findSample(p, 'http_server_requests_total', { ...id, route: '/a', otel_scope_name: 'shop', otel_scope_version: '2.0.0' });
  t.equal(req?.value, 7, 'counter: two deltas (5, 2) accumulated');
  t.equal(p.families.get('http_server_requests_total')?.help, 'Requests served');
  t.equal(p.families.get('http_server_active_requests')?.type, 'gauge', 'up-down counter → gauge');
  t.equal(findSample(p, 'http_server_active_requests', id)?.value, 2, 'up-down deltas (3, -1) accumulated');
  t.equal(findSample(p, 'cpu_temperature_celsius', { core: '0' })?.value, 71.5, 'gauge with its unit suffix');
  const b = (le: string) => findSample(p!, 'http_server_request_duration_seconds_bucket', { route: '/a', le })?.value;
  t.same(['0.1', '0.5', '1', '+Inf'].map(b), [1, 3, 4, 5], 'histogram buckets accumulated and cumulative');
  t.equal(findSample(p, 'http_server_request_duration_seconds_count', { route: '/a' })?.value, 5);
  t.ok(Math.abs(findSample(p, 'http_server_request_duration_seconds_sum', { route: '/a' })!.value - 4.25) < 1e-9);

  t.equal(p.families.get('rpc_latency_seconds')?.type, 'histogram', 'exponential histogram → classic buckets');
  t.equal(findSample(p, 'rpc_latency_seconds_count')?.value, 5);
  const rpcBuckets = p.samples.filter((s) => s.name === 'rpc_latency_seconds_bucket');
  const atOrBelow = (x: number) => rpcBuckets.filter((s) => Number(s.labels.le) >= x).sort((a, c) => Number(a.labels.le) - Number(c.labels.le))[0]?.value;
  t.equal(atOrBelow(0.5 + 1e-9), 2, 'two observations ≤ 0.5 (exact powers of two sit on bucket bounds)');
  t.equal(atOrBelow(4), 5);

  t.same(findSample(p, 'target_info')?.labels, { job: 'checkout', instance: 'pod-3', deployment_environment: 'test', host_name: 'web-1' });

  const calls = (code: string) => findSample(p!, 'traces_span_metrics_calls_total', { service_name: 'checkout', span_name: 'GET /pay', span_kind: 'SPAN_KIND_SERVER', status_code: code })?.value;
  t.equal(calls('STATUS_CODE_UNSET'), 2);
  t.equal(calls('STATUS_CODE_ERROR'), 1);
  t.equal(findSample(p, 'traces_span_metrics_duration_milliseconds_bucket', { status_code: 'STATUS_CODE_UNSET', le: '10' })?.value, 1);
  t.equal(findSample(p, 'traces_span_metrics_duration_milliseconds_bucket', { status_code: 'STATUS_CODE_UNSET', le: '100' })?.value, 2);

  if (hasPromtool) {
    // The span duration histogram is in ms (the Collector's default), which promtool's linter flags as
    // a non-base unit; everything else must pass as is.
    const lines = body.split('\n').filter((l) => !/traces_span_metrics_duration_milliseconds/.test(l)).join('\n');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: lines });
    t.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
  }
});
