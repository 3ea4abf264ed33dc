/**
 * The request CRS rules read, rebuilt from an HTTP server span's attributes (OpenTelemetry
 * semantic conventions): method, target, headers (`http.request.header.<name>`), cookies, body.
 * Arguments are decoded as ModSecurity's parsers would (query string and urlencoded bodies; JSON
 * bodies as `json.a.b` names, like ModSecurity's JSON processor).
 */
import { AnyValue, Attributes, KvList, stringValue } from '../../../src/model';
import { percentDecode } from '../detect/decode';
import type { CrsRequest } from './ruleset';

const MAX_ARGS = 256;

function str(a: Attributes, ...keys: string[]): string {
  for (const k of keys) {
    const v = a[k];
    if (v !== undefined && v !== null && v !== '') return stringValue(v) ?? '';
  }
  return '';
}

function headerValue(v: AnyValue): string {
  if (Array.isArray(v)) return v.map((x) => stringValue(x) ?? '').join(', ');
  if (v instanceof KvList) return '';
  return stringValue(v) ?? '';
}

function formArgs(q: string, from: 'get' | 'post', out: CrsRequest['args']): void {
  for (const pair of q.split('&')) {
    if (!pair || out.length >= MAX_ARGS) continue;
    const eq = pair.indexOf('=');
    const name = percentDecode(eq < 0 ? pair : pair.slice(0, eq), true);
    out.push({ name, value: eq < 0 ? '' : percentDecode(pair.slice(eq + 1), true), from });
  }
}

function jsonArgs(v: unknown, prefix: string, out: CrsRequest['args'], depth: number): void {
  if (out.length >= MAX_ARGS || depth > 8) return;
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) jsonArgs(x, `${prefix}.${k}`, out, depth + 1);
  } else if (v !== null && v !== undefined) out.push({ name: prefix, value: String(v), from: 'post' });
}

export function crsRequest(a: Attributes): CrsRequest {
  const full = str(a, 'url.full', 'http.target');
  let target = '';
  if (full) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(full);
    target = m ? full.slice(m[0].length) || '/' : full;
  }
  const path = str(a, 'url.path') || (target ? target.split('?')[0] : '/');
  const query = str(a, 'url.query') || (target.indexOf('?') >= 0 ? target.slice(target.indexOf('?') + 1) : '');
  const uri = target || (query ? `${path}?${query}` : path);
  const headers: Array<[string, string]> = [];
  for (const key of Object.keys(a)) {
    if (key.startsWith('http.request.header.')) headers.push([key.slice('http.request.header.'.length).toLowerCase(), headerValue(a[key])]);
  }
  const ua = str(a, 'user_agent.original');
  if (ua && !headers.some(([n]) => n === 'user-agent')) headers.push(['user-agent', ua]);
  const host = str(a, 'server.address');
  if (host && !headers.some(([n]) => n === 'host')) headers.push(['host', host]);
  const cookies: Array<[string, string]> = [];
  for (const [n, v] of headers) {
    if (n !== 'cookie') continue;
    for (const part of v.split(';')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      cookies.push(eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)]);
    }
  }
  const args: CrsRequest['args'] = [];
  formArgs(query, 'get', args);
  const body = str(a, 'http.request.body', 'http.request.body.content');
  if (body) {
    const t = body.trimStart();
    let parsed = false;
    if ((t.startsWith('{') || t.startsWith('[')) && body.length < 1_000_000) {
      try {
        jsonArgs(JSON.parse(body), 'json', args, 0);
        parsed = true;
      } catch {
        // not JSON
      }
    }
    if (!parsed && /^[^\s=&]{1,128}=/.test(body) && !/\s/.test(body)) formArgs(body, 'post', args);
  }
  const version = str(a, 'network.protocol.version');
  return {
    method: str(a, 'http.request.method', 'http.method') || 'GET',
    uri,
    path: percentDecode(path, false),
    query,
    protocol: version ? `HTTP/${version}` : 'HTTP/1.1',
    args,
    headers,
    cookies,
    body,
  };
}
