/**
 * OTLP codecs: protobuf and OTLP/JSON to and from the internal model, export responses,
 * google.rpc.Status, and gRPC service definitions. See README.md in this folder.
 */
import type { AnySignalData, Logs, Metrics, Signal, SignalData, Traces } from '../model';
import { decodeLogs } from './decode-logs';
import { decodeMetrics } from './decode-metrics';
import { decodeTraces } from './decode-traces';
import { encodeLogs } from './encode-logs';
import { encodeMetrics } from './encode-metrics';
import { encodeTraces } from './encode-traces';
import { DecodeError } from './errors';
import { logsFromJson, logsToJson } from './json-logs';
import { metricsFromJson, metricsToJson } from './json-metrics';
import { tracesFromJson, tracesToJson } from './json-traces';

export { DecodeError } from './errors';
export { decodeTraces, decodeMetrics, decodeLogs, encodeTraces, encodeMetrics, encodeLogs };
export { tracesFromJson, metricsFromJson, logsFromJson, tracesToJson, metricsToJson, logsToJson };
export {
  ExportResponse, PartialSuccess, DecodedStatus, REJECTED_FIELD, RETRY_INFO_TYPE_URL,
  encodeExportResponse, exportResponseJson, decodeExportResponse, encodeStatus, statusJson, decodeStatus,
} from './response';
export { GRPC_SERVICE_NAME, grpcExportPath, grpcServiceDefinition } from './grpc';
export { MESSAGE_TYPES, PROTO_FILES, messageType, otlpRoot, protoDir } from './schema';
export { MAX_VALUE_DEPTH } from './decode-common';

/** The HTTP path OTLP/HTTP uses for each signal. */
export const HTTP_PATHS: Record<Signal, string> = { traces: '/v1/traces', metrics: '/v1/metrics', logs: '/v1/logs' };

/** Protobuf Export<Signal>ServiceRequest → model. Throws DecodeError. */
export function decode<S extends Signal>(signal: S, buf: Uint8Array): SignalData[S] {
  switch (signal) {
    case 'traces': return decodeTraces(buf) as SignalData[S];
    case 'metrics': return decodeMetrics(buf) as SignalData[S];
    case 'logs': return decodeLogs(buf) as SignalData[S];
  }
  throw new Error(`unknown signal ${signal}`);
}

/** Model → protobuf Export<Signal>ServiceRequest. Throws a plain Error on invalid ids. */
export function encode<S extends Signal>(signal: S, data: SignalData[S]): Uint8Array {
  switch (signal) {
    case 'traces': return encodeTraces(data as Traces);
    case 'metrics': return encodeMetrics(data as Metrics);
    case 'logs': return encodeLogs(data as Logs);
  }
  throw new Error(`unknown signal ${signal}`);
}

/** Parsed OTLP/JSON → model. Throws DecodeError naming the path on bad types or ids. */
export function fromJson<S extends Signal>(signal: S, json: unknown): SignalData[S] {
  switch (signal) {
    case 'traces': return tracesFromJson(json) as SignalData[S];
    case 'metrics': return metricsFromJson(json) as SignalData[S];
    case 'logs': return logsFromJson(json) as SignalData[S];
  }
  throw new Error(`unknown signal ${signal}`);
}

/** Model → OTLP/JSON value (pass to JSON.stringify). */
export function toJson(signal: Signal, data: AnySignalData): Record<string, unknown> {
  switch (signal) {
    case 'traces': return tracesToJson(data as Traces);
    case 'metrics': return metricsToJson(data as Metrics);
    case 'logs': return logsToJson(data as Logs);
  }
  throw new Error(`unknown signal ${signal}`);
}

/** Parses OTLP/JSON text; a syntax error becomes a DecodeError too. */
export function parseJson<S extends Signal>(signal: S, text: string | Uint8Array): SignalData[S] {
  let json: unknown;
  try {
    json = JSON.parse(typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'));
  } catch (err) {
    // V8's message quotes the payload, which must not reach logs; keep only the position.
    const at = /position (\d+)/.exec((err as Error).message);
    throw new DecodeError(at ? `invalid JSON at position ${at[1]}` : 'invalid JSON');
  }
  return fromJson(signal, json);
}
