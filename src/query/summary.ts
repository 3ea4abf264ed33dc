/**
 * Time-bucketed summaries of the store for the console and `vigil report`: RED per service and
 * operation from spans, threats over time from security events, anomaly events. Each summary
 * reads at most `SAMPLE_LIMIT` rows, newest first, so one request (and one live update) costs a
 * bounded amount however much is stored; `sampled: true` says the figures come from that newest
 * part of the range, while `total` is still counted over the whole range (index only).
 */
import type Database from 'better-sqlite3';
import { parseAttributes } from '../../exporters/sqlite/store';
import { THREAT_EVENT_CONDITION, THREAT_EXPRESSIONS } from '../../exporters/sqlite/schema';
import { EVENT_NAME as ANOMALY_EVENT_NAME } from '../../processors/anomaly/events';
import { hasSpanRollup, HOUR_MS, spanSummaryFromRollup } from './span-rollup-summary';

export const SAMPLE_LIMIT = 20_000;
export const EVENT_LIMIT = 5_000;
const BUCKETS = 60;

export interface Range {
  startMs: number;
  endMs: number;
}

/** Bucket width: about 60 buckets over the range, rounded to a readable step. */
export function bucketMs(r: Range): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
  const want = (r.endMs - r.startMs) / BUCKETS;
  return steps.find((s) => s >= want) ?? 86400_000;
}

function bucketTimes(r: Range, step: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(r.startMs / step) * step; t < r.endMs; t += step) out.push(t);
  return out;
}

const ns = (ms: number) => BigInt(Math.floor(ms)) * 1_000_000n;

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export interface RedRow {
  service: string;
  operation?: string;
  count: number;
  rate_per_s: number;
  errors: number;
  error_ratio: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
}

export interface SpanSummary {
  range: Range;
  step_ms: number;
  total: number;
  sampled: boolean;
  read: number;
  services: RedRow[];
  operations: RedRow[];
  slowest: Array<{ service: string; operation: string; duration_ms: number; trace_id: string; span_id: string; time_ms: number; error: boolean }>;
  /** Per bucket: [t_ms[], count[], errors[], p50_ms[], p99_ms[]] */
  series: { t: number[]; count: number[]; errors: number[]; p50_ms: number[]; p99_ms: number[] };
  /** 'rollup' when read from span_rollup_1m (then `covered` starts at the step boundary before the range). */
  source?: 'rollup' | 'spans';
  covered?: Range;
}

interface Acc {
  count: number;
  errors: number;
  durs: number[];
}

function red(key: { service: string; operation?: string }, a: Acc, seconds: number): RedRow {
  a.durs.sort((x, y) => x - y);
  return {
    ...key, count: a.count, rate_per_s: a.count / seconds, errors: a.errors, error_ratio: a.count ? a.errors / a.count : 0,
    p50_ms: quantile(a.durs, 0.5), p90_ms: quantile(a.durs, 0.9), p99_ms: quantile(a.durs, 0.99),
  };
}

/**
 * RED, trend and slowest operations over a range: from the per-minute span rollup when the store
 * has one and the trend's step is at least a minute (span-rollup-summary.ts), otherwise from the
 * newest `limit` spans of the range.
 */
export function spanSummary(db: Database.Database, r: Range, limit = SAMPLE_LIMIT, nowMs = Date.now()): SpanSummary {
  const step = bucketMs(r);
  if (step >= 60_000 && hasSpanRollup(db)) {
    // Whole hours from 12 h up: each step is then one row per group of the hourly rollup.
    const rollupStep = r.endMs - r.startMs >= 12 * HOUR_MS ? Math.max(step, HOUR_MS) : step;
    return spanSummaryFromRollup(db, r, rollupStep, bucketTimes(r, rollupStep), nowMs);
  }
  return spanSummaryRaw(db, r, limit);
}

