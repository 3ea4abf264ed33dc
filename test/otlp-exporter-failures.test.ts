/**
 * How the otlphttp and otlp exporters read their destination's answers, against scripted local
 * servers: 503 + Retry-After then 200 (one delivery, after the delay), 400 with a google.rpc.Status
 * (not retried), partial success (counted, not retried), and over gRPC UNAVAILABLE with RetryInfo
 * then OK, INVALID_ARGUMENT and RESOURCE_EXHAUSTED without RetryInfo (not retried).
 */
import t, { Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { otlpGrpcExporterFactory } from '../exporters/otlp';
import { otlpHttpExporterFactory } from '../exporters/otlphttp';
import { PermanentError } from '../src/errors';
import type { Traces } from '../src/model';
import { decodeTraces, encodeExportResponse, encodeStatus, exportResponseJson, grpcExportPath, parseJson } from '../src/otlp';
import { build, counter } from './fixtures/notify/helpers';

const fast = { initial_interval: '10ms', randomization_factor: 0, multiplier: 1, max_interval: '10ms', max_elapsed_time: '10s' };

function traces(n: number): Traces {
  return {
    resourceSpans: [{
      resource: { attributes: { 'service.name': 'api' }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{
        scope: { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: Array.from({ length: n }, (_, i) => ({
          traceId: 'ab'.repeat(16), spanId: (i + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0, name: `op${i}`, kind: 2,
          startTimeUnixNano: 1_700_000_000_000_000_001n, endTimeUnixNano: 1_700_000_000_000_000_999n, attributes: { i }, droppedAttributesCount: 0,
          events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
        })),
      }],
    }],
  };
}

interface Seen { at: number; url: string; headers: IncomingHttpHeaders; body: Buffer }
type Reply = { status: number; headers?: Record<string, string>; body?: Uint8Array | string };

/** An HTTP server answering each request with the next scripted reply (the last one repeats). */
async function scripted(t: Test, replies: Reply[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ at: Date.now(), url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const r = replies[Math.min(seen.length - 1, replies.length - 1)];
      res.writeHead(r.status, r.headers ?? {}).end(r.body === undefined ? undefined : Buffer.from(r.body));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen };
}


t.test('otlphttp: 503 with Retry-After, then 200: one delivery after the delay', async (t) => {
  const srv = await scripted(t, [
    { status: 503, headers: { 'Retry-After': '1', 'Content-Type': 'application/x-protobuf' }, body: encodeStatus(14, 'busy') },
    { status: 200, headers: { 'Content-Type': 'application/x-protobuf' }, body: encodeExportResponse('traces') },
  ]);
  const { ex, telemetry } = build(otlpHttpExporterFactory, {
    endpoint: `${srv.url}/prefix/`, headers: { Authorization: 'Bearer s3cret' }, sending_queue: { enabled: false }, retry_on_failure: fast,
  });
  t.teardown(() => ex.shutdown!());
  await ex.traces!.consume(traces(3));
  t.equal(srv.seen.length, 2, 'one refused attempt and one delivery');
  t.ok(srv.seen[1].at - srv.seen[0].at >= 950, `retried after Retry-After (waited ${srv.seen[1].at - srv.seen[0].at}ms), not the 10ms backoff`);
  const r = srv.seen[1];
  t.equal(r.url, '/prefix/v1/traces', 'signal path appended to the endpoint');
  t.equal(r.headers['content-type'], 'application/x-protobuf');
  t.equal(r.headers['content-encoding'], 'gzip', 'gzip by default');
  t.equal(r.headers.authorization, 'Bearer s3cret', 'configured headers sent');
  const sent = decodeTraces(gunzipSync(r.body));
  t.equal(sent.resourceSpans[0].scopeSpans[0].spans.length, 3);
  t.equal(sent.resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano, 1_700_000_000_000_000_001n);
  t.equal(await counter(telemetry, 'vigil_exporter_sent_spans_total'), 3);
});

t.test('otlphttp: 400 with a google.rpc.Status is permanent, with its message; not retried', async (t) => {
  const srv = await scripted(t, [{ status: 400, headers: { 'Content-Type': 'application/x-protobuf' }, body: encodeStatus(3, 'span 2: invalid trace id') }]);
  const { ex, telemetry } = build(otlpHttpExporterFactory, {
    endpoint: srv.url, compression: 'none', headers: { Authorization: 'Bearer s3cret' }, sending_queue: { enabled: false }, retry_on_failure: fast,
  });
  t.teardown(() => ex.shutdown!());
  const err = await ex.traces!.consume(traces(2)).then(() => undefined, (e: Error) => e);
  t.ok(err instanceof PermanentError, 'permanent');
  t.match(err?.message, /answered 400: span 2: invalid trace id/);
  t.notMatch(err?.message, /s3cret/, 'headers are not in the error');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(srv.seen.length, 1, 'no retry');
  t.equal(await counter(telemetry, 'vigil_exporter_send_failed_spans_total'), 2);
});

t.test('otlphttp: other statuses: 500 is permanent, 502 is retried', async (t) => {
  const srv = await scripted(t, [{ status: 502 }, { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'oops' }]);
  const { ex } = build(otlpHttpExporterFactory, { endpoint: srv.url, sending_queue: { enabled: false }, retry_on_failure: fast });
  t.teardown(() => ex.shutdown!());
  const err = await ex.logs!.consume({
    resourceLogs: [{ resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [{
      timeUnixNano: 1n, observedTimeUnixNano: 1n, severityNumber: 9, severityText: 'INFO', body: 'x', attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '',
    }] }] }],
  }).then(() => undefined, (e: Error) => e);
  t.equal(srv.seen.length, 2, '502 retried once, then 500 stops');
  t.equal(srv.seen[0].url, '/v1/logs');
  t.ok(err instanceof PermanentError);
  t.match(err?.message, /answered 500: oops/);
});

t.test('otlphttp: partial success is counted and logged, not retried (protobuf and JSON answers)', async (t) => {
  for (const encoding of ['proto', 'json'] as const) {
    const body = encoding === 'proto'
      ? encodeExportResponse('traces', { rejected: 2, errorMessage: 'two spans too old' })
      : JSON.stringify(exportResponseJson('traces', { rejected: 2, errorMessage: 'two spans too old' }));
    const srv = await scripted(t, [{ status: 200, headers: { 'Content-Type': encoding === 'proto' ? 'application/x-protobuf' : 'application/json' }, body }]);
    const { ex, telemetry } = build(otlpHttpExporterFactory, { endpoint: srv.url, traces_endpoint: `${srv.url}/custom`, encoding, sending_queue: { enabled: false }, retry_on_failure: fast });
    await ex.traces!.consume(traces(5));
    await ex.shutdown!();
    t.equal(srv.seen.length, 1, `${encoding}: one request`);
    t.equal(srv.seen[0].url, '/custom', `${encoding}: per-signal endpoint used as is`);
    if (encoding === 'json') {
      t.equal(srv.seen[0].headers['content-type'], 'application/json');
      const got = parseJson('traces', gunzipSync(srv.seen[0].body));
      t.equal(got.resourceSpans[0].scopeSpans[0].spans[4].spanId, '0000000000000005', 'JSON body carries hex ids');
    }
    t.equal(await counter(telemetry, 'vigil_exporter_rejected_spans_total', { exporter: 'otlphttp' }), 2, `${encoding}: rejected spans counted`);
    t.equal(await counter(telemetry, 'vigil_exporter_sent_spans_total'), 5, `${encoding}: the request counts as sent`);
  }
});

/** A gRPC TraceService answering each call with the next scripted outcome. */
async function grpcServer(t: Test, outcomes: Array<Partial<grpc.ServiceError> | Uint8Array | null>): Promise<{ addr: string; calls: Array<{ at: number; body: Buffer; md: grpc.Metadata }> }> {
  const calls: Array<{ at: number; body: Buffer; md: grpc.Metadata }> = [];
  const server = new grpc.Server();
  server.addService({
    Export: {
      path: grpcExportPath('traces'), requestStream: false, responseStream: false,
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  }, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      calls.push({ at: Date.now(), body: call.request, md: call.metadata });
      const o = outcomes[Math.min(calls.length - 1, outcomes.length - 1)];
      if (o instanceof Uint8Array) cb(null, Buffer.from(o));
      else if (o) cb(o);
      else cb(null, Buffer.from(encodeExportResponse('traces')));
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  t.teardown(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { addr: `127.0.0.1:${port}`, calls };
}

function withRetryInfo(code: grpc.status, ms?: number): Partial<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(code, 'busy', ms)));
  return { code, details: 'busy', metadata };
}

t.test('otlp: UNAVAILABLE with RetryInfo, then OK: retried after that delay, delivered once', async (t) => {
  const srv = await grpcServer(t, [withRetryInfo(grpc.status.UNAVAILABLE, 300), null]);
  const { ex, telemetry } = build(otlpGrpcExporterFactory, {
    endpoint: srv.addr, tls: { insecure: true }, headers: { 'X-Tenant': 'blue' }, sending_queue: { enabled: false }, retry_on_failure: fast,
  });
  t.teardown(() => ex.shutdown!());
  await ex.traces!.consume(traces(4));
  t.equal(srv.calls.length, 2);
  const gap = srv.calls[1].at - srv.calls[0].at;
  t.ok(gap >= 290, `waited the RetryInfo delay (${gap}ms), not the 10ms backoff`);
  t.strictSame(srv.calls[1].md.get('x-tenant'), ['blue'], 'headers sent as metadata');
  const got = decodeTraces(srv.calls[1].body);
  t.equal(got.resourceSpans[0].scopeSpans[0].spans[3].spanId, '0000000000000004');
  t.equal(got.resourceSpans[0].scopeSpans[0].spans[3].endTimeUnixNano, 1_700_000_000_000_000_999n);
  t.equal(await counter(telemetry, 'vigil_exporter_sent_spans_total'), 4);
});

t.test('otlp: INVALID_ARGUMENT and RESOURCE_EXHAUSTED without RetryInfo are permanent; partial success counted', async (t) => {
  for (const [what, outcome] of [
    ['INVALID_ARGUMENT', { code: grpc.status.INVALID_ARGUMENT, details: 'bad span' }],
    ['RESOURCE_EXHAUSTED without RetryInfo', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'quota' }],
  ] as const) {
    const srv = await grpcServer(t, [outcome, null]);
    const { ex } = build(otlpGrpcExporterFactory, { endpoint: srv.addr, tls: { insecure: true }, sending_queue: { enabled: false }, retry_on_failure: fast });
    const err = await ex.traces!.consume(traces(1)).then(() => undefined, (e: Error) => e);
    await ex.shutdown!();
    t.ok(err instanceof PermanentError, `${what}: permanent`);
    t.equal(srv.calls.length, 1, `${what}: not retried`);
  }
  const srv = await grpcServer(t, [withRetryInfo(grpc.status.RESOURCE_EXHAUSTED, 50), null]);
  const { ex, telemetry } = build(otlpGrpcExporterFactory, { endpoint: `http://${srv.addr}`, compression: 'none', sending_queue: { enabled: false }, retry_on_failure: fast });
  await ex.traces!.consume(traces(2));
  await ex.shutdown!();
  t.equal(srv.calls.length, 2, 'RESOURCE_EXHAUSTED with RetryInfo is retried (http:// endpoint means plaintext)');
  t.equal(await counter(telemetry, 'vigil_exporter_sent_spans_total'), 2);

  const partial = await grpcServer(t, [encodeExportResponse('traces', { rejected: 1, errorMessage: 'one span dropped' })]);
  const built = build(otlpGrpcExporterFactory, { endpoint: partial.addr, tls: { insecure: true }, sending_queue: { enabled: false }, retry_on_failure: fast });
  await built.ex.traces!.consume(traces(3));
  await built.ex.shutdown!();
  t.equal(partial.calls.length, 1, 'partial success is not retried');
  t.equal(await counter(built.telemetry, 'vigil_exporter_rejected_spans_total'), 1, 'rejected spans counted');
  t.equal(await counter(built.telemetry, 'vigil_exporter_sent_spans_total'), 3);
});
