/**
 * The gRPC side of the `otlp` exporter, kept apart so @grpc/grpc-js is only loaded by collectors
 * that configure this exporter. Requests are encoded by Vigil's own codec and passed to grpc-js as
 * raw bytes (the same service paths the OTLP receiver serves).
 */
import * as grpc from '@grpc/grpc-js';
import { grpcChannelCredentials, grpcChannelOptions } from '../../src/tls/grpc';
import type { TlsClientConfig } from '../../src/tls';
import { PermanentError, RetryableError } from '../../src/errors';
import type { AnySignalData, Signal } from '../../src/model';
import { ExportResponse, decodeExportResponse, decodeStatus, encode, grpcExportPath } from '../../src/otlp';

/** The shared client `tls` block (src/tls); `insecure` decides TLS when the endpoint has no scheme. */
export type GrpcTlsConfig = TlsClientConfig & { insecure: boolean };

export interface GrpcClientOptions {
  /** host:port, or a grpc-js target such as dns:///host:port. */
  target: string;
  secure: boolean;
  tls: GrpcTlsConfig;
  compression: 'gzip' | 'none';
  headers: Record<string, string>;
  /** Per-call deadline sent to the server; 0 sends none. */
  timeoutMs: number;
}

/** Codes the OTLP specification calls retryable (RESOURCE_EXHAUSTED only with RetryInfo, below). */
const RETRYABLE = new Set<number>([
  grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS,
]);

const MAX_MESSAGE = 256;
const GZIP = 2; // grpc-js compression algorithm id

export class OtlpGrpcClient {
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;

  constructor(private readonly o: GrpcClientOptions) {
    const creds = grpcChannelCredentials(o.tls, o.secure, 'tls');
    const options: grpc.ClientOptions = o.secure ? grpcChannelOptions(o.tls) : {};
    if (o.compression === 'gzip') options['grpc.default_compression_algorithm'] = GZIP;
    this.client = new grpc.Client(o.target, creds, options);
    this.metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(o.headers)) this.metadata.set(k.toLowerCase(), v);
  }

  /** One Export call. Resolves with the response; rejects with PermanentError or RetryableError. */
  export(signal: Signal, data: AnySignalData, abort: AbortSignal): Promise<ExportResponse> {
    let body: Buffer;
    try {
      const raw = encode(signal, data as never);
      body = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (e) {
      return Promise.reject(new PermanentError(`cannot encode ${signal} for ${this.o.target}: ${(e as Error).message}`));
    }
    const options: grpc.CallOptions = this.o.timeoutMs > 0 ? { deadline: Date.now() + this.o.timeoutMs } : {};
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        grpcExportPath(signal), (b: Buffer) => b, (b: Buffer) => b, body, this.metadata.clone(), options,
        (err, res) => {
          abort.removeEventListener('abort', onAbort);
          if (err) return reject(this.errorFor(signal, err));
          try {
            resolve(res && res.length ? decodeExportResponse(signal, res) : {});
          } catch {
            // Accepted, but the answer is unreadable: do not send the data again.
            resolve({});
          }
        },
      );
      const onAbort = (): void => call.cancel();
      if (abort.aborted) call.cancel();
      else abort.addEventListener('abort', onAbort, { once: true });
    });
  }

  private errorFor(signal: Signal, err: grpc.ServiceError): Error {
    let retryDelayMs: number | undefined;
    const details = err.metadata?.get('grpc-status-details-bin')[0];
    if (details) {
      try {
        retryDelayMs = decodeStatus(typeof details === 'string' ? Buffer.from(details, 'base64') : details).retryDelayMs;
      } catch {
        // no usable RetryInfo: fall back to the exporterhelper's backoff
      }
    }
    const text = (err.details ?? '').slice(0, MAX_MESSAGE);
    const msg = `exporting ${signal} to ${this.o.target} failed: ${grpc.status[err.code] ?? err.code}${text ? `: ${text}` : ''}`;
    if (err.code === grpc.status.RESOURCE_EXHAUSTED) {
      // Only a server that says when to come back expects a retry (OTLP specification).
      return retryDelayMs !== undefined ? new RetryableError(msg, retryDelayMs, true) : new PermanentError(msg);
    }
    if (RETRYABLE.has(err.code)) return new RetryableError(msg, retryDelayMs);
    return new PermanentError(msg);
  }

  close(): void {
    this.client.close();
  }
}
