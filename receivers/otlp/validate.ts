/**
 * Items the OTLP specification calls invalid are dropped here and reported back to the sender as a
 * partial success, rather than stored: spans whose trace or span id is empty or all zeros, and
 * metrics without a name.
 */
import type { Metrics, Signal, SignalData, Traces } from '../../src/model';

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function dropInvalidItems<S extends Signal>(signal: S, data: SignalData[S]): { rejected: number; message: string } {
  if (signal === 'traces') return dropInvalidSpans(data as Traces);
  if (signal === 'metrics') return dropUnnamedMetrics(data as Metrics);
  return { rejected: 0, message: '' };
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
