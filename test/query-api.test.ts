/**
 * The query API end to end: the OpenTelemetry JS SDK sends spans, logs and metrics over OTLP to a
 * collector started from YAML (otlp receiver → sqlite exporter, api extension); the answers of
 * /api/traces, /api/spans, /api/logs, /api/security/events and /api/metrics are checked against
 * what was sent. Bad parameters answer 400 with a message naming the problem.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { ApiExtension } from '../extensions/api';
import { exportAsync, logExporter, metricExporter, traceExporter } from './helpers/sdk';
import { startTest } from './helpers/collector';
import { queryCommands } from '../src/cli/commands/query';

const dir = mkdtempSync(join(tmpdir(), 'vigil-query-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const yaml = `receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
      grpc: { endpoint: 127.0.0.1:0 }
exporters:
  sqlite:
    path: ${join(dir, 'vigil.db')}
    flush_interval: 20ms
extensions:
  api:
    endpoint: 127.0.0.1:0
service:
  extensions: [api]
  telemetry: { metrics: { address: null } }
  pipelines:
    traces: { receivers: [otlp], exporters: [sqlite] }
    metrics: { receivers: [otlp], exporters: [sqlite] }
    logs: { receivers: [otlp], exporters: [sqlite] }
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SentSpan { name: string; service: string; kind: string; durationMs: number; error: boolean; attrs: Record<string, unknown>; traceId: string; spanId: string; parent: string }

t.test('query API over data sent by the SDK', async (t) => {
  const running = await startTest(yaml);
  t.teardown(() => running.shutdown());
  const ep = { http: running.http, grpc: running.grpc };
  const api = `http://${running.collector.getExtension<ApiExtension>('api')!.address}`;
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(api + path);
    return { status: res.status, body: await res.json() };
  };

  // ---- traces: a checkout trace across two services, and five GET /items spans
  const base = Date.now() - 120_000;
  const sent: SentSpan[] = [];
  const mem = new InMemorySpanExporter();
  const tracers = Object.fromEntries(['checkout', 'payments'].map((svc) => {
    const p = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': svc, 'host.name': 'h1' }), spanProcessors: [new SimpleSpanProcessor(mem)] });
    return [svc, { p, tracer: p.getTracer('query-test', '1.0.0') }];
  }));
  const span = (svc: string, name: string, kind: SpanKind, from: number, to: number, parent: Context | undefined, attrs: Record<string, string | number> = {}, error = false) => {
    const s = tracers[svc].tracer.startSpan(name, { kind, startTime: base + from, attributes: attrs }, parent ?? context.active());
    if (error) s.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    s.end(base + to);
    const sc = s.spanContext();
    const parentId = parent ? trace.getSpan(parent)!.spanContext().spanId : '';
    sent.push({ name, service: svc, kind: SpanKind[kind].toLowerCase(), durationMs: to - from, error, attrs, traceId: sc.traceId, spanId: sc.spanId, parent: parentId });
    return trace.setSpan(context.active(), s);
  };
  // Parents end after their children in real code, but the SDK records whatever times it is given.
  const root = tracers.checkout.tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: base, attributes: { 'http.route': '/checkout' } });
  const rootCtx = trace.setSpan(context.active(), root);
  const auth = span('checkout', 'auth', SpanKind.INTERNAL, 5, 15, rootCtx);
  span('checkout', 'redis GET', SpanKind.CLIENT, 6, 8, auth, { 'db.system.name': 'redis' });
  const cart = span('checkout', 'SELECT cart', SpanKind.CLIENT, 20, 70, rootCtx, { 'db.system.name': 'postgresql' }, true);
  span('payments', 'charge', SpanKind.SERVER, 30, 60, cart, { 'payment.amount': 42.5 });
  root.end(base + 100);
  sent.push({ name: 'GET /checkout', service: 'checkout', kind: 'server', durationMs: 100, error: false, attrs: { 'http.route': '/checkout' }, traceId: root.spanContext().traceId, spanId: root.spanContext().spanId, parent: '' });
  for (let i = 1; i <= 5; i++) {
    span('checkout', 'GET /items', SpanKind.SERVER, 1000 + i * 100, 1000 + i * 100 + i * 10, undefined, { 'http.response.status_code': i >= 4 ? 500 : 200 }, i >= 4);
  }
  for (const { p } of Object.values(tracers)) await p.forceFlush();
  t.equal((await exportAsync(traceExporter('http/protobuf', ep), mem.getFinishedSpans())).code, 0, 'spans exported');

  // ---- logs
  const lp = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout' }), processors: [new SimpleLogRecordProcessor({ exporter: logExporter('http/protobuf', ep) } as never) as never] });
  const logger = lp.getLogger('query-test');
  logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'user logged in', attributes: { 'user.id': 'u1' } });
  logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'disk almost full', attributes: { mount: '/var' } });
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'payment failed: card declined (100%_sure)', attributes: { 'user.id': 'u2', attempt: 3 }, context: rootCtx });
  logger.emit({
    severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: "sqli (high): ' OR 1=1", eventName: 'security.threat',
    attributes: { 'event.name': 'security.threat', 'security.threat.type': 'sqli', 'security.threat.severity': 'high', 'security.threat.source_ip': '203.0.113.9', 'security.threat.score': 0.9 },
  } as never);
  await lp.forceFlush();
  await lp.shutdown();

  // ---- metrics: two collections from one provider, then a restarted provider (counter reset)
  const mkProvider = () => {
    // The reader exports once more at shutdown; that repeat is kept out so the points are known.
    const inner = metricExporter('http/protobuf', ep);
    let open = true;
    const exporter = {
      export: (m: never, cb: (r: { code: number }) => void) => (open ? inner.export(m, cb) : cb({ code: 0 })),
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
    };
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }), readers: [reader],
      views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    return { provider, meter: provider.getMeter('query-test'), close: () => { open = false; return provider.shutdown(); } };
  };
  const m1 = mkProvider();
  const counter = m1.meter.createCounter('http.server.requests');
  const gauge = m1.meter.createGauge('cpu.temperature');
  const hist = m1.meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 1] } });
  const exp = m1.meter.createHistogram('latency.exp');
  counter.add(5, { route: '/a' });
  counter.add(1, { route: '/b' });
  gauge.record(10, { core: 0 });
  for (const v of [0.05, 0.2, 0.7, 3]) hist.record(v);
  exp.record(1000);
  await m1.provider.forceFlush();
  await sleep(5);
  counter.add(7, { route: '/a' });
  counter.add(2, { route: '/b' });
  gauge.record(20, { core: 0 });
  for (let i = 0; i < 8; i++) hist.record(0.2);
  hist.record(0.7);
  hist.record(0.7);
  for (let v = 1; v <= 100; v++) exp.record(v);
  await m1.provider.forceFlush();
  await sleep(5);
  gauge.record(60, { core: 0 });
  await m1.provider.forceFlush();
  await m1.close();
  await sleep(5);
  const m2 = mkProvider();
  m2.meter.createCounter('http.server.requests').add(3, { route: '/a' });
  await m2.provider.forceFlush();
  await m2.close();

  // Wait for the store to commit everything.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await get('/api/spans?limit=1000');
    const l = await get('/api/logs?limit=1000');
    const m = await get('/api/metrics/names');
    if (s.body.items?.length === sent.length && l.body.items?.length === 4 && m.body.names?.length === 4) break;
    if (Date.now() > deadline) throw new Error(`data did not arrive: ${JSON.stringify([s.body.items?.length, l.body.items?.length, m.body.names])}`);
    await sleep(50);
  }

  await t.test('trace by id is a tree with services and resources', async (t) => {
    const traceId = root.spanContext().traceId;
    const { status, body } = await get(`/api/traces/${traceId.toUpperCase()}`);
    t.equal(status, 200);
    const inTrace = sent.filter((s) => s.traceId === traceId);
    t.equal(body.span_count, inTrace.length);
    t.same(body.services, ['checkout', 'payments']);
    t.equal(body.duration_ms, 100);
    t.equal(body.roots.length, 1);
    // Rebuild parent → children from what was sent and compare with the nested answer.
    const check = (node: any, depth: number): void => {
      const want = inTrace.filter((s) => s.parent === node.span_id).map((s) => s.name).sort();
      t.same(node.children.map((c: any) => c.name).sort(), want, `children of ${node.name}`);
      const spec = inTrace.find((s) => s.spanId === node.span_id)!;
      t.equal(node.service, spec.service);
      t.equal(node.resource['service.name'], spec.service);
      t.equal(node.duration_ms, spec.durationMs);
      t.equal(node.status.code, spec.error ? 'error' : 'unset');
      for (const c of node.children) check(c, depth + 1);
    };
    check(body.roots[0], 0);
    t.equal(body.roots[0].children.find((c: any) => c.name === 'SELECT cart').children[0].attributes['payment.amount'], 42.5);
    t.equal((await get(`/api/traces/${'ab'.repeat(16)}`)).status, 404);
    const bad = await get('/api/traces/xyz');
    t.equal(bad.status, 400);
    t.match(bad.body.error, /32 hex digits/);
  });

  await t.test('span search filters match what was sent', async (t) => {
    const cases: Array<[string, (s: SentSpan) => boolean]> = [
      ['service=checkout', (s) => s.service === 'checkout'],
      ['service=checkout&name=GET%20/items', (s) => s.service === 'checkout' && s.name === 'GET /items'],
      ['name=GET%20/items&min_duration=25ms', (s) => s.name === 'GET /items' && s.durationMs >= 25],
      ['name=GET%20/items&max_duration=0.02s', (s) => s.name === 'GET /items' && s.durationMs <= 20],
      ['attr.http.response.status_code=500', (s) => s.attrs['http.response.status_code'] === 500],
      ['attr.db.system.name=redis', (s) => s.attrs['db.system.name'] === 'redis'],
      ['attr.payment.amount=42.5', (s) => s.attrs['payment.amount'] === 42.5],
      ['status=error', (s) => s.error],
      ['kind=client', (s) => s.kind === 'client'],
      ['service=payments&kind=server', (s) => s.service === 'payments' && s.kind === 'server'],
      [`trace_id=${root.spanContext().traceId}&status=unset`, (s) => s.traceId === root.spanContext().traceId && !s.error],
      [`start=${Math.floor((base + 1000) / 1000)}`, (s) => s.name === 'GET /items' && true],
    ];
    for (const [query, pred] of cases) {
      const { status, body } = await get(`/api/spans?${query}`);
      t.equal(status, 200, query);
      t.same(body.items.map((s: any) => s.span_id).sort(), sent.filter(pred).map((s) => s.spanId).sort(), query);
      const times = body.items.map((s: any) => BigInt(s.start_time_unix_nano));
      t.ok(times.every((x: bigint, i: number) => i === 0 || times[i - 1] >= x), `${query}: newest first`);
    }
    // Pages of 2 cover all five GET /items exactly once.
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { body } = await get(`/api/spans?name=GET%20/items&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.items.map((s: any) => s.span_id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    t.equal(pages, 3);
    t.same(seen.sort(), sent.filter((s) => s.name === 'GET /items').map((s) => s.spanId).sort());
  });

  await t.test('log search and security events', async (t) => {
    const bodies = async (q: string) => ((await get(`/api/logs?${q}`)).body.items as any[]).map((l) => l.body).sort();
    t.same(await bodies('severity_min=warn'), ["sqli (high): ' OR 1=1", 'disk almost full', 'payment failed: card declined (100%_sure)'].sort());
    t.same(await bodies('severity_min=18'), []);
    t.same(await bodies('body=CARD%20declined'), ['payment failed: card declined (100%_sure)']);
    t.same(await bodies('body=100%25_'), ['payment failed: card declined (100%_sure)'], '% and _ are literal');
    t.same(await bodies('body=declined_('), [], '_ is no wildcard');
    t.same(await bodies('body=failed%25declined'), [], '% is no wildcard');
    t.same(await bodies('attr.user.id=u2&service=checkout'), ['payment failed: card declined (100%_sure)']);
    t.same(await bodies('attr.attempt=3'), ['payment failed: card declined (100%_sure)']);
    t.same(await bodies(`trace_id=${root.spanContext().traceId}`), ['payment failed: card declined (100%_sure)']);
    t.same(await bodies('event_name=security.threat'), ["sqli (high): ' OR 1=1"]);
    t.same(await bodies('service=payments'), []);
    const ev = await get('/api/security/events');
    t.equal(ev.body.items.length, 1);
    t.match(ev.body.items[0], { type: 'sqli', severity: 'high', source_ip: '203.0.113.9', score: 0.9, service: 'checkout' });
    t.equal((await get('/api/security/events?type=xss')).body.items.length, 0);
    t.equal((await get('/api/security/events?source_ip=203.0.113.9')).body.items.length, 1);
    t.same((await get('/api/services')).body.services, ['checkout', 'payments']);
  });

  const metric = async (q: string) => {
    const r = await get(`/api/metrics?start=now-10m&end=now%2B1m&${q}`.replace('now%2B1m', String(Date.now() + 60_000)));
    if (r.status !== 200) throw new Error(`${q}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  /** Per series: the windows' values combined (windows may straddle a step boundary). */
  const perSeries = (body: any, combine: (vs: number[]) => number) =>
    Object.fromEntries(body.series.map((s: any) => [JSON.stringify(s.labels), combine(s.points.map((p: [number, number]) => p[1]))]));
  const total = (vs: number[]) => vs.reduce((a, b) => a + b, 0);

  await t.test('counter increase and rate are reset-aware', async (t) => {
    // /a: 5 → 12 (+7), then a new process starts at 3 (reset: +3). /b: 1 → 3 (+2).
    const inc = await metric('name=http.server.requests&agg=increase&step=1h');
    t.same(perSeries(inc, total), { [JSON.stringify({ route: '/a', 'service.name': 'checkout' })]: 10, [JSON.stringify({ route: '/b', 'service.name': 'checkout' })]: 2 });
    for (const step of ['30s', '1m']) {
      const rate = await metric(`name=http.server.requests&agg=rate&step=${step}&match[]=route%3D%22/a%22`);
      t.equal(rate.series.length, 1, `${step}: matcher selects /a`);
      t.equal(rate.source, step === '1m' ? 'rollup_1m' : 'raw');
      t.equal(Math.round(total(rate.series[0].points.map((p: number[]) => p[1] * rate.step_seconds)) * 1e9) / 1e9, 10, `${step}: rate × step sums to the increase`);
    }
    t.equal((await metric('name=http.server.requests&agg=increase&step=1h&match[]=route%3D~%22/%5Bab%5D%22')).series.length, 2);
    t.same((await metric('name=http.server.requests&agg=increase&step=1h&match[]=route!%3D%22/a%22')).series.map((s: any) => s.labels.route), ['/b']);
    t.same((await metric('name=http.server.requests&agg=increase&step=1h&match[]=%7Broute!~%22/a%22,service.name%3D%22checkout%22%7D')).series.map((s: any) => s.labels.route), ['/b']);
    const all = await metric('name=http.server.requests&agg=increase&step=1h&by=');
    t.same(all.series.map((s: any) => s.labels), [{}]);
    t.equal(total(all.series[0].points.map((p: number[]) => p[1])), 12);
    t.equal((await metric('name=http.server.requests&step=1h')).agg, 'rate', 'counters default to rate');
  });

  await t.test('gauge aggregations, raw and from the rollup', async (t) => {
    for (const step of ['30s', '1m', '1h']) {
      const sum = perSeries(await metric(`name=cpu.temperature&agg=sum&step=${step}`), total);
      const count = perSeries(await metric(`name=cpu.temperature&agg=count&step=${step}`), total);
      const min = perSeries(await metric(`name=cpu.temperature&agg=min&step=${step}`), (v) => Math.min(...v));
      const max = perSeries(await metric(`name=cpu.temperature&agg=max&step=${step}`), (v) => Math.max(...v));
      const key = JSON.stringify({ core: '0', 'service.name': 'checkout' });
      t.same([sum[key], count[key], min[key], max[key]], [90, 3, 10, 60], `step ${step}`);
    }
    const avg = await metric('name=cpu.temperature&agg=avg&step=1h');
    const pts = avg.series[0].points;
    if (pts.length === 1) t.equal(pts[0][1], 30, 'avg of 10, 20, 60');
    const err = await get('/api/metrics?name=cpu.temperature&agg=rate');
    t.equal(err.status, 400);
    t.match(err.body.error, /needs a counter/);
  });

  await t.test('histogram quantiles from bucket increases', async (t) => {
    // Between the two points the buckets (≤0.1, ≤0.5, ≤1, +Inf) grew by (0, 8, 2, 0).
    const q = async (p: number) => total((await metric(`name=http.server.request.duration&agg=quantile&q=${p}&step=1h`)).series[0].points.map((x: number[]) => x[1]));
    // rank 5 of 10 falls in (0.1, 0.5] holding 8: 0.1 + 0.4·5/8; rank 9.5 in (0.5, 1] holding 2: 0.5 + 0.5·1.5/2.
    t.equal(Math.round((await q(0.5)) * 1e9) / 1e9, 0.1 + 0.4 * (5 / 8));
    t.equal(Math.round((await q(0.95)) * 1e9) / 1e9, 0.5 + 0.5 * (1.5 / 2));
    t.equal(await q(1), 1, 'top rank: upper bound of its bucket');
    const avg = perSeries(await metric('name=http.server.request.duration&agg=avg&step=1h'), total);
    t.equal(Math.round(Object.values(avg)[0] * 1e9) / 1e9, (0.2 * 8 + 0.7 * 2) / 10, 'avg is Δsum / Δcount');
    t.equal(Object.values(perSeries(await metric('name=http.server.request.duration&agg=count&step=1h'), total))[0], 10);
    // Exponential histogram: 1..100 recorded after 1000; the median of 1..100 within the bucket width (~9% at scale ≥ 3).
    const median = total((await metric('name=latency.exp&agg=quantile&q=0.5&step=1h')).series[0].points.map((x: number[]) => x[1]));
    t.ok(Math.abs(median - 50.5) / 50.5 < 0.1, `exp histogram median ${median} ≈ 50.5`);
    const e = await get('/api/metrics?name=http.server.requests&agg=quantile');
    t.equal(e.status, 400);
    t.match(e.body.error, /needs a histogram/);
  });

  await t.test('bad parameters answer 400 naming the problem', async (t) => {
    const cases: Array<[string, RegExp]> = [
      ['/api/spans?start=yesterday', /start: .* is not a time/],
      ['/api/spans?limit=100000', /limit: must be between 1 and 1000/],
      ['/api/spans?start=0&end=now', /longer than the maximum/],
      ['/api/spans?min_duration=fast', /min_duration: .* is not a duration/],
      ['/api/spans?kind=sideways', /kind: expected one of/],
      ['/api/spans?cursor=bm9wZQ', /cursor/],
      ['/api/spans?attr.a%22b=1', /attribute keys/],
      ['/api/logs?severity_min=loud', /severity_min/],
      ['/api/metrics', /name: which metric/],
      ['/api/metrics?name=cpu.temperature&start=now-1h&step=1ms', /points per series/],
      ['/api/metrics?name=cpu.temperature&agg=median', /agg: expected one of/],
      ['/api/metrics?name=cpu.temperature&q=2', /q: expected a number between 0 and 1/],
      ['/api/metrics?name=cpu.temperature&match[]=core%3D~%22(a%2B)%2B%22', /match\[\]: .*backtracking/],
      ['/api/metrics?name=cpu.temperature&match[]=core', /match\[\]: invalid matcher/],
      ['/api/metrics?name=cpu.temperature&start=now&end=now-1h', /start must be before end/],
    ];
    for (const [path, re] of cases) {
      const r = await get(path);
      t.equal(r.status, 400, path);
      t.match(r.body.error, re, path);
    }
  });

  await t.test('vigil query prints tables from the API', async (t) => {
    const run = async (args: string[]): Promise<{ code: number; out: string }> => {
      const cmd = queryCommands.find((c) => args.slice(0, 2).join(' ') === c.name)!;
      let out = '';
      const write = process.stdout.write;
      process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
      try {
        const code = await cmd.run([...args.slice(2), '--api', api]);
        return { code, out };
      } finally {
        process.stdout.write = write;
      }
    };
    const tr = await run(['query', 'traces', root.spanContext().traceId]);
    t.equal(tr.code, 0);
    t.match(tr.out, /^GET \/checkout\s+checkout\s+server/m);
    t.match(tr.out, /^ {4}redis GET\s+checkout\s+client/m, 'grandchild indented twice');
    t.match(tr.out, /^ {4}charge\s+payments\s+server\s+\S+\s+30ms/m);
    const sp = await run(['query', 'spans', '--service', 'checkout', '--attr', 'http.response.status_code=500']);
    t.equal(sp.out.trim().split('\n').length, 3, 'header and two rows');
    const lg = await run(['query', 'logs', '--severity-min', 'error', '--json']);
    t.equal(JSON.parse(lg.out).items.length, 1);
    const mt = await run(['query', 'metrics', 'http.server.requests', '--agg', 'increase', '--step', '1h', '--start', 'now-10m', '--by', 'route']);
    t.match(mt.out, /^http\.server\.requests increase step 3600s, 2 series/);
    t.match(mt.out, /route=\/a/);
    const bad = await run(['query', 'spans', '--colour', 'red']);
    t.equal(bad.code, 2);
  });
});
