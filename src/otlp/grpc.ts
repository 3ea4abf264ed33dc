/**
 * gRPC service definitions for the three OTLP Export services, with the fast codecs as
 * (de)serializers: a handler registered with `server.addService(grpcServiceDefinition('traces'),
 * { Export })` sees the decoded model as `call.request` and answers with an ExportResponse.
 *
 * A request that fails to decode is answered by grpc-js itself with INTERNAL ("Error deserializing
 * request: <DecodeError message>"), which is also what the Go Collector's gRPC server answers.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Signal, SignalData } from '../model';
import { decodeLogs } from './decode-logs';
import { decodeMetrics } from './decode-metrics';
import { decodeTraces } from './decode-traces';
import { encodeLogs } from './encode-logs';
import { encodeMetrics } from './encode-metrics';
import { encodeTraces } from './encode-traces';
import { ExportResponse, decodeExportResponse, encodeExportResponse } from './response';

/** Fully-qualified service name per signal (note the singular "trace" package). */
export const GRPC_SERVICE_NAME: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};

/** The HTTP/2 path of each Export method. */
export function grpcExportPath(signal: Signal): string {
  return `/${GRPC_SERVICE_NAME[signal]}/Export`;
}

const decoders = { traces: decodeTraces, metrics: decodeMetrics, logs: decodeLogs };
const encoders = { traces: encodeTraces, metrics: encodeMetrics, logs: encodeLogs };

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function grpcServiceDefinition<S extends Signal>(signal: S): ServiceDefinition {
  const decode = decoders[signal] as (b: Uint8Array) => SignalData[S];
  const encode = encoders[signal] as (d: SignalData[S]) => Uint8Array;
  return {
    Export: {
      path: grpcExportPath(signal),
      requestStream: false,
      responseStream: false,
      requestSerialize: (data: SignalData[S]) => toBuffer(encode(data)),
      requestDeserialize: (buf: Buffer) => decode(buf),
      responseSerialize: (res: ExportResponse | undefined) => toBuffer(encodeExportResponse(signal, res?.partialSuccess)),
      responseDeserialize: (buf: Buffer) => decodeExportResponse(signal, buf),
      originalName: 'export',
    },
  };
}
