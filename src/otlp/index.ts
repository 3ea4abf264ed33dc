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
import { DecodeLimits, LimitError, VALUES_PER_ITEM, decodeWithin } from './limits';
import { prepareJsonText } from './json-text';
import { logsFromJson, logsToJson } from './json-logs';
import { metricsFromJson, metricsToJson } from './json-metrics';
import { tracesFromJson, tracesToJson } from './json-traces';

export { DecodeError } from './errors';
export { DecodeLimits, LimitError } from './limits';
export { prepareJsonText } from './json-text';
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

/**
 * Parses OTLP/JSON text; a syntax error becomes a DecodeError too. Integers past 2^53 written as
 * bare numbers arrive exact (see json-text.ts). With `limits`, a body over them is refused with a
 * LimitError before or after parsing (see limits.ts).
 */
export function parseJson<S extends Signal>(signal: S, text: string | Uint8Array, limits?: DecodeLimits): SignalData[S] {
  let json: unknown;
  const source = typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
  const prepared = prepareJsonText(source, limits ? 2 * VALUES_PER_ITEM * limits.maxItems : Infinity);
  try {
    json = JSON.parse(prepared);
  } catch (err) {
    // V8's message quotes the payload, which must not reach logs; keep only the position.
    const at = /position (\d+)/.exec((err as Error).message);
    throw new DecodeError(at ? `invalid JSON at position ${at[1]}` : 'invalid JSON');
  }
  const data = fromJson(signal, json);
  if (limits && countAllItems(signal, data) > limits.maxItems) {
    throw new LimitError(`the request holds more than ${limits.maxItems} items (spans, points, log records, events, links and their resource and scope entries); send it in smaller requests`);
  }
  return data;
}

/**
 * Protobuf → model under decode limits (limits.ts): returns the data and the number of attributes
 * dropped over the per-item cap. Throws DecodeError, or LimitError when the request is too big.
 */
export function decodeLimited<S extends Signal>(signal: S, buf: Uint8Array, limits?: DecodeLimits): { data: SignalData[S]; droppedAttributes: number } {
  const { value, droppedAttributes } = decodeWithin(limits, () => decode(signal, buf));
  return { data: value, droppedAttributes };
}

/** Everything chargeItem counts, for data that did not come through the protobuf decoder. */
function countAllItems(signal: Signal, data: AnySignalData): number {
  let n = 0;
  if (signal === 'traces') {
    for (const rs of (data as Traces).resourceSpans) {
      n += 1;
      for (const ss of rs.scopeSpans) {
        n += 1 + ss.spans.length;
        for (const s of ss.spans) n += s.events.length + s.links.length;
      }
    }
  } else if (signal === 'metrics') {
    for (const rm of (data as Metrics).resourceMetrics) {
      n += 1;
      for (const sm of rm.scopeMetrics) {
        n += 1 + sm.metrics.length;
        for (const m of sm.metrics) n += m.data.dataPoints.length;
      }
    }
  } else {
    for (const rl of (data as Logs).resourceLogs) {
      n += 1;
      for (const sl of rl.scopeLogs) n += 1 + sl.logRecords.length;
    }
  }
  return n;
}
