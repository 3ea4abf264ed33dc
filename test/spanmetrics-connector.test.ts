import t from 'tap';
import { spanMetricsConnectorFactory, SpanMetricsConfig, SpanMetricsConnector } from '../connectors/spanmetrics';
import type { Consumer } from '../src/component';
import { HistogramDataPoint, Metrics, NumberDataPoint, Span, SpanKind, StatusCode, Temporality, Traces } from '../src/model';
import { settings } from './prometheus-fixtures';

const T = 1_700_000_000_000_000_000n;

function span(name: string, durMs: number, o: Partial<Span> = {}): Span {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceState: '', parentSpanId: '', flags: 0, name,
    kind: SpanKind.SERVER, startTimeUnixNano: T, endTimeUnixNano: T + BigInt(Math.round(durMs * 1e6)), attributes: {},
    droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: StatusCode.UNSET, message: '' }, ...o,
  };
}

function traces(service: string, spans: Span[], extra: Record<string, string> = {}): Traces {
  return { resourceSpans: [{ resource: { attributes: { 'service.name': service, ...extra }, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans }] }] };
}

function connector(config: Partial<SpanMetricsConfig>, clock = { now: 1_000_000 }): { c: SpanMetricsConnector; out: Metrics[] } {
  const out: Metrics[] = [];
  const next: Consumer<'metrics'> = { consume: async (md) => { out.push(md); } };
  const s = settings<SpanMetricsConfig>(spanMetricsConnectorFactory.configSchema, config);
  return { c: new SpanMetricsConnector(s, next, () => clock.now), out };
}

function points(md: Metrics, name: string): (NumberDataPoint | HistogramDataPoint)[] {
  return md.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.filter((m) => m.name === name).flatMap((m) => m.data.dataPoints as (NumberDataPoint | HistogramDataPoint)[])));
}

const find = <P extends { attributes: Record<string, unknown> }>(ps: P[], match: Record<string, unknown>) => ps.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));

t.test('calls and duration per service, span name, kind and status, with the Collector\'s names', async (t) => {
  const { c, out } = connector({ histogram: { disable: false, unit: 'ms', explicit: { buckets: ['10ms', '100ms', '1s'] } } });
  c.consumeTraces(traces('checkout', [
    span('GET /pay', 5), span('GET /pay', 50), span('GET /pay', 500, { status: { code: StatusCode.ERROR, message: 'x' } }),
    span('db.query', 2, { kind: SpanKind.CLIENT }),
  ]));
  c.consumeTraces(traces('cart', [span('GET /pay', 20)]));
  await c.flush();
  t.equal(out.length, 1);
  const md = out[0];
  t.equal(md.resourceMetrics.length, 2, 'one resource per service');
  const calls = points(md, 'traces.span.metrics.calls') as NumberDataPoint[];
  const ok = find(calls, { 'service.name': 'checkout', 'span.name': 'GET /pay', 'span.kind': 'SPAN_KIND_SERVER', 'status.code': 'STATUS_CODE_UNSET' });
  t.equal(ok?.value, 2);
  t.equal(find(calls, { 'service.name': 'checkout', 'status.code': 'STATUS_CODE_ERROR' })?.value, 1);
  t.equal(find(calls, { 'span.name': 'db.query' })?.attributes['span.kind'], 'SPAN_KIND_CLIENT');
  t.equal(find(calls, { 'service.name': 'cart' })?.value, 1);
  const m = md.resourceMetrics[0].scopeMetrics[0].metrics;
  t.match(m[0].data, { type: 'sum', isMonotonic: true, aggregationTemporality: Temporality.CUMULATIVE });
  t.equal(m[1].unit, 'ms');

  const durs = points(md, 'traces.span.metrics.duration') as HistogramDataPoint[];
  const d = find(durs, { 'service.name': 'checkout', 'span.name': 'GET /pay', 'status.code': 'STATUS_CODE_UNSET' })!;
  t.same(d.explicitBounds, [10, 100, 1000]);
  t.same(d.bucketCounts, [1, 1, 0, 0], '5ms ≤ 10ms, 50ms ≤ 100ms');
  t.equal(d.count, 2);
  t.equal(d.sum, 55);
  t.equal(d.min, 5);
  t.equal(d.max, 50);
});

