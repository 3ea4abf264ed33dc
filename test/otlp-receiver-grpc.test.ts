/**
 * OTLP/gRPC status cases with a raw @grpc/grpc-js client: INVALID_ARGUMENT for bad data,
 * UNAVAILABLE / RESOURCE_EXHAUSTED with a RetryInfo detail for backpressure, the maximum message
 * size (after decompression too), and partial success.
 */
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { RetryableError } from '../src/errors';
import { decodeExportResponse, decodeStatus, encodeTraces } from '../src/otlp';
import { captureExporter, otlpConfig, startTest } from './helpers/collector';
import { Traces } from '../src/model';

const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function call(client: grpc.Client, body: Buffer): Promise<{ err?: grpc.ServiceError; res?: Buffer }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(PATH, (b: Buffer) => b, (b: Buffer) => b, body, (err, res) => resolve({ err: err ?? undefined, res }));
  });
}

function traces(n: number, pad = 0, traceId = 'aa'.repeat(16)): Traces {
  return {
    resourceSpans: [{
      resource: { attributes: { 'service.name': 'g' }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{
        scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: Array.from({ length: n }, (_, i) => ({
          traceId: i === 1 ? traceId : 'aa'.repeat(16), spanId: (i + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: '', flags: 0, name: 'x'.repeat(pad), kind: 1,
          startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes: {}, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
        })),
      }],
    }],
  };
}

t.test('OTLP/gRPC status cases', async (t) => {
  const { factory, capture } = captureExporter();
  const vigil = await startTest(otlpConfig(['capture'], { extra: 'exporters:\n  capture:\n', grpc: '        max_recv_msg_size_mib: 1' }), [factory]);
  const client = new grpc.Client(vigil.grpc, grpc.credentials.createInsecure());
  const gzClient = new grpc.Client(vigil.grpc, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 } as grpc.ClientOptions);
  t.teardown(async () => {
    client.close();
    gzClient.close();
    await vigil.shutdown();
  });

  let r = await call(client, Buffer.from(encodeTraces(traces(2))));
  t.notOk(r.err, 'valid request accepted');
  t.same(decodeExportResponse('traces', r.res!), {});
  t.equal(capture.traces.length, 1);

  r = await call(client, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
  t.equal(r.err?.code, grpc.status.INVALID_ARGUMENT, 'malformed protobuf');
  t.ok(r.err?.details.length, 'with a message');

  r = await call(client, Buffer.from(encodeTraces(traces(3, 0, '0'.repeat(32)))));
  t.notOk(r.err);
  t.match(decodeExportResponse('traces', r.res!), { partialSuccess: { rejected: 1 } }, 'partial success');

  r = await call(client, Buffer.from(encodeTraces(traces(1, 2 * 1024 * 1024))));
  t.equal(r.err?.code, grpc.status.RESOURCE_EXHAUSTED, 'over max_recv_msg_size_mib');

  // 1.5 MiB of names compresses to little; the limit applies to the decompressed message.
  r = await call(gzClient, Buffer.from(encodeTraces(traces(1, 1.5 * 1024 * 1024))));
  t.equal(r.err?.code, grpc.status.RESOURCE_EXHAUSTED, 'over the limit once decompressed');
  r = await call(gzClient, Buffer.from(encodeTraces(traces(2, 1000))));
  t.notOk(r.err, 'gzip request under the limit accepted');
  t.ok(gzipSync(Buffer.alloc(10)).length > 0);

  capture.fail = () => new RetryableError('memory limit', 2000);
  r = await call(client, Buffer.from(encodeTraces(traces(1))));
  t.equal(r.err?.code, grpc.status.UNAVAILABLE);
  const details = r.err?.metadata.get('grpc-status-details-bin')[0] as Buffer;
  t.ok(details, 'status details sent');
  t.equal(decodeStatus(details).retryDelayMs, 2000, 'RetryInfo carries the delay');

  capture.fail = () => new RetryableError('throttled', 1000, true);
  r = await call(client, Buffer.from(encodeTraces(traces(1))));
  t.equal(r.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.equal(decodeStatus(r.err!.metadata.get('grpc-status-details-bin')[0] as Buffer).retryDelayMs, 1000);
  capture.fail = undefined;

  r = await call(client, Buffer.from(encodeTraces(traces(1))));
  t.notOk(r.err, 'still serving');
});
