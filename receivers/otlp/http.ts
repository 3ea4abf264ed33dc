/**
 * OTLP/HTTP server, following the OTLP specification's HTTP rules:
 * POST only (405), application/x-protobuf or application/json (415 otherwise), gzip/deflate bodies,
 * a size limit applied before and after decompression (413), 400 with a google.rpc.Status for data
 * that cannot be decoded, 200 with partial_success when some items are rejected, and 503/429 with
 * Retry-After when the pipeline pushes back. Responses use the request's encoding.
 */
import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { gunzip, inflate } from 'node:zlib';
import type { Logger } from 'pino';
import type { SignalConsumers } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { Signal, countItems } from '../../src/model';
import { listen, parseEndpoint } from '../../src/util/net';
import { DecodeError, LimitError, decodeLimited, encodeExportResponse, encodeStatus, exportResponseJson, parseJson, statusJson } from '../../src/otlp';
import { decodeEstimate, decodeLimitsOf, droppedAttributesNote } from './limits';
import { dropInvalidItems } from './validate';
import { createListenerServer, TlsServerConfig } from '../../src/tls';

export interface HttpConfig {
  endpoint: string;
  max_request_body_size: number;
  max_items_per_request: number;
  max_attributes_per_item: number;
  traces_url_path: string;
  metrics_url_path: string;
  logs_url_path: string;
  cors?: { allowed_origins: string[]; allowed_headers: string[]; max_age: number };
  tls?: TlsServerConfig;
  auth?: import('../../src/auth/receiver').ReceiverAuthConfig;
}

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
// google.rpc.Code values used in error bodies.
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
/** After a 413, up to this many times the body limit is read and discarded so the client sees the answer. */
const DISCARD_FACTOR = 4;

class HttpFailure extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export class OtlpHttpServer {
  private server?: Server;
  private readonly routes = new Map<string, Signal>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  address?: string;
  /** Set at creation: asks the memory limiters of the signal's pipelines whether decoding about `bytes` more fits (throws if not). */
  admitDecode?: (signal: Signal, bytes: number) => void;
  /** Set at start from `auth.authenticator`: requests without its credentials get 401. */
  authenticator?: import('../../src/auth/credentials').ServerAuthenticator;

