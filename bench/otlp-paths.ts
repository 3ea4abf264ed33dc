/** Where each signal goes in OTLP/HTTP and OTLP/gRPC. Kept apart so the sink loads no SDK. */
export type BenchSignal = 'traces' | 'metrics' | 'logs';

export const HTTP_PATHS: Record<BenchSignal, string> = { traces: '/v1/traces', metrics: '/v1/metrics', logs: '/v1/logs' };

export const GRPC_METHODS: Record<BenchSignal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
