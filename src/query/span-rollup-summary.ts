/**
 * RED per service and operation, the trend over the range and the slowest operations, read from
 * the per-minute span rollup (exporters/sqlite/span-rollup.ts) instead of the spans: the cost of a
 * summary follows the number of (minute, service, operation) groups in the range, not the number
 * of spans.
 *
 * The range is covered in steps of the trend chart (bucketMs, ≥ 1 minute here, and whole hours for
 * ranges of 12 h or more, so that those read the hourly rollup; the range's start is moved back to
 * the step boundary: `covered` says which span of time the figures are for). A step whose
 * minutes are all settled (older than SETTLE_MS) is read once and kept in a small cache for a few
 * minutes; the step still being written is extended minute by minute, and the newest minutes are
 * read on every call. Because the writer updates the current minute's rollup row in the same
 * transaction as its spans, the rollup is exact up to the last commit; only a custom range ending
 * in the past in the middle of a minute reads that minute's tail from the spans.
 *
 * Late spans (written more than SETTLE_MS after their start into a step already cached) show once
 * that step's cache entry expires (CACHE_TTL_MS plus jitter, so entries do not all expire at once).
 */
import type Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import {
  bucketBounds, bucketIndex, DENSE_SLOTS, MIN_INDEX, slotOf, SPAN_ROLLUP_HOUR_TABLE, SPAN_ROLLUP_TABLE,
} from '../../exporters/sqlite/span-rollup';
import type { Range, RedRow, SpanSummary } from './summary';

const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const SETTLE_MS = 2 * MINUTE_MS;
const CACHE_TTL_MS = 5 * MINUTE_MS;
/** Spans read at most for the tail of a past minute (a custom range ending mid-minute). */
const TAIL_LIMIT = 50_000;

const ns = (ms: number) => BigInt(Math.floor(ms)) * 1_000_000n;
const floorMin = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/** One (service, operation)'s figures over some minutes. */
interface Group {
  service: string;
  operation: string;
  count: number;
  errors: number;
  min: number;
  max: number;
  slow: { trace_id: string; span_id: string; time_ms: number; error: boolean };
  /** While being filled: (slot, count) pairs, a slot may repeat. */
  pairs?: number[];
  /** Accumulators of the summary (per operation and service) are dense. */
  dense?: number[];
  /** Once compacted: the non-empty slots and their counts. */
  slots?: Uint16Array;
  counts?: Float64Array;
}

/** The groups of one step of the chart over [from, upTo). */
interface Chunk {
  from: number;
  upTo: number;
  groups: Map<string, Group>;
  count: number;
  errors: number;
  hist: Float64Array;
  min: number;
  max: number;
  rows: number;
  expires: number;
}

function newChunk(from: number): Chunk {
  return { from, upTo: from, groups: new Map(), count: 0, errors: 0, hist: new Float64Array(DENSE_SLOTS), min: Infinity, max: -Infinity, rows: 0, expires: 0 };
}

function group(c: Chunk, service: string, operation: string): Group {
  const k = `${service}\u0000${operation}`;
  let g = c.groups.get(k);
  if (!g) {
    g = { service, operation, count: 0, errors: 0, min: Infinity, max: -Infinity, slow: { trace_id: '', span_id: '', time_ms: 0, error: false }, pairs: [] };
    c.groups.set(k, g);
  } else if (!g.pairs) expand(g);
  return g;
}

function expand(g: Group): void {
  const pairs: number[] = [];
  for (let i = 0; i < g.slots!.length; i++) pairs.push(g.slots![i], g.counts![i]);
  g.pairs = pairs;
  g.slots = g.counts = undefined;
}

const scratch = new Float64Array(DENSE_SLOTS);

/** Settled chunks keep each slot once, in typed arrays (less memory, faster to merge). */
function compact(c: Chunk): void {
  for (const g of c.groups.values()) {
    const p = g.pairs;
    if (!p) continue;
    const touched: number[] = [];
    for (let j = 0; j < p.length; j += 2) {
      if (scratch[p[j]] === 0) touched.push(p[j]);
      scratch[p[j]] += p[j + 1];
    }
    touched.sort((a, b) => a - b);
    const slots = new Uint16Array(touched.length);
    const counts = new Float64Array(touched.length);
    touched.forEach((slot, j) => {
      slots[j] = slot;
      counts[j] = scratch[slot];
      scratch[slot] = 0;
    });
    g.slots = slots;
    g.counts = counts;
    g.pairs = undefined;
  }
}

