/**
 * Counting, merging and splitting batches by item count without touching the objects given to us:
 * other consumers may share them, so splitting builds new resource/scope containers around slices.
 */
import type { Logs, Metrics, Metric, Traces, Signal, SignalData } from '../../src/model';

type Accessor = {
  resources(d: any): any[];
  scopes(r: any): any[];
  withScopes(r: any, scopes: any[]): any;
  make(resources: any[]): any;
};

const ACCESSORS: Record<Signal, Accessor> = {
  traces: {
    resources: (d: Traces) => d.resourceSpans,
    scopes: (r) => r.scopeSpans,
    withScopes: (r, scopeSpans) => ({ ...r, scopeSpans }),
    make: (resourceSpans) => ({ resourceSpans }),
  },
  metrics: {
    resources: (d: Metrics) => d.resourceMetrics,
    scopes: (r) => r.scopeMetrics,
    withScopes: (r, scopeMetrics) => ({ ...r, scopeMetrics }),
    make: (resourceMetrics) => ({ resourceMetrics }),
  },
  logs: {
    resources: (d: Logs) => d.resourceLogs,
    scopes: (r) => r.scopeLogs,
    withScopes: (r, scopeLogs) => ({ ...r, scopeLogs }),
    make: (resourceLogs) => ({ resourceLogs }),
  },
};

/** Items of one scope: spans, log records, or metric data points (summed over its metrics). */
function scopeItems(signal: Signal, s: any): number {
  if (signal === 'traces') return s.spans.length;
  if (signal === 'logs') return s.logRecords.length;
  let n = 0;
  for (const m of s.metrics as Metric[]) n += m.data.dataPoints.length;
  return n;
}

/** Take the first `n` items of a scope as a new scope; returns [head, tail|undefined]. */
function splitScope(signal: Signal, s: any, n: number): [any, any] {
  if (signal === 'traces') return [{ ...s, spans: s.spans.slice(0, n) }, { ...s, spans: s.spans.slice(n) }];
  if (signal === 'logs') return [{ ...s, logRecords: s.logRecords.slice(0, n) }, { ...s, logRecords: s.logRecords.slice(n) }];
  const head: Metric[] = [];
  const tail: Metric[] = [];
  let left = n;
  for (const m of s.metrics as Metric[]) {
    const pts = m.data.dataPoints as unknown[];
    if (left >= pts.length) {
      head.push(m);
      left -= pts.length;
    } else if (left > 0) {
      head.push({ ...m, data: { ...m.data, dataPoints: pts.slice(0, left) } as Metric['data'] });
      tail.push({ ...m, data: { ...m.data, dataPoints: pts.slice(left) } as Metric['data'] });
      left = 0;
    } else {
      tail.push(m);
    }
  }
  return [{ ...s, metrics: head }, { ...s, metrics: tail }];
}

/**
 * Split `data` into chunks of at most `max` items, keeping resource and scope with each chunk.
 * Returns the input unchanged (one chunk) when it is small enough.
 */
export function splitByItems<S extends Signal>(signal: S, data: SignalData[S], max: number, total: number): SignalData[S][] {
  if (max <= 0 || total <= max) return [data];
  const acc = ACCESSORS[signal];
  const chunks: SignalData[S][] = [];
  let cur: any[] = [];
  let curItems = 0;
  const flush = () => {
    if (cur.length) chunks.push(acc.make(cur));
    cur = [];
    curItems = 0;
  };
  for (const r of acc.resources(data)) {
    let scopes: any[] = [];
    const pushScope = (s: any) => scopes.push(s);
    for (let s of acc.scopes(r)) {
      let n = scopeItems(signal, s);
      while (curItems + n > max) {
        const room = max - curItems;
        if (room > 0) {
          const [head, tail] = splitScope(signal, s, room);
          pushScope(head);
          s = tail;
          n -= room;
        }
        cur.push(acc.withScopes(r, scopes));
        scopes = [];
        curItems = max;
        flush();
      }
      if (n > 0 || scopeItems(signal, s) === 0) {
        pushScope(s);
        curItems += n;
      }
    }
    if (scopes.length) cur.push(acc.withScopes(r, scopes));
  }
  flush();
  return chunks;
}

/** Concatenate batches (shallow: the resource entries are shared, not copied). */
export function mergeBatches<S extends Signal>(signal: S, parts: SignalData[S][]): SignalData[S] {
  const acc = ACCESSORS[signal];
  if (parts.length === 1) return parts[0];
  const all: any[] = [];
  for (const p of parts) for (const r of acc.resources(p)) all.push(r);
  return acc.make(all);
}
