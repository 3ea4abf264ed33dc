/**
 * A `fetch` with the shared client `tls` block, for clients written against fetch (remote write,
 * Octokit for GitHub): Node's built-in fetch takes no per-request CA, client certificate or
 * verification switch without an extra package (undici's Agent), so this one goes through
 * node:https with an Agent built from clientTlsOptions and answers with a standard Response.
 * Plain http URLs go through node:http. Certificate errors reject with Node's message (for example
 * "unable to verify the first certificate", "self-signed certificate in certificate chain").
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { TlsClientConfig } from './config';
import { clientTlsOptions } from './client';

/** RequestInit whose body may be any byte array (TS 5.9 types fetch's BodyInit over ArrayBuffer only). */
export type FetchInit = Omit<RequestInit, 'body'> & { body?: RequestInit['body'] | Uint8Array };
export type FetchLike = (input: string | URL | Request, init?: FetchInit) => Promise<Response>;

export interface TlsFetch {
  fetch: FetchLike;
  close(): void;
}

function bodyOf(body: FetchInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('tls fetch: only string and byte bodies are supported');
}

/** `what` names the config block in start-time errors (a missing ca_file, a mismatched key). */
export function tlsFetch(tls: TlsClientConfig | undefined, what = 'tls'): TlsFetch {
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ...clientTlsOptions(tls ?? {}, what) });
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const fetchImpl: FetchLike = (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return Promise.reject(new TypeError(`unsupported URL scheme ${url.protocol}`));
    const payload = bodyOf(init.body);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
    if (payload) headers['content-length'] = String(payload.length);
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: secure ? httpsAgent : httpAgent, signal: init.signal ?? undefined }, (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
        }
        const status = res.statusCode ?? 0;
        // A Response cannot carry a body on these statuses.
        const empty = status === 204 || status === 304 || init.method === 'HEAD';
        if (empty) res.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, statusText: res.statusMessage ?? '', headers: out }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  };
  return {
    fetch: fetchImpl,
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}
