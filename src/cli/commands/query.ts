/**
 * `vigil query traces|spans|logs|metrics|events|services|names`: a client of the query API (the
 * `api` extension with a `sqlite` exporter; http://127.0.0.1:8686 by default, `--api URL` or
 * VIGIL_API to change, `--token` or VIGIL_API_TOKEN for a bearer token). Prints tables, or the
 * API's JSON with `--json`. Flags map to the API's parameters: `--service x` → `service=x`,
 * `--attr k=v` → `attr.k=v`, `--match 'route="/a"'` → `match[]=...`.
 */
import type { Command } from '../command';
import { Flags, UsageError, apiCommand, callApi, table } from '../api-client';

const COMMON = '[--start T] [--end T] [--api URL] [--token TOKEN] [--json]';

const BOOLEANS = new Set(['json', 'help', 'all']);

/** Flags become query parameters; the client-only ones stay here. */
function toParams(f: Flags, allowed: string[]): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, vs] of f.values) {
    if (k === 'api' || k === 'token') continue;
    if (k === 'attr') {
      for (const v of vs) {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new UsageError(`--attr ${v}: expected key=value`);
        q.append(`attr.${v.slice(0, eq)}`, v.slice(eq + 1));
      }
      continue;
    }
    if (k === 'match') { for (const v of vs) q.append('match[]', v); continue; }
    const param = k.replace(/-/g, '_');
    if (!allowed.includes(param)) throw new UsageError(`unknown flag --${k}`);
    q.set(param, vs.at(-1)!);
  }
  return q;
}

const call = (f: Flags, path: string): Promise<unknown> => callApi(f, 'GET', path);

