/**
 * `api` extension: Vigil's own HTTP API (security status, alerts, silences, queries, ...), one server
 * on 127.0.0.1:8686 by default to which each feature adds its routes at start.
 * `GET /api` lists the routes; errors answer `{ "error": "..." }` with a fitting status.
 */
import { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ExtensionFactory, Host } from '../../src/component';
import { ApiError, ApiHandler, ApiRequest, ApiServer, RouteOptions, isApiResponse, notConfiguredHints } from '../../src/api';
import { listen, parseEndpoint } from '../../src/util/net';
import type { Telemetry } from '../../src/telemetry';
import { Console, ConsoleConfig, consoleConfigSchema } from './console';
import { authConfigSchema } from './auth';
import { warnIfExposed } from '../../src/tls/exposure';
import { createListenerServer, TlsServerConfig, tlsServerSchema } from '../../src/tls';
import { ApiSecurity, ApiSecurityConfig } from './security';

export interface ApiConfig extends ApiSecurityConfig {
  endpoint: string;
  max_request_body_size: number;
  console?: ConsoleConfig;
  tls?: TlsServerConfig;
}

interface Route {
  method: string;
  pattern: string;
  parts: string[];
  handler: ApiHandler;
  options?: RouteOptions;
}

export class ApiExtension implements ApiServer {
  private readonly routes: Route[] = [];
  private server?: Server;
  address?: string;
  readonly console: Console;
  readonly security: ApiSecurity;

  constructor(private readonly cfg: ApiConfig, private readonly logger: import('pino').Logger, dataDir = ':memory:', telemetry?: Telemetry) {
    this.route('GET', '/api', () => ({ routes: this.routes.map((r) => `${r.method} ${r.pattern}`).sort() }));
    this.security = new ApiSecurity(cfg, dataDir, logger);
    this.security.routes(this);
    this.console = new Console(cfg.console ?? { enabled: true, update_interval: '2s', max_streams: 32 }, telemetry, (p, q) => this.invoke(p, q), logger);
  }

  /** Calls a GET route in-process (the console builds its pages from other features' routes). */
  async invoke(path: string, query = new URLSearchParams()): Promise<{ status: number; body: unknown }> {
    const { route, params } = this.match('GET', path);
    if (!route) return { status: 404, body: { error: `no API route ${path}` } };
    try {
      const out = await route.handler({ method: 'GET', path, params, query, headers: {}, body: undefined });
      return isApiResponse(out) ? { status: out.status, body: out.body } : { status: 200, body: out };
    } catch (e) {
      if (e instanceof ApiError) return { status: e.status, body: { error: e.message } };
      throw e;
    }
  }

  /** Every registered route with the role it needs (the role matrix test walks these). */
  listRoutes(): Array<{ method: string; pattern: string; role?: string }> {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern, role: r.options?.role }));
  }

  route(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pattern: string, handler: ApiHandler, options?: RouteOptions): void {
    const i = this.routes.findIndex((r) => r.method === method && r.pattern === pattern);
    const r = { method, pattern, parts: pattern.split('/').filter(Boolean), handler, options };
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

  async start(host?: Host): Promise<void> {
    const ep = parseEndpoint(this.cfg.endpoint, 'extensions.api.endpoint');
    this.security.start(ep.host, (id) => host?.getExtension(id));
    if (host) this.console.start(host, this);
    this.server = createListenerServer(this.cfg.tls, 'extensions.api.tls', this.logger, (req, res) => {
      this.handle(req, res).catch((e) => {
        this.logger.error({ err: (e as Error).message }, 'api handler failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
    });
    this.address = await listen(this.server, ep);
    this.logger.info({ endpoint: this.address }, 'API listening');
    warnIfExposed(this.logger, 'extensions.api', ep.host, { tls: !!this.cfg.tls, auth: this.security.auth.enabled });
  }

  async shutdown(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    this.console.shutdown();
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
    this.security.stop();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const { route, params, methods } = this.match(method === 'HEAD' ? 'GET' : method, url.pathname);
    const admitted = await this.security.admit(req, res, method === 'HEAD' ? 'GET' : method, route?.pattern, route?.options, params);
    if (!admitted.ok) return send(res, admitted.status, { error: admitted.error }, admitted.headers);
    // The console's static files and its stream pass the same Host, authentication and role checks.
    if (!route && (await this.console.handle(req, res, url))) return;
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
    const apiReq: ApiRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body, principal: admitted.principal, role: admitted.role };
    try {
      const out = await route.handler(apiReq);
      if (isApiResponse(out)) {
        if (out.stream) {
          res.writeHead(out.status, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', ...out.headers });
          res.flushHeaders();
          const stop = out.stream((text) => res.write(text));
          res.on('close', stop);
        } else if (out.raw !== undefined) {
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
      tls: tlsServerSchema,
      auth: authConfigSchema,
      allowed_hosts: { type: 'array', items: { type: 'string' }, default: [], description: 'Host names accepted besides localhost/127.0.0.1/[::1] (DNS rebinding protection).' },
      allowed_origins: { type: 'array', items: { type: 'string' }, default: [], description: 'Origins allowed to change state besides the API\'s own.' },
      audit: { type: 'object', default: {}, properties: { enabled: { type: 'boolean', default: true, description: 'Record state changes and refusals in <data_dir>/audit.db.' } } },
      console: consoleConfigSchema,
    },
  },
  create: (settings) => new ApiExtension(settings.config, settings.logger, settings.dataDir, settings.telemetry),
};
