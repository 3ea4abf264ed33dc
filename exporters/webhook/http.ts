/**
 * A small HTTP(S) POST client for the webhook and alertmanager exporters. It uses node:http(s)
 * rather than fetch because fetch takes no per-request TLS settings (custom CA, client
 * certificate, skipping verification) without an extra package. Connections are kept alive so a
 * notification on a warm connection costs one round trip.
 */
import http from 'node:http';
import https from 'node:https';
import { PermanentError, RetryableError } from '../../src/errors';
import { TlsClientConfig, clientTlsOptions, tlsClientSchema } from '../../src/tls';

/** The shared client `tls` block (src/tls), under the names this module always exported. */
export type TlsConfig = TlsClientConfig;
export const tlsSchema = tlsClientSchema;

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** At most the first 256 bytes of the answer: enough to explain an error, never a whole echo. */
  snippet: string;
}

/** Retry-After: delay-seconds or an HTTP date. */
export function parseRetryAfter(v: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\s*\d+\s*$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * The exporterhelper's reading of an HTTP answer: 2xx is success; 429 and 5xx are retried (after
 * Retry-After when given); every other status is permanent, as retrying will not change it.
 */
export function checkStatus(r: HttpResult, what: string): void {
  if (r.status >= 200 && r.status < 300) return;
  const msg = `${what} answered ${r.status}${r.snippet ? `: ${r.snippet}` : ''}`;
  if (r.status === 429 || r.status >= 500) {
    throw new RetryableError(msg, parseRetryAfter(r.headers['retry-after']), r.status === 429);
  }
  throw new PermanentError(msg);
}

export class HttpClient {
  private readonly agent: http.Agent;
  readonly url: URL;

  constructor(url: string, tls: TlsConfig = {}) {
    this.url = new URL(url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`unsupported URL scheme ${this.url.protocol}`);
    if (this.url.protocol === 'https:') {
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        ...clientTlsOptions(tls),
      });
    } else {
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    }
  }

  /** Where errors say they went: scheme, host and path, never credentials or the query string. */
  get target(): string {
    return `${this.url.protocol}//${this.url.host}${this.url.pathname}`;
  }

  /**
   * POST `body` to `path` (relative to the URL, default the URL itself). Network failures and
   * aborts reject with a RetryableError; any HTTP answer resolves.
   */
  post(body: string | Buffer, headers: Record<string, string>, signal?: AbortSignal, path?: string): Promise<HttpResult> {
    const target = path ? new URL(path, this.url) : this.url;
    const mod = target.protocol === 'https:' ? https : http;
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const req = mod.request(target, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'Content-Length': String(payload.length) },
        signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < 256) { chunks.push(c); kept += c.length; }
        });
        res.on('end', () => resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          snippet: Buffer.concat(chunks).subarray(0, 256).toString('utf8').replace(/\s+/g, ' ').trim(),
        }));
        res.on('error', (e) => reject(new RetryableError(`${this.target}: ${e.message}`)));
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(new RetryableError(`POST ${this.target} failed: ${e.code ?? e.message}`)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
