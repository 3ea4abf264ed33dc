/**
 * The per-minute span rollup (`span_rollup_1m`): one row per minute, service, operation (span
 * name), kind and status code with the count, the duration sum, min and max (and which span was the
 * slowest), and a histogram of durations. The writer keeps it in the same transaction as the spans
 * it summarises, so a reader sees both or neither; retention drops a minute once all of it is older
 * than the cut-off, as it does for the metric rollup.
 *
 * `span_rollup_1h` holds the same per hour (written alongside, dropped once its whole hour is
 * past the cut-off), so a reader covers whole hours from it and the rest from the minutes.
 *
 * Durations go into exponential buckets of scale 3 (OTLP's exponential histogram layout): bucket i
 * holds durations in (2^(i/8), 2^((i+1)/8)] milliseconds, so a bucket is 9.05 % wide and a quantile
 * read from the histogram lies in the same bucket as the exact one (relative error < 9.05 %).
 * Durations of 0 or less go to a zero bucket. Indexes are clamped to [MIN_INDEX, MAX_INDEX]: about
 * 1 µs to 9 h.
 *
 * The histogram column is a BLOB of (int16 index, uint32 count) pairs, little-endian, in ascending
 * index order; index ZERO_INDEX is the zero bucket. The worker merges two of them in SQL through
 * the `vigil_hist_merge` function it registers on its connection.
 */
import type Database from 'better-sqlite3';

export const SPAN_ROLLUP_TABLE = 'span_rollup_1m';
/** The same figures per hour, so that a day or a week is read in a few thousand rows. */
export const SPAN_ROLLUP_HOUR_TABLE = 'span_rollup_1h';
export const MINUTE_NS = 60_000_000_000n;
export const HOUR_NS = 60n * MINUTE_NS;
export const HIST_SCALE = 3;
const PER_OCTAVE = 1 << HIST_SCALE;
export const MIN_INDEX = -80;
export const MAX_INDEX = 200;
export const ZERO_INDEX = -32768;
/** Slots of a dense histogram: slot 0 is the zero bucket, slot j ≥ 1 is index MIN_INDEX + j - 1. */
export const DENSE_SLOTS = MAX_INDEX - MIN_INDEX + 2;
/** Relative width of a bucket: the bound on a rollup quantile's relative error. */
export const BUCKET_GROWTH = Math.pow(2, 1 / PER_OCTAVE);

const tableDdl = (table: string) => `
CREATE TABLE IF NOT EXISTS ${table} (
  bucket_unix_nano INTEGER NOT NULL,
  service_name TEXT NOT NULL,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  count INTEGER NOT NULL,
  duration_sum_ms REAL NOT NULL,
  duration_min_ms REAL NOT NULL,
  duration_max_ms REAL NOT NULL,
  max_trace_id TEXT NOT NULL,
  max_span_id TEXT NOT NULL,
  max_start_unix_nano INTEGER NOT NULL,
  histogram BLOB NOT NULL,
  PRIMARY KEY (bucket_unix_nano, service_name, name, kind, status_code)
) WITHOUT ROWID;`;

export const SPAN_ROLLUP_DDL = tableDdl(SPAN_ROLLUP_TABLE) + tableDdl(SPAN_ROLLUP_HOUR_TABLE);

/** The upsert the writer runs once per group of a batch (merging into a row an earlier commit wrote). */
export const spanRollupUpsert = (table: string) => `INSERT INTO ${table} (bucket_unix_nano, service_name, name, kind, status_code, count,
    duration_sum_ms, duration_min_ms, duration_max_ms, max_trace_id, max_span_id, max_start_unix_nano, histogram)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (bucket_unix_nano, service_name, name, kind, status_code) DO UPDATE SET
    count = count + excluded.count,
    duration_sum_ms = duration_sum_ms + excluded.duration_sum_ms,
    duration_min_ms = min(duration_min_ms, excluded.duration_min_ms),
    max_trace_id = CASE WHEN excluded.duration_max_ms > duration_max_ms THEN excluded.max_trace_id ELSE max_trace_id END,
    max_span_id = CASE WHEN excluded.duration_max_ms > duration_max_ms THEN excluded.max_span_id ELSE max_span_id END,
    max_start_unix_nano = CASE WHEN excluded.duration_max_ms > duration_max_ms THEN excluded.max_start_unix_nano ELSE max_start_unix_nano END,
    duration_max_ms = max(duration_max_ms, excluded.duration_max_ms),
    histogram = vigil_hist_merge(histogram, excluded.histogram)`;