/** The summary from the newest `limit` spans of the range (short ranges, or a store without the rollup). */
export function spanSummaryRaw(db: Database.Database, r: Range, limit = SAMPLE_LIMIT): SpanSummary {
  const total = Number(db.prepare('SELECT count(*) FROM spans WHERE start_time_unix_nano >= ? AND start_time_unix_nano < ?').pluck().safeIntegers(false).get(ns(r.startMs), ns(r.endMs)));
  const rows = db.prepare(`SELECT service_name s, name n, start_time_unix_nano / 1000000 t, (end_time_unix_nano - start_time_unix_nano) / 1000.0 d, status_code c, trace_id, span_id
    FROM spans WHERE start_time_unix_nano >= ? AND start_time_unix_nano < ? ORDER BY start_time_unix_nano DESC LIMIT ?`).safeIntegers(false).raw().all(ns(r.startMs), ns(r.endMs), limit) as Array<[string, string, number, number, number, string, string]>;
  const step = bucketMs(r);
  const times = bucketTimes(r, step);
  const first = times[0] ?? r.startMs;
  const buckets: Acc[] = times.map(() => ({ count: 0, errors: 0, durs: [] }));
  const bySvc = new Map<string, Acc>();
  const byOp = new Map<string, Acc & { service: string; operation: string }>();
  const slow: SpanSummary['slowest'] = [];
  for (const [s, n, t, dUs, c, traceId, spanId] of rows) {
    const d = dUs / 1000;
    const err = c === 2 ? 1 : 0;
    const b = buckets[Math.floor((t - first) / step)];
    if (b) {
      b.count++;
      b.errors += err;
      b.durs.push(d);
    }
    let a = bySvc.get(s);
    if (!a) bySvc.set(s, (a = { count: 0, errors: 0, durs: [] }));
    a.count++;
    a.errors += err;
    a.durs.push(d);
    const k = `${s}\u0000${n}`;
    let o = byOp.get(k);
    if (!o) byOp.set(k, (o = { service: s, operation: n, count: 0, errors: 0, durs: [] }));
    o.count++;
    o.errors += err;
    o.durs.push(d);
    if (slow.length < 10 || d > slow[slow.length - 1].duration_ms) {
      slow.push({ service: s, operation: n, duration_ms: d, trace_id: traceId, span_id: spanId, time_ms: t, error: err === 1 });
      slow.sort((x, y) => y.duration_ms - x.duration_ms);
      if (slow.length > 10) slow.pop();
    }
  }
  // Rates are over the span of time the rows cover: the whole range, or the newest part when sampled.
  const sampled = rows.length >= limit && total > rows.length;
  const coveredMs = sampled && rows.length ? r.endMs - rows[rows.length - 1][2] : r.endMs - r.startMs;
  const seconds = Math.max(1, coveredMs / 1000);
  const sortedBuckets = buckets.map((b) => b.durs.sort((x, y) => x - y));
  return {
    range: r, step_ms: step, total, sampled, read: rows.length, source: 'spans',
    services: [...bySvc].map(([service, a]) => red({ service }, a, seconds)).sort((x, y) => y.count - x.count),
    operations: [...byOp.values()].map((o) => red({ service: o.service, operation: o.operation }, o, seconds)).sort((x, y) => y.count - x.count).slice(0, 50),
    slowest: slow,
    series: {
      t: times, count: buckets.map((b) => b.count), errors: buckets.map((b) => b.errors),
      p50_ms: sortedBuckets.map((d) => quantile(d, 0.5)), p99_ms: sortedBuckets.map((d) => quantile(d, 0.99)),
    },
  };
}

interface EventRow {
  time_ms: number;
  attributes: Record<string, unknown>;
  trace_id: string;
  span_id: string;
  service: string;
  body: string;
}

/**
 * Events of one name in the range, newest first, through the logs_event_ts index (partial: only
 * records with an event name, so the query repeats its condition for SQLite to pick it).
 */
function events(db: Database.Database, name: string, r: Range, limit: number): EventRow[] {
  const rows = db.prepare(`SELECT ts_unix_nano / 1000000 t, attributes, trace_id, span_id, service_name, body FROM logs
    WHERE event_name = ? AND event_name <> '' AND ts_unix_nano >= ? AND ts_unix_nano < ? ORDER BY ts_unix_nano DESC LIMIT ?`).safeIntegers(false).raw().all(name, ns(r.startMs), ns(r.endMs), limit) as Array<[number, string, string, string, string, string | null]>;
  return rows.map(([t, attrs, traceId, spanId, service, body]) => ({ time_ms: t, attributes: parseAttributes(attrs), trace_id: traceId, span_id: spanId, service, body: typeof body === 'string' ? body : '' }));
}

/** Connections whose store has logs_threat_fields (absent until a recent writer opened the store). */
const threatIndexed = new WeakSet<Database.Database>();

/**
 * Security events with only the attributes the summary shows, evidence cut to 500 characters, read
 * from the covering index logs_threat_fields where SQLite keeps them extracted: no json_extract per
 * event on each update. Its WHERE and expressions are repeated here word for word (or SQLite could
 * not use it), and named (the planner would otherwise prefer logs_event_ts for the equality on
 * event_name). A store last opened by an older writer has no such index: then through logs_event_ts.
 */
