/**
 * OTLP/gRPC server (@grpc/grpc-js): the three Export services with gzip, a maximum message size,
 * INVALID_ARGUMENT for data that cannot be decoded, and UNAVAILABLE / RESOURCE_EXHAUSTED carrying a
 * RetryInfo detail when the pipeline pushes back, which is what OTLP clients retry on.
 *
 * Requests arrive as raw bytes and are decoded in the handler, so that a decoding failure becomes
 * INVALID_ARGUMENT with a message instead of grpc-js's generic INTERNAL.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SignalConsumers } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { Signal, countItems } from '../../src/model';
import { parseEndpoint } from '../../src/util/net';
import { DecodeError, decodeLimited, encodeExportResponse, encodeStatus } from '../../src/otlp';
import { decodeEstimate, decodeLimitsOf, droppedAttributesNote } from './limits';
import { dropInvalidItems } from './validate';
import type { TlsServerConfig } from '../../src/tls';
import { grpcServerCredentials } from '../../src/tls/grpc';

export interface GrpcConfig {
  endpoint: string;
  max_recv_msg_size_mib: number;
  max_concurrent_streams: number;
  max_items_per_request: number;
  max_attributes_per_item: number;
  tls?: TlsServerConfig;
  auth?: import('../../src/auth/receiver').ReceiverAuthConfig;
}

const SERVICES: Record<Signal, { path: string; name: string }> = {
  traces: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', name: 'TraceService' },
  metrics: { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', name: 'MetricsService' },
  logs: { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', name: 'LogsService' },
};

type PartialSuccess = { rejected: number; errorMessage: string } | undefined;

function serviceDefinition(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: SERVICES[signal].path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (p: PartialSuccess) => Buffer.from(encodeExportResponse(signal, p)),
      responseDeserialize: (b: Buffer) => b,
    },
  };
}

export class OtlpGrpcServer {
  private server?: grpc.Server;
  private stopping = false;
  private stopTlsWatch = (): void => {};
  address?: string;
  /** Set at creation: asks the memory limiters of the signal's pipelines whether decoding about `bytes` more fits (throws if not). */
  admitDecode?: (signal: Signal, bytes: number) => void;
  /** Set at start from `auth.authenticator`: calls without its credentials get UNAUTHENTICATED. */
  authenticator?: import('../../src/auth/credentials').ServerAuthenticator;

  constructor(private readonly cfg: GrpcConfig, private readonly next: SignalConsumers, private readonly logger: Logger) {}

  async start(): Promise<string> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': Math.round(this.cfg.max_recv_msg_size_mib * 1024 * 1024),
      ...(this.cfg.max_concurrent_streams > 0 ? { 'grpc.max_concurrent_streams': this.cfg.max_concurrent_streams } : {}),
    });
    for (const signal of ['traces', 'metrics', 'logs'] as Signal[]) {
      if (!this.next[signal]) continue;
      server.addService(serviceDefinition(signal), { Export: (call: grpc.ServerUnaryCall<Buffer, PartialSuccess>, cb: grpc.sendUnaryData<PartialSuccess>) => this.authorise(call).then((ok) => (ok ? this.export(signal, call.request, cb) : cb({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong credentials' }))) });
    }
    const ep = parseEndpoint(this.cfg.endpoint, 'protocols.grpc.endpoint');
    const tls = grpcServerCredentials(this.cfg.tls, 'protocols.grpc.tls', this.logger);
    this.stopTlsWatch = tls.stop;
    const creds = tls.credentials;
    const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${ep.port}`, creds, (err, p) => (err ? reject(new Error(`cannot listen on ${host}:${ep.port}: ${err.message}`)) : resolve(p))),
    );
    this.server = server;
    this.address = `${host}:${port}`;
    return this.address;
  }

  private async authorise(call: grpc.ServerUnaryCall<Buffer, PartialSuccess>): Promise<boolean> {
    if (!this.authenticator) return true;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string') headers[k] = v;
    return (await this.authenticator.authenticate(headers)).ok;
  }

  private async export(signal: Signal, body: Buffer, cb: grpc.sendUnaryData<PartialSuccess>): Promise<void> {
    if (this.stopping) return cb(errorFor(new RetryableError('the server is shutting down', 1000)));
    try {
      this.admitDecode?.(signal, decodeEstimate(body.length, false));
    } catch (e) {
      return cb(errorFor(e));
    }
    let data;
    let droppedAttributes;
    try {
      ({ data, droppedAttributes } = decodeLimited(signal, body, decodeLimitsOf(this.cfg)));
    } catch (e) {
      // Bad data and data over the decode limits alike can never be accepted: INVALID_ARGUMENT.
      return cb({ code: grpc.status.INVALID_ARGUMENT, details: (e as Error).message });
    }
    const total = countItems(signal, data);
    const { rejected, message: invalid } = dropInvalidItems(signal, data);
    const message = [invalid, droppedAttributesNote(droppedAttributes, this.cfg.max_attributes_per_item)].filter(Boolean).join('; ');
    try {
      if (total - rejected > 0) await this.next[signal]!.consume(data as never);
      cb(null, rejected || message ? { rejected, errorMessage: message } : undefined);
    } catch (e) {
      if (e instanceof PermanentError && e.rejectedItems !== undefined && e.rejectedItems + rejected < total) {
        return cb(null, { rejected: rejected + e.rejectedItems, errorMessage: [message, e.message].filter(Boolean).join('; ') });
      }
      if (!(e instanceof PermanentError) && !(e instanceof RetryableError) && !(e instanceof DecodeError)) {
        this.logger.error({ err: (e as Error).message }, 'pipeline failed to accept OTLP data');
      }
      cb(errorFor(e));
    }
  }

  async shutdown(): Promise<void> {
    this.stopTlsWatch();
    const server = this.server;
    if (!server) return;
    this.stopping = true;
    // tryShutdown lets calls in progress finish; their data reaches the pipeline before we return.
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 10_000);
      server.tryShutdown(() => { clearTimeout(t); resolve(); });
    });
    this.server = undefined;
  }
}

function errorFor(e: unknown): Partial<grpc.ServiceError> {
  if (e instanceof PermanentError || e instanceof DecodeError) return { code: grpc.status.INVALID_ARGUMENT, details: e.message };
  const retryAfterMs = e instanceof RetryableError ? e.retryAfterMs ?? 1000 : 1000;
  const code = e instanceof RetryableError && e.throttled ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.UNAVAILABLE;
  const details = e instanceof RetryableError ? e.message : 'internal error; retry later';
  const metadata = new grpc.Metadata();
  // The RetryInfo detail tells OTLP clients how long to wait before retrying.
  metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(code, details, retryAfterMs)));
  return { code, details, metadata };
}