/** Minutes [fromMs, toMs) of the rollup: whole hours from span_rollup_1h, the rest from span_rollup_1m. */
function readRollup(db: Database.Database, c: Chunk, fromMs: number, toMs: number): void {
  const h0 = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  const h1 = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  if (h1 > h0) {
    readTable(db, SPAN_ROLLUP_TABLE, c, fromMs, h0);
    readTable(db, SPAN_ROLLUP_HOUR_TABLE, c, h0, h1);
    readTable(db, SPAN_ROLLUP_TABLE, c, h1, toMs);
  } else readTable(db, SPAN_ROLLUP_TABLE, c, fromMs, toMs);
}

function readTable(db: Database.Database, table: string, c: Chunk, fromMs: number, toMs: number): void {
  if (toMs <= fromMs) return;
  const rows = db.prepare(`SELECT service_name, name, status_code, count, duration_min_ms, duration_max_ms, max_trace_id, max_span_id,
      max_start_unix_nano / 1000000, histogram FROM ${table} WHERE bucket_unix_nano >= ? AND bucket_unix_nano < ?`)
    .raw().safeIntegers(false).all(ns(fromMs), ns(toMs)) as Array<[string, string, number, number, number, number, string, string, number, Uint8Array]>;
  for (const [service, name, status, count, min, max, trace, span, startMs, hist] of rows) {
    const g = group(c, service, name);
    const errors = status === 2 ? count : 0;
    g.count += count;
    g.errors += errors;
    if (min < g.min) g.min = min;
    if (max > g.max) {
      g.max = max;
      g.slow = { trace_id: trace, span_id: span, time_ms: startMs, error: status === 2 };
    }
    const b = Buffer.isBuffer(hist) ? hist : Buffer.from(hist.buffer, hist.byteOffset, hist.byteLength);
    const pairs = g.pairs!;
    for (let o = 0; o + 6 <= b.length; o += 6) {
      const slot = slotOf(b.readInt16LE(o));
      const n = b.readUInt32LE(o + 2);
      pairs.push(slot, n);
      c.hist[slot] += n;
    }
    c.count += count;
    c.errors += errors;
    if (min < c.min) c.min = min;
    if (max > c.max) c.max = max;
    c.rows++;
    rowsRead++;
  }
}

/** The tail of a minute from the spans themselves (a custom range ending mid-minute). */
function readSpans(db: Database.Database, c: Chunk, fromMs: number, toMs: number): void {
  if (toMs <= fromMs) return;
  const rows = db.prepare(`SELECT service_name, name, status_code, (end_time_unix_nano - start_time_unix_nano) / 1000000.0, trace_id, span_id, start_time_unix_nano / 1000000
    FROM spans WHERE start_time_unix_nano >= ? AND start_time_unix_nano < ? LIMIT ?`).raw().safeIntegers(false).all(ns(fromMs), ns(toMs), TAIL_LIMIT) as Array<[string, string, number, number, string, string, number]>;
  for (const [service, name, status, ms, trace, span, startMs] of rows) {
    const g = group(c, service, name);
    const err = status === 2 ? 1 : 0;
    g.count++;
    g.errors += err;
    if (ms < g.min) g.min = ms;
    if (ms > g.max) {
      g.max = ms;
      g.slow = { trace_id: trace, span_id: span, time_ms: startMs, error: err === 1 };
    }
    const slot = slotOf(bucketIndex(ms));
    g.pairs!.push(slot, 1);
    c.hist[slot]++;
    c.count++;
    c.errors += err;
    if (ms < c.min) c.min = ms;
    if (ms > c.max) c.max = ms;
    c.rows++;
    rowsRead++;
  }
}

/** Rows read from the store by the current summary (cached steps not counted). */
let rowsRead = 0;

const caches = new WeakMap<Database.Database, LRUCache<string, Chunk>>();

function cacheOf(db: Database.Database): LRUCache<string, Chunk> {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = new LRUCache<string, Chunk>({ max: 2000 })));
  return c;
}

/** Whether the store has the span rollup (a store file from before it, opened read-only, has not). */
export function hasSpanRollup(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(SPAN_ROLLUP_HOUR_TABLE) !== undefined;
}