  constructor(private readonly cfg: HttpConfig, private readonly next: SignalConsumers, private readonly logger: Logger) {
    if (next.traces) this.routes.set(cfg.traces_url_path, 'traces');
    if (next.metrics) this.routes.set(cfg.metrics_url_path, 'metrics');
    if (next.logs) this.routes.set(cfg.logs_url_path, 'logs');
  }

  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const p = this.handle(req, res).catch((e) => {
        this.logger.error({ err: (e as Error).message }, 'unexpected error handling an OTLP/HTTP request');
        if (!res.headersSent) res.writeHead(500).end();
      });
      this.inFlight.add(p);
      p.finally(() => this.inFlight.delete(p));
    };
    this.server = createListenerServer(this.cfg.tls, 'protocols.http.tls', this.logger, handler);
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.requestTimeout = 60_000;
    this.address = await listen(this.server, parseEndpoint(this.cfg.endpoint, 'protocols.http.endpoint'));
    return this.address;
  }

  /** Stop accepting, let requests in progress finish (their data reaches the pipeline), then close. */
  async shutdown(): Promise<void> {
    if (!this.server) return;
    this.stopping = true;
    const closed = new Promise<void>((r) => this.server!.close(() => r()));
    this.server.closeIdleConnections();
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
    this.server.closeAllConnections();
    await closed;
    this.server = undefined;
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    const cors = this.cfg.cors;
    const origin = req.headers.origin;
    if (!cors || !origin || cors.allowed_origins.length === 0) return {};
    const allowed = cors.allowed_origins.some((o) => o === '*' || o === origin || (o.includes('*') && wildcard(o).test(origin)));
    if (!allowed) return {};
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const signal = this.routes.get(path);
    const cors = this.corsHeaders(req);
    const reqType = mediaType(req.headers['content-type']);
    const asJson = reqType !== PROTOBUF;
    try {
      if (!signal) throw new HttpFailure(404, `no OTLP endpoint at ${path}; this receiver serves ${[...this.routes.keys()].join(', ')}`);
      if (req.method === 'OPTIONS' && this.cfg.cors && req.headers.origin) {
        if (!cors['Access-Control-Allow-Origin']) throw new HttpFailure(403, 'origin not allowed');
        const allowHeaders = ['Content-Type', 'Content-Encoding', 'Accept', 'X-Requested-With', ...(this.cfg.cors.allowed_headers ?? [])];
        res.writeHead(204, {
          ...cors,
          'Access-Control-Allow-Methods': 'POST',
          'Access-Control-Allow-Headers': allowHeaders.join(', '),
          ...(this.cfg.cors.max_age ? { 'Access-Control-Max-Age': String(this.cfg.cors.max_age) } : {}),
        }).end();
        req.resume();
        return;
      }
      if (req.method !== 'POST') throw new HttpFailure(405, `method ${req.method} not allowed; use POST`, { Allow: 'POST' });
      if (reqType !== PROTOBUF && reqType !== JSON_TYPE) {
        throw new HttpFailure(415, `unsupported content type "${req.headers['content-type'] ?? ''}"; expected ${PROTOBUF} or ${JSON_TYPE}`);
      }
      if (this.stopping) throw new HttpFailure(503, 'the server is shutting down', { 'Retry-After': '1', Connection: 'close' });
      if (this.authenticator && !(await this.authenticator.authenticate(req.headers)).ok) {
        throw new HttpFailure(401, 'missing or wrong credentials', { 'WWW-Authenticate': this.authenticator.challenge });
      }

      const body = await this.readBody(req);
      this.admitDecode?.(signal, decodeEstimate(body.length, asJson));
      const { data, droppedAttributes } = this.decodeBody(signal, body, asJson);
      const total = countItems(signal, data);
      const { rejected, message: invalid } = dropInvalidItems(signal, data);
      const message = [invalid, droppedAttributesNote(droppedAttributes, this.cfg.max_attributes_per_item)].filter(Boolean).join('; ');
      let partial = rejected > 0 || message ? { rejected, errorMessage: message } : undefined;
      try {
        if (total - rejected > 0) await this.next[signal]!.consume(data as never);
      } catch (e) {
        if (e instanceof PermanentError && e.rejectedItems !== undefined && e.rejectedItems + rejected < total) {
          partial = { rejected: rejected + e.rejectedItems, errorMessage: [message, e.message].filter(Boolean).join('; ') };
        } else {
          throw e;
        }
      }
      if (asJson) {
        res.writeHead(200, { ...cors, 'Content-Type': JSON_TYPE }).end(JSON.stringify(exportResponseJson(signal, partial)));
      } else {
        res.writeHead(200, { ...cors, 'Content-Type': PROTOBUF }).end(encodeExportResponse(signal, partial));
      }
    } catch (e) {
      this.fail(req, res, e, asJson, cors);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown, asJson: boolean, cors: Record<string, string>): void {
    let status: number;
    let code: number;
    let message = (e as Error).message;
    let retryAfterMs: number | undefined;
    const headers: Record<string, string> = { ...cors };
    if (e instanceof HttpFailure) {
      status = e.status;
      code = status === 503 ? UNAVAILABLE : INVALID_ARGUMENT;
      Object.assign(headers, e.headers);
    } else if (e instanceof LimitError) {
      // Too big to ever be accepted as it is: 413 is not retried by OTLP clients.
      status = 413;
      code = INVALID_ARGUMENT;
    } else if (e instanceof DecodeError) {
      status = 400;
      code = INVALID_ARGUMENT;
    } else if (e instanceof PermanentError) {
      status = 400;
      code = INVALID_ARGUMENT;
    } else if (e instanceof RetryableError) {
      status = e.throttled ? 429 : 503;
      code = e.throttled ? RESOURCE_EXHAUSTED : UNAVAILABLE;
      retryAfterMs = e.retryAfterMs ?? 1000;
    } else {
      // Unknown failures are treated as temporary, as the Collector does: the sender keeps the data.
      this.logger.error({ err: message }, 'pipeline failed to accept OTLP data');
      status = 503;
      code = UNAVAILABLE;
      retryAfterMs = 1000;
      message = 'internal error; retry later';
    }
    if (retryAfterMs !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    if (status >= 500 || status === 429) this.logger.debug({ status, err: message }, 'OTLP/HTTP request refused');
    if (res.headersSent) return;
    const payload = asJson ? Buffer.from(JSON.stringify(statusJson(code, message))) : Buffer.from(encodeStatus(code, message, retryAfterMs));
    if (!req.complete) headers.Connection = 'close';
    res.writeHead(status, { ...headers, 'Content-Type': asJson ? JSON_TYPE : PROTOBUF, 'Content-Length': String(payload.length) });
    if (req.complete) {
      res.end(payload);
      return;
    }
    // The client is still sending a body we will not use. Closing now would reset the connection
    // under a client that is still writing: it would see EPIPE / ECONNRESET instead of this answer,
    // and retry a request that can never succeed. So the whole answer is written at once, the rest
    // of the body is read and thrown away, and the connection is closed when the body has ended, or
    // when more than DISCARD_FACTOR times the body limit has been thrown away (a bound on what a
    // hostile client can make us read).
    res.write(payload);
    const bound = DISCARD_FACTOR * this.cfg.max_request_body_size;
    let discarded = 0;
    const onData = (c: Buffer) => {
      discarded += c.length;
      if (discarded > bound) req.socket.destroy();
    };
    req.on('data', onData);
    req.once('end', () => res.end());
    req.once('close', () => { if (!res.writableEnded) res.end(); });
    req.resume();
  }

  /** Read the body, refusing more than the limit before and after decompression. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.cfg.max_request_body_size;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) throw new HttpFailure(413, `request body of ${declared} bytes is over the limit of ${limit} bytes`);
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!['identity', '', 'gzip', 'x-gzip', 'deflate'].includes(encoding)) {
      throw new HttpFailure(415, `unsupported content encoding "${encoding}"; expected gzip, deflate or none`);
    }
    const raw = await readLimited(req, limit);
    if (encoding === 'identity' || encoding === '') return raw;
    return new Promise<Buffer>((resolve, reject) => {
      // maxOutputLength makes zlib stop at the limit: a gzip bomb is refused without being inflated.
      const done = (err: Error | null, out: Buffer) => {
        if (!err) return resolve(out);
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
          reject(new HttpFailure(413, `decompressed request body is over the limit of ${limit} bytes`));
        } else {
          reject(new HttpFailure(400, `cannot decompress the ${encoding} body: ${err.message}`));
        }
      };
      if (encoding === 'deflate') inflate(raw, { maxOutputLength: limit }, done);
      else gunzip(raw, { maxOutputLength: limit }, done);
    });
  }

  private decodeBody(signal: Signal, body: Buffer, asJson: boolean) {
    const limits = decodeLimitsOf(this.cfg);
    return asJson ? { data: parseJson(signal, body, limits), droppedAttributes: 0 } : decodeLimited(signal, body, limits);
  }
}

/**
 * The body, or an HttpFailure 413 as soon as it passes `limit`. Listeners rather than `for await`:
 * leaving an async iterator early destroys the request and with it the socket, and the client would
 * never read the 413 (see fail()).
 */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        chunks.length = 0;
        reject(new HttpFailure(413, `request body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const onClose = () => {
      done();
      reject(new HttpFailure(400, 'the client closed the connection before the body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function mediaType(h: string | undefined): string {
  return (h ?? '').split(';')[0].trim().toLowerCase();
}

function wildcard(pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
}
