/**
 * One Vigil forwarding to a second, real Vigil: data posted to the first one's OTLP receiver leaves
 * through the otlphttp (protobuf, and JSON with gzip) or otlp (gRPC) exporter, reaches the second
 * one's OTLP receiver, and must arrive there unchanged, field by field.
 */
import t, { Test } from 'tap';
import { request } from 'node:http';
import { dropInvalidItems } from '../receivers/otlp/validate';
import { Double } from '../src/model/common';
import { Signal, SignalData, cloneData } from '../src/model';
import type { Metrics, Traces, Logs } from '../src/model';
import { HTTP_PATHS, encode } from '../src/otlp';
import { captureExporter, otlpConfig, startTest } from './helpers/collector';
import { SPAN_ID, T0, TRACE_ID, canon, fullLogs, fullMetrics, fullTraces } from './otlp-codec-fixtures';

const fixtures: { [S in Signal]: () => SignalData[S] } = { traces: fullTraces, metrics: fullMetrics, logs: fullLogs };

function post(hostPort: string, path: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${hostPort}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the second collector should hold: the fixture less the items any OTLP receiver drops. */
function expected<S extends Signal>(signal: S): SignalData[S] {
  const data = cloneData(signal, fixtures[signal]());
  dropInvalidItems(signal, data);
  return data;
}

async function forward(t: Test, exporterYaml: (downstream: { http: string; grpc: string }) => string): Promise<void> {
  const { factory, capture } = captureExporter();
  const second = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n' }), [factory]);
  t.teardown(() => second.shutdown());
  const yaml = exporterYaml({ http: second.http, grpc: second.grpc });
  const exporterId = /^ {2}([\w/]+):/m.exec(yaml)![1];
  const first = await startTest(otlpConfig([exporterId], { extra: `exporters:\n${yaml}` }));
  t.teardown(() => first.shutdown());

  for (const signal of ['traces', 'metrics', 'logs'] as Signal[]) {
    t.equal(await post(first.http, HTTP_PATHS[signal], encode(signal, fixtures[signal]() as never)), 200, `${signal} accepted by the first collector`);
  }
  await capture.waitFor(() => capture.traces.length > 0 && capture.metrics.length > 0 && capture.logs.length > 0, 5000);
  t.equal(capture.traces.length + capture.metrics.length + capture.logs.length, 3, 'each request arrives once');

  const traces = capture.traces[0] as Traces;
  const span = traces.resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(span.traceId, TRACE_ID, 'trace id');
  t.equal(span.spanId, SPAN_ID, 'span id');
  t.equal(span.parentSpanId, '0102030405060708', 'parent span id');
  t.equal(span.startTimeUnixNano, T0, 'start time to the nanosecond');
  t.equal(span.endTimeUnixNano, T0 + 15_000_001n, 'end time to the nanosecond');
  t.equal(span.attributes.bigPos, 9_007_199_254_740_993n, 'int64 beyond 2^53');
  t.ok(span.attributes.intDbl instanceof Double && (span.attributes.intDbl as Double).value === 2, 'integral double stays a double');
  t.equal(span.attributes.str, 'héllo wörld ✓', 'non-ASCII string');
  t.equal(traces.resourceSpans[0].resource.attributes['service.name'], 'checkout', 'resource attribute');
  const edge = traces.resourceSpans[0].scopeSpans[0].spans.find((s) => s.name === 'edge');
  t.equal(edge, undefined, 'a time of 2^64-1 ns is refused by the first receiver (partial success), not forwarded');
  t.strictSame(canon(traces), canon(expected('traces')), 'traces identical field by field');

  const metrics = capture.metrics[0] as Metrics;
  const sum = metrics.resourceMetrics[0].scopeMetrics[0].metrics.find((m) => m.name === 'requests');
  t.equal(sum?.data.type === 'sum' ? sum.data.dataPoints[1].value : undefined, -(2n ** 63n), 'int64 minimum sum value');
  t.strictSame(canon(metrics), canon(expected('metrics')), 'metrics identical field by field');

  const logs = capture.logs[0] as Logs;
  const rec = logs.resourceLogs[0].scopeLogs[0].logRecords[0];
  t.equal(rec.body, 'plain text body', 'log body');
  t.equal(rec.timeUnixNano, T0, 'log time to the nanosecond');
  t.equal(rec.traceId, TRACE_ID, 'log trace id');
  t.strictSame(canon(logs), canon(expected('logs')), 'logs identical field by field');
}

t.test('otlphttp, protobuf, no compression', (t) => forward(t, (d) => `  otlphttp:\n    endpoint: http://${d.http}\n    encoding: proto\n    compression: none\n`));

t.test('otlphttp, JSON with gzip, per-signal endpoints', (t) => forward(t, (d) => [
  '  otlphttp/json:',
  `    traces_endpoint: http://${d.http}/v1/traces`,
  `    metrics_endpoint: http://${d.http}/v1/metrics`,
  `    logs_endpoint: http://${d.http}/v1/logs`,
  '    encoding: json',
  '    compression: gzip',
  '',
].join('\n')));

t.test('otlp over gRPC with gzip', (t) => forward(t, (d) => `  otlp:\n    endpoint: ${d.grpc}\n    tls:\n      insecure: true\n`));
