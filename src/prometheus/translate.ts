/**
 * OpenTelemetry metrics → Prometheus series updates, following the OpenTelemetry "Prometheus and
 * OpenMetrics compatibility" specification:
 * - gauges and non-monotonic sums → gauge; monotonic sums → counter (`_total`);
 * - histograms → `_bucket{le}`/`_sum`/`_count`; exponential histograms likewise (converted at render);
 * - summaries → `{quantile}`/`_sum`/`_count`;
 * - `job` = service.namespace/service.name, `instance` = service.instance.id on every series; the other
 *   resource attributes go to one `target_info` series per resource (and, when asked, onto every series);
 * - `otel_scope_name` / `otel_scope_version` labels name the instrumentation scope.
 */
import {
  Attributes, FLAG_NO_RECORDED_VALUE, Metrics, Metric, Exemplar, InstrumentationScope, Resource, Temporality,
  setAttr, stringValue, streamAttributes,
} from '../model';
import { labelName, metricName, promUnit } from './naming';
import { Labels, PointUpdate, PromExemplar, renderLabels, sortLabels } from './series';

export interface TranslateOptions {
  namespace?: string;
  /** Unit / `_total` / `_ratio` suffixes (default true). */
  addMetricSuffixes?: boolean;
  /** Labels added to every series (lowest precedence). */
  constLabels?: Record<string, string>;
  /** Copy every resource attribute onto every series (the Collector's resource_to_telemetry_conversion). */
  resourceToTelemetry?: boolean;
  /** Resource attributes copied onto every series (by attribute key). */
  promoteResourceAttributes?: string[];
  /** Emit `target_info` (default true). */
  targetInfo?: boolean;
  /** Add `otel_scope_name` / `otel_scope_version` (default true). */
  scopeLabels?: boolean;
}

const SERVICE_NAME = 'service.name';
const SERVICE_NAMESPACE = 'service.namespace';
const SERVICE_INSTANCE_ID = 'service.instance.id';
const IDENTITY_KEYS = new Set([SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID]);

const nanosToMs = (n: bigint): number => Number(n / 1_000_000n);

/**
 * Attributes → label pairs. Keys that sanitise to the same name have their values joined with `;`
 * in the order of the original keys, as the specification asks.
 */
/** Attribute keys repeat across points; remembering their label names saves most of the per-point work. */
const labelNameCache = new Map<string, string>();
function cachedLabelName(k: string): string {
  let n = labelNameCache.get(k);
  if (n === undefined) {
    n = labelName(k);
    if (labelNameCache.size >= 10_000) labelNameCache.clear();
    labelNameCache.set(k, n);
  }
  return n;
}

function addAttributes(into: Map<string, string>, attrs: Attributes): void {
  const setHere = new Set<string>();
  for (const k of Object.keys(attrs).sort()) {
    const name = cachedLabelName(k);
    if (!name) continue;
    const v = stringValue(attrs[k]) ?? '';
    if (setHere.has(name)) into.set(name, into.get(name) + ';' + v);
    else {
      setHere.add(name);
      into.set(name, v);
    }
  }
}

function toLabels(m: Map<string, string>): Labels {
  const out: Labels = [];
  // Prometheus treats an empty value as an absent label; dropping it keeps one identity per series.
  for (const [k, v] of m) if (v !== '') out.push([k, v]);
  return sortLabels(out);
}

function resourceIdentity(res: Resource): { job?: string; instance?: string } {
  const name = stringValue(res.attributes[SERVICE_NAME]);
  const ns = stringValue(res.attributes[SERVICE_NAMESPACE]);
  const inst = stringValue(res.attributes[SERVICE_INSTANCE_ID]);
  return {
    job: name ? (ns ? `${ns}/${name}` : name) : undefined,
    instance: inst || undefined,
  };
}

