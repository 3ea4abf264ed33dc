/**
 * Span and log search with bounded work per request.
 *
 * Candidates are walked newest first along an index (time, or service + time), at most
 * `SCAN_LIMIT` of them per request; the other filters (name, attributes, duration, body text, ...)
 * are applied to those candidates only. When the walk stops at the bound before a page is full, the
 * answer carries `next_cursor` and `scan_limited: true`, so a client pages on instead of one request
 * reading the whole store. Cursors are keyset positions (time, rowid), stable while data arrives.
 */
import type Database from 'better-sqlite3';
import { decodeBody, parseAttributes, traceKey } from '../../exporters/sqlite/store';
import { anyValueToJs } from '../model';
import { attrFilters, badRequest, decodeCursor, durationNanos, encodeCursor, HEX32, intParam, rfc3339, timeRange } from './params';

export const SCAN_LIMIT = 100_000;
export const MAX_PAGE = 1000;
const HOUR = 3_600_000_000_000n;
export const DEFAULT_WINDOW = HOUR;
export const MAX_WINDOW = 31n * 24n * HOUR;

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];
const SEVERITIES: Record<string, number> = { trace: 1, debug: 5, info: 9, warn: 13, warning: 13, error: 17, fatal: 21 };

interface Where {
  sql: string[];
  args: unknown[];
}

const where = (): Where => ({ sql: [], args: [] });
const add = (w: Where, sql: string, ...args: unknown[]): void => {
  w.sql.push(sql);
  w.args.push(...args);
};
const clause = (w: Where): string => (w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '');

/**
 * attr.<key>=<value> matches the attribute's JSON form: strings by text, and numbers or booleans
 * when the value reads as one (attr.http.response.status_code=200 finds the integer 200).
 */
function addAttrFilters(w: Where, q: URLSearchParams, column: string): void {
  for (const [key, value] of attrFilters(q)) {
    const path = `$."${key}"`;
    const alternatives = [JSON.stringify(value)];
    if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false)$/.test(value)) alternatives.push(value);
    add(w, `(${column} -> ?) IN (${alternatives.map(() => '?').join(', ')})`, path, ...alternatives);
  }
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

interface Page<T> {
  items: T[];
  next_cursor?: string;
  scan_limited?: boolean;
}

/**
 * Runs one bounded search: `index` holds the conditions an index serves (time range, service,
 * cursor), `filter` the rest. `table` has `timeCol` and a rowid.
 */
function boundedSearch(db: Database.Database, table: string, timeCol: string, index: Where, filter: Where, select: string, joins: string, limit: number, scan: number): Page<Record<string, unknown>> & { rows: Record<string, unknown>[] } {
  const order = `ORDER BY ${timeCol} DESC, rowid DESC`;
  const sql = `SELECT t.rowid AS _rid, t.*${select} FROM (SELECT rowid AS cand FROM ${table} ${clause(index)} ${order} LIMIT ${scan}) c
    JOIN ${table} t ON t.rowid = c.cand ${joins} ${clause(filter)} ORDER BY t.${timeCol} DESC, t.rowid DESC LIMIT ${limit + 1}`;
  const rows = db.prepare(sql).all(...index.args, ...filter.args) as Record<string, unknown>[];
  const out: Page<Record<string, unknown>> & { rows: Record<string, unknown>[] } = { items: [], rows: rows.slice(0, limit) };
  if (rows.length > limit) {
    const last = rows[limit - 1];
    out.next_cursor = encodeCursor(last[timeCol] as bigint, last._rid as bigint);
    return out;
  }
  // Fewer matches than a page: did the walk stop at its bound, or reach the end of the range?
  const lastScanned = db.prepare(`SELECT ${timeCol} AS t, rowid AS r FROM ${table} ${clause(index)} ${order} LIMIT 1 OFFSET ${scan - 1}`)
    .get(...index.args) as { t: bigint; r: bigint } | undefined;
  if (lastScanned) {
    out.next_cursor = encodeCursor(lastScanned.t, lastScanned.r);
    out.scan_limited = true;
  }
  return out;
}

function commonIndex(q: URLSearchParams, timeCol: string, nowNs: bigint): { index: Where; range: { start: bigint; end: bigint } } {
  const range = timeRange(q, nowNs, DEFAULT_WINDOW, MAX_WINDOW);
  const index = where();
  const service = q.get('service');
  if (service) add(index, 'service_name = ?', service);
  add(index, `${timeCol} >= ?`, range.start);
  add(index, `${timeCol} < ?`, range.end);
  const cursor = decodeCursor(q.get('cursor'));
  if (cursor) add(index, `(${timeCol}, rowid) < (?, ?)`, cursor.time, cursor.rowid);
  return { index, range };
}

