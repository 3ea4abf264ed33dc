/**
 * A tiny OTLP receiver that accepts everything and counts what it got: for testing the harness
 * itself, and for measuring how fast the generator can go when the server costs nothing.
 */
import * as http from 'node:http';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { countJsonItems, countProtobufItems } from './count-items';
import { GRPC_METHODS, HTTP_PATHS, type BenchSignal } from './otlp-paths';

export interface SinkCounts {
  requests: number;
  items: number;
  bytes: number;
  /** Requests answered with an error status (by `rejectEvery`). */
  rejected: number;
}

export interface SinkOptions {
  /** Answer every Nth request with 503 and Retry-After instead of accepting it (0 = never). */
  rejectEvery?: number;
  /** Also listen for OTLP/gRPC. */
  grpc?: boolean;
}

export interface Sink {
  httpUrl: string;
  /** host:port of the gRPC listener, when asked for. */
  grpcAddress?: string;
  counts: SinkCounts;
  close(): Promise<void>;
}

const SIGNAL_BY_PATH = new Map<string, BenchSignal>(Object.entries(HTTP_PATHS).map(([s, p]) => [p, s as BenchSignal]));
const MAX_BODY = 64 * 1024 * 1024;

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const counts: SinkCounts = { requests: 0, items: 0, bytes: 0, rejected: 0 };
  let seen = 0;
  const shouldReject = () => {
    seen++;
    return !!options.rejectEvery && seen % options.rejectEvery === 0;
  };

  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const signal = SIGNAL_BY_PATH.get((req.url ?? '').split('?')[0]);
    if (req.method !== 'POST' || !signal) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      if (shouldReject()) {
        counts.rejected++;
        res.writeHead(503, { 'retry-after': '1', 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        counts.bytes += body.length;
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        counts.items += json ? countJsonItems(signal, body.toString('utf8')) : countProtobufItems(signal, body);
        counts.requests++;
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  let grpcServer: grpc.Server | undefined;
  let grpcAddress: string | undefined;
  if (options.grpc) {
    grpcServer = new grpc.Server();
    for (const [signal, method] of Object.entries(GRPC_METHODS) as [BenchSignal, string][]) {
      const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
        if (shouldReject()) {
          counts.rejected++;
          callback({ code: grpc.status.UNAVAILABLE, details: 'sink rejects this one' });
          return;
        }
        try {
          counts.bytes += call.request.length;
          counts.items += countProtobufItems(signal, call.request);
          counts.requests++;
          callback(null, Buffer.alloc(0));
        } catch {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: 'undecodable' });
        }
      };
      grpcServer.register(method, handler, (b: Buffer) => b, (b: Buffer) => b, 'unary');
    }
    const gport = await new Promise<number>((resolve, reject) =>
      grpcServer!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    grpcAddress = `127.0.0.1:${gport}`;
  }

  return {
    httpUrl: `http://127.0.0.1:${port}`,
    grpcAddress,
    counts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (grpcServer) grpcServer.forceShutdown();
    },
  };
}