t.test('cumulative keeps counting across flushes; delta starts over', async (t) => {
  const cum = connector({});
  cum.c.consumeTraces(traces('a', [span('x', 1)]));
  await cum.c.flush();
  cum.c.consumeTraces(traces('a', [span('x', 1), span('x', 1)]));
  await cum.c.flush();
  t.same(cum.out.map((md) => (points(md, 'traces.span.metrics.calls')[0] as NumberDataPoint).value), [1, 3]);
  const p0 = points(cum.out[0], 'traces.span.metrics.calls')[0];
  const p1 = points(cum.out[1], 'traces.span.metrics.calls')[0];
  t.equal(p0.startTimeUnixNano, p1.startTimeUnixNano, 'cumulative points keep their start time');

  const clock = { now: 1_000_000 };
  const del = connector({ aggregation_temporality: 'AGGREGATION_TEMPORALITY_DELTA' }, clock);
  del.c.consumeTraces(traces('a', [span('x', 1)]));
  clock.now += 1000;
  await del.c.flush();
  del.c.consumeTraces(traces('a', [span('x', 1), span('x', 1)]));
  clock.now += 1000;
  await del.c.flush();
  await del.c.flush();
  t.equal(del.out.length, 2, 'nothing is emitted for an interval without spans');
  const d0 = points(del.out[0], 'traces.span.metrics.calls')[0] as NumberDataPoint;
  const d1 = points(del.out[1], 'traces.span.metrics.calls')[0] as NumberDataPoint;
  t.same([d0.value, d1.value], [1, 2]);
  t.equal(d1.startTimeUnixNano, d0.timeUnixNano, 'each delta starts where the previous ended');
  t.equal(del.out[0].resourceMetrics[0].scopeMetrics[0].metrics[0].data.type === 'sum' && (del.out[0].resourceMetrics[0].scopeMetrics[0].metrics[0].data as { aggregationTemporality: number }).aggregationTemporality, Temporality.DELTA);
});

t.test('extra dimensions from span then resource attributes, defaults, exclusions, seconds', async (t) => {
  const { c, out } = connector({
    dimensions: [{ name: 'http.route' }, { name: 'deployment.environment' }, { name: 'tenant', default: 'none' }],
    exclude_dimensions: ['span.kind'],
    histogram: { disable: false, unit: 's', explicit: { buckets: ['100ms', '1s'] } },
  });
  c.consumeTraces(traces('api', [span('GET', 250, { attributes: { 'http.route': '/users/:id' } }), span('GET', 50)], { 'deployment.environment': 'prod' }));
  await c.flush();
  const calls = points(out[0], 'traces.span.metrics.calls') as NumberDataPoint[];
  const routed = find(calls, { 'http.route': '/users/:id' })!;
  t.equal(routed.attributes['deployment.environment'], 'prod', 'taken from the resource when the span lacks it');
  t.equal(routed.attributes.tenant, 'none', 'default when absent everywhere');
  t.notOk('span.kind' in routed.attributes, 'excluded dimension');
  t.notOk('http.route' in find(calls, { 'http.route': undefined })!.attributes, 'absent without default: left out');
  const dur = find(points(out[0], 'traces.span.metrics.duration') as HistogramDataPoint[], { 'http.route': '/users/:id' })!;
  t.same(dur.explicitBounds, [0.1, 1]);
  t.same(dur.bucketCounts, [0, 1, 0]);
  t.equal(dur.sum, 0.25);
});

t.test('cardinality limit folds new combinations into an overflow series; exemplars carry trace ids', async (t) => {
  const { c, out } = connector({ aggregation_cardinality_limit: 2, exemplars: { enabled: true, max_per_data_point: 2 } });
  c.consumeTraces(traces('a', ['a', 'b', 'c', 'd', 'e'].map((n) => span(n, 1))));
  await c.flush();
  const calls = points(out[0], 'traces.span.metrics.calls') as NumberDataPoint[];
  t.equal(calls.length, 3);
  t.equal(find(calls, { 'otel.metric.overflow': true })?.value, 3);
  t.equal(calls.reduce((n, p) => n + Number(p.value), 0), 5, 'no span is lost');
  t.equal(calls[0].exemplars[0].traceId, '0af7651916cd43dd8448eb211c80319c');
});

t.test('expiration drops quiet cumulative series', async (t) => {
  const clock = { now: 1_000_000 };
  const { c, out } = connector({ metrics_expiration: '10s' }, clock);
  c.consumeTraces(traces('a', [span('old', 1)]));
  clock.now += 5000;
  c.consumeTraces(traces('a', [span('new', 1)]));
  clock.now += 6000;
  await c.flush();
  const names = (points(out[0], 'traces.span.metrics.calls') as NumberDataPoint[]).map((p) => p.attributes['span.name']);
  t.same(names, ['new']);
});

t.test('flushes on its interval and on shutdown', async (t) => {
  const { c, out } = connector({ metrics_flush_interval: '30ms' });
  await c.start();
  c.consumeTraces(traces('a', [span('x', 1)]));
  await new Promise((r) => setTimeout(r, 80));
  t.ok(out.length >= 1, 'flushed by the timer');
  c.consumeTraces(traces('a', [span('x', 1)]));
  await c.shutdown();
  t.equal((points(out[out.length - 1], 'traces.span.metrics.calls')[0] as NumberDataPoint).value, 2, 'shutdown flushes the last counts');
});
