/**
 * What the API-calling commands (`vigil alerts`, `silences`, `query`) share: flag parsing, the call
 * to Vigil's HTTP API (`--api URL` or VIGIL_API, default http://127.0.0.1:8686; `--token` or
 * VIGIL_API_TOKEN), tables, and uniform exit codes (2 usage error, 1 API error).
 */
import type { Command } from './command';

export const DEFAULT_API = 'http://127.0.0.1:8686';

export class UsageError extends Error {}

export interface Flags {
  values: Map<string, string[]>;
  bools: Set<string>;
  rest: string[];
}

/** `--name value` / `--name=value` (repeatable); names in `booleans` take no value. */
export function parseApiFlags(args: string[], booleans: ReadonlySet<string>): Flags {
  const f: Flags = { values: new Map(), bools: new Set(), rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--') || a === '--') {
      f.rest.push(a);
      continue;
    }
    const body = a.slice(2);
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    if (booleans.has(key) && eq < 0) {
      f.bools.add(key);
      continue;
    }
    const value = eq >= 0 ? body.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${key} needs a value`);
    f.values.set(key, [...(f.values.get(key) ?? []), value]);
  }
  return f;
}

export const one = (f: Flags, k: string): string | undefined => f.values.get(k)?.at(-1);

/** Calls the API and returns its JSON; a refusal becomes an Error carrying the API's message. */
export async function callApi(f: Flags, method: string, path: string, body?: unknown): Promise<unknown> {
  const base = (one(f, 'api') ?? process.env.VIGIL_API ?? DEFAULT_API).replace(/\/+$/, '');
  const token = one(f, 'token') ?? process.env.VIGIL_API_TOKEN;
  const headers: Record<string, string> = { accept: 'application/json' };
  // The API refuses POST/PUT without a JSON content type (a web page cannot forge one cross-origin).
  if (body !== undefined || method === 'POST' || method === 'PUT') headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new Error(`cannot reach the Vigil API at ${base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${(json as { error?: string } | undefined)?.error ?? text.slice(0, 200)}`);
  return json;
}

/** Columns padded to their widest cell; the first row is the header. */
export function table(rows: string[][], empty = '(no results)\n'): string {
  if (rows.length <= 1) return empty;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * A command whose body returns an exit code, or output to print (a string as is, anything else as
 * JSON) with exit code 0.
 */
export function apiCommand(name: string, summary: string, usage: string, booleans: ReadonlySet<string>, body: (f: Flags) => Promise<unknown>): Command {
  return {
    name,
    summary,
    usage,
    async run(args) {
      let f: Flags;
      try {
        f = parseApiFlags(args, booleans);
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\nusage: ${usage}\n`);
        return 2;
      }
      if (f.bools.has('help')) {
        process.stdout.write(`usage: ${usage}\n${summary}\n`);
        return 0;
      }
      try {
        const out = await body(f);
        if (typeof out === 'number') return out;
        process.stdout.write(typeof out === 'string' ? out : JSON.stringify(out, null, 2) + '\n');
        return 0;
      } catch (e) {
        if (e instanceof UsageError) {
          process.stderr.write(`${e.message}\nusage: ${usage}\n`);
          return 2;
        }
        process.stderr.write(`error: ${(e as Error).message}\n`);
        return 1;
      }
    },
  };
}