function enumParam(raw: string, names: string[], name: string): number {
  const s = raw.toLowerCase();
  const i = names.indexOf(s.replace(/^(span_kind_|status_code_)/, ''));
  if (i >= 0) return i;
  if (/^\d$/.test(s) && Number(s) < names.length) return Number(s);
  throw badRequest(`${name}: expected one of ${names.join(', ')}, got ${JSON.stringify(raw.slice(0, 32))}`);
}

const SPAN_JOINS = 'JOIN resources r ON r.resource_id = t.resource_id JOIN scopes sc ON sc.scope_id = t.scope_id';
const SPAN_SELECT = ', r.attributes AS resource_attributes, sc.name AS scope_name, sc.version AS scope_version';

/** `scan` bounds the candidate rows walked (tests lower it). */
export function searchSpans(db: Database.Database, q: URLSearchParams, nowNs: bigint, scan = SCAN_LIMIT): Page<SpanOut> {
  const limit = intParam(q, 'limit', 100, 1, MAX_PAGE);
  const { index } = commonIndex(q, 'start_time_unix_nano', nowNs);
  const f = where();
  const name = q.get('name');
  if (name) add(f, 't.name = ?', name);
  if (q.get('kind')) add(f, 't.kind = ?', enumParam(q.get('kind')!, KINDS, 'kind'));
  if (q.get('status')) add(f, 't.status_code = ?', enumParam(q.get('status')!, STATUS, 'status'));
  if (q.get('min_duration')) add(f, 't.end_time_unix_nano - t.start_time_unix_nano >= ?', durationNanos(q.get('min_duration')!, 'min_duration'));
  if (q.get('max_duration')) add(f, 't.end_time_unix_nano - t.start_time_unix_nano <= ?', durationNanos(q.get('max_duration')!, 'max_duration'));
  const traceId = q.get('trace_id');
  if (traceId) {
    const id = checkTraceId(traceId);
    add(f, 't.trace_key = ? AND t.trace_id = ?', traceKey(id), id);
  }
  addAttrFilters(f, q, 't.attributes');
  const page = boundedSearch(db, 'spans', 'start_time_unix_nano', index, f, SPAN_SELECT, SPAN_JOINS, limit, scan);
  return { items: page.rows.map(spanOut), next_cursor: page.next_cursor, ...(page.scan_limited ? { scan_limited: true } : {}) };
}

export function checkTraceId(raw: string): string {
  const id = raw.trim().toLowerCase();
  if (!HEX32.test(id) || /^0+$/.test(id)) throw badRequest(`trace id ${JSON.stringify(raw.slice(0, 40))}: expected 32 hex digits, not all zero`);
  return id;
}

export interface SpanOut {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  service: string;
  start_time: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ms: number;
  status: { code: string; message: string };
  attributes: Record<string, unknown>;
  events: unknown[];
  links: unknown[];
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  trace_state?: string;
  dropped?: { attributes: number; events: number; links: number };
}

export function spanOut(r: Record<string, unknown>): SpanOut {
  const start = r.start_time_unix_nano as bigint;
  const end = r.end_time_unix_nano as bigint;
  const dropped = { attributes: Number(r.dropped_attributes_count), events: Number(r.dropped_events_count), links: Number(r.dropped_links_count) };
  return {
    trace_id: r.trace_id as string,
    span_id: r.span_id as string,
    parent_span_id: r.parent_span_id as string,
    name: r.name as string,
    kind: KINDS[Number(r.kind)] ?? String(r.kind),
    service: r.service_name as string,
    start_time: rfc3339(start),
    start_time_unix_nano: start.toString(),
    end_time_unix_nano: end.toString(),
    duration_ms: Number(end - start) / 1e6,
    status: { code: STATUS[Number(r.status_code)] ?? String(r.status_code), message: r.status_message as string },
    attributes: parseAttributes(r.attributes as string),
    events: r.events ? (JSON.parse(r.events as string) as unknown[]) : [],
    links: r.links ? (JSON.parse(r.links as string) as unknown[]) : [],
    resource: parseAttributes(r.resource_attributes as string),
    scope: { name: r.scope_name as string, version: r.scope_version as string },
    ...(r.trace_state ? { trace_state: r.trace_state as string } : {}),
    ...(dropped.attributes || dropped.events || dropped.links ? { dropped } : {}),
  };
}