/** The settled part [from, settledTo) of one step, cached; extended as more minutes settle. */
function settledChunk(db: Database.Database, from: number, to: number, nowMs: number): Chunk {
  const cache = cacheOf(db);
  const key = `${from}:${to}`;
  let c = cache.get(key);
  if (c && c.expires <= nowMs) c = undefined;
  if (!c) {
    c = newChunk(from);
    c.expires = nowMs + CACHE_TTL_MS + Math.random() * CACHE_TTL_MS;
    cache.set(key, c);
  }
  const settledTo = Math.min(to, floorMin(nowMs - SETTLE_MS));
  if (c.upTo < settledTo) {
    readRollup(db, c, c.upTo, settledTo);
    c.upTo = settledTo;
    if (settledTo === to) compact(c);
  }
  return c;
}

/**
 * Dense accumulators are plain arrays: V8 keeps them on its heap, while a Float64Array of this
 * size gets an external buffer whose allocation and release cost more than the sums themselves.
 */
const zeros = (): number[] => new Array<number>(DENSE_SLOTS).fill(0);

/** p50, p90 and p99 of a dense histogram in one pass (denseQuantile's rule: the bucket of the rank, interpolated, within min and max). */
function quantiles(d: number[], total: number, min: number, max: number): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  if (!total) return out;
  const qs = [0.5, 0.9, 0.99];
  let q = 0;
  let cum = 0;
  for (let s = 0; s < DENSE_SLOTS && q < 3; s++) {
    const c = d[s];
    if (c === 0) continue;
    while (q < 3 && cum + c >= qs[q] * total) {
      const rank = qs[q] * total;
      let v = 0;
      if (s > 0) {
        const [lo, hi] = bucketBounds(s + MIN_INDEX - 1);
        v = lo + (hi - lo) * Math.max(0, rank - cum) / c;
      }
      out[q++] = Math.max(min, Math.min(max, v));
    }
    cum += c;
  }
  while (q < 3) out[q++] = max;
  return out;
}

/** Summary-level accumulators of some chunks. */
interface Merge {
  refs: Chunk[];
  ops: Map<string, Group>;
  count: number[];
  errors: number[];
  stepHist: Array<{ hist: number[]; min: number; max: number }>;
  total: number;
}

function emptyMerge(n: number): Merge {
  return {
    refs: [], ops: new Map(), count: new Array<number>(n).fill(0), errors: new Array<number>(n).fill(0),
    stepHist: Array.from({ length: n }, () => ({ hist: zeros(), min: Infinity, max: -Infinity })), total: 0,
  };
}

function cloneMerge(m: Merge): Merge {
  const ops = new Map<string, Group>();
  for (const [k, o] of m.ops) ops.set(k, { ...o, dense: o.dense!.slice() });
  return { refs: [], ops, count: m.count.slice(), errors: m.errors.slice(), stepHist: m.stepHist.map((h) => ({ ...h, hist: h.hist.slice() })), total: m.total };
}

function mergeChunk(m: Merge, i: number, c: Chunk): void {
  m.count[i] += c.count;
  m.errors[i] += c.errors;
  const sh = m.stepHist[i];
  for (let s = 0; s < DENSE_SLOTS; s++) sh.hist[s] += c.hist[s];
  if (c.min < sh.min) sh.min = c.min;
  if (c.max > sh.max) sh.max = c.max;
  m.total += c.count;
  for (const [k, g] of c.groups) {
    let o = m.ops.get(k);
    if (!o) m.ops.set(k, (o = { service: g.service, operation: g.operation, count: 0, errors: 0, min: Infinity, max: -Infinity, slow: g.slow, dense: zeros() }));
    o.count += g.count;
    o.errors += g.errors;
    if (g.min < o.min) o.min = g.min;
    if (g.max > o.max) {
      o.max = g.max;
      o.slow = g.slow;
    }
    const d = o.dense!;
    const p = g.pairs;
    if (p) for (let j = 0; j < p.length; j += 2) d[p[j]] += p[j + 1];
    else for (let j = 0; j < g.slots!.length; j++) d[g.slots![j]] += g.counts![j];
  }
}

const merged = new WeakMap<Database.Database, LRUCache<string, Merge>>();

function mergedOf(db: Database.Database): LRUCache<string, Merge> {
  let m = merged.get(db);
  if (!m) merged.set(db, (m = new LRUCache<string, Merge>({ max: 16 })));
  return m;
}

