/**
 * The real OpenTelemetry JS SDK exporters (HTTP/JSON, HTTP/protobuf, gRPC) send traces, metrics and
 * logs to a running Vigil; what reaches the pipeline is compared field by field with what the SDK made.
 */
import t from 'tap';
import { Double, KvList, Span, LogRecord, Metric, NumberDataPoint } from '../src/model';
import { captureExporter, otlpConfig, startTest } from './helpers/collector';
import { RESOURCE, TRANSPORTS, exportAsync, hrToNanos, logExporter, makeLogs, makeMetrics, makeSpans, metricExporter, traceExporter } from './helpers/sdk';

t.test('SDK exporters over every transport', async (t) => {
  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n' }), [factory]);
  t.teardown(() => vigil.shutdown());

  for (const transport of TRANSPORTS) {
    t.test(`traces over ${transport}`, async (t) => {
      const spans = await makeSpans(transport);
      const exporter = traceExporter(transport, vigil);
      const res = await exportAsync(exporter, spans);
      t.equal(res.code, 0, `export succeeded ${res.error?.message ?? ''}`);
      await exporter.shutdown();
      const got = capture.traces.flatMap((d) => d.resourceSpans).filter((rs) => rs.resource.attributes['test.tag'] === transport);
      t.equal(got.length, 1, 'one resource');
      const rs = got[0];
      for (const [k, v] of Object.entries(RESOURCE)) t.equal(rs.resource.attributes[k], v, `resource ${k}`);
      t.equal(rs.scopeSpans[0].scope.name, 'vigil-test');
      t.equal(rs.scopeSpans[0].scope.version, '0.0.1');
      const received = new Map<string, Span>(rs.scopeSpans.flatMap((ss) => ss.spans).map((s) => [s.spanId, s]));
      t.equal(received.size, spans.length);
      for (const s of spans) {
        const r = received.get(s.spanContext().spanId)!;
        t.ok(r, `span ${s.name} arrived`);
        t.equal(r.traceId, s.spanContext().traceId);
        t.equal(r.parentSpanId, s.parentSpanContext?.spanId ?? '');
        t.equal(r.name, s.name);
        t.equal(r.kind, s.kind + 1, 'API kind + 1 = OTLP kind');
        t.equal(r.startTimeUnixNano, hrToNanos(s.startTime), 'start time to the nanosecond');
        t.equal(r.endTimeUnixNano, hrToNanos(s.endTime), 'end time to the nanosecond');
        t.equal(r.status.code, s.status.code);
        t.equal(r.status.message, s.status.message ?? '');
        for (const [k, v] of Object.entries(s.attributes)) {
          const got = r.attributes[k];
          t.same(got instanceof Double ? got.value : got, v, `attribute ${k}`);
        }
        t.equal(r.events.length, s.events.length);
        s.events.forEach((e, i) => {
          t.equal(r.events[i].name, e.name);
          t.equal(r.events[i].timeUnixNano, hrToNanos(e.time));
          t.same(r.events[i].attributes, e.attributes);
        });
        t.equal(r.links.length, s.links.length);
        s.links.forEach((l, i) => {
          t.equal(r.links[i].traceId, l.context.traceId);
          t.equal(r.links[i].spanId, l.context.spanId);
          t.same(r.links[i].attributes, l.attributes);
        });
      }
    });

    t.test(`metrics over ${transport}`, async (t) => {
      const rm = await makeMetrics(transport);
      const exporter = metricExporter(transport, vigil);
      const res = await exportAsync(exporter, rm);
      t.equal(res.code, 0, `export succeeded ${res.error?.message ?? ''}`);
      await exporter.shutdown();
      const got = capture.metrics.flatMap((d) => d.resourceMetrics).filter((r) => r.resource.attributes['test.tag'] === transport);
      t.equal(got.length, 1);
      const metrics = new Map<string, Metric>(got[0].scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.name, m]));
      const counter = metrics.get('http.server.requests')!;
      t.match(counter, { unit: '{request}', description: 'requests served', data: { type: 'sum', isMonotonic: true, aggregationTemporality: 2 } });
      t.equal(Number((counter.data.dataPoints[0] as NumberDataPoint).value), 5);
      t.same(counter.data.dataPoints[0].attributes, { route: '/a' });
      const sdkCounter = rm.scopeMetrics[0].metrics.find((m) => m.descriptor.name === 'http.server.requests')!;
      t.equal(counter.data.dataPoints[0].timeUnixNano, hrToNanos(sdkCounter.dataPoints[0].endTime), 'point time to the nanosecond');
      t.equal(counter.data.dataPoints[0].startTimeUnixNano, hrToNanos(sdkCounter.dataPoints[0].startTime));
      const updown = metrics.get('queue.depth')!;
      t.match(updown.data, { type: 'sum', isMonotonic: false });
      t.equal(Number((updown.data.dataPoints[0] as NumberDataPoint).value), -3);
      const gauge = metrics.get('cpu.temperature')!;
      t.match(gauge, { unit: 'Cel', data: { type: 'gauge' } });
      t.equal((gauge.data.dataPoints[0] as NumberDataPoint).value, 71.5);
      const hist = metrics.get('http.server.request.duration')!;
      t.equal(hist.data.type, 'histogram');
      if (hist.data.type === 'histogram') {
        const p = hist.data.dataPoints[0];
        t.same(p.explicitBounds, [0.1, 0.5, 1]);
        t.same(p.bucketCounts, [1, 1, 1, 1]);
        t.equal(p.count, 4);
        t.equal(p.sum, 0.05 + 0.2 + 0.7 + 3);
        t.equal(p.min, 0.05);
        t.equal(p.max, 3);
      }
    });

    t.test(`logs over ${transport}`, async (t) => {
      const records = await makeLogs(transport);
      const exporter = logExporter(transport, vigil);
      const res = await exportAsync(exporter, records);
      t.equal(res.code, 0, `export succeeded ${res.error?.message ?? ''}`);
      await exporter.shutdown();
      const got = capture.logs.flatMap((d) => d.resourceLogs).filter((r) => r.resource.attributes['test.tag'] === transport);
      t.equal(got.length, 1);
      t.equal(got[0].scopeLogs[0].scope.name, 'vigil-test-logs');
      const recs: LogRecord[] = got[0].scopeLogs.flatMap((s) => s.logRecords);
      t.equal(recs.length, 2);
      t.equal(recs[0].body, 'disk almost full');
      t.equal(recs[0].severityNumber, 13);
      t.equal(recs[0].severityText, 'WARN');
      t.same(recs[0].attributes, { 'disk.free_bytes': 1024, mount: '/var' });
      t.equal(recs[0].timeUnixNano, hrToNanos(records[0].hrTime));
      t.equal(recs[0].observedTimeUnixNano, hrToNanos(records[0].hrTimeObserved));
      t.ok(recs[1].body instanceof KvList, 'structured body');
      t.same((recs[1].body as KvList).values, { structured: 'body', n: 2 });
      t.equal(recs[1].eventName, 'auth.failure');
    });
  }

  t.test('gzip from the SDK', async (t) => {
    const spans = await makeSpans('gzip');
    for (const transport of ['http/protobuf', 'grpc'] as const) {
      const exporter = traceExporter(transport, vigil, 'gzip');
      const res = await exportAsync(exporter, spans);
      t.equal(res.code, 0, `${transport} gzip export succeeded ${res.error?.message ?? ''}`);
      await exporter.shutdown();
    }
    const got = capture.traces.flatMap((d) => d.resourceSpans).filter((rs) => rs.resource.attributes['test.tag'] === 'gzip');
    t.equal(got.length, 2, 'both gzip requests arrived');
  });
});
