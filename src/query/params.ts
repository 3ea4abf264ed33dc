/**
 * Parsing and bounding of query parameters. Every problem becomes a 400 naming the parameter, so
 * a user sees what to change; nothing here trusts the request to be reasonable.
 */
import { ApiError } from '../api';
import { parseDuration } from '../util/duration';

export const NANOS_PER_MS = 1_000_000n;

export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}

/**
 * A point in time as unix nanoseconds: RFC 3339 (`2025-11-13T08:00:00.123456789Z`), unix seconds,
 * milliseconds, microseconds or nanoseconds (told apart by magnitude, as Grafana and Loki do), `now`
 * or `now-15m`.
 */
export function parseTime(raw: string, name: string, nowNs: bigint): bigint {
  const s = raw.trim();
  if (s === 'now') return nowNs;
  const rel = /^now-(.+)$/.exec(s);
  if (rel) return nowNs - durationNanos(rel[1], name);
  if (/^\d+(\.\d+)?$/.test(s)) {
    const [int, frac = ''] = s.split('.');
    const digits = int.replace(/^0+(?=\d)/, '');
    // Magnitudes: seconds have ≤ 11 digits until the year 5138; ms ≤ 14; µs ≤ 17; beyond, ns.
    const scale = digits.length <= 11 ? 9 : digits.length <= 14 ? 6 : digits.length <= 17 ? 3 : 0;
    const fracDigits = (frac + '000000000').slice(0, scale);
    return BigInt(int) * 10n ** BigInt(scale) + (scale ? BigInt(fracDigits || '0') : 0n);
  }
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (m) {
    const ms = Date.parse(`${m[1]}T${m[2]}${m[4].toUpperCase()}`);
    if (Number.isFinite(ms)) return BigInt(ms) * NANOS_PER_MS + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  }
  throw badRequest(`${name}: ${JSON.stringify(raw.slice(0, 64))} is not a time: use RFC 3339 (2025-01-02T15:04:05Z), unix seconds, ms or ns, or now-1h`);
}

/** A duration ("250ms", "1m30s", or a number of milliseconds) in nanoseconds. */
export function durationNanos(raw: string, name: string): bigint {
  const s = raw.trim();
  let ms: number;
  try {
    ms = /^\d+(\.\d+)?$/.test(s) ? Number(s) : parseDuration(s);
  } catch {
    throw badRequest(`${name}: ${JSON.stringify(raw.slice(0, 64))} is not a duration: use e.g. 250ms, 5s, 1m30s, 2h`);
  }
  return BigInt(Math.round(ms * 1e6));
}

/** An integer within [min, max]; `def` when absent. */
export function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw badRequest(`${name}: expected a whole number, got ${JSON.stringify(raw.slice(0, 32))}`);
  const n = Number(raw);
  if (n < min || n > max) throw badRequest(`${name}: must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function numberParam(q: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw badRequest(`${name}: expected a number between ${min} and ${max}, got ${JSON.stringify(raw.slice(0, 32))}`);
  return n;
}

export interface TimeRange {
  start: bigint;
  end: bigint;
}

/**
 * `start`/`end` with a default window ending now, refusing ranges longer than `maxNs`: a search
 * over the whole store is the unbounded scan these limits exist to prevent.
 */
export function timeRange(q: URLSearchParams, nowNs: bigint, defaultNs: bigint, maxNs: bigint): TimeRange {
  const end = q.get('end') ? parseTime(q.get('end')!, 'end', nowNs) : nowNs;
  const start = q.get('start') ? parseTime(q.get('start')!, 'start', nowNs) : end - defaultNs;
  if (start >= end) throw badRequest('start must be before end');
  if (end - start > maxNs) {
    throw badRequest(`time range ${formatNanosDuration(end - start)} is longer than the maximum ${formatNanosDuration(maxNs)}: narrow start/end`);
  }
  return { start, end };
}

export function formatNanosDuration(ns: bigint): string {
  const s = Number(ns / 1_000_000n) / 1000;
  if (s >= 86400 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 3600) return `${+(s / 3600).toFixed(2)}h`;
  if (s >= 60) return `${+(s / 60).toFixed(2)}m`;
  return `${s}s`;
}

/** RFC 3339 with nanoseconds, for output. */
export function rfc3339(ns: bigint): string {
  const ms = Number(ns / NANOS_PER_MS);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

const ATTR_KEY = /^[\p{L}\p{N}_.\-/:@]{1,256}$/u;

/** `attr.<key>=<value>` parameters; keys are limited to characters that need no quoting anywhere. */
export function attrFilters(q: URLSearchParams, max = 10): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of q) {
    if (!k.startsWith('attr.')) continue;
    const key = k.slice(5);
    if (!ATTR_KEY.test(key)) throw badRequest(`${k}: attribute keys may hold letters, digits and _ . - / : @ (at most 256)`);
    out.push([key, v]);
  }
  if (out.length > max) throw badRequest(`at most ${max} attr.<key> filters`);
  return out;
}

export const HEX32 = /^[0-9a-f]{32}$/;

/** Keyset cursors: opaque to clients, (time, rowid) of the last row returned. */
export function encodeCursor(time: bigint, rowid: bigint): string {
  return Buffer.from(`${time}:${rowid}`).toString('base64url');
}

export function decodeCursor(raw: string | null): { time: bigint; rowid: bigint } | undefined {
  if (!raw) return undefined;
  const m = /^(\d{1,20}):(\d{1,20})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m) throw badRequest('cursor: not a cursor returned by this API');
  return { time: BigInt(m[1]), rowid: BigInt(m[2]) };
}
