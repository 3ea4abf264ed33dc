/**
 * What the connector emits: run events as log records (for the `alerts` connector and the store)
 * and run metrics (for Prometheus). Attribute names on the output are the CI/CD semantic
 * conventions' whatever the input used, so rules and dashboards do not depend on the senders.
 */
import {
  Attributes, HistogramDataPoint, LogRecord, Logs, Metric, Metrics, NumberDataPoint, Severity, Temporality, millisToNanos, setAttr,
} from '../../src/model';
import type { RunEvent } from './tracker';
import type { RunState } from './run';

export const SCOPE = { name: 'vigil/pipeline_runs', version: '', attributes: {}, droppedAttributesCount: 0 };
export const EVENT_PREFIX = 'pipeline.run.';

const SEVERITY: Record<RunEvent['kind'], [number, string]> = {
  started: [Severity.INFO, 'INFO'], succeeded: [Severity.INFO, 'INFO'], cancelled: [Severity.WARN, 'WARN'],
  failed: [Severity.ERROR, 'ERROR'], stalled: [Severity.WARN, 'WARN'], phase_slow: [Severity.WARN, 'WARN'],
};

function eventBody(e: RunEvent): string {
  const r = e.run;
  const name = `${r.pipeline || '(unnamed pipeline)'} run ${r.id}`;
  switch (e.kind) {
    case 'started': return `${name} started`;
    case 'succeeded': return `${name} succeeded`;
    case 'cancelled': return `${name} ended: ${r.result ?? 'cancellation'}`;
    case 'failed': return `${name} failed${r.error_type ? ` (${r.error_type})` : ''}`;
    case 'stalled': return `${name} stalled: nothing received for ${Math.round((e.at - r.updated_at) / 1000)}s`;
    case 'phase_slow': return `${name}: phase ${e.phase} took ${Math.round((e.duration_ms ?? 0) / 1000)}s, usually ${Math.round((e.usual_duration_ms ?? 0) / 1000)}s`;
  }
}

export function eventRecord(e: RunEvent): LogRecord {
  const r = e.run;
  const name = EVENT_PREFIX + e.kind;
  const attributes: Attributes = { 'event.name': name, 'cicd.pipeline.name': r.pipeline, 'cicd.pipeline.run.id': r.id };
  if (r.result && e.kind !== 'started') attributes['cicd.pipeline.result'] = r.result;
  if (r.error_type && e.kind === 'failed') attributes['error.type'] = r.error_type;
  if (e.phase !== undefined) setAttr(attributes, 'cicd.pipeline.task.name', e.phase);
  if (e.duration_ms !== undefined) attributes['pipeline.phase.duration_ms'] = Math.round(e.duration_ms);
  if (e.usual_duration_ms !== undefined) attributes['pipeline.phase.usual_duration_ms'] = Math.round(e.usual_duration_ms);
  const [severityNumber, severityText] = SEVERITY[e.kind];
  const t = millisToNanos(e.at);
  return {
    timeUnixNano: t, observedTimeUnixNano: t, severityNumber, severityText, body: eventBody(e), attributes,
    droppedAttributesCount: 0, flags: 0, traceId: r.trace_id ?? '', spanId: '', eventName: name,
  };
}

/** Events grouped by the service that ran them (resource service.name). */
export function eventsToLogs(events: RunEvent[]): Logs {
  const byService = new Map<string, LogRecord[]>();
  for (const e of events) {
    const k = e.run.service ?? '';
    let list = byService.get(k);
    if (!list) byService.set(k, (list = []));
    list.push(eventRecord(e));
  }
  return {
    resourceLogs: [...byService].map(([service, logRecords]) => ({
      resource: { attributes: (service ? { 'service.name': service } : {}) as Attributes, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeLogs: [{ scope: { ...SCOPE, attributes: {} }, schemaUrl: '', logRecords }],
    })),
  };
}

/** Phase duration histogram bounds, in seconds: from a second to a day. */
export const PHASE_BOUNDS_S = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];

interface PhaseSeries { attrs: Attributes; count: number; sum: number; buckets: number[]; min: number; max: number }

/**
 * Cumulative run metrics since the connector started: ended runs by result, phase duration
 * histograms, runs in progress. Series are capped (names come from telemetry).
 */
export class RunMetrics {
  private readonly phases = new Map<string, PhaseSeries>();
  private readonly runs = new Map<string, { attrs: Attributes; count: number }>();
  private readonly pipelines = new Set<string>();
  overflow = 0;
  private readonly startNs: bigint;

  constructor(private readonly maxSeries: number, startMs: number) {
    this.startNs = millisToNanos(startMs);
  }

