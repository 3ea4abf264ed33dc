/**
 * sentry exporter: the real @sentry/node SDK sends envelopes to a local HTTP server standing in
 * for Sentry; event fields are checked, and 429/500 answers are retried without duplicates.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { sentryExporterFactory } from '../exporters/sentry';
import { levelOf } from '../exporters/sentry/events';
import { fingerprint } from '../src/alerting/labels';
import { Logs, Severity, SpanKind, StatusCode, Traces } from '../src/model';
import { CertFactory } from './helpers/certs';
import { FakeServer, build, logsOf, notification, waitFor } from './fixtures/notify/helpers';

t.jobs = 3;

interface SentryEvent {
  event_id: string; message?: string; level: string; fingerprint?: string[]; tags?: Record<string, string>; environment?: string; release?: string;
  contexts?: Record<string, Record<string, unknown>>; exception?: { values: Array<{ type: string; value: string; stacktrace?: { frames: unknown[] } }> }; extra?: Record<string, unknown>;
  transaction?: string;
}

/** Fake Sentry: parses envelopes (header, item header, item) and keeps the events. */
async function fakeSentry(t: { teardown(fn: () => unknown): void }, answer?: (n: number) => { status: number; headers?: Record<string, string> }, tls?: ConstructorParameters<typeof FakeServer>[1]) {
  const events: SentryEvent[] = [];
  let n = 0;
  const srv = await new FakeServer((r, res) => {
    const a = answer?.(++n) ?? { status: 200 };
    if (a.status === 200) {
      const text = r.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.from(r.body, 'binary')).toString() : r.body;
      const lines = text.split('\n').filter(Boolean);
      for (let i = 1; i + 1 < lines.length; i += 2) if (JSON.parse(lines[i]).type === 'event') events.push(JSON.parse(lines[i + 1]));
    }
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end('{}');
  }, tls).start();
  t.teardown(() => srv.close());
  return { srv, events, dsn: `${srv.url.replace('://', '://publickey@')}/42` };
}

const now = BigInt(Date.now()) * 1_000_000n;

t.test('alerts become events: level from severity, tags from labels, fingerprint from the alert', async (t) => {
  const s = await fakeSentry(t);
  const { ex } = build(sentryExporterFactory, { dsn: s.dsn, environment: 'prod', release: 'vigil@1', sending_queue: { enabled: false } });
  const crit = { alertname: 'DiskFull', severity: 'critical', instance: 'db-1' };
  const warn = { alertname: 'DiskFull', severity: 'warning', instance: 'db-2' };
  await ex.logs!.consume(logsOf(notification([
    { labels: crit, annotations: { summary: 'disk 97% full' } },
    { labels: warn, annotations: { summary: 'disk 85% full' } },
    { labels: { alertname: 'DiskFull', instance: 'db-3' }, status: 'resolved' },
  ], { escalationStep: 0, escalationPolicy: 'dba' })));
  await ex.shutdown!();
  t.equal(s.events.length, 2, 'one event per firing alert; resolved ones are not sent by default');
  t.ok(s.srv.requests.every((r) => r.url.startsWith('/api/42/envelope/') && /sentry_key=publickey/.test(r.url)));
  const [e1, e2] = s.events;
  t.equal(e1.message, 'DiskFull: disk 97% full');
  t.equal(e1.level, 'fatal');
  t.equal(e2.level, 'warning');
  t.same(e1.fingerprint, [fingerprint(crit)]);
  t.same(e2.fingerprint, [fingerprint(warn)]);
  t.match(e1.tags, { alertname: 'DiskFull', severity: 'critical', instance: 'db-1', 'alert.receiver': 'team', 'alert.status': 'firing' });
  t.equal(e1.environment, 'prod');
  t.equal(e1.release, 'vigil@1');
  t.match(e1.contexts?.alert, { fingerprint: fingerprint(crit), group_key: '{}:{alertname="DiskFull"}', escalation_policy: 'dba', escalation_step: 0 });
  t.same(e1.extra?.annotations, { summary: 'disk 97% full' });
  t.equal(levelOf('page'), 'fatal');
  t.equal(levelOf(undefined), 'error');
});

