/**
 * Prometheus remote write 1.0 (prometheus.WriteRequest, protobuf, snappy block compressed).
 * Hand-encoded: the message is small and fixed, and a hand encoder can write the exact bit
 * pattern of Prometheus's staleness marker, which a float64 path may canonicalise to a plain NaN.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *   Exemplar     { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 */
import { Reader } from 'protobufjs/minimal';
import { expToClassic } from './exphist';
import { formatValue } from './exposition';
import type { Family, FamilyType, Labels, PromExemplar, Series } from './series';

/** Prometheus's staleness marker: a NaN with this exact payload means "series ended". */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

export interface RwSample {
  value: number;
  timestampMs: number;
  /** Write the staleness marker instead of `value`. */
  stale?: boolean;
}

export interface RwTimeSeries {
  /** Sorted by name, `__name__` included. */
  labels: Labels;
  samples: RwSample[];
  exemplars?: PromExemplar[];
}

export interface RwMetadata {
  type: FamilyType;
  family: string;
  help: string;
  unit: string;
}

const METADATA_TYPE: Record<FamilyType, number> = { counter: 1, gauge: 2, histogram: 3, summary: 5, info: 6 };

/** A growable protobuf writer with just what remote write needs. */
class PbWriter {
  buf = new Uint8Array(256);
  pos = 0;
  private readonly view = () => new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(n: number): void {
    this.ensure(10);
    if (n < 0) {
      // Negative int64 (timestamps before 1970): ten-byte two's complement.
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.view().setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  staleNaN(field: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.view().setBigUint64(this.pos, STALE_NAN_BITS, true);
    this.pos += 8;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, Buffer.from(s, 'utf8'));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function encodeLabels(w: PbWriter, field: number, labels: Labels): void {
  for (const [name, value] of labels) {
    const lw = new PbWriter();
    lw.string(1, name);
    lw.string(2, value);
    w.bytes(field, lw.finish());
  }
}

/** One TimeSeries message (without the WriteRequest field tag). */
export function encodeTimeSeries(ts: RwTimeSeries): Uint8Array {
  const w = new PbWriter();
  encodeLabels(w, 1, ts.labels);
  for (const s of ts.samples) {
    const sw = new PbWriter();
    if (s.stale) sw.staleNaN(1);
    else sw.double(1, s.value);
    if (s.timestampMs) {
      sw.tag(2, 0);
      sw.varint(s.timestampMs);
    }
    w.bytes(2, sw.finish());
  }
  for (const e of ts.exemplars ?? []) {
    const ew = new PbWriter();
    encodeLabels(ew, 1, e.labels);
    ew.double(2, e.value);
    if (e.timeMs) {
      ew.tag(3, 0);
      ew.varint(e.timeMs);
    }
    w.bytes(3, ew.finish());
  }
  return w.finish();
}

export function encodeMetadata(m: RwMetadata): Uint8Array {
  const w = new PbWriter();
  w.tag(1, 0);
  w.varint(METADATA_TYPE[m.type]);
  w.string(2, m.family);
  if (m.help) w.string(4, m.help);
  if (m.unit) w.string(5, m.unit);
  return w.finish();
}

/** A WriteRequest from already-encoded TimeSeries (and MetricMetadata) messages. */
export function encodeWriteRequest(series: Uint8Array[], metadata: Uint8Array[] = []): Uint8Array {
  const w = new PbWriter();
  for (const s of series) w.bytes(1, s);
  for (const m of metadata) w.bytes(3, m);
  return w.finish();
}

/** Wire size of a length-delimited field holding `n` bytes (tag + length varint + payload). */
export function fieldSize(n: number): number {
  let v = 1;
  for (let x = n; x >= 0x80; x = Math.floor(x / 0x80)) v++;
  return 1 + v + n;
}

function withName(labels: Labels, name: string, extra?: [string, string]): Labels {
  const out: Labels = [['__name__', name], ...labels];
  if (extra) out.push(extra);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * The remote-write time series of one store series at its current value: one for plain values;
 * `_bucket{le}` / `_sum` / `_count` for histograms; `{quantile}` / `_sum` / `_count` for summaries.
 */
export function seriesToTimeSeries(fam: Family, s: Series, stale = false): RwTimeSeries[] {
  const t = s.timeMs;
  const one = (name: string, value: number, extra?: [string, string], exemplars?: PromExemplar[]): RwTimeSeries => ({
    labels: withName(s.labels, name, extra),
    samples: [{ value, timestampMs: t, stale }],
    ...(exemplars && exemplars.length ? { exemplars } : {}),
  });
  const v = s.value;
  switch (v.kind) {
    case 'number':
      return [one(fam.name, v.value, undefined, v.exemplar ? [v.exemplar] : undefined)];
    case 'histogram':
    case 'exp': {
      let bounds: number[];
      let cumulative: number[];
      if (v.kind === 'histogram') {
        bounds = v.bounds;
        cumulative = [];
        let c = 0;
        for (let i = 0; i < bounds.length; i++) cumulative.push((c += v.counts[i] ?? 0));
      } else {
        ({ bounds, cumulative } = expToClassic(v));
      }
      const out: RwTimeSeries[] = [];
      for (let i = 0; i < bounds.length; i++) out.push(one(fam.name + '_bucket', cumulative[i], ['le', formatValue(bounds[i])]));
      out.push(one(fam.name + '_bucket', v.count, ['le', '+Inf']));
      if (v.sum !== undefined) out.push(one(fam.name + '_sum', v.sum));
      out.push(one(fam.name + '_count', v.count, undefined, v.exemplars));
      return out;
    }
    case 'summary': {
      const out = v.quantiles.map(([q, val]) => one(fam.name, val, ['quantile', formatValue(q)]));
      out.push(one(fam.name + '_sum', v.sum), one(fam.name + '_count', v.count));
      return out;
    }
  }
}

// ---- decoding, for tests and for a receiving endpoint ----

export interface DecodedWriteRequest {
  timeseries: { labels: Record<string, string>; samples: { value: number; timestamp: number; stale: boolean }[]; exemplars: { labels: Record<string, string>; value: number; timestamp: number }[] }[];
  metadata: { type: number; family: string; help: string; unit: string }[];
}

function decodeLabel(r: Reader, end: number): [string, string] {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) name = r.string();
    else if (tag >>> 3 === 2) value = r.string();
    else r.skipType(tag & 7);
  }
  return [name, value];
}

function readDoubleBits(r: Reader): { value: number; stale: boolean } {
  const bits = Buffer.from(r.buf.subarray(r.pos, r.pos + 8)).readBigUInt64LE(0);
  const value = r.double();
  return { value, stale: bits === STALE_NAN_BITS };
}

export function decodeWriteRequest(buf: Uint8Array): DecodedWriteRequest {
  const r = Reader.create(buf);
  const out: DecodedWriteRequest = { timeseries: [], metadata: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) {
      const end = r.uint32() + r.pos;
      const ts: DecodedWriteRequest['timeseries'][number] = { labels: {}, samples: [], exemplars: [] };
      while (r.pos < end) {
        const t2 = r.uint32();
        const f2 = t2 >>> 3;
        if (f2 === 1) {
          const [k, v] = decodeLabel(r, r.uint32() + r.pos);
          ts.labels[k] = v;
        } else if (f2 === 2) {
          const e2 = r.uint32() + r.pos;
          const s = { value: 0, timestamp: 0, stale: false };
          while (r.pos < e2) {
            const t3 = r.uint32();
            if (t3 >>> 3 === 1) Object.assign(s, readDoubleBits(r));
            else if (t3 >>> 3 === 2) s.timestamp = Number(r.int64().toString());
            else r.skipType(t3 & 7);
          }
          ts.samples.push(s);
        } else if (f2 === 3) {
          const e2 = r.uint32() + r.pos;
          const ex = { labels: {} as Record<string, string>, value: 0, timestamp: 0 };
          while (r.pos < e2) {
            const t3 = r.uint32();
            if (t3 >>> 3 === 1) {
              const [k, v] = decodeLabel(r, r.uint32() + r.pos);
              ex.labels[k] = v;
            } else if (t3 >>> 3 === 2) ex.value = r.double();
            else if (t3 >>> 3 === 3) ex.timestamp = Number(r.int64().toString());
            else r.skipType(t3 & 7);
          }
          ts.exemplars.push(ex);
        } else r.skipType(t2 & 7);
      }
      out.timeseries.push(ts);
    } else if (field === 3) {
      const end = r.uint32() + r.pos;
      const m = { type: 0, family: '', help: '', unit: '' };
      while (r.pos < end) {
        const t2 = r.uint32();
        const f2 = t2 >>> 3;
        if (f2 === 1) m.type = r.uint32();
        else if (f2 === 2) m.family = r.string();
        else if (f2 === 4) m.help = r.string();
        else if (f2 === 5) m.unit = r.string();
        else r.skipType(t2 & 7);
      }
      out.metadata.push(m);
    } else r.skipType(tag & 7);
  }
  return out;
}
