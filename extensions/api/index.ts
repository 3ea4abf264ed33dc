/**
 * `api` extension: Vigil's own HTTP API (security status, alerts, silences, queries, ...), one server
 * on 127.0.0.1:8686 by default to which each feature adds its routes at start.
 * `GET /api` lists the routes; errors answer `{ "error": "..." }` with a fitting status.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { ExtensionFactory } from '../../src/component';
import { ApiError, ApiHandler, ApiRequest, ApiServer, isApiResponse, notConfiguredHints } from '../../src/api';
import { listen, parseEndpoint } from '../../src/util/net';

export interface ApiConfig {
  endpoint: string;
  max_request_body_size: number;
  auth?: { bearer_token: string };
}

interface Route {
  method: string;
  pattern: string;
  parts: string[];
  handler: ApiHandler;
}

export class ApiExtension implements ApiServer {
  private readonly routes: Route[] = [];
  private server?: Server;
  address?: string;

  constructor(private readonly cfg: ApiConfig, private readonly logger: import('pino').Logger) {
    this.route('GET', '/api', () => ({ routes: this.routes.map((r) => `${r.method} ${r.pattern}`).sort() }));
  }

  route(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pattern: string, handler: ApiHandler): void {
    const i = this.routes.findIndex((r) => r.method === method && r.pattern === pattern);
    const r = { method, pattern, parts: pattern.split('/').filter(Boolean), handler };
    if (i >= 0) this.routes[i] = r;
    else this.routes.push(r);
  }

  private match(method: string, path: string): { route?: Route; params: Record<string, string>; methods: string[] } {
    const segs = path.split('/').filter(Boolean);
    const methods: string[] = [];
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        if (r.parts[i].startsWith(':')) {
          try {
            params[r.parts[i].slice(1)] = decodeURIComponent(segs[i]);
          } catch {
            ok = false;
          }
        } else ok = r.parts[i] === segs[i];
      }
      if (!ok) continue;
      if (r.method === method) return { route: r, params, methods };
      methods.push(r.method);
    }
    return { params: {}, methods };
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.logger.error({ err: (e as Error).message }, 'api handler failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
    });
    this.address = await listen(this.server, parseEndpoint(this.cfg.endpoint, 'extensions.api.endpoint'));
    this.logger.info({ endpoint: this.address }, 'API listening');
  }

  async shutdown(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }

  private authorised(req: IncomingMessage): boolean {
    const token = this.cfg.auth?.bearer_token;
    if (!token) return true;
    const given = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    // Compare digests so the comparison takes the same time whatever the lengths.
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(token).digest();
    return timingSafeEqual(a, b);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.authorised(req)) return send(res, 401, { error: 'missing or wrong bearer token' }, { 'WWW-Authenticate': 'Bearer' });
    const method = req.method ?? 'GET';
    const { route, params, methods } = this.match(method === 'HEAD' ? 'GET' : method, url.pathname);
    if (!route) {
      if (methods.length) return send(res, 405, { error: `method ${method} not allowed on ${url.pathname}` }, { Allow: methods.join(', ') });
      const hint = notConfiguredHints.find((h) => h.path.test(url.pathname))?.hint;
      return send(res, 404, { error: hint ?? `no API route ${url.pathname}; GET /api lists them` });
    }
    let body: unknown;
    if (method === 'POST' || method === 'PUT' || method === 'DELETE') {
      const raw = await readLimited(req, this.cfg.max_request_body_size).catch((e: Error) => e);
      if (raw instanceof Error) return send(res, 413, { error: raw.message });
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (e) {
          return send(res, 400, { error: `request body is not valid JSON: ${(e as Error).message}` });
        }
      }
    }
    const apiReq: ApiRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body };
    try {
      const out = await route.handler(apiReq);
      if (isApiResponse(out)) {
        if (out.raw !== undefined) {
          res.writeHead(out.status, { 'Content-Type': 'text/plain; charset=utf-8', ...out.headers }).end(out.raw);
        } else send(res, out.status, out.body, out.headers);
      } else send(res, out === undefined ? 204 : 200, out);
    } catch (e) {
      if (e instanceof ApiError) return send(res, e.status, { error: e.message });
      throw e;
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(text);
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new Error(`request body over ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export const apiExtensionFactory: ExtensionFactory<ApiConfig> = {
  kind: 'extension',
  type: 'api',
  description: "Vigil's HTTP API (security status, alerts, silences, queries); features add their routes to it.",
  configSchema: {
    type: 'object',
    properties: {
      endpoint: { type: 'string', default: '127.0.0.1:8686', description: 'host:port to listen on.' },
      max_request_body_size: { type: 'integer', minimum: 1, default: 1024 * 1024 },
      auth: {
        type: 'object',
        description: 'Require "Authorization: Bearer <token>" on every request.',
        required: ['bearer_token'],
        properties: { bearer_token: { type: 'string', minLength: 1, secret: true } },
      },
    },
  },
  create: (settings) => new ApiExtension(settings.config, settings.logger),
};