export const SPAN_ROLLUP_UPSERT = spanRollupUpsert(SPAN_ROLLUP_TABLE);
export const SPAN_ROLLUP_HOUR_UPSERT = spanRollupUpsert(SPAN_ROLLUP_HOUR_TABLE);

/** The bucket index of a duration in milliseconds (ZERO_INDEX for 0 or less). */
export function bucketIndex(ms: number): number {
  if (!(ms > 0)) return ZERO_INDEX;
  const i = Math.ceil(Math.log2(ms) * PER_OCTAVE) - 1;
  return i < MIN_INDEX ? MIN_INDEX : i > MAX_INDEX ? MAX_INDEX : i;
}

/** Lower and upper bound (ms) of bucket index i. */
export function bucketBounds(i: number): [number, number] {
  return i === ZERO_INDEX ? [0, 0] : [Math.pow(2, i / PER_OCTAVE), Math.pow(2, (i + 1) / PER_OCTAVE)];
}

export const slotOf = (i: number): number => (i === ZERO_INDEX ? 0 : i - MIN_INDEX + 1);
const indexOfSlot = (s: number): number => (s === 0 ? ZERO_INDEX : s + MIN_INDEX - 1);

/** A dense histogram (Float64Array of DENSE_SLOTS) as the BLOB layout. */
export function encodeDense(dense: Float64Array): Buffer {
  let n = 0;
  for (let s = 0; s < DENSE_SLOTS; s++) if (dense[s] > 0) n++;
  const buf = Buffer.allocUnsafe(n * 6);
  let o = 0;
  for (let s = 0; s < DENSE_SLOTS; s++) {
    if (dense[s] > 0) {
      buf.writeInt16LE(indexOfSlot(s), o);
      buf.writeUInt32LE(Math.min(dense[s], 0xffffffff), o + 2);
      o += 6;
    }
  }
  return buf;
}

/** Adds a BLOB histogram into a dense one. */
export function addBlob(dense: Float64Array, blob: Uint8Array): void {
  const b = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let o = 0; o + 6 <= b.length; o += 6) dense[slotOf(b.readInt16LE(o))] += b.readUInt32LE(o + 2);
}

/** Merge of two BLOB histograms (registered as vigil_hist_merge). */
export function mergeBlobs(a: Uint8Array | null, b: Uint8Array | null): Buffer {
  const dense = new Float64Array(DENSE_SLOTS);
  if (a) addBlob(dense, a);
  if (b) addBlob(dense, b);
  return encodeDense(dense);
}

/**
 * Quantile q of a dense histogram: the bucket holding the rank q·count (the same bucket as the
 * nearest-rank quantile of the raw durations), interpolated linearly inside it and kept within the
 * recorded min and max.
 */
export function denseQuantile(dense: Float64Array, q: number, min: number, max: number): number {
  let total = 0;
  for (let s = 0; s < DENSE_SLOTS; s++) total += dense[s];
  if (total === 0) return 0;
  const rank = q * total;
  let cum = 0;
  for (let s = 0; s < DENSE_SLOTS; s++) {
    const c = dense[s];
    if (c === 0) continue;
    if (cum + c >= rank) {
      if (s === 0) return Math.max(min, Math.min(max, 0));
      const [lo, hi] = bucketBounds(indexOfSlot(s));
      const v = lo + (hi - lo) * Math.max(0, rank - cum) / c;
      return Math.max(min, Math.min(max, v));
    }
    cum += c;
  }
  return max;
}

/** One group's figures while a batch is folded into the rollup. */
interface Group {
  bucket: bigint;
  service: string;
  name: string;
  kind: number;
  status: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  maxTrace: string;
  maxSpan: string;
  maxStart: bigint;
  hist: Float64Array;
}

/** Folds the spans of one write into rollup rows; `flush` upserts them (same transaction as the spans). */
export class SpanRollupBatch {
  private readonly groups = new Map<string, Group>();
  private readonly hours = new Map<string, Group>();