t.test('error spans and error logs, with trace ids and exception details; the rest is ignored', async (t) => {
  const s = await fakeSentry(t);
  const { ex } = build(sentryExporterFactory, { dsn: s.dsn, alerts: false, error_spans: true, error_logs: true, sending_queue: { enabled: false } });
  const stack = 'TypeError: x is undefined\n    at handler (/app/src/api.js:10:5)\n    at main (/app/src/index.js:3:1)';
  const span = (name: string, code: number) => ({
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: name === 'ok' ? '1111111111111111' : 'b7ad6b7169203331', traceState: '', parentSpanId: '00f067aa0ba902b7', flags: 0,
    name, kind: SpanKind.SERVER, startTimeUnixNano: now, endTimeUnixNano: now + 5_000_000n, attributes: { 'http.route': '/api/x' }, droppedAttributesCount: 0,
    events: code === StatusCode.ERROR ? [{ timeUnixNano: now, name: 'exception', attributes: { 'exception.type': 'TypeError', 'exception.message': 'x is undefined', 'exception.stacktrace': stack }, droppedAttributesCount: 0 }] : [],
    droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code, message: code === StatusCode.ERROR ? 'boom' : '' },
  });
  const traces: Traces = { resourceSpans: [{ resource: { attributes: { 'service.name': 'api' }, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans: [span('GET /api/x', StatusCode.ERROR), span('ok', StatusCode.OK)] }] }] };
  const rec = (sev: number, body: string, attrs = {}) => ({ timeUnixNano: now, observedTimeUnixNano: now, severityNumber: sev, severityText: sev >= 17 ? 'ERROR' : 'INFO', body, attributes: attrs, droppedAttributesCount: 0, flags: 0, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', eventName: '' });
  const logs: Logs = { resourceLogs: [{ resource: { attributes: { 'service.name': 'worker' }, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: 'l', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [
    rec(Severity.INFO, 'all good'),
    rec(Severity.ERROR, 'payment failed', { 'exception.type': 'java.lang.IllegalStateException', 'exception.message': 'card declined', 'exception.stacktrace': 'java.lang.IllegalStateException: card declined\n\tat Pay.run(Pay.java:42)', 'order.id': 'o-17' }),
    rec(Severity.FATAL, 'out of memory'),
  ] }] }] };
  await ex.traces!.consume(traces);
  await ex.logs!.consume(logs);
  await ex.shutdown!();
  t.equal(s.events.length, 3, 'one error span, two error logs');
  const se = s.events.find((e) => e.transaction === 'GET /api/x')!;
  t.match(se.contexts?.trace, { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', parent_span_id: '00f067aa0ba902b7' });
  t.equal(se.exception?.values[0].type, 'TypeError');
  t.equal(se.exception?.values[0].value, 'x is undefined');
  t.ok((se.exception?.values[0].stacktrace?.frames.length ?? 0) >= 2, 'a JavaScript stack is parsed into frames');
  t.equal(se.tags?.['service.name'], 'api');
  t.match(se.contexts?.otel, { attributes: { 'http.route': '/api/x' } });
  const le = s.events.find((e) => e.message === 'payment failed')!;
  t.equal(le.level, 'error');
  t.match(le.contexts?.trace, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' });
  t.equal(le.exception?.values[0].type, 'java.lang.IllegalStateException');
  t.equal(le.exception?.values[0].value, 'card declined');
  t.match(le.extra?.stacktrace, /Pay\.java:42/, 'the stack text is kept');
  t.match(le.contexts?.otel, { attributes: { 'order.id': 'o-17' } });
  t.notOk((le.contexts?.otel.attributes as Record<string, unknown>)['exception.message'], 'exception.* are not repeated as attributes');
  t.equal(s.events.find((e) => e.message === 'out of memory')?.level, 'fatal');
});

t.test('429 with Retry-After and 500 are retried; the event arrives once, with one id', async (t) => {
  const s = await fakeSentry(t, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : n === 2 ? { status: 500 } : { status: 200 }));
  const { ex } = build(sentryExporterFactory, { dsn: s.dsn, retry_on_failure: { initial_interval: '100ms', randomization_factor: 0 } });
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'Flappy', severity: 'warning' } }])));
  await waitFor(() => s.events.length === 1, 8000, 'delivery');
  const reqs = s.srv.requests;
  t.equal(reqs.length, 3, '429, 500, accepted');
  t.ok(reqs[1].at - reqs[0].at >= 950, `waited for Retry-After (${reqs[1].at - reqs[0].at} ms)`);
  const ids = reqs.map((r) => JSON.parse(r.body.split('\n')[0]).event_id);
  t.equal(new Set(ids).size, 1, 'the same event id on every attempt');
  await ex.shutdown!();
});

t.test('two exporters with different DSNs do not share a client', async (t) => {
  const a = await fakeSentry(t);
  const b = await fakeSentry(t);
  const ea = build(sentryExporterFactory, { dsn: a.dsn, sending_queue: { enabled: false } }, { id: 'sentry/a' }).ex;
  const eb = build(sentryExporterFactory, { dsn: b.dsn, receivers: ['b'], sending_queue: { enabled: false } }, { id: 'sentry/b' }).ex;
  await ea.logs!.consume(logsOf(notification([{ labels: { alertname: 'ForA' } }], { receiver: 'a' })));
  await eb.logs!.consume(logsOf(notification([{ labels: { alertname: 'ForB' } }], { receiver: 'b' }), notification([{ labels: { alertname: 'NotB' } }], { receiver: 'a' })));
  await Promise.all([ea.shutdown!(), eb.shutdown!()]);
  t.same(a.events.map((e) => e.tags?.alertname), ['ForA']);
  t.same(b.events.map((e) => e.tags?.alertname), ['ForB']);
});

t.test('self-hosted Sentry over mutual TLS with the shared tls block; an untrusted server is refused', async (t) => {
  const certs = new CertFactory();
  t.teardown(() => certs.cleanup());
  const ca = certs.ca('sentry-ca');
  const client = certs.issue(ca, 'sentry-client', { client: true });
  const s = await fakeSentry(t, undefined, { ...certs.read(certs.issue(ca, 'sentry')), ca: readFileSync(ca.cert), requestCert: true, rejectUnauthorized: true });
  const alert = () => logsOf(notification([{ labels: { alertname: 'TlsCheck', severity: 'critical' } }]));
  const good = build(sentryExporterFactory, { dsn: s.dsn, tls: { ca_file: ca.cert, cert_file: client.cert, key_file: client.key }, sending_queue: { enabled: false }, retry_on_failure: { enabled: false } }).ex;
  t.teardown(() => good.shutdown!());
  await good.logs!.consume(alert());
  t.equal(s.events.length, 1, 'the event arrives over mutual TLS');
  const bad = build(sentryExporterFactory, { dsn: s.dsn, sending_queue: { enabled: false }, retry_on_failure: { enabled: false } }).ex;
  t.teardown(() => bad.shutdown!());
  await t.rejects(bad.logs!.consume(alert()), /certificate/, 'system CAs only: refused, naming the certificate problem');
  t.equal(s.events.length, 1);
});