export function severityParam(raw: string): number {
  const s = raw.trim().toLowerCase();
  if (s in SEVERITIES) return SEVERITIES[s];
  if (/^\d{1,2}$/.test(s) && Number(s) >= 1 && Number(s) <= 24) return Number(s);
  throw badRequest(`severity_min: expected 1-24 or one of trace, debug, info, warn, error, fatal, got ${JSON.stringify(raw.slice(0, 32))}`);
}

const LOG_JOINS = 'JOIN resources r ON r.resource_id = t.resource_id JOIN scopes sc ON sc.scope_id = t.scope_id';
const LOG_SELECT = ', r.attributes AS resource_attributes, sc.name AS scope_name';

export interface LogOut {
  time: string;
  time_unix_nano: string;
  observed_time_unix_nano: string;
  severity_number: number;
  severity_text: string;
  body: unknown;
  attributes: Record<string, unknown>;
  event_name: string;
  trace_id: string;
  span_id: string;
  service: string;
  resource: Record<string, unknown>;
  scope: string;
}

function logOut(r: Record<string, unknown>): LogOut {
  return {
    time: rfc3339(r.ts_unix_nano as bigint),
    time_unix_nano: String(r.time_unix_nano),
    observed_time_unix_nano: String(r.observed_time_unix_nano),
    severity_number: Number(r.severity_number),
    severity_text: r.severity_text as string,
    body: anyValueToJs(decodeBody(r.body_type as string, r.body as string | null)),
    attributes: parseAttributes(r.attributes as string),
    event_name: r.event_name as string,
    trace_id: r.trace_id as string,
    span_id: r.span_id as string,
    service: r.service_name as string,
    resource: parseAttributes(r.resource_attributes as string),
    scope: r.scope_name as string,
  };
}

export function searchLogs(db: Database.Database, q: URLSearchParams, nowNs: bigint, scan = SCAN_LIMIT): Page<LogOut> {
  const limit = intParam(q, 'limit', 100, 1, MAX_PAGE);
  const { index } = commonIndex(q, 'ts_unix_nano', nowNs);
  const traceId = q.get('trace_id');
  // The trace index narrows the walk far more than time does, so it joins the index conditions.
  if (traceId) add(index, 'trace_id = ?', checkTraceId(traceId));
  const f = where();
  if (q.get('severity_min')) add(f, 't.severity_number >= ?', severityParam(q.get('severity_min')!));
  const body = q.get('body');
  if (body) {
    if (body.length > 1024) throw badRequest('body: search text longer than 1024 characters');
    add(f, "t.body LIKE ? ESCAPE '\\'", likePattern(body));
  }
  const event = q.get('event_name');
  if (event) add(f, 't.event_name = ?', event);
  addAttrFilters(f, q, 't.attributes');
  const page = boundedSearch(db, 'logs', 'ts_unix_nano', index, f, LOG_SELECT, LOG_JOINS, limit, scan);
  return { items: page.rows.map(logOut), next_cursor: page.next_cursor, ...(page.scan_limited ? { scan_limited: true } : {}) };
}

export const SECURITY_EVENT_NAME = 'security.threat';

/** Security events: the `security.threat` log records the security_events connector emits. */
export function searchSecurityEvents(db: Database.Database, q: URLSearchParams, nowNs: bigint): Page<Record<string, unknown>> {
  const params = new URLSearchParams(q);
  params.set('event_name', SECURITY_EVENT_NAME);
  for (const [param, attr] of [['type', 'security.threat.type'], ['severity', 'security.threat.severity'], ['source_ip', 'security.threat.source_ip'], ['user', 'security.threat.user']]) {
    const v = q.get(param);
    if (v) params.append(`attr.${attr}`, v);
  }
  const page = searchLogs(db, params, nowNs);
  return {
    ...page,
    items: page.items.map((l) => {
      const a = l.attributes;
      return {
        time: l.time,
        type: a['security.threat.type'],
        severity: a['security.threat.severity'],
        score: a['security.threat.score'],
        user: a['security.threat.user'],
        source_ip: a['security.threat.source_ip'],
        attribute: a['security.threat.attribute'],
        evidence: a['security.threat.evidence'],
        detector: a['security.threat.detector'],
        service: l.service,
        trace_id: l.trace_id,
        span_id: l.span_id,
        attributes: a,
      };
    }),
  };
}