  add(service: string, name: string, kind: number, status: number, start: bigint, end: bigint, traceId: string, spanId: string): void {
    const ms = Number(end - start) / 1e6;
    this.addTo(this.groups, MINUTE_NS, service, name, kind, status, start, ms, traceId, spanId);
    this.addTo(this.hours, HOUR_NS, service, name, kind, status, start, ms, traceId, spanId);
  }

  private addTo(groups: Map<string, Group>, width: bigint, service: string, name: string, kind: number, status: number, start: bigint, ms: number, traceId: string, spanId: string): void {
    const bucket = start - (((start % width) + width) % width);
    const key = `${bucket}\u0000${service}\u0000${name}\u0000${kind}\u0000${status}`;
    let g = groups.get(key);
    if (!g) {
      g = { bucket, service, name, kind, status, count: 0, sum: 0, min: ms, max: ms, maxTrace: traceId, maxSpan: spanId, maxStart: start, hist: new Float64Array(DENSE_SLOTS) };
      groups.set(key, g);
    }
    g.count++;
    g.sum += ms;
    if (ms < g.min) g.min = ms;
    if (ms > g.max) {
      g.max = ms;
      g.maxTrace = traceId;
      g.maxSpan = spanId;
      g.maxStart = start;
    }
    g.hist[slotOf(bucketIndex(ms))]++;
  }

  get size(): number {
    return this.groups.size;
  }

  /** Upserts the minute rows, then the hour rows. */
  flush(minutes: Database.Statement, hours: Database.Statement): void {
    for (const [groups, upsert] of [[this.groups, minutes], [this.hours, hours]] as const) {
      for (const g of groups.values()) {
        upsert.run(g.bucket, g.service, g.name, g.kind, g.status, g.count, g.sum, g.min, g.max, g.maxTrace, g.maxSpan, g.maxStart, encodeDense(g.hist));
      }
      groups.clear();
    }
  }
}

/** Registers vigil_hist_merge on a connection that writes the rollup. */
export function registerRollupFunctions(db: Database.Database): void {
  db.function('vigil_hist_merge', { deterministic: true }, (a: unknown, b: unknown) => mergeBlobs(a as Uint8Array | null, b as Uint8Array | null));
}

/**
 * Builds the rollup of the spans already stored (a store written before the rollup existed, or a
 * seeded one), an hour of spans at a time so memory stays small.
 */
export function backfillSpanRollup(db: Database.Database): number {
  const bounds = db.prepare('SELECT min(start_time_unix_nano), max(start_time_unix_nano) FROM spans').raw().safeIntegers(true).get() as [bigint | null, bigint | null];
  if (bounds[0] === null || bounds[1] === null) return 0;
  const lo = bounds[0] - (((bounds[0] % HOUR_NS) + HOUR_NS) % HOUR_NS);
  const hi = bounds[1] + 1n;
  registerRollupFunctions(db);
  // Built from scratch: whatever a partial earlier build left is replaced.
  db.exec(`DELETE FROM ${SPAN_ROLLUP_TABLE}; DELETE FROM ${SPAN_ROLLUP_HOUR_TABLE};`);
  const upsert = db.prepare(SPAN_ROLLUP_UPSERT);
  const upsertHour = db.prepare(SPAN_ROLLUP_HOUR_UPSERT);
  const read = db.prepare(`SELECT service_name, name, kind, status_code, start_time_unix_nano, end_time_unix_nano, trace_id, span_id
    FROM spans WHERE start_time_unix_nano >= ? AND start_time_unix_nano < ?`).raw().safeIntegers(true);
  let n = 0;
  for (let t = lo; t < hi; t += HOUR_NS) {
    const end = t + HOUR_NS < hi ? t + HOUR_NS : hi;
    const batch = new SpanRollupBatch();
    for (const r of read.iterate(t, end) as IterableIterator<[string, string, bigint, bigint, bigint, bigint, string, string]>) {
      batch.add(r[0], r[1], Number(r[2]), Number(r[3]), r[4], r[5], r[6], r[7]);
      n++;
    }
    batch.flush(upsert, upsertHour);
  }
  return n;
}
