/**
 * How one pre-encoded request reaches the server: OTLP/HTTP over keep-alive connections, or
 * OTLP/gRPC with the body passed through untouched (no protobuf work in the generator).
 */
import * as http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { GRPC_METHODS, HTTP_PATHS, type BenchSignal } from './otlp-paths';

export interface SendResult {
  /** HTTP status ("200", "429"), gRPC status ("grpc:OK", "grpc:UNAVAILABLE"), "timeout" or "error". */
  status: string;
  ok: boolean;
  /** The refusal said when to retry (Retry-After header, or gRPC RetryInfo details). */
  retryAfter: boolean;
  /** Items the server reported as rejected in a partial success. */
  rejectedItems: number;
}

export interface Transport {
  send(body: Buffer): Promise<SendResult>;
  close(): void;
}

export interface TransportOptions {
  kind: 'http' | 'grpc';
  /** http://host:port for HTTP; host:port (or http://host:port) for gRPC. */
  target: string;
  signal: BenchSignal;
  contentType: string;
  contentEncoding?: string;
  concurrency: number;
  timeoutMs: number;
}

export function createTransport(o: TransportOptions): Transport {
  return o.kind === 'grpc' ? grpcTransport(o) : httpTransport(o);
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  while (pos < buf.length) {
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
  return [value, pos];
}

/**
 * The rejected count of an Export*ServiceResponse: field 1 partial_success, whose field 1 is the
 * rejected count for all three signals. Anything unexpected counts as no rejection.
 */
export function rejectedFromProtobuf(buf: Uint8Array): number {
  try {
    let pos = 0;
    while (pos < buf.length) {
      const [key, p] = readVarint(buf, pos);
      pos = p;
      if ((key & 7) !== 2) return 0;
      const [len, p2] = readVarint(buf, pos);
      if (key >>> 3 === 1) {
        let q = p2;
        while (q < p2 + len) {
          const [k2, q1] = readVarint(buf, q);
          if ((k2 & 7) === 0) {
            const [v, q2] = readVarint(buf, q1);
            if (k2 >>> 3 === 1) return v;
            q = q2;
          } else if ((k2 & 7) === 2) {
            const [l2, q2] = readVarint(buf, q1);
            q = q2 + l2;
          } else return 0;
        }
      }
      pos = p2 + len;
    }
  } catch {
    // fall through
  }
  return 0;
}

export function rejectedFromJson(text: string): number {
  if (!text) return 0;
  try {
    const ps = (JSON.parse(text) as { partialSuccess?: Record<string, unknown> }).partialSuccess;
    if (!ps) return 0;
    const v = ps.rejectedSpans ?? ps.rejectedDataPoints ?? ps.rejectedLogRecords ?? 0;
    return Number(v) || 0;
  } catch {
    return 0;
  }
}

function httpTransport(o: TransportOptions): Transport {
  const url = new URL(HTTP_PATHS[o.signal], o.target.includes('://') ? o.target : `http://${o.target}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const json = o.contentType.startsWith('application/json');
  const baseHeaders: Record<string, string> = { 'content-type': o.contentType };
  if (o.contentEncoding) baseHeaders['content-encoding'] = o.contentEncoding;
  return {
    send(body) {
      return new Promise((resolve) => {
        let settled = false;
        const done = (r: SendResult) => {
          if (!settled) {
            settled = true;
            resolve(r);
          }
        };
        const req = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { ...baseHeaders, 'content-length': String(body.length) },
            timeout: o.timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              const ok = status >= 200 && status < 300;
              const buf = Buffer.concat(chunks);
              done({
                status: String(status),
                ok,
                retryAfter: res.headers['retry-after'] !== undefined,
                rejectedItems: ok ? (json ? rejectedFromJson(buf.toString('utf8')) : rejectedFromProtobuf(buf)) : 0,
              });
            });
            res.on('error', () => done({ status: 'error', ok: false, retryAfter: false, rejectedItems: 0 }));
          },
        );
        req.on('timeout', () => {
          req.destroy();
          done({ status: 'timeout', ok: false, retryAfter: false, rejectedItems: 0 });
        });
        req.on('error', () => done({ status: 'error', ok: false, retryAfter: false, rejectedItems: 0 }));
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

const GRPC_STATUS_NAMES = new Map<number, string>(Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));

function grpcTransport(o: TransportOptions): Transport {
  const address = o.target.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  const channelOptions: grpc.ChannelOptions = {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  };
  // gRPC compresses per message as it sends, so gzip here costs generator CPU, unlike HTTP's pre-compressed bodies.
  if (o.contentEncoding === 'gzip') channelOptions['grpc.default_compression_algorithm'] = 2;
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), channelOptions);
  const method = GRPC_METHODS[o.signal];
  const passthrough = (b: Buffer) => b;
  return {
    send(body) {
      return new Promise((resolve) => {
        let trailers: grpc.Metadata | undefined;
        const call = client.makeUnaryRequest<Buffer, Buffer>(
          method,
          passthrough,
          passthrough,
          body,
          new grpc.Metadata(),
          { deadline: Date.now() + o.timeoutMs },
          (err, response) => {
            if (err) {
              const name = err.code === grpc.status.DEADLINE_EXCEEDED ? 'timeout' : `grpc:${GRPC_STATUS_NAMES.get(err.code) ?? err.code}`;
              const md = err.metadata ?? trailers;
              resolve({ status: name, ok: false, retryAfter: !!md && md.get('grpc-status-details-bin').length > 0, rejectedItems: 0 });
            } else {
              resolve({ status: 'grpc:OK', ok: true, retryAfter: false, rejectedItems: response ? rejectedFromProtobuf(response) : 0 });
            }
          },
        );
        call.on('status', (s: grpc.StatusObject) => {
          trailers = s.metadata;
        });
      });
    },
    close() {
      client.close();
    },
  };
}