function threatEvents(db: Database.Database, r: Range, limit: number) {
  if (!threatIndexed.has(db) && db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'logs_threat_fields'`).get()) threatIndexed.add(db);
  const indexed = threatIndexed.has(db);
  const from = indexed ? `logs INDEXED BY logs_threat_fields WHERE ${THREAT_EVENT_CONDITION}` : `logs WHERE ${THREAT_EVENT_CONDITION} AND event_name <> ''`;
  return db.prepare(`SELECT ts_unix_nano / 1000000 t, ${THREAT_EXPRESSIONS.join(', ')}, trace_id, span_id, service_name FROM ${from}
    AND ts_unix_nano >= ? AND ts_unix_nano < ? ORDER BY ts_unix_nano DESC LIMIT ?`)
    .safeIntegers(false).raw().all(ns(r.startMs), ns(r.endMs), limit) as Array<[number, unknown, unknown, unknown, unknown, unknown, unknown, unknown, string, string, string]>;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export interface ThreatSummary {
  range: Range;
  step_ms: number;
  total: number;
  limited: boolean;
  by_type: Array<{ type: string; count: number }>;
  by_severity: Record<string, number>;
  /** Per bucket counts per severity. */
  series: { t: number[] } & Record<string, number[]>;
  top_ips: Array<{ ip: string; count: number; max_score: number; types: string[] }>;
  top_users: Array<{ user: string; count: number; max_score: number; types: string[] }>;
  recent: Array<{ time_ms: number; type: string; severity: string; score: number; source_ip: string; user: string; attribute: string; evidence: string; service: string; trace_id: string; span_id: string }>;
}

function top(map: Map<string, { count: number; max_score: number; types: Set<string> }>, key: 'ip' | 'user') {
  return [...map].sort((a, b) => b[1].count - a[1].count).slice(0, 10)
    .map(([k, v]) => ({ [key]: k, count: v.count, max_score: v.max_score, types: [...v.types].sort() })) as never[];
}

export function threatSummary(db: Database.Database, r: Range, limit = EVENT_LIMIT): ThreatSummary {
  const rows = threatEvents(db, r, limit);
  const step = bucketMs(r);
  const times = bucketTimes(r, step);
  const first = times[0] ?? r.startMs;
  const series: Record<string, number[]> = {};
  for (const s of SEVERITIES) series[s] = times.map(() => 0);
  const byType = new Map<string, number>();
  const bySev: Record<string, number> = {};
  const ips = new Map<string, { count: number; max_score: number; types: Set<string> }>();
  const users = new Map<string, { count: number; max_score: number; types: Set<string> }>();
  const bump = (m: typeof ips, k: string, score: number, type: string) => {
    if (!k) return;
    let e = m.get(k);
    if (!e) m.set(k, (e = { count: 0, max_score: 0, types: new Set() }));
    e.count++;
    e.max_score = Math.max(e.max_score, score);
    e.types.add(type);
  };
  const recent: ThreatSummary['recent'] = [];
  for (const [time, typeV, sevV, scoreV, ipV, userV, attrV, evidenceV, traceId, spanId, service] of rows) {
    const type = str(typeV);
    const severity = str(sevV) || 'low';
    const score = num(scoreV);
    const ip = str(ipV);
    const user = str(userV);
    byType.set(type, (byType.get(type) ?? 0) + 1);
    bySev[severity] = (bySev[severity] ?? 0) + 1;
    const i = Math.floor((time - first) / step);
    if (series[severity] && i >= 0 && i < times.length) series[severity][i]++;
    bump(ips, ip, score, type);
    bump(users, user, score, type);
    if (recent.length < 50) {
      recent.push({
        time_ms: time, type, severity, score, source_ip: ip, user, attribute: str(attrV),
        evidence: str(evidenceV).slice(0, 500), service, trace_id: traceId, span_id: spanId,
      });
    }
  }
  return {
    range: r, step_ms: step, total: rows.length, limited: rows.length >= limit,
    by_type: [...byType].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count),
    by_severity: bySev, series: { t: times, ...series } as ThreatSummary['series'],
    top_ips: top(ips, 'ip'), top_users: top(users, 'user'), recent,
  };
}

export interface AnomalyItem {
  time_ms: number;
  kind: string;
  name: string;
  series: string;
  value: number;
  expected_min: number;
  expected_max: number;
  score: number;
  service: string;
  attributes: Record<string, unknown>;
}

export function anomalySummary(db: Database.Database, r: Range, limit = 200): { range: Range; total: number; limited: boolean; items: AnomalyItem[] } {
  const rows = events(db, ANOMALY_EVENT_NAME, r, limit);
  return {
    range: r, total: rows.length, limited: rows.length >= limit,
    items: rows.map((e) => {
      const a = e.attributes;
      const attributes: Record<string, unknown> = {};
      for (const k of Object.keys(a)) if (!k.startsWith('anomaly.') && k !== 'event.name') attributes[k] = a[k];
      return {
        time_ms: e.time_ms, kind: str(a['anomaly.kind']), name: str(a['anomaly.name']), series: str(a['anomaly.series']),
        value: num(a['anomaly.value']), expected_min: num(a['anomaly.expected.min']), expected_max: num(a['anomaly.expected.max']),
        score: num(a['anomaly.score']), service: e.service, attributes,
      };
    }),
  };
}