export function spanSummaryFromRollup(db: Database.Database, r: Range, step: number, times: number[], nowMs = Date.now()): SpanSummary {
  const start = times[0] ?? floorMin(r.startMs);
  const end = r.endMs;
  // A range ending now: the current minute's rollup row already holds every committed span.
  const live = end >= nowMs - 1000;
  const rollupEnd = live ? floorMin(end) + MINUTE_MS : floorMin(end);
  const chunks: Array<{ i: number; c: Chunk }> = [];
  rowsRead = 0;
  // One read transaction: the rollup and the spans of the tail are one snapshot.
  db.transaction(() => {
    times.forEach((t, i) => {
      const to = Math.min(t + step, rollupEnd);
      const parts: Chunk[] = [];
      // Settled minutes come from the cache only when the step is whole or reaches the present.
      if (to === t + step || live) {
        const settled = settledChunk(db, t, t + step, nowMs);
        parts.push(settled);
        if (settled.upTo < to) {
          const fresh = newChunk(settled.upTo);
          readRollup(db, fresh, settled.upTo, to);
          if (fresh.rows) parts.push(fresh);
        }
      } else {
        const c = newChunk(t);
        readRollup(db, c, t, to);
        parts.push(c);
      }
      if (!live && t + step > rollupEnd && end > rollupEnd) {
        const tail = newChunk(rollupEnd);
        readSpans(db, tail, rollupEnd, end);
        parts.push(tail);
      }
      for (const c of parts) chunks.push({ i, c });
    });
  })();

  // Whole settled steps are merged once and the merge reused while they stay the same (the live
  // range only moves when a minute settles); the rest is merged onto a copy on every call.
  const wholeCount = chunks.findIndex(({ i, c }) => c.groups !== undefined && !(cacheOf(db).peek(`${times[i]}:${times[i] + step}`) === c && c.upTo === times[i] + step));
  const whole = chunks.slice(0, wholeCount < 0 ? chunks.length : wholeCount);
  const mkey = `${step}:${start}:${times.length}`;
  const merges = mergedOf(db);
  let base = merges.get(mkey);
  if (!base || base.refs.length !== whole.length || base.refs.some((c, j) => c !== whole[j].c)) {
    base = emptyMerge(times.length);
    base.refs = whole.map((w) => w.c);
    for (const { i, c } of whole) mergeChunk(base, i, c);
    merges.set(mkey, base);
  }
  const acc = cloneMerge(base);
  for (const { i, c } of chunks.slice(whole.length)) mergeChunk(acc, i, c);
  const { ops, stepHist, total } = acc;
  const series = { t: times, count: acc.count, errors: acc.errors, p50_ms: times.map(() => 0), p99_ms: times.map(() => 0) };
  stepHist.forEach((h, i) => {
    if (!series.count[i]) return;
    [series.p50_ms[i], , series.p99_ms[i]] = quantiles(h.hist, series.count[i], h.min, h.max);
  });

  const seconds = Math.max(1, (end - start) / 1000);
  const redOf = (g: Group, key: { service: string; operation?: string }): RedRow => {
    const [p50, p90, p99] = quantiles(g.dense!, g.count, g.min, g.max);
    return { ...key, count: g.count, rate_per_s: g.count / seconds, errors: g.errors, error_ratio: g.count ? g.errors / g.count : 0, p50_ms: p50, p90_ms: p90, p99_ms: p99 };
  };
  const services = new Map<string, Group>();
  for (const o of ops.values()) {
    let s = services.get(o.service);
    if (!s) services.set(o.service, (s = { service: o.service, operation: '', count: 0, errors: 0, min: Infinity, max: -Infinity, slow: o.slow, dense: zeros() }));
    s.count += o.count;
    s.errors += o.errors;
    s.min = Math.min(s.min, o.min);
    s.max = Math.max(s.max, o.max);
    for (let i = 0; i < DENSE_SLOTS; i++) s.dense![i] += o.dense![i];
  }
  const byCount = (x: RedRow, y: RedRow) => y.count - x.count;
  const opList = [...ops.values()];
  return {
    range: r, step_ms: step, total, sampled: false, read: rowsRead, source: 'rollup', covered: { startMs: start, endMs: end },
    services: [...services.values()].map((s) => redOf(s, { service: s.service })).sort(byCount),
    operations: opList.map((o) => redOf(o, { service: o.service, operation: o.operation })).sort(byCount).slice(0, 50),
    // The slowest span of each operation, slowest first.
    slowest: opList.sort((x, y) => y.max - x.max).slice(0, 10).map((o) => ({
      service: o.service, operation: o.operation, duration_ms: o.max, trace_id: o.slow.trace_id, span_id: o.slow.span_id, time_ms: o.slow.time_ms, error: o.slow.error,
    })),
    series,
  };
}
