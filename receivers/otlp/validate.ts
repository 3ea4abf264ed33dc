/**
 * Items the OTLP specification calls invalid are dropped here and reported back to the sender as a
 * partial success, rather than stored: spans whose trace or span id is empty or all zeros, and
 * metrics without a name. So are items with a time of 2^63 ns or more (year 2262 onwards): OTLP
 * carries times as unsigned 64-bit, but no store (SQLite's INTEGER, Prometheus, the query API)
 * can hold them, and refusing them here costs the sender one item instead of costing a store write.
 */
import type { Logs, Metrics, Signal, SignalData, Traces } from '../../src/model';

const MAX_TIME = (1n << 63n) - 1n;
const timeOk = (t: bigint | number): boolean => t <= MAX_TIME;

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function dropInvalidItems<S extends Signal>(signal: S, data: SignalData[S]): { rejected: number; message: string } {
  const a = signal === 'traces' ? dropInvalidSpans(data as Traces) : signal === 'metrics' ? dropUnnamedMetrics(data as Metrics) : { rejected: 0, message: '' };
  const b = dropOutOfRangeTimes(signal, data);
  return { rejected: a.rejected + b.rejected, message: [a.message, b.message].filter(Boolean).join('; ') };
}

function dropOutOfRangeTimes<S extends Signal>(signal: S, data: SignalData[S]): { rejected: number; message: string } {
  let rejected = 0;
  if (signal === 'traces') {
    for (const rs of (data as Traces).resourceSpans) {
      for (const ss of rs.scopeSpans) {
        if (ss.spans.every((s) => timeOk(s.startTimeUnixNano) && timeOk(s.endTimeUnixNano))) continue;
        const kept = ss.spans.filter((s) => timeOk(s.startTimeUnixNano) && timeOk(s.endTimeUnixNano));
        rejected += ss.spans.length - kept.length;
        ss.spans = kept;
      }
    }
  } else if (signal === 'logs') {
    for (const rl of (data as Logs).resourceLogs) {
      for (const sl of rl.scopeLogs) {
        if (sl.logRecords.every((r) => timeOk(r.timeUnixNano) && timeOk(r.observedTimeUnixNano))) continue;
        const kept = sl.logRecords.filter((r) => timeOk(r.timeUnixNano) && timeOk(r.observedTimeUnixNano));
        rejected += sl.logRecords.length - kept.length;
        sl.logRecords = kept;
      }
    }
  } else if (signal === 'metrics') {
    for (const rm of (data as Metrics).resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          const pts = m.data.dataPoints as Array<{ startTimeUnixNano?: bigint; timeUnixNano: bigint }>;
          if (pts.every((p) => timeOk(p.timeUnixNano) && timeOk(p.startTimeUnixNano ?? 0n))) continue;
          const kept = pts.filter((p) => timeOk(p.timeUnixNano) && timeOk(p.startTimeUnixNano ?? 0n));
          rejected += pts.length - kept.length;
          (m.data as { dataPoints: unknown[] }).dataPoints = kept;
        }
      }
    }
  }
  return { rejected, message: rejected ? `${rejected} item(s) rejected: times must be below 2^63 ns (year 2262)` : '' };
}

function dropInvalidSpans(t: Traces) {
  let rejected = 0;
  for (const rs of t.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      let bad = false;
      for (const s of ss.spans) {
        if (s.traceId === '' || s.spanId === '' || s.traceId === ZERO_TRACE || s.spanId === ZERO_SPAN) {
          bad = true;
          break;
        }
      }
      if (!bad) continue;
      const kept = ss.spans.filter((s) => !(s.traceId === '' || s.spanId === '' || s.traceId === ZERO_TRACE || s.spanId === ZERO_SPAN));
      rejected += ss.spans.length - kept.length;
      ss.spans = kept;
    }
  }
  return { rejected, message: rejected ? `${rejected} span(s) rejected: trace id and span id must be set and not all zeros` : '' };
}

function dropUnnamedMetrics(m: Metrics) {
  let rejected = 0;
  for (const rm of m.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      if (!sm.metrics.some((x) => x.name === '')) continue;
      for (const x of sm.metrics) if (x.name === '') rejected += x.data.dataPoints.length;
      sm.metrics = sm.metrics.filter((x) => x.name !== '');
    }
  }
  return { rejected, message: rejected ? `${rejected} data point(s) rejected: metric name must not be empty` : '' };
}
