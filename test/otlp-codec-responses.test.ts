/** Export responses, google.rpc.Status with RetryInfo, and the gRPC service definitions over a real connection. */
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import {
  GRPC_SERVICE_NAME, MESSAGE_TYPES, RETRY_INFO_TYPE_URL, decodeExportResponse, decodeStatus, encodeExportResponse,
  encodeStatus, exportResponseJson, grpcServiceDefinition, messageType, statusJson,
} from '../src/otlp';
import type { Traces } from '../src/model';
import { canon, fullTraces } from './otlp-codec-fixtures';

const OPTS = { longs: String, enums: Number, defaults: false };

t.test('export responses in protobuf', async (t) => {
  t.equal(encodeExportResponse('traces').length, 0, 'full success is an empty message');
  t.equal(encodeExportResponse('logs', { rejected: 0, errorMessage: '' }).length, 0);
  const fields = { traces: 'rejectedSpans', metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords' } as const;
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const bytes = encodeExportResponse(signal, { rejected: 3, errorMessage: 'quota exceeded' });
    const type = messageType(MESSAGE_TYPES[signal].response);
    t.same(type.toObject(type.decode(bytes), OPTS), { partialSuccess: { [fields[signal]]: '3', errorMessage: 'quota exceeded' } }, signal);
    t.same(decodeExportResponse(signal, bytes), { partialSuccess: { rejected: 3, errorMessage: 'quota exceeded' } }, `${signal} decodes back`);
  }
  // A warning: nothing rejected, but a message.
  const warn = encodeExportResponse('metrics', { rejected: 0, errorMessage: 'deprecated field' });
  t.same(decodeExportResponse('metrics', warn), { partialSuccess: { rejected: 0, errorMessage: 'deprecated field' } });
});

t.test('export responses in OTLP/JSON', async (t) => {
  t.same(exportResponseJson('traces'), {});
  t.same(exportResponseJson('traces', { rejected: 2, errorMessage: 'bad span' }), { partialSuccess: { rejectedSpans: '2', errorMessage: 'bad span' } });
  t.same(exportResponseJson('metrics', { rejected: 5, errorMessage: '' }), { partialSuccess: { rejectedDataPoints: '5' } });
  t.same(exportResponseJson('logs', { rejected: 1, errorMessage: 'x' }), { partialSuccess: { rejectedLogRecords: '1', errorMessage: 'x' } });
});

t.test('google.rpc.Status with RetryInfo', async (t) => {
  const status = messageType('google.rpc.Status');
  const plain = status.toObject(status.decode(encodeStatus(3, 'invalid trace id')), OPTS);
  t.same(plain, { code: 3, message: 'invalid trace id' });

  const withRetry = status.decode(encodeStatus(14, 'queue full', 1500)) as unknown as { code: number; message: string; details: { type_url?: string; typeUrl?: string; value: Uint8Array }[] };
  t.equal(withRetry.code, 14);
  t.equal(withRetry.details.length, 1);
  const any = withRetry.details[0];
  t.equal(any.typeUrl ?? any.type_url, RETRY_INFO_TYPE_URL);
  const retry = messageType('google.rpc.RetryInfo');
  t.same(retry.toObject(retry.decode(any.value), OPTS), { retryDelay: { seconds: '1', nanos: 500_000_000 } });

  t.same(decodeStatus(encodeStatus(14, 'queue full', 1500)), { code: 14, message: 'queue full', retryDelayMs: 1500 });
  t.same(decodeStatus(encodeStatus(8, 'slow down', 0)), { code: 8, message: 'slow down', retryDelayMs: 0 });
  t.same(decodeStatus(encodeStatus(13, 'oops')), { code: 13, message: 'oops' });

  t.same(statusJson(3, 'bad'), { code: 3, message: 'bad' });
  t.same(statusJson(14, 'later', 2500), { code: 14, message: 'later', details: [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: '2.5s' }] });
});

t.test('gRPC Export over a real connection', async (t) => {
  const server = new grpc.Server();
  const received: Traces[] = [];
  server.addService(grpcServiceDefinition('traces'), {
    Export: (call: grpc.ServerUnaryCall<Traces, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      received.push(call.request);
      cb(null, { partialSuccess: { rejected: 1, errorMessage: 'one span dropped' } });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => { server.forceShutdown(); });

  const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition('traces'), 'TraceService');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  t.teardown(() => client.close());
  const res = await new Promise((resolve, reject) => client.Export(fullTraces(), (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))));
  t.same(res, { partialSuccess: { rejected: 1, errorMessage: 'one span dropped' } }, 'partial success reaches the client');
  t.equal(received.length, 1);
  t.strictSame(canon(received[0]), canon(fullTraces()), 'the handler sees the decoded model');

  // Bytes that are not a valid request: grpc-js answers INTERNAL with the decode error.
  const raw = grpc.makeGenericClientConstructor({
    Export: { ...grpcServiceDefinition('traces').Export, requestSerialize: (b: Buffer) => b },
  }, 'Raw');
  const rawClient = new raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  t.teardown(() => rawClient.close());
  const err = await new Promise<grpc.ServiceError>((resolve) => rawClient.Export(Buffer.from([0x0a, 0x05, 0x12]), (e: grpc.ServiceError) => resolve(e)));
  t.equal(err?.code, grpc.status.INTERNAL);
  t.match(err?.details, /truncated message/);
  t.equal(GRPC_SERVICE_NAME.traces, 'opentelemetry.proto.collector.trace.v1.TraceService');
  t.equal(grpcServiceDefinition('logs').Export.path, '/opentelemetry.proto.collector.logs.v1.LogsService/Export');
  t.equal(grpcServiceDefinition('metrics').Export.path, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
});
