/**
 * The Vigil console on the `api` extension: the static web app built from `console/` (served at
 * `/`), one Server-Sent Events stream (`GET /api/stream?page=...`) that pushes the open page's
 * data every `update_interval`, and the page routes it is made of (`GET /api/console/<page>`),
 * which programs can read too. See extensions/api/README.md, "Console".
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Host } from '../../src/component';
import type { Telemetry } from '../../src/telemetry';
import { ApiError, ApiServer } from '../../src/api';
import { parseDuration } from '../../src/util/duration';
import { ConsoleData, PAGES, Page } from './console-data';

export interface ConsoleConfig {
  enabled: boolean;
  update_interval: string | number;
  max_streams: number;
}

export const consoleConfigSchema = {
  type: 'object',
  description: 'The web console served at "/" (see extensions/api/README.md).',
  properties: {
    enabled: { type: 'boolean', default: true },
    update_interval: { type: ['string', 'number'], default: '2s', description: 'How often the open page is pushed to the browser (1s to 5s).' },
    max_streams: { type: 'integer', minimum: 1, default: 32, description: 'Live streams open at once; more answer 503.' },
  },
  default: {},
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.map': 'application/json',
};

// The app only talks to this origin; styles set by the chart library are allowed inline.
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** console/dist, found from this file in the source tree or in dist/ after the build. */
export function findAssets(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'console', 'dist');
    if (existsSync(join(p, 'index.html'))) return p;
    dir = resolve(dir, '..');
  }
  return undefined;
}

type Invoke = (path: string, query?: URLSearchParams) => Promise<{ status: number; body: unknown }>;

export class Console {
  readonly data: ConsoleData;
  private readonly assets = findAssets();
  private readonly cache = new Map<string, Buffer>();
  private readonly streams = new Set<ServerResponse>();
  readonly intervalMs: number;

  constructor(private readonly cfg: ConsoleConfig, telemetry: Telemetry | undefined, invoke: Invoke, private readonly logger: Logger) {
    this.intervalMs = Math.min(5000, Math.max(1000, parseDuration(cfg.update_interval)));
    this.data = new ConsoleData(telemetry, invoke);
  }

  start(host: Host, api: ApiServer): void {
    if (!this.cfg.enabled) return;
    this.data.attach(host);
    api.route('GET', '/api/console/config', () => ({ update_interval_ms: this.intervalMs, pages: PAGES }));
    for (const page of PAGES) api.route('GET', `/api/console/${page}`, (req) => this.data.page(page, req.query));
    if (!this.assets) this.logger.warn('console assets not found (console/dist): run `npm run build`; the console API routes still work');
  }

  shutdown(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.data.close();
  }

  /** Answers the request when it is the console's (static files or the stream); false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!this.cfg.enabled) return false;
    if (url.pathname === '/api/stream') {
      if (req.method !== 'GET') return false;
      this.stream(req, res, url);
      return true;
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'the console is read with GET' }));
      return true;
    }
    this.serveStatic(url.pathname, req.method === 'HEAD', res);
    return true;
  }

  private serveStatic(pathname: string, head: boolean, res: ServerResponse): void {
    if (!this.assets) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('The console is not built: run `npm run build` (console/build.mjs).\n');
      return;
    }
    let rel = pathname;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      rel = '/';
    }
    // Pages are client-side routes: anything without a file extension is the app.
    if (!extname(rel)) rel = '/index.html';
    const file = resolve(this.assets, '.' + rel);
    if (!file.startsWith(this.assets + sep) || !existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('not found\n');
      return;
    }
    let body = this.cache.get(file);
    if (!body) this.cache.set(file, (body = readFileSync(file)));
    const immutable = rel.startsWith('/assets/');
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(body.length),
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...SECURITY_HEADERS,
    });
    res.end(head ? undefined : body);
  }

  /**
   * One stream per open page: `page`, the range (`start`, `end`, as the page routes take them)
   * and optionally `interval` (1s–5s). Each tick sends `data: {"page", "at", "interval_ms", "data"}`
   * or `{"page", "at", "error"}`; a slow build skips ticks instead of piling them up.
   */
  private stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const page = url.searchParams.get('page') ?? 'overview';
    const json = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (!(PAGES as readonly string[]).includes(page)) return void json(400, { error: `page must be one of ${PAGES.join(', ')}` });
    if (this.streams.size >= this.cfg.max_streams) return void json(503, { error: `more than ${this.cfg.max_streams} live streams are open` });
    let interval = this.intervalMs;
    if (url.searchParams.get('interval')) {
      try {
        interval = Math.min(5000, Math.max(1000, parseDuration(url.searchParams.get('interval')!)));
      } catch (e) {
        return void json(400, { error: `interval: ${(e as Error).message}` });
      }
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(`retry: ${interval}\n\n`);
    this.streams.add(res);
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      const at = Date.now();
      let msg: unknown;
      try {
        msg = { page, at, interval_ms: interval, data: await this.data.page(page as Page, url.searchParams) };
      } catch (e) {
        msg = { page, at, interval_ms: interval, error: e instanceof ApiError ? e.message : 'could not build the page (see the Vigil log)' };
        if (!(e instanceof ApiError)) this.logger.warn({ err: (e as Error).message, page }, 'console stream');
      }
      busy = false;
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(msg)}\n\n`);
    };
    const timer = setInterval(() => void tick(), interval);
    timer.unref();
    void tick();
    const stop = () => {
      clearInterval(timer);
      this.streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  }
}