function convertExemplar(e: Exemplar): PromExemplar {
  const labels: Labels = [];
  if (e.traceId) labels.push(['trace_id', e.traceId]);
  if (e.spanId) labels.push(['span_id', e.spanId]);
  return { labels, value: Number(e.value), timeMs: e.timeUnixNano ? nanosToMs(e.timeUnixNano) : 0 };
}

export class Translator {
  constructor(private readonly opts: TranslateOptions = {}) {}

  /** Calls `emit` for every data point of `md` and for each resource's `target_info`. */
  translate(md: Metrics, emit: (u: PointUpdate) => void): void {
    for (const rm of md.resourceMetrics) {
      const base = this.resourceLabels(rm.resource);
      this.currentResource = resourceIdentity(rm.resource);
      let latestMs = 0;
      for (const sm of rm.scopeMetrics) {
        const scoped = this.scopeLabels(base, sm.scope);
        for (const metric of sm.metrics) {
          const t = this.translateMetric(metric, scoped, emit);
          if (t > latestMs) latestMs = t;
        }
      }
      if (this.opts.targetInfo !== false) this.emitTargetInfo(rm.resource, latestMs, emit);
    }
  }

  private resourceLabels(res: Resource): Map<string, string> {
    const m = new Map<string, string>();
    if (this.opts.constLabels) {
      for (const [k, v] of Object.entries(this.opts.constLabels)) {
        const n = labelName(k);
        if (n) m.set(n, v);
      }
    }
    if (this.opts.resourceToTelemetry) {
      addAttributes(m, res.attributes);
    } else if (this.opts.promoteResourceAttributes?.length) {
      const picked: Attributes = {};
      for (const k of this.opts.promoteResourceAttributes) {
        if (Object.prototype.hasOwnProperty.call(res.attributes, k)) setAttr(picked, k, res.attributes[k]);
      }
      addAttributes(m, picked);
    }
    return m;
  }

  private scopeLabels(base: Map<string, string>, scope: InstrumentationScope): Map<string, string> {
    if (this.opts.scopeLabels === false) return base;
    const m = new Map(base);
    if (scope.name) m.set('otel_scope_name', scope.name);
    if (scope.version) m.set('otel_scope_version', scope.version);
    return m;
  }

  /** `reserved` is the label the type's own samples add (`le`, `quantile`): an attribute of that name would duplicate it. */
  private pointLabels(base: Map<string, string>, attrs: Attributes, res: { job?: string; instance?: string }, reserved?: string): Labels {
    const m = new Map(base);
    addAttributes(m, streamAttributes(attrs));
    if (reserved) m.delete(reserved);
    if (res.job) m.set('job', res.job);
    if (res.instance) m.set('instance', res.instance);
    return toLabels(m);
  }

  private currentResource: { job?: string; instance?: string } = {};

