/**
 * OTLP/HTTP status cases from the specification, on a real server, with the process staying up
 * and serving after each bad request.
 */
import t from 'tap';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { RetryableError } from '../src/errors';
import { Traces } from '../src/model';
import { decodeExportResponse, decodeStatus, encodeTraces, tracesToJson } from '../src/otlp';
import { captureExporter, otlpConfig, startTest } from './helpers/collector';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function post(addr: string, path: string, body: Buffer | string, headers: Record<string, string>, method = 'POST'): Promise<Reply> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method, headers: { ...headers, ...(method === 'GET' ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (method !== 'GET') req.end(body);
    else req.end();
  });
}

function traces(n: number, tag = 'x', traceId = '5b8efff798038103d269b633813fc60c'): Traces {
  return {
    resourceSpans: [{
      resource: { attributes: { 'service.name': 'svc', tag }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{
        scope: { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: Array.from({ length: n }, (_, i) => ({
          traceId, spanId: (i + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0, name: `span ${i}`, kind: 2,
          startTimeUnixNano: 1_700_000_000_123_456_789n, endTimeUnixNano: 1_700_000_000_223_456_789n,
          attributes: { i }, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
        })),
      }],
    }],
  };
}

const PB = { 'Content-Type': 'application/x-protobuf' };
const JSONH = { 'Content-Type': 'application/json' };

t.test('OTLP/HTTP status cases', async (t) => {
  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n', http: '        max_request_body_size: 100000' }), [factory]);
  t.teardown(() => vigil.shutdown());
  const spansWith = (tag: string) => capture.traces.flatMap((d) => d.resourceSpans).filter((r) => r.resource.attributes.tag === tag).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  const stillServing = async () => {
    const r = await post(vigil.http, '/v1/traces', Buffer.from(encodeTraces(traces(1, 'alive'))), PB);
    t.equal(r.status, 200, 'still serving');
  };

  t.test('protobuf in, protobuf out; JSON in, JSON out', async (t) => {
    let r = await post(vigil.http, '/v1/traces', Buffer.from(encodeTraces(traces(3, 'pb'))), PB);
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'application/x-protobuf');
    t.same(decodeExportResponse('traces', r.body), {});
    r = await post(vigil.http, '/v1/traces', JSON.stringify(tracesToJson(traces(2, 'json'))), { 'Content-Type': 'application/json; charset=utf-8' });
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'application/json');
    t.same(JSON.parse(r.body.toString()), {});
    t.equal(spansWith('pb').length, 3);
    t.equal(spansWith('json').length, 2);
    t.equal(spansWith('pb')[0].startTimeUnixNano, 1_700_000_000_123_456_789n, 'nanoseconds intact');
  });

  t.test('405 for other methods, 404 for other paths, 415 for other content types', async (t) => {
    let r = await post(vigil.http, '/v1/traces', '', {}, 'GET');
    t.equal(r.status, 405);
    t.equal(r.headers.allow, 'POST');
    r = await post(vigil.http, '/v1/spans', 'x', PB);
    t.equal(r.status, 404);
    r = await post(vigil.http, '/v1/traces', 'x', { 'Content-Type': 'text/plain' });
    t.equal(r.status, 415);
    t.match(JSON.parse(r.body.toString()).message, /unsupported content type "text\/plain"/);
    r = await post(vigil.http, '/v1/traces', 'x', { ...PB, 'Content-Encoding': 'br' });
    t.equal(r.status, 415);
    await stillServing();
  });

  t.test('400 with a google.rpc.Status for undecodable data', async (t) => {
    let r = await post(vigil.http, '/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0x01]), PB);
    t.equal(r.status, 400);
    const st = decodeStatus(r.body);
    t.equal(st.code, 3, 'INVALID_ARGUMENT');
    t.ok(st.message.length > 0, 'message says what is wrong');
    r = await post(vigil.http, '/v1/traces', '{"resourceSpans": [', JSONH);
    t.equal(r.status, 400);
    t.match(JSON.parse(r.body.toString()), { code: 3, message: /invalid JSON/ });
    const bad = tracesToJson(traces(1)) as any;
    bad.resourceSpans[0].scopeSpans[0].spans[0].traceId = '5b8efff798038103d269b633813fc6';
    r = await post(vigil.http, '/v1/traces', JSON.stringify(bad), JSONH);
    t.equal(r.status, 400, 'wrong-length trace id');
    t.match(JSON.parse(r.body.toString()).message, /traceId/);
    r = await post(vigil.http, '/v1/traces', JSON.stringify({ resourceSpans: 'nope' }), JSONH);
    t.equal(r.status, 400);
    await stillServing();
  });

  t.test('gzip, a gzip bomb and oversized bodies', async (t) => {
    let r = await post(vigil.http, '/v1/traces', gzipSync(encodeTraces(traces(4, 'gz'))), { ...PB, 'Content-Encoding': 'gzip' });
    t.equal(r.status, 200);
    t.equal(spansWith('gz').length, 4);
    // 50 MB of zeros compresses to ~50 KB: under the limit on the wire, far over it inflated.
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    t.ok(bomb.length < 100000);
    const before = process.memoryUsage().rss;
    r = await post(vigil.http, '/v1/traces', bomb, { ...PB, 'Content-Encoding': 'gzip' });
    t.equal(r.status, 413, 'gzip bomb refused');
    t.ok(process.memoryUsage().rss - before < 40 * 1024 * 1024, 'bomb not inflated into memory');
    r = await post(vigil.http, '/v1/traces', Buffer.alloc(150000), PB);
    t.equal(r.status, 413, 'declared length over the limit');
    r = await post(vigil.http, '/v1/traces', gzipSync(Buffer.from('garbage')).subarray(0, 10), { ...PB, 'Content-Encoding': 'gzip' });
    t.equal(r.status, 400, 'truncated gzip');
    await stillServing();
  });

  t.test('partial success for invalid items', async (t) => {
    const data = traces(3, 'partial');
    data.resourceSpans[0].scopeSpans[0].spans[1].traceId = '0'.repeat(32);
    const r = await post(vigil.http, '/v1/traces', Buffer.from(encodeTraces(data)), PB);
    t.equal(r.status, 200);
    t.match(decodeExportResponse('traces', r.body), { partialSuccess: { rejected: 1, errorMessage: /trace id/ } });
    t.equal(spansWith('partial').length, 2, 'valid spans kept');
  });

  t.test('backpressure answers 503 or 429 with Retry-After and keeps nothing half-accepted', async (t) => {
    capture.fail = () => new RetryableError('queue is full', 3000);
    let r = await post(vigil.http, '/v1/traces', Buffer.from(encodeTraces(traces(1, 'bp'))), PB);
    t.equal(r.status, 503);
    t.equal(r.headers['retry-after'], '3');
    t.equal(decodeStatus(r.body).code, 14);
    capture.fail = () => new RetryableError('slow down', 1500, true);
    r = await post(vigil.http, '/v1/traces', JSON.stringify(tracesToJson(traces(1, 'bp'))), JSONH);
    t.equal(r.status, 429);
    t.equal(r.headers['retry-after'], '2');
    capture.fail = () => new Error('bug');
    r = await post(vigil.http, '/v1/traces', Buffer.from(encodeTraces(traces(1, 'bp'))), PB);
    t.equal(r.status, 503, 'unknown errors are retryable');
    capture.fail = undefined;
    t.equal(spansWith('bp').length, 0);
    await stillServing();
  });
});

t.test('CORS preflight and headers when configured', async (t) => {
  const { factory } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n', http: '        cors:\n          allowed_origins: ["https://*.example.com"]\n          max_age: 600' }), [factory]);
  t.teardown(() => vigil.shutdown());
  let r = await post(vigil.http, '/v1/traces', '', { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' }, 'OPTIONS');
  t.equal(r.status, 204);
  t.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
  t.equal(r.headers['access-control-max-age'], '600');
  r = await post(vigil.http, '/v1/traces', Buffer.from(encodeTraces(traces(1))), { ...PB, Origin: 'https://evil.test' });
  t.equal(r.status, 200);
  t.equal(r.headers['access-control-allow-origin'], undefined, 'other origins get no CORS header');
});
