/**
 * What stops a web page from changing Vigil's state through a browser on the operator's machine:
 *
 * - Host check (DNS rebinding): a listener bound to loopback answers only requests whose `Host` names
 *   it (localhost, 127.0.0.1, [::1], or a configured name). A rebound evil.example resolves to
 *   127.0.0.1 but still sends `Host: evil.example`.
 * - State-changing requests must say `Content-Type: application/json`, which a page cannot send
 *   cross-origin without a CORS preflight (never granted here), and an `Origin`, when present, must
 *   be the API's own or a configured one.
 * - Requests that look like they come from a browser (Origin, Referer or Cookie headers)
 *   must also carry `X-CSRF-Token`, given by `GET /api/session`, which only a same-origin page can
 *   read. Programs (curl, the CLI, SDKs) send none of those headers and need no token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Host name of a Host header or an origin's authority, without port, lower case, IPv6 unbracketed. */
function hostName(authority: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::\d+)?$/.exec(authority.trim());
  return (m?.[1] ?? m?.[2] ?? '').toLowerCase();
}

export interface RequestGuardOptions {
  /** The address the listener is bound to ("127.0.0.1"). */
  boundHost: string;
  /** Extra names accepted in Host (for a reverse proxy or a DNS name of this machine). */
  allowedHosts: string[];
  /** Origins allowed to change state besides the API's own ("https://vigil.example.com"). */
  allowedOrigins: string[];
}

export class RequestGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private readonly secret = randomBytes(32);

  constructor(private readonly o: RequestGuardOptions) {
    this.hosts = new Set([...(isLoopback(o.boundHost) ? LOOPBACK_NAMES : []), ...o.allowedHosts.map((h) => hostName(h))]);
    this.origins = new Set(o.allowedOrigins.map((s) => s.replace(/\/+$/, '').toLowerCase()));
  }

  /** Undefined when the Host header is acceptable, else why not. */
  checkHost(req: IncomingMessage): string | undefined {
    // Bound to a non-loopback address without configured names: any Host (a server on the network).
    if (!isLoopback(this.o.boundHost) && this.o.allowedHosts.length === 0) return undefined;
    const name = hostName(String(req.headers.host ?? ''));
    if (this.hosts.has(name)) return undefined;
    return 'Host header does not name this server; add the name to allowed_hosts if it is yours';
  }

  /** Undefined when a state-changing request may proceed, else why not (answered 403, or 415 for content type). */
  checkStateChange(req: IncomingMessage, csrfExpected: string): { status: number; error: string } | undefined {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    // DELETE without a body is never a CORS "simple" request, so it needs no content type.
    if (type !== 'application/json' && (req.method !== 'DELETE' || hasBody)) {
      return { status: 415, error: 'state-changing requests need Content-Type: application/json' };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(String(origin), req)) {
      return { status: 403, error: 'Origin not allowed to change state; add it to allowed_origins if it is yours' };
    }
    if (looksLikeBrowser(req)) {
      const given = String(req.headers['x-csrf-token'] ?? '');
      if (!safeEqual(given, csrfExpected)) return { status: 403, error: 'missing or wrong X-CSRF-Token (GET /api/session gives it)' };
    }
    return undefined;
  }

  private originAllowed(origin: string, req: IncomingMessage): boolean {
    const o = origin.toLowerCase();
    if (o === 'null') return false;
    if (this.origins.has(o)) return true;
    // Same origin: the page was served by this API under a Host name already checked.
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    return o === `${scheme}://${String(req.headers.host ?? '').toLowerCase()}`;
  }

  /** The CSRF token of a principal (null: anonymous). Stateless: an HMAC under a per-process key. */
  csrfToken(principal: string | null): string {
    return createHmac('sha256', this.secret).update(principal === null ? '\0anonymous' : `p:${principal}`).digest('base64url');
  }
}

function looksLikeBrowser(req: IncomingMessage): boolean {
  const h = req.headers;
  // Browsers send Origin on every non-GET request (same-origin ones too); Node's fetch sends
  // Sec-Fetch-Mode but never Origin, so Sec-Fetch-* cannot tell them apart.
  return h.origin !== undefined || h.referer !== undefined || h.cookie !== undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
