import t from 'tap';
import type { CreateSettings } from '../src/component';
import { silentLogger } from '../src/logger';
import type { Logs, Metrics, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { DebugConfig, createDebugExporter, debugExporterFactory } from '../exporters/debug';

const res = { attributes: { 'service.name': 'cart' }, droppedAttributesCount: 0 };
const scope = { name: 'lib', version: '0.1', attributes: {}, droppedAttributesCount: 0 };
const T = 1_700_000_000_123_456_789n;
const traces: Traces = { resourceSpans: [{ resource: res, schemaUrl: '', scopeSpans: [{ scope, schemaUrl: '', spans: [0, 1].map((i) => ({
  traceId: '5b8efff798038103d269b633813fc60c', spanId: `eee19b7ec3c1b17${i}`, traceState: '', parentSpanId: '', flags: 0, name: `op${i}`, kind: 2,
  startTimeUnixNano: T, endTimeUnixNano: T + 2_500_000n, attributes: { 'http.route': '/cart' }, droppedAttributesCount: 0,
  events: [{ timeUnixNano: T, name: 'ev', attributes: {}, droppedAttributesCount: 0 }], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 2, message: 'bad' },
})) }] }] };
const metrics: Metrics = { resourceMetrics: [{ resource: res, schemaUrl: '', scopeMetrics: [{ scope, schemaUrl: '', metrics: [
  { name: 'reqs', description: 'd', unit: '1', metadata: {}, data: { type: 'sum', aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: { a: 'b' }, startTimeUnixNano: 0n, timeUnixNano: T, value: 42, isInt: true, flags: 0, exemplars: [] }] } },
  { name: 'lat', description: '', unit: 'ms', metadata: {}, data: { type: 'histogram', aggregationTemporality: 1, dataPoints: [{ attributes: {}, startTimeUnixNano: 0n, timeUnixNano: T, count: 3, sum: 7.5, bucketCounts: [1, 2], explicitBounds: [5], flags: 0, exemplars: [] }] } },
] }] }] };
const logs: Logs = { resourceLogs: [{ resource: res, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords: [
  { timeUnixNano: T, observedTimeUnixNano: T, severityNumber: 17, severityText: 'ERROR', body: 'disk full', attributes: { disk: '/dev/sda' }, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' },
] }] }] };

function make(verbosity: DebugConfig['verbosity']) {
  let out = '';
  const settings: CreateSettings<DebugConfig> = { id: 'debug', config: { verbosity }, logger: silentLogger(), telemetry: new Telemetry(), dataDir: '.' };
  const ex = createDebugExporter(settings, ['traces', 'metrics', 'logs'], (s) => { out += s; });
  return { ex, text: () => out };
}

t.test('basic: one summary line per batch with counts', async (t) => {
  const { ex, text } = make('basic');
  await ex.traces!.consume(traces);
  await ex.metrics!.consume(metrics);
  await ex.logs!.consume(logs);
  t.same(text().trimEnd().split('\n'), [
    'debug Traces: resource spans: 1, spans: 2',
    'debug Metrics: resource metrics: 1, metrics: 2, data points: 2',
    'debug Logs: resource logs: 1, log records: 1',
  ]);
});

t.test('normal: one line per item', async (t) => {
  const { ex, text } = make('normal');
  await ex.traces!.consume(traces);
  await ex.logs!.consume(logs);
  const lines = text().trimEnd().split('\n');
  t.equal(lines.length, 5);
  t.equal(lines[1], 'op0 5b8efff798038103d269b633813fc60c eee19b7ec3c1b170 Server Error 2.5ms');
  t.equal(lines[4], '2023-11-14T22:13:20.123456789Z ERROR disk full');
});

t.test('detailed: every field, readably', async (t) => {
  const { ex, text } = make('detailed');
  await ex.traces!.consume(traces);
  await ex.metrics!.consume(metrics);
  await ex.logs!.consume(logs);
  const out = text();
  for (const want of [
    '-> service.name: "cart"', 'Span #1', 'Trace ID       : 5b8efff798038103d269b633813fc60c', 'Start time     : 2023-11-14T22:13:20.123456789Z',
    'End time       : 2023-11-14T22:13:20.125956789Z', 'Status message : bad', '-> http.route: "/cart"', 'SpanEvent #0',
    '-> Name: reqs', '-> IsMonotonic: true', '-> AggregationTemporality: Cumulative', 'Value: 42', 'ExplicitBounds #0: 5', 'Buckets #1, Count: 2', 'Sum: 7.5',
    'SeverityText: ERROR', 'Body: "disk full"', '-> disk: "/dev/sda"',
  ]) t.ok(out.includes(want), want);
});

t.test('factory: schema default and signals', async (t) => {
  t.equal(debugExporterFactory.type, 'debug');
  t.same(debugExporterFactory.signals, ['traces', 'metrics', 'logs']);
  t.equal((debugExporterFactory.configSchema as any).properties.verbosity.default, 'basic');
});