  /** Returns the latest point time seen (ms). */
  private translateMetric(metric: Metric, scoped: Map<string, string>, emit: (u: PointUpdate) => void): number {
    const naming = { namespace: this.opts.namespace, addSuffixes: this.opts.addMetricSuffixes !== false };
    const d = metric.data;
    // promtool (and some UIs) expect HELP on every family; the OpenTelemetry name is the best fallback.
    const help = metric.description || metric.name;
    const unit = this.opts.addMetricSuffixes === false ? '' : promUnit(metric.unit);
    const res = this.currentResource;
    let latest = 0;
    const mk = (labels: Labels, startNs: bigint, timeNs: bigint, flags: number) => {
      const timeMs = nanosToMs(timeNs);
      if (timeMs > latest) latest = timeMs;
      return { labels, key: renderLabels(labels), startMs: startNs ? nanosToMs(startNs) : 0, timeMs, stale: (flags & FLAG_NO_RECORDED_VALUE) !== 0 };
    };
    switch (d.type) {
      case 'gauge':
      case 'sum': {
        const counter = d.type === 'sum' && d.isMonotonic;
        const type = counter ? 'counter' : 'gauge';
        const delta = d.type === 'sum' && d.aggregationTemporality === Temporality.DELTA;
        const family = metricName(metric.name, metric.unit, type, counter, naming);
        if (!family) return 0;
        for (const p of d.dataPoints) {
          const labels = this.pointLabels(scoped, p.attributes, res);
          const ex = p.exemplars.length ? convertExemplar(p.exemplars[p.exemplars.length - 1]) : undefined;
          emit({ family, type, help, unit, delta, ...mk(labels, p.startTimeUnixNano, p.timeUnixNano, p.flags), value: { kind: 'number', value: Number(p.value), exemplar: ex } });
        }
        break;
      }
      case 'histogram': {
        const family = metricName(metric.name, metric.unit, 'histogram', false, naming);
        if (!family) return 0;
        const delta = d.aggregationTemporality === Temporality.DELTA;
        for (const p of d.dataPoints) {
          const labels = this.pointLabels(scoped, p.attributes, res, 'le');
          const bounds = p.explicitBounds.slice();
          const counts = bounds.map((_, i) => p.bucketCounts[i] ?? 0);
          counts.push(p.bucketCounts.length > bounds.length ? p.bucketCounts[bounds.length] : Math.max(0, p.count - counts.reduce((a, b) => a + b, 0)));
          emit({
            family, type: 'histogram', help, unit, delta, ...mk(labels, p.startTimeUnixNano, p.timeUnixNano, p.flags),
            value: { kind: 'histogram', bounds, counts, count: p.count, sum: p.sum, exemplars: p.exemplars.map(convertExemplar) },
          });
        }
        break;
      }
      case 'exponentialHistogram': {
        const family = metricName(metric.name, metric.unit, 'histogram', false, naming);
        if (!family) return 0;
        const delta = d.aggregationTemporality === Temporality.DELTA;
        for (const p of d.dataPoints) {
          const labels = this.pointLabels(scoped, p.attributes, res, 'le');
          emit({
            family, type: 'histogram', help, unit, delta, ...mk(labels, p.startTimeUnixNano, p.timeUnixNano, p.flags),
            value: {
              kind: 'exp', scale: p.scale, zeroThreshold: p.zeroThreshold, zeroCount: p.zeroCount,
              positive: { offset: p.positive.offset, counts: p.positive.bucketCounts.slice() },
              negative: { offset: p.negative.offset, counts: p.negative.bucketCounts.slice() },
              count: p.count, sum: p.sum, exemplars: p.exemplars.map(convertExemplar),
            },
          });
        }
        break;
      }
      case 'summary': {
        const family = metricName(metric.name, metric.unit, 'summary', false, naming);
        if (!family) return 0;
        for (const p of d.dataPoints) {
          const labels = this.pointLabels(scoped, p.attributes, res, 'quantile');
          emit({
            family, type: 'summary', help, unit, delta: false, ...mk(labels, p.startTimeUnixNano, p.timeUnixNano, p.flags),
            value: { kind: 'summary', quantiles: p.quantileValues.map((q) => [q.quantile, q.value]), count: p.count, sum: p.sum },
          });
        }
        break;
      }
      default:
        break;
    }
    return latest;
  }

  private emitTargetInfo(res: Resource, timeMs: number, emit: (u: PointUpdate) => void): void {
    const extra: Attributes = {};
    let any = false;
    for (const k of Object.keys(res.attributes)) {
      if (IDENTITY_KEYS.has(k)) continue;
      setAttr(extra, k, res.attributes[k]);
      any = true;
    }
    if (!any) return;
    const m = new Map<string, string>();
    addAttributes(m, extra);
    const id = resourceIdentity(res);
    if (id.job) m.set('job', id.job);
    if (id.instance) m.set('instance', id.instance);
    const labels = toLabels(m);
    // Not namespaced: `target_info` is the name Prometheus tooling joins on.
    const family = 'target_info';
    emit({
      family, type: 'info', help: 'Target metadata', unit: '', delta: false, labels, key: renderLabels(labels),
      startMs: 0, timeMs: timeMs || Date.now(), stale: false, value: { kind: 'number', value: 1 },
    });
  }
}

