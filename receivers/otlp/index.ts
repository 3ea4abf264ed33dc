/**
 * `otlp` receiver: OTLP over HTTP (protobuf and JSON) and gRPC, for traces, metrics and logs.
 * Config as the Collector's: `protocols.grpc` and/or `protocols.http`, each enabled by being present.
 */
import type { Component, ReceiverFactory } from '../../src/component';
import type { GrpcConfig, OtlpGrpcServer } from './grpc';
import { HttpConfig, OtlpHttpServer } from './http';
import { receiverAuthSchema, resolveAuthenticator } from '../../src/auth/receiver';
import { warnIfExposed } from '../../src/tls/exposure';
import { tlsServerSchema as tlsSchema } from '../../src/tls/config';
import { parseEndpoint } from '../../src/util/net';
import { admitEstimate } from '../../processors/memory_limiter';
import type { Signal } from '../../src/model';

export interface OtlpReceiverConfig {
  protocols: { grpc?: GrpcConfig; http?: HttpConfig };
}

export interface OtlpReceiver extends Component {
  /** Bound addresses once started, e.g. { http: "127.0.0.1:4318", grpc: "127.0.0.1:4317" }. */
  endpoints: { http?: string; grpc?: string };
}

/** Bounds on what decoding one request may build (src/otlp/limits.ts). */
const limitsSchema = {
  max_items_per_request: {
    type: 'integer', minimum: 1, default: 100_000,
    description: 'Spans, data points, log records, events, links and resource/scope entries one request may hold; a larger request is refused with 413 / INVALID_ARGUMENT (not retried), and all attribute values together are bounded by 10 times this.',
  },
  max_attributes_per_item: {
    type: 'integer', minimum: 1, default: 1024,
    description: 'Attributes kept per span, event, link, data point, log record, resource or scope; more are dropped and counted in droppedAttributesCount.',
  },
};

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  description: 'Receives traces, metrics and logs over OTLP/gRPC and OTLP/HTTP (protobuf or JSON).',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: {
    type: 'object',
    required: ['protocols'],
    properties: {
      protocols: {
        type: 'object',
        description: 'The transports to serve; each is enabled by being listed (an empty value takes all defaults).',
        minProperties: 1,
        properties: {
          grpc: {
            type: 'object',
            properties: {
              endpoint: { type: 'string', default: '127.0.0.1:4317', description: 'host:port to listen on; ":4317" or "0.0.0.0:4317" for all interfaces.' },
              max_recv_msg_size_mib: { type: 'number', exclusiveMinimum: 0, default: 4, description: 'Largest request accepted, after decompression.' },
              max_concurrent_streams: { type: 'integer', minimum: 0, default: 0, description: 'Streams per connection; 0 leaves the gRPC default.' },
              ...limitsSchema,
              tls: tlsSchema,
              auth: receiverAuthSchema,
            },
          },
          http: {
            type: 'object',
            properties: {
              endpoint: { type: 'string', default: '127.0.0.1:4318', description: 'host:port to listen on; ":4318" or "0.0.0.0:4318" for all interfaces.' },
              max_request_body_size: { type: 'integer', minimum: 1, default: 20 * 1024 * 1024, description: 'Largest body accepted in bytes, before and after decompression.' },
              ...limitsSchema,
              traces_url_path: { type: 'string', pattern: '^/', default: '/v1/traces' },
              metrics_url_path: { type: 'string', pattern: '^/', default: '/v1/metrics' },
              logs_url_path: { type: 'string', pattern: '^/', default: '/v1/logs' },
              cors: {
                type: 'object',
                description: 'Cross-origin requests from browsers (e.g. the OpenTelemetry web SDK).',
                properties: {
                  allowed_origins: { type: 'array', items: { type: 'string' }, default: [], description: 'Origins allowed, "*" wildcards permitted.' },
                  allowed_headers: { type: 'array', items: { type: 'string' }, default: [] },
                  max_age: { type: 'integer', minimum: 0, default: 0, description: 'Seconds browsers may cache a preflight answer.' },
                },
              },
              tls: tlsSchema,
              auth: receiverAuthSchema,
            },
          },
        },
      },
    },
  },
  validate(c) {
    return c.protocols.grpc || c.protocols.http ? [] : [{ path: ['protocols'], message: 'enable at least one of grpc, http' }];
  },
  create(settings, next): OtlpReceiver {
    const { grpc, http } = settings.config.protocols;
    const httpServer = http ? new OtlpHttpServer(http, next, settings.logger) : undefined;
    // @grpc/grpc-js is loaded only when gRPC is configured (it is a good part of an idle process's memory).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const grpcServer: OtlpGrpcServer | undefined = grpc ? new (require('./grpc') as typeof import('./grpc')).OtlpGrpcServer(grpc, next, settings.logger) : undefined;
    const endpoints: OtlpReceiver['endpoints'] = {};
    // The memory limiters in this collector's pipelines of the request's signal are asked, with an
    // estimate, before a request is decoded.
    const admitDecode = (signal: Signal, bytes: number) => admitEstimate(settings.telemetry, signal, bytes);
    if (httpServer) httpServer.admitDecode = admitDecode;
    if (grpcServer) grpcServer.admitDecode = admitDecode;
    return {
      endpoints,
      async start(host) {
        if (httpServer) httpServer.authenticator = resolveAuthenticator(host, http?.auth, 'receivers.otlp.protocols.http.auth');
        if (grpcServer) grpcServer.authenticator = resolveAuthenticator(host, grpc?.auth, 'receivers.otlp.protocols.grpc.auth');
        if (grpcServer) endpoints.grpc = await grpcServer.start();
        try {
          if (httpServer) endpoints.http = await httpServer.start();
        } catch (e) {
          await grpcServer?.shutdown();
          throw e;
        }
        settings.logger.info({ ...endpoints }, 'OTLP receiver listening');
        if (http) warnIfExposed(settings.logger, `receivers.${settings.id}.protocols.http`, parseEndpoint(http.endpoint).host, { tls: !!http.tls, auth: !!http.auth });
        if (grpc) warnIfExposed(settings.logger, `receivers.${settings.id}.protocols.grpc`, parseEndpoint(grpc.endpoint).host, { tls: !!grpc.tls, auth: !!grpc.auth });
      },
      async shutdown() {
        await Promise.all([httpServer?.shutdown(), grpcServer?.shutdown()]);
      },
    };
  },
};
