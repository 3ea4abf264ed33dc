/**
 * `otlp` exporter: forwards traces, metrics and logs to another collector (or any OTLP backend)
 * over OTLP/gRPC, as the OpenTelemetry Collector's exporter of the same name does. @grpc/grpc-js
 * is loaded when an instance is created, so the component registry stays light.
 */
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { ExporterHelperConfig, createExporter, exporterHelperProperties, resolveHelperConfig } from '../../src/exporterhelper';
import { lazy } from '../../src/util/lazy';
import { tlsClientProblems, tlsClientSchema } from '../../src/tls/config';
import { rejectedCounters, reportPartialSuccess } from '../otlphttp/partial';
import type { GrpcTlsConfig, OtlpGrpcClient } from './client';

export interface OtlpGrpcConfig extends ExporterHelperConfig {
  endpoint: string;
  compression: 'gzip' | 'none';
  headers: Record<string, string>;
  tls: GrpcTlsConfig;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadClient = lazy(() => require('./client') as typeof import('./client'));

/**
 * The gRPC target and whether to use TLS. As in the Collector, an `http://` or `https://` prefix
 * is dropped and decides TLS; otherwise `tls.insecure` does.
 */
export function resolveTarget(endpoint: string, insecure: boolean): { target: string; secure: boolean } {
  const m = /^(https?):\/\/(.*?)\/*$/i.exec(endpoint.trim());
  if (m) return { target: m[2], secure: m[1].toLowerCase() === 'https' };
  return { target: endpoint.trim(), secure: !insecure };
}

export const otlpGrpcExporterFactory: ExporterFactory<OtlpGrpcConfig> = {
  kind: 'exporter',
  type: 'otlp',
  description: 'Forwards traces, metrics and logs to another collector or OTLP backend over OTLP/gRPC (gzip, TLS, metadata headers).',
  signals: ['traces', 'metrics', 'logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['endpoint'],
    properties: {
      endpoint: { type: 'string', minLength: 1, description: 'host:port of the OTLP/gRPC server (e.g. collector.example.com:4317).' },
      compression: { enum: ['gzip', 'none'], default: 'gzip', description: 'Message compression.' },
      headers: { type: 'object', additionalProperties: { type: 'string', secret: true }, default: {}, description: 'Sent as gRPC metadata with every call (e.g. authorization). Never logged.' },
      tls: { ...tlsClientSchema, description: 'TLS is on unless `insecure` is true (or the endpoint starts with http://).' },
      ...exporterHelperProperties({ timeout: '5s' }),
    },
  },
  validate(c) {
    const problems: Array<{ path: Array<string | number>; message: string }> = [];
    const { target } = resolveTarget(c.endpoint, c.tls.insecure);
    if (!target.includes(':')) problems.push({ path: ['endpoint'], message: 'expected host:port, e.g. collector.example.com:4317' });
    problems.push(...tlsClientProblems(c.tls));
    return problems;
  },
  create(settings: CreateSettings<OtlpGrpcConfig>, signals) {
    const c = settings.config;
    const { target, secure } = resolveTarget(c.endpoint, c.tls.insecure);
    const rejected = rejectedCounters(settings.telemetry, settings.id);
    const timeoutMs = resolveHelperConfig(c).timeoutMs;
    // Built now so unreadable certificate files fail at start-up, not at the first send.
    const client: OtlpGrpcClient = new (loadClient().OtlpGrpcClient)({ target, secure, tls: c.tls, compression: c.compression, headers: c.headers, timeoutMs });
    return createExporter(settings, signals, {
      async send(signal, data, ctx) {
        const res = await client.export(signal, data, ctx.signal);
        reportPartialSuccess(settings.logger, rejected, signal, res.partialSuccess, target);
      },
      async shutdown() {
        client.close();
      },
    });
  },
};