export { table };

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const kv = (o: Record<string, unknown>, max = 100): string => clip(Object.entries(o).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '), max);
const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${+ms.toFixed(3)}ms`);
const fmtNum = (v: number | null): string => (v === null ? 'NaN' : Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(4) : String(+v.toFixed(6)));

const command = (name: string, summary: string, usage: string, body: (f: Flags) => Promise<string | unknown>): Command => apiCommand(name, summary, usage, BOOLEANS, body);

interface SpanJson {
  trace_id: string; span_id: string; name: string; kind: string; service: string; start_time: string; duration_ms: number;
  status: { code: string; message: string }; attributes: Record<string, unknown>; children?: SpanJson[]; missing_parent?: boolean;
}

interface Paged<T> { items: T[]; next_cursor?: string; scan_limited?: boolean }

function footer(p: Paged<unknown>): string {
  if (!p.next_cursor) return '';
  return `\nmore results: add --cursor ${p.next_cursor}${p.scan_limited ? ' (the scan stopped at its bound before the page filled)' : ''}\n`;
}

const tracesCommand = command('query traces', 'Show a trace as a tree of spans', `vigil query traces TRACE_ID [--api URL] [--token TOKEN] [--json]`, async (f) => {
  const id = f.rest[0];
  if (!id) throw new UsageError('which trace? give its 32-hex-digit id');
  const t = (await call(f, `/api/traces/${encodeURIComponent(id)}`)) as { trace_id: string; span_count: number; duration_ms: number; services: string[]; truncated: boolean; roots: SpanJson[] };
  if (f.bools.has('json')) return t;
  const rows = [['SPAN', 'SERVICE', 'KIND', 'START', 'DURATION', 'STATUS', 'SPAN_ID']];
  const walk = (s: SpanJson, depth: number): void => {
    rows.push([`${'  '.repeat(depth)}${s.name}${s.missing_parent ? ' (parent missing)' : ''}`, s.service, s.kind, s.start_time, fmtMs(s.duration_ms), s.status.code, s.span_id]);
    for (const c of s.children ?? []) walk(c, depth + 1);
  };
  for (const r of t.roots) walk(r, 0);
  return `trace ${t.trace_id}: ${t.span_count} spans, ${fmtMs(t.duration_ms)}, services ${t.services.join(', ')}${t.truncated ? ' (truncated)' : ''}\n\n${table(rows)}`;
});

const SPAN_PARAMS = ['service', 'name', 'kind', 'status', 'min_duration', 'max_duration', 'trace_id', 'start', 'end', 'limit', 'cursor'];
const spansCommand = command('query spans', 'Search spans by service, name, attributes, duration, status and time',
  `vigil query spans [--service S] [--name N] [--kind server|client|...] [--status ok|error|unset] [--min-duration 250ms] [--max-duration D] [--attr k=v]... [--limit N] [--cursor C] ${COMMON}`,
  async (f) => {
    const p = (await call(f, `/api/spans?${toParams(f, SPAN_PARAMS)}`)) as Paged<SpanJson>;
    if (f.bools.has('json')) return p;
    const rows = [['START', 'SERVICE', 'NAME', 'KIND', 'DURATION', 'STATUS', 'TRACE_ID', 'ATTRIBUTES']];
    for (const s of p.items) rows.push([s.start_time, s.service, clip(s.name, 60), s.kind, fmtMs(s.duration_ms), s.status.code, s.trace_id, kv(s.attributes)]);
    return table(rows) + footer(p);
  });

interface LogJson { time: string; service: string; severity_text: string; severity_number: number; body: unknown; event_name: string; trace_id: string; attributes: Record<string, unknown> }
const LOG_PARAMS = ['service', 'severity_min', 'body', 'event_name', 'trace_id', 'start', 'end', 'limit', 'cursor'];
const logsCommand = command('query logs', 'Search log records by service, severity, body text, attributes and time',
  `vigil query logs [--service S] [--severity-min warn] [--body TEXT] [--event-name E] [--trace-id ID] [--attr k=v]... [--limit N] [--cursor C] ${COMMON}`,
  async (f) => {
    const p = (await call(f, `/api/logs?${toParams(f, LOG_PARAMS)}`)) as Paged<LogJson>;
    if (f.bools.has('json')) return p;
    const rows = [['TIME', 'SERVICE', 'SEVERITY', 'BODY', 'ATTRIBUTES']];
    for (const l of p.items) {
      rows.push([l.time, l.service, l.severity_text || String(l.severity_number), clip(typeof l.body === 'string' ? l.body : JSON.stringify(l.body), 100).replace(/\s+/g, ' '), kv(l.attributes, 80)]);
    }
    return table(rows) + footer(p);
  });

const EVENT_PARAMS = ['service', 'type', 'severity', 'source_ip', 'user', 'start', 'end', 'limit', 'cursor'];
const eventsCommand = command('query events', 'List security events (security.threat log records)',
  `vigil query events [--type sqli] [--severity high] [--source-ip IP] [--user U] [--limit N] [--cursor C] ${COMMON}`,
  async (f) => {
    const p = (await call(f, `/api/security/events?${toParams(f, EVENT_PARAMS)}`)) as Paged<Record<string, unknown>>;
    if (f.bools.has('json')) return p;
    const rows = [['TIME', 'TYPE', 'SEVERITY', 'SOURCE_IP', 'USER', 'SERVICE', 'EVIDENCE']];
    const s = (v: unknown): string => (v === undefined || v === null ? '-' : String(v));
    for (const e of p.items) rows.push([s(e.time), s(e.type), s(e.severity), s(e.source_ip), s(e.user), s(e.service), clip(s(e.evidence), 80)]);
    return table(rows) + footer(p);
  });

const METRIC_PARAMS = ['service', 'start', 'end', 'step', 'agg', 'q', 'by'];
const metricsCommand = command('query metrics', 'Aggregate a metric over time: avg, min, max, sum, count, rate, increase or quantile',
  `vigil query metrics NAME [--agg avg|min|max|sum|count|rate|increase|quantile] [--q 0.95] [--step 1m] [--match 'key="v"']... [--by label,...] [--service S] ${COMMON}`,
  async (f) => {
    const name = f.rest[0];
    if (!name) throw new UsageError('which metric? (vigil query names lists them)');
    const q = toParams(f, METRIC_PARAMS);
    q.set('name', name);
    const r = (await call(f, `/api/metrics?${q}`)) as { agg: string; q?: number; step_seconds: number; source: string; series: Array<{ labels: Record<string, string>; points: Array<[number, number | null]> }>; warnings?: string[] };
    if (f.bools.has('json')) return r;
    const rows = [['TIME', 'VALUE', 'LABELS']];
    for (const s of r.series) for (const [t, v] of s.points) rows.push([new Date(t * 1000).toISOString(), fmtNum(v), kv(s.labels, 120)]);
    const head = `${name} ${r.agg}${r.q !== undefined ? `(q=${r.q})` : ''} step ${r.step_seconds}s, ${r.series.length} series (${r.source})\n`;
    return head + table(rows) + (r.warnings ?? []).map((w) => `warning: ${w}\n`).join('');
  });

const servicesCommand = command('query services', 'List the services that sent data to the store', `vigil query services [--api URL] [--token TOKEN] [--json]`, async (f) => {
  const r = (await call(f, '/api/services')) as { services: string[] };
  return f.bools.has('json') ? r : r.services.map((s) => `${s}\n`).join('') || '(no services)\n';
});

const namesCommand = command('query names', 'List stored metric names with type, unit and series count', `vigil query names [--prefix P] [--api URL] [--token TOKEN] [--json]`, async (f) => {
  const r = (await call(f, `/api/metrics/names?${toParams(f, ['prefix'])}`)) as { names: Array<{ name: string; type: string; unit: string; series: number }> };
  if (f.bools.has('json')) return r;
  return table([['NAME', 'TYPE', 'UNIT', 'SERIES'], ...r.names.map((n) => [n.name, n.type, n.unit, String(n.series)])]);
});

export const queryCommands: Command[] = [tracesCommand, spansCommand, logsCommand, eventsCommand, metricsCommand, servicesCommand, namesCommand];
