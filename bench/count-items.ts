/**
 * Counts the items in an OTLP export request without decoding it into objects: enough for the
 * self-test sink to check independently what the generator claims it delivered.
 */
import type { BenchSignal } from './otlp-paths';

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

/** Calls `onField(fieldNumber, start, end)` for every length-delimited field of the message in buf[start, end). */
function eachLenField(buf: Uint8Array, start: number, end: number, onField: (field: number, s: number, e: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Math.floor(key / 8);
    switch (key & 7) {
      case 0: pos = readVarint(buf, pos)[1]; break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        const [len, p2] = readVarint(buf, pos);
        if (p2 + len > end) throw new Error('field runs past the end of its message');
        onField(field, p2, p2 + len);
        pos = p2 + len;
        break;
      }
      default: throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
  if (pos !== end) throw new Error('message runs past its end');
}

/** Metric data fields: gauge, sum, histogram, exponential_histogram, summary. */
const METRIC_DATA_FIELDS = new Set([5, 7, 9, 10, 11]);

export function countProtobufItems(signal: BenchSignal, buf: Uint8Array): number {
  let n = 0;
  eachLenField(buf, 0, buf.length, (f, s, e) => {
    if (f !== 1) return; // resource_spans / resource_metrics / resource_logs
    eachLenField(buf, s, e, (f2, s2, e2) => {
      if (f2 !== 2) return; // scope_*
      eachLenField(buf, s2, e2, (f3, s3, e3) => {
        if (f3 !== 2) return; // spans / metrics / log_records
        if (signal !== 'metrics') {
          n++;
          return;
        }
        eachLenField(buf, s3, e3, (f4, s4, e4) => {
          if (!METRIC_DATA_FIELDS.has(f4)) return;
          eachLenField(buf, s4, e4, (f5) => {
            if (f5 === 1) n++; // data_points
          });
        });
      });
    });
  });
  return n;
}

type Json = Record<string, unknown>;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

export function countJsonItems(signal: BenchSignal, text: string): number {
  const req = JSON.parse(text) as Json;
  let n = 0;
  if (signal === 'traces') {
    for (const rs of arr(req.resourceSpans)) for (const ss of arr(rs.scopeSpans)) n += arr(ss.spans).length;
  } else if (signal === 'logs') {
    for (const rl of arr(req.resourceLogs)) for (const sl of arr(rl.scopeLogs)) n += arr(sl.logRecords).length;
  } else {
    for (const rm of arr(req.resourceMetrics)) {
      for (const sm of arr(rm.scopeMetrics)) {
        for (const m of arr(sm.metrics)) {
          for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
            const data = m[kind] as Json | undefined;
            if (data) n += arr(data.dataPoints).length;
          }
        }
      }
    }
  }
  return n;
}
