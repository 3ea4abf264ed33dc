/**
 * The OTLP schema in proto/, loaded with protobufjs reflection on first use. The hot paths do not
 * use it (they have hand-written codecs); it is here for tools, tests and anything that needs a
 * message type by name.
 */
import { join } from 'node:path';
import type * as protobuf from 'protobufjs';
import { projectRoot } from '../paths';
import type { Signal } from '../model';

export const PROTO_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

/** Fully-qualified request and response message names per signal. */
export const MESSAGE_TYPES: Record<Signal, { request: string; response: string }> = {
  traces: {
    request: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
    response: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  },
  metrics: {
    request: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    response: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
  },
  logs: {
    request: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
    response: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  },
};

let root: protobuf.Root | undefined;

/** The folder holding the .proto files. */
export function protoDir(): string {
  return join(projectRoot(), 'proto');
}

/** All OTLP messages and services, plus google.rpc.Status and RetryInfo. */
export function otlpRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  // Loaded here rather than at import: only tools and tests need reflection, and it is not small.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pb = require('protobufjs') as typeof protobuf;
  const r = new pb.Root();
  // Imports are written relative to proto/, as protoc's -I would take them.
  r.resolvePath = (_origin, target) => join(dir, target);
  r.loadSync(PROTO_FILES, { keepCase: false });
  r.resolveAll();
  root = r;
  return r;
}

export function messageType(name: string): protobuf.Type {
  return otlpRoot().lookupType(name);
}
