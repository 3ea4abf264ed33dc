/**
 * What one OTLP request may cost, on a real server: a body over the limit reaches a client that is
 * still writing as a 413; bare JSON integers past 2^53 arrive exact; bodies that decode into
 * millions of objects are refused after a bounded amount of work while other clients are served;
 * a request larger than the pipeline can ever hold is refused permanently, not 503 for ever.
 */
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { request } from 'node:http';
import { Traces } from '../src/model';
import { LimitError, decodeLimited, decodeStatus, encodeTraces, prepareJsonText } from '../src/otlp';
import { captureExporter, otlpConfig, startTest } from './helpers/collector';

const PB = { 'Content-Type': 'application/x-protobuf' };

function spans(n: number, tag: string): Traces {
  return {
    resourceSpans: [{
      resource: { attributes: { 'service.name': 'svc', tag }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{
        scope: { name: 's', version: '', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: Array.from({ length: n }, (_, i) => ({
          traceId: '5b8efff798038103d269b633813fc60c', spanId: (i + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0,
          name: 'op', kind: 2, startTimeUnixNano: 1_700_000_000_000_000_000n, endTimeUnixNano: 1_700_000_000_100_000_000n,
          attributes: {}, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
        })),
      }],
    }],
  };
}

function post(addr: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path: '/v1/traces', method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A span (as protobuf bytes) with `n` attributes k0..k(n-1), each an empty value. */
function spanWithAttributes(n: number): Buffer {
  const parts: Buffer[] = [Buffer.from('0a10' + '5b8efff798038103d269b633813fc60c' + '1208' + '0000000000000001', 'hex')];
  for (let i = 0; i < n; i++) {
    const key = Buffer.from('k' + i);
    const kv = Buffer.concat([Buffer.from([0x0a, key.length]), key]);
    parts.push(Buffer.from([0x4a, kv.length]), kv);
  }
  const span = Buffer.concat(parts);
  const ldelim = (tag: number, b: Buffer) => Buffer.concat([Buffer.from([tag]), varint(b.length), b]);
  return ldelim(0x0a, ldelim(0x12, ldelim(0x12, span)));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}

t.test('a 413 reaches a client that is still sending its body', async (t) => {
  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n', http: '        max_request_body_size: 100000' }), [factory]);
  t.teardown(() => vigil.shutdown());
  const [host, port] = vigil.http.split(':');
  for (const framing of ['chunked', 'content-length']) {
    // 300 KB, three times the limit, sent slowly in 16 KB pieces: the server decides long before the end.
    const total = 300_000;
    const reply = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const headers: Record<string, string> = { ...PB, ...(framing === 'content-length' ? { 'Content-Length': String(total) } : {}) };
      const req = request({ host, port: Number(port), path: '/v1/traces', method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      let sent = 0;
      const more = () => {
        if (req.destroyed) return;
        if (sent >= total) return void req.end();
        req.write(Buffer.alloc(16_000, 0x0a));
        sent += 16_000;
        setTimeout(more, 2);
      };
      more();
    });
    t.equal(reply.status, 413, `${framing}: 413, not a reset`);
    t.match(decodeStatus(reply.body).message, /over the limit of 100000 bytes/);
  }
  const ok = await post(vigil.http, Buffer.from(encodeTraces(spans(1, 'after'))), PB);
  t.equal(ok.status, 200, 'still serving');
  t.equal(capture.traces.length, 1);
});

t.test('bare JSON integers past 2^53 arrive exact', async (t) => {
  t.equal(prepareJsonText('{"a":9007199254740993}'), '{"a":"9007199254740993"}');
  t.equal(prepareJsonText('[-9223372036854775808, 12, 9007199254740991]'), '[-9223372036854775808, 12, 9007199254740991]'.replace('-9223372036854775808', '"-9223372036854775808"'), 'safe integers stay numbers');
  const untouched = '{"s":"x 12345678901234567890 \\" 98765432109876543210","d":1.2345678901234567891,"e":12345678901234567e3}';
  t.equal(prepareJsonText(untouched), untouched, 'strings, fractions and exponents untouched');
  t.ok(thrown(() => prepareJsonText('[{},{},{}]', 2)) instanceof LimitError, 'object count bounded');

  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n' }), [factory]);
  t.teardown(() => vigil.shutdown());
  const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001","name":"n 18446744073709551615",
    "startTimeUnixNano":1700000000123456789,"endTimeUnixNano":1700000000123456791,
    "attributes":[{"key":"big","value":{"intValue":9007199254740993}},{"key":"min","value":{"intValue":-9223372036854775808}},{"key":"d","value":{"doubleValue":12345678901234567890}}]}]}]}]}`;
  const r = await post(vigil.http, body, { 'Content-Type': 'application/json' });
  t.equal(r.status, 200);
  const span = capture.traces[0].resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(span.startTimeUnixNano, 1700000000123456789n);
  t.equal(span.endTimeUnixNano, 1700000000123456791n);
  t.equal(span.attributes.big, 9007199254740993n);
  t.equal(span.attributes.min, -9223372036854775808n);
  t.equal(Number(span.attributes.d), 12345678901234567890);
  t.equal(span.name, 'n 18446744073709551615', 'digits inside strings untouched');
  const over = await post(vigil.http, body.replace('9007199254740993', '9223372036854775808'), { 'Content-Type': 'application/json' });
  t.equal(over.status, 400, 'past int64 is refused, not rounded');
});

t.test('decode amplification is bounded; other clients are served meanwhile', async (t) => {
  // ten million empty ResourceSpans in 20 MB
  const bomb = Buffer.alloc(20_000_000);
  for (let i = 0; i < bomb.length; i += 2) bomb[i] = 0x0a;
  t.ok(thrown(() => decodeLimited('traces', bomb, { maxItems: 100_000, maxAttributesPerItem: 1024 })) instanceof LimitError, 'stopped at the item limit');

  // one span with 50,000 attributes: 1024 kept, the rest skipped and counted
  const wide = spanWithAttributes(50_000);
  const { data, droppedAttributes } = decodeLimited('traces', wide, { maxItems: 100_000, maxAttributesPerItem: 1024 });
  const span = data.resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(Object.keys(span.attributes).length, 1024);
  t.equal(span.droppedAttributesCount, 50_000 - 1024);
  t.equal(droppedAttributes, 50_000 - 1024);

  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n', grpc: '        max_recv_msg_size_mib: 32' }), [factory]);
  t.teardown(() => vigil.shutdown());
  const heapBefore = process.memoryUsage().heapUsed;
  const [big, small] = await Promise.all([
    post(vigil.http, bomb, PB),
    post(vigil.http, Buffer.from(encodeTraces(spans(1, 'small'))), PB),
  ]);
  t.equal(big.status, 413, 'the amplifying body is refused as too large (not retried)');
  t.match(decodeStatus(big.body).message, /more than 100000 items/);
  t.equal(small.status, 200, 'the one-span request on another connection is answered');
  t.ok(process.memoryUsage().heapUsed - heapBefore < 300 * 1024 * 1024, 'no gigabytes of decoded objects');

  const wideReply = await post(vigil.http, wide, PB);
  t.equal(wideReply.status, 200);
  const kept = capture.traces.at(-1)!.resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(kept.droppedAttributesCount, 50_000 - 1024, 'drop counted on the span');

  const client = new grpc.Client(vigil.grpc, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const err = await new Promise<grpc.ServiceError | null>((resolve) =>
    client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', (b: Buffer) => b, (b: Buffer) => b, bomb, (e) => resolve(e)));
  t.equal(err?.code, grpc.status.INVALID_ARGUMENT, 'gRPC: not retryable');
  t.match(err?.details, /more than 100000 items/);
});

t.test('a request larger than the pipeline can hold is refused permanently', async (t) => {
  const { factory } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], {
    processors: ['batch'],
    extra: 'processors:\n  batch:\n    max_pending_items: 1000\nexporters:\n  capture:\n',
    http: '        max_items_per_request: 5000',
  }), [factory]);
  t.teardown(() => vigil.shutdown());
  let r = await post(vigil.http, Buffer.from(encodeTraces(spans(6000, 'huge'))), PB);
  t.equal(r.status, 413, 'over max_items_per_request');
  r = await post(vigil.http, Buffer.from(encodeTraces(spans(2000, 'big'))), PB);
  t.equal(r.status, 400, 'larger than the batch processor can ever hold: permanent, not 503');
  t.match(decodeStatus(r.body).message, /max_pending_items 1000/);
  r = await post(vigil.http, Buffer.from(encodeTraces(spans(500, 'fits'))), PB);
  t.equal(r.status, 200);
});

t.test('the memory limiter is asked, with an estimate, before a request is decoded', async (t) => {
  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], {
    processors: ['memory_limiter'],
    extra: 'processors:\n  memory_limiter:\n    limit_mib: 40\n    spike_limit_mib: 8\nexporters:\n  capture:\n',
  }), [factory]);
  t.teardown(() => vigil.shutdown());
  // 12 MB of protobuf decodes into ~36 MB: more than the 32 MiB soft limit could ever hold.
  const body = Buffer.alloc(12_000_000);
  for (let i = 0; i < body.length; i += 2) body[i] = 0x0a;
  const r = await post(vigil.http, body, PB);
  t.equal(r.status, 400, 'refused permanently, before decoding, not 503 for ever');
  t.match(decodeStatus(r.body).message, /memory_limiter's soft limit \(32 MiB\)/);
  t.equal(capture.traces.length, 0);
});

t.test('a memory_limiter only in the metrics pipelines does not refuse spans before decoding', async (t) => {
  const { factory, capture } = captureExporter();
  // limit_mib 1: the limiter refuses everything that reaches it.
  const vigil = await startTest(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  memory_limiter:
    limit_mib: 1
    spike_limit_mib: 0
exporters:
  capture:
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [capture]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [capture]
`, [factory]);
  t.teardown(() => vigil.shutdown());
  const traces = await post(vigil.http, Buffer.from(encodeTraces(spans(10, 'ok'))), PB);
  t.equal(traces.status, 200, 'spans: no limiter in their pipeline');
  t.equal(capture.traces.length, 1);
  const metrics = await fetch(`http://${vigil.http}/v1/metrics`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"resourceMetrics":[]}' });
  t.equal(metrics.status, 503, 'metrics: refused by their limiter');
});
