/**
 * `health_check` extension: answers 200 on its endpoint while every component is running and 503
 * otherwise, with each component's status in the body (as the Collector's health check v2 does).
 * It also runs configurable checks of things Vigil depends on (an HTTP URL, a TCP port, a SQLite
 * file), shows them in the same body, and exports them as `vigil_health_check_up{check}` and
 * `vigil_health_check_duration_seconds{check}`.
 */
import type { Server } from 'node:http';
import { createListenerServer, TlsServerConfig, tlsServerSchema } from '../../src/tls';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { openSqlite } from '../../src/storage/sqlite';
import type { CreateSettings, ExtensionFactory, Host } from '../../src/component';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { listen, parseEndpoint } from '../../src/util/net';
import { persistentQueueReports } from '../../src/exporterhelper/queue-registry';

export interface CheckConfig {
  name: string;
  http?: string;
  tcp?: string;
  sqlite?: string;
  timeout: string | number;
}

export interface HealthCheckConfig {
  endpoint: string;
  path: string;
  check_interval: string | number;
  checks: CheckConfig[];
  /** Checks that fail make the endpoint answer 503 too (by default they are only reported). */
  checks_affect_status: boolean;
  tls?: TlsServerConfig;
}

interface CheckResult {
  name: string;
  kind: 'http' | 'tcp' | 'sqlite';
  target: string;
  healthy: boolean;
  error?: string;
  duration_ms: number;
  checked_at: string;
}

// 'starting' is not ready: until every component has started, some API routes may be missing.
const OK_STATES = new Set(['ok']);

export async function runCheck(c: CheckConfig): Promise<CheckResult> {
  const timeoutMs = parseDuration(c.timeout);
  const kind = c.http ? 'http' : c.tcp ? 'tcp' : 'sqlite';
  const target = c.http ?? c.tcp ?? c.sqlite ?? '';
  const started = process.hrtime.bigint();
  let error: string | undefined;
  try {
    if (c.http) await checkHttp(c.http, timeoutMs);
    else if (c.tcp) await checkTcp(c.tcp, timeoutMs);
    else if (c.sqlite) checkSqlite(c.sqlite, timeoutMs);
  } catch (e) {
    error = (e as Error).message;
  }
  return { name: c.name, kind, target, healthy: !error, ...(error ? { error } : {}), duration_ms: Number(process.hrtime.bigint() - started) / 1e6, checked_at: new Date().toISOString() };
}

function checkHttp(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      const s = res.statusCode ?? 0;
      if (s >= 200 && s < 400) resolve();
      else reject(new Error(`HTTP ${s}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error((e as NodeJS.ErrnoException).code ?? e.message)));
    req.end();
  });
}

function checkTcp(addr: string, timeoutMs: number): Promise<void> {
  const ep = parseEndpoint(addr, 'tcp check');
  return new Promise((resolve, reject) => {
    const sock = connect({ host: ep.host, port: ep.port });
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(t);
      sock.end();
      resolve();
    });
    sock.once('error', (e) => {
      clearTimeout(t);
      reject(new Error((e as NodeJS.ErrnoException).code ?? e.message));
    });
  });
}

function checkSqlite(path: string, timeoutMs: number): void {
  const db = openSqlite(path, { readonly: true, fileMustExist: true, timeout: timeoutMs });
  try {
    const r = db.pragma('quick_check', { simple: true });
    if (r !== 'ok') throw new Error(`quick_check: ${String(r)}`);
  } finally {
    db.close();
  }
}

/** Persistent sending queues (depth, bytes on disk, oldest age), when there are any. */
function queues(): { queues?: ReturnType<typeof persistentQueueReports> } {
  const q = persistentQueueReports();
  return q.length ? { queues: q } : {};
}

export class HealthCheckExtension {
  private server?: Server;
  private host?: Host;
  private timer?: NodeJS.Timeout;
  private results = new Map<string, CheckResult>();
  address?: string;
  private readonly up;
  private readonly duration;

  constructor(private readonly s: CreateSettings<HealthCheckConfig>) {
    this.up = s.telemetry.gauge('vigil_health_check_up', '1 when the configured health check passed at its last run', ['check']);
    this.duration = s.telemetry.gauge('vigil_health_check_duration_seconds', 'How long the last run of a health check took', ['check']);
  }

  /** The body served, and whether everything is healthy. */
  report(): { healthy: boolean; body: Record<string, unknown> } {
    const components = this.host?.componentStatuses?.().filter((c) => c.id !== this.s.id) ?? [];
    const checks = [...this.results.values()];
    const componentsOk = components.every((c) => OK_STATES.has(c.status));
    const checksOk = checks.every((c) => c.healthy);
    const healthy = componentsOk && (!this.s.config.checks_affect_status || checksOk);
    return {
      healthy,
      body: { status: healthy ? 'ok' : 'unhealthy', components, checks, ...queues() },
    };
  }

  private async runChecks(): Promise<void> {
    await Promise.all(this.s.config.checks.map(async (c) => {
      const r = await runCheck(c);
      this.results.set(c.name, r);
      this.up.labels(c.name).set(r.healthy ? 1 : 0);
      this.duration.labels(c.name).set(r.duration_ms / 1000);
    }));
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    const path = this.s.config.path;
    this.server = createListenerServer(this.s.config.tls, `extensions.${this.s.id}.tls`, this.s.logger, (req, res) => {
      if ((req.url ?? '/').split('?')[0] !== path) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`health is served at ${path}\n`);
        return;
      }
      const { healthy, body } = this.report();
      res.writeHead(healthy ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
    this.address = await listen(this.server, parseEndpoint(this.s.config.endpoint, 'extensions.health_check.endpoint'));
    if (this.s.config.checks.length) {
      await this.runChecks();
      this.timer = setInterval(() => void this.runChecks(), parseDuration(this.s.config.check_interval));
      this.timer.unref();
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
  }
}

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  kind: 'extension',
  type: 'health_check',
  description: 'Answers 200 while every pipeline component runs and 503 otherwise; runs dependency checks (HTTP, TCP, SQLite).',
  configSchema: {
    type: 'object',
    properties: {
      endpoint: { type: 'string', default: '127.0.0.1:13133' },
      tls: tlsServerSchema,
      path: { type: 'string', pattern: '^/', default: '/' },
      check_interval: durationSchema('30s', 'How often the configured checks run.'),
      checks_affect_status: { type: 'boolean', default: false, description: 'Whether a failing check turns the answer into 503.' },
      checks: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            http: { type: 'string', pattern: '^https?://', description: 'GET this URL; 2xx/3xx is healthy.' },
            tcp: { type: 'string', description: 'Connect to host:port.' },
            sqlite: { type: 'string', description: 'Open this SQLite file read-only and run quick_check.' },
            timeout: durationSchema('5s'),
          },
        },
      },
    },
  },
  validate(c) {
    const out: Array<{ path: Array<string | number>; message: string }> = [];
    const names = new Set<string>();
    c.checks.forEach((ch, i) => {
      const kinds = [ch.http, ch.tcp, ch.sqlite].filter((x) => x !== undefined).length;
      if (kinds !== 1) out.push({ path: ['checks', i], message: 'set exactly one of http, tcp, sqlite' });
      if (names.has(ch.name)) out.push({ path: ['checks', i, 'name'], message: `duplicate check name "${ch.name}"` });
      names.add(ch.name);
    });
    return out;
  },
  create: (settings) => new HealthCheckExtension(settings),
};
