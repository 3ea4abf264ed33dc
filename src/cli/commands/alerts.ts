/**
 * `vigil alerts list|ack` and `vigil silences list|add|expire`: thin clients of the alerting HTTP
 * API (the `api` extension, http://127.0.0.1:8686 by default; `--api URL` or VIGIL_API to change,
 * `--token` or VIGIL_API_TOKEN when the API requires a bearer token).
 */
import type { Command } from '../command';
import { parseDuration } from '../../util/duration';
import { parseMatchers, toApiMatcher } from '../../alerting/matchers';

const DEFAULT_API = 'http://127.0.0.1:8686';
const COMMON_FLAGS = '[--api URL] [--token TOKEN] [--json]';

interface Flags { values: Record<string, string[]>; bools: Set<string>; rest: string[] }

const BOOLEANS = new Set(['json', 'help', 'expired']);

function parse(args: string[]): Flags {
  const f: Flags = { values: {}, bools: new Set(), rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) { f.rest.push(a); continue; }
    const body = a.slice(2);
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    if (BOOLEANS.has(key) && eq < 0) { f.bools.add(key); continue; }
    const value = eq >= 0 ? body.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${key} needs a value`);
    (f.values[key] ??= []).push(value);
  }
  return f;
}

class UsageError extends Error {}

const one = (f: Flags, k: string): string | undefined => f.values[k]?.at(-1);

async function call(f: Flags, method: string, path: string, body?: unknown): Promise<unknown> {
  const base = (one(f, 'api') ?? process.env.VIGIL_API ?? DEFAULT_API).replace(/\/+$/, '');
  const token = one(f, 'token') ?? process.env.VIGIL_API_TOKEN;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new Error(`cannot reach the Vigil API at ${base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  if (!res.ok) {
    const msg = (json as { error?: string } | undefined)?.error ?? text.slice(0, 200);
    throw new Error(`${method} ${path}: HTTP ${res.status}: ${msg}`);
  }
  return json;
}

function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

function labelsText(l: Record<string, string>, skip: string[] = []): string {
  return Object.entries(l).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
}

/** Runs a command body with uniform error handling: 2 for usage errors, 1 for API errors. */
function command(name: string, summary: string, usage: string, body: (f: Flags) => Promise<number>): Command {
  return {
    name, summary, usage,
    async run(args) {
      let f: Flags;
      try {
        f = parse(args);
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\nusage: ${usage}\n`);
        return 2;
      }
      if (f.bools.has('help')) { process.stdout.write(`usage: ${usage}\n${summary}\n`); return 0; }
      try {
        return await body(f);
      } catch (e) {
        if (e instanceof UsageError) { process.stderr.write(`${e.message}\nusage: ${usage}\n`); return 2; }
        process.stderr.write(`error: ${(e as Error).message}\n`);
        return 1;
      }
    },
  };
}

interface AlertRow {
  fingerprint: string; alertname: string; state: string; since: string; labels: Record<string, string>;
  status: { state: string }; acknowledged?: { by: string };
}

export const alertsListCommand = command('alerts list', 'List alerts with their state, fingerprint, labels and since when',
  `vigil alerts list [--state pending|firing|resolved] [--filter MATCHER]... ${COMMON_FLAGS}`,
  async (f) => {
    const q = new URLSearchParams();
    const state = one(f, 'state');
    if (state) q.set('state', state);
    for (const m of f.values.filter ?? []) q.append('filter', m);
    const list = (await call(f, 'GET', `/api/alerts${q.size ? `?${q}` : ''}`)) as AlertRow[];
    if (f.bools.has('json')) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
    const rows = [['FINGERPRINT', 'STATE', 'SINCE', 'ALERTNAME', 'STATUS', 'ACK', 'LABELS']];
    for (const a of list) {
      rows.push([a.fingerprint, a.state, a.since, a.alertname, a.status.state, a.acknowledged ? a.acknowledged.by : '-', labelsText(a.labels, ['alertname'])]);
    }
    process.stdout.write(table(rows));
    return 0;
  });

export const alertsAckCommand = command('alerts ack', 'Acknowledge a firing alert (stops its escalation)',
  `vigil alerts ack FINGERPRINT [--by NAME] [--comment TEXT] ${COMMON_FLAGS}`,
  async (f) => {
    const fp = f.rest[0];
    if (!fp) throw new UsageError('which alert? give its fingerprint (see vigil alerts list)');
    const by = one(f, 'by') ?? process.env.USER ?? 'cli';
    const res = await call(f, 'POST', `/api/alerts/${encodeURIComponent(fp)}/ack`, { by, comment: one(f, 'comment') ?? '' });
    if (f.bools.has('json')) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
    else process.stdout.write(`acknowledged ${fp} as ${by}\n`);
    return 0;
  });

interface SilenceRow {
  id: string; matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
  startsAt: string; endsAt: string; createdBy: string; comment: string; status: { state: string };
}

function matcherText(m: SilenceRow['matchers'][number]): string {
  const op = m.isRegex ? (m.isEqual === false ? '!~' : '=~') : (m.isEqual === false ? '!=' : '=');
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

export const silencesListCommand = command('silences list', 'List active and pending silences (--expired for expired ones too)',
  `vigil silences list [--expired] ${COMMON_FLAGS}`,
  async (f) => {
    const list = ((await call(f, 'GET', '/api/silences')) as SilenceRow[]).filter((s) => f.bools.has('expired') || s.status.state !== 'expired');
    if (f.bools.has('json')) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
    const rows = [['ID', 'STATE', 'ENDS', 'CREATED BY', 'MATCHERS', 'COMMENT']];
    for (const s of list) rows.push([s.id, s.status.state, s.endsAt, s.createdBy, s.matchers.map(matcherText).join(' '), s.comment]);
    process.stdout.write(table(rows));
    return 0;
  });

export const silencesAddCommand = command('silences add', 'Silence alerts matching the matchers (all must match)',
  `vigil silences add MATCHER... --comment TEXT [--author NAME] [--duration 1h | --end TIME] [--start TIME] ${COMMON_FLAGS}`,
  async (f) => {
    if (!f.rest.length) throw new UsageError('give at least one matcher, e.g. alertname="HighLatency" or instance=~"db-.*"');
    let matchers;
    try {
      matchers = parseMatchers(f.rest).map(toApiMatcher);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const comment = one(f, 'comment');
    if (!comment) throw new UsageError('--comment is required (say why)');
    const start = one(f, 'start') ? Date.parse(one(f, 'start')!) : Date.now();
    if (!Number.isFinite(start)) throw new UsageError('--start must be a time such as 2025-01-01T10:00:00Z');
    let end: number;
    if (one(f, 'end')) {
      end = Date.parse(one(f, 'end')!);
      if (!Number.isFinite(end)) throw new UsageError('--end must be a time such as 2025-01-01T12:00:00Z');
    } else {
      try {
        end = start + parseDuration(one(f, 'duration') ?? '1h');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const body = {
      matchers, startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString(),
      createdBy: one(f, 'author') ?? process.env.USER ?? 'cli', comment,
    };
    const res = (await call(f, 'POST', '/api/silences', body)) as { silenceID: string };
    if (f.bools.has('json')) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
    else process.stdout.write(`${res.silenceID}\n`);
    return 0;
  });

export const silencesExpireCommand = command('silences expire', 'Expire silences now',
  `vigil silences expire ID... ${COMMON_FLAGS}`,
  async (f) => {
    if (!f.rest.length) throw new UsageError('which silence? give its id (see vigil silences list)');
    for (const id of f.rest) {
      await call(f, 'DELETE', `/api/silences/${encodeURIComponent(id)}`);
      if (!f.bools.has('json')) process.stdout.write(`expired ${id}\n`);
    }
    return 0;
  });

export const alertingCommands: Command[] = [alertsListCommand, alertsAckCommand, silencesListCommand, silencesAddCommand, silencesExpireCommand];