  get empty(): boolean {
    return this.pipelines.size === 0;
  }

  phaseEnded(pipeline: string, phase: string, status: string, ms: number): void {
    const key = `${pipeline}\u0000${phase}\u0000${status}`;
    let s = this.phases.get(key);
    if (!s) {
      if (this.phases.size >= this.maxSeries) { this.overflow++; return; }
      const attrs: Attributes = { 'cicd.pipeline.name': pipeline, 'cicd.pipeline.task.name': phase, 'cicd.pipeline.task.run.result': status === 'failed' ? 'failure' : 'success' };
      this.phases.set(key, (s = { attrs, count: 0, sum: 0, buckets: new Array(PHASE_BOUNDS_S.length + 1).fill(0), min: Infinity, max: -Infinity }));
    }
    this.pipelines.add(pipeline);
    const v = ms / 1000;
    s.count++;
    s.sum += v;
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    let i = 0;
    while (i < PHASE_BOUNDS_S.length && v > PHASE_BOUNDS_S[i]) i++;
    s.buckets[i]++;
  }

  runEnded(pipeline: string, result: string): void {
    const key = `${pipeline}\u0000${result}`;
    let s = this.runs.get(key);
    if (!s) {
      if (this.runs.size >= this.maxSeries) { this.overflow++; return; }
      this.runs.set(key, (s = { attrs: { 'cicd.pipeline.name': pipeline, 'cicd.pipeline.result': result }, count: 0 }));
    }
    this.pipelines.add(pipeline);
    s.count++;
  }

  collect(active: Iterable<RunState>, nowMs: number): Metrics {
    const now = millisToNanos(nowMs);
    const inProgress = new Map<string, number>();
    for (const p of this.pipelines) { inProgress.set(`${p}\u0000running`, 0); inProgress.set(`${p}\u0000stalled`, 0); }
    for (const r of active) {
      if (r.status !== 'running' && r.status !== 'stalled') continue;
      if (!this.pipelines.has(r.pipeline)) {
        if (this.pipelines.size >= this.maxSeries) continue;
        this.pipelines.add(r.pipeline);
        inProgress.set(`${r.pipeline}\u0000running`, 0);
        inProgress.set(`${r.pipeline}\u0000stalled`, 0);
      }
      const k = `${r.pipeline}\u0000${r.status}`;
      inProgress.set(k, (inProgress.get(k) ?? 0) + 1);
    }
    const metrics: Metric[] = [];
    const base = { startTimeUnixNano: this.startNs, timeUnixNano: now, exemplars: [], flags: 0 };
    if (this.runs.size) {
      const dataPoints: NumberDataPoint[] = [...this.runs.values()].map((s) => ({ ...base, attributes: { ...s.attrs }, value: s.count, isInt: true }));
      metrics.push({ name: 'pipeline.runs', description: 'Pipeline runs ended, by result', unit: '{run}', metadata: {}, data: { type: 'sum', isMonotonic: true, aggregationTemporality: Temporality.CUMULATIVE, dataPoints } });
    }
    if (inProgress.size) {
      const dataPoints: NumberDataPoint[] = [...inProgress].map(([k, n]) => {
        const [pipeline, status] = k.split('\u0000');
        return { ...base, startTimeUnixNano: 0n, attributes: { 'cicd.pipeline.name': pipeline, 'pipeline.run.status': status }, value: n, isInt: true };
      });
      metrics.push({ name: 'pipeline.runs.active', description: 'Pipeline runs in progress (running or stalled)', unit: '{run}', metadata: {}, data: { type: 'gauge', dataPoints } });
    }
    if (this.phases.size) {
      const dataPoints: HistogramDataPoint[] = [...this.phases.values()].map((s) => ({
        ...base, attributes: { ...s.attrs }, count: s.count, sum: s.sum, bucketCounts: s.buckets.slice(), explicitBounds: PHASE_BOUNDS_S, min: s.min, max: s.max,
      }));
      metrics.push({ name: 'pipeline.phase.duration', description: 'Duration of pipeline phases', unit: 's', metadata: {}, data: { type: 'histogram', aggregationTemporality: Temporality.CUMULATIVE, dataPoints } });
    }
    if (!metrics.length) return { resourceMetrics: [] };
    return {
      resourceMetrics: [{
        resource: { attributes: { 'service.name': 'vigil' }, droppedAttributesCount: 0 }, schemaUrl: '',
        scopeMetrics: [{ scope: { ...SCOPE, attributes: {} }, schemaUrl: '', metrics }],
      }],
    };
  }
}

