/**
 * Vigil's own metrics (the collector's prom-client registry, what :8888/metrics serves) as OTLP
 * metrics for the alerting rules, so that default rules can watch Vigil itself: an exporter failing
 * to send, the memory limiter refusing data. Counters become cumulative monotonic sums that started
 * when the collector did; gauges stay gauges; histograms and summaries are left out.
 */
import type { Registry } from 'prom-client';
import { Attributes, Metric, Metrics, Temporality, millisToNanos } from '../../src/model';

export async function selfMetrics(registry: Registry, startMs: number, nowMs: number): Promise<Metrics> {
  const metrics: Metric[] = [];
  const start = millisToNanos(startMs);
  const now = millisToNanos(nowMs);
  for (const m of await registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type !== 'counter' && type !== 'gauge') continue;
    const dataPoints = (m.values as Array<{ value: number; labels: Record<string, string | number> }>).map((v) => {
      const attributes: Attributes = {};
      for (const [k, x] of Object.entries(v.labels)) attributes[k] = String(x);
      return { attributes, startTimeUnixNano: type === 'counter' ? start : 0n, timeUnixNano: now, exemplars: [], flags: 0, value: v.value, isInt: false };
    });
    if (!dataPoints.length) continue;
    metrics.push({
      name: m.name, description: m.help, unit: '', metadata: {},
      data: type === 'counter'
        ? { type: 'sum', aggregationTemporality: Temporality.CUMULATIVE, isMonotonic: true, dataPoints }
        : { type: 'gauge', dataPoints },
    });
  }
  return {
    resourceMetrics: [{
      resource: { attributes: { 'service.name': 'vigil' }, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeMetrics: [{ scope: { name: 'vigil/self', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics }],
    }],
  };
}
