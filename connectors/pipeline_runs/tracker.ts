/**
 * Run tracking: spans, log records and metric points in; run state, run events and run statistics
 * out. No I/O here besides the optional StateStore, and the clock is passed in, so tests and the
 * benchmark drive it directly.
 *
 * Times: a run's and its phases' start/end come from the telemetry (the sender's clock);
 * `updated_at` and stall detection use Vigil's clock (arrival time), so a sender whose clock is off
 * can neither fake nor hide a stall.
 */
import type { StateStore } from '../../src/state';
import { AnyValue, Attributes, LogRecord, Span, StatusCode, nanosToMillis, numericValue } from '../../src/model';
import type { Settings } from './config';
import { HistoryEntry, PhaseState, RunState, RunStatus, RunView, isSlow, median, phaseDuration, phaseHistory, runView } from './run';

export type RunEventKind = 'started' | 'succeeded' | 'failed' | 'cancelled' | 'stalled' | 'phase_slow';

export interface RunEvent {
  kind: RunEventKind;
  run: RunState;
  /** Vigil's clock. */
  at: number;
  phase?: string;
  duration_ms?: number;
  usual_duration_ms?: number;
}

/** Why an item that looked like run telemetry was not used (counted, see README). */
export type RejectReason = 'missing_run_id' | 'orphans_full' | 'orphan_expired' | 'clock_skew' | 'evicted';

const str = (v: AnyValue | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined);
const START_STATES = new Set(['pending', 'executing']);
const FAILED_RESULTS = new Set(['failure', 'error', 'timeout']);
const CANCELLED_RESULTS = new Set(['cancellation', 'skip']);

interface Orphan { span: Span; service?: string; at: number }

export class RunTracker {
  private readonly runs = new Map<string, RunState>();
  private readonly byTrace = new Map<string, string>();
  private readonly history = new Map<string, HistoryEntry[]>();
  private readonly orphans = new Map<string, Orphan[]>();
  /**
   * Services (resource service.name) that have sent run telemetry: only their other spans and
   * records are looked up by trace id, so the rest of the traffic costs one lookup per batch.
   */
  private readonly runServices = new Set<string>();
  private orphanCount = 0;
  /** Runs whose phases or status changed: written at every persist. */
  private dirty = new Set<string>();
  /** Runs with only new activity, progress or metric points: written at full persists. */
  private soft = new Set<string>();
  /** Runs with new metric points: their series (kept under a key of their own) are written at full persists. */
  private metricsDirty = new Set<string>();
  private removed = new Set<string>();
  private historyDirty = new Set<string>();
  /** Runs changed since the last `takeChanged` (for the live stream). */
  private changed = new Set<string>();
  events: RunEvent[] = [];
  readonly rejected: Record<RejectReason, number> = { missing_run_id: 0, orphans_full: 0, orphan_expired: 0, clock_skew: 0, evicted: 0 };
  /** Hooks for the run metrics. */
  onPhaseEnded?: (pipeline: string, phase: string, status: string, ms: number) => void;
  onRunEnded?: (pipeline: string, result: string) => void;

  constructor(private readonly s: Settings, private readonly store?: { state: StateStore; ns: string }) {}

  get size(): number {
    return this.runs.size;
  }

  // ---- input --------------------------------------------------------------------------------

  /** Spans of one resource; run spans are applied after phase spans so a batch that holds both ends the run last. */
  spans(spans: Span[], resource: Attributes, now: number): void {
    if (!spans.length) return;
    const a = this.s.attrs;
    let runSpans: Span[] | undefined;
    const byTrace = this.byTrace.size > 0 && this.runServices.has(str(resource['service.name']) ?? '');
    for (const span of spans) {
      const attrs = span.attributes;
      const phase = str(attrs[a.phase_name]);
      if (phase !== undefined) { this.phaseSpan(span, phase, resource, now); continue; }
      if (attrs[a.pipeline_name] !== undefined || attrs[a.run_id] !== undefined) (runSpans ??= []).push(span);
      else if (byTrace && span.traceId) {
        // Any other span of a run's trace is a sign of life.
        const id = this.byTrace.get(span.traceId);
        if (id) this.touch(this.runs.get(id), now);
      }
    }
    if (runSpans) for (const span of runSpans) this.runSpan(span, resource, now);
  }

  private runSpan(span: Span, resource: Attributes, now: number): void {
    const a = this.s.attrs;
    const attrs = span.attributes;
    const pipeline = str(attrs[a.pipeline_name]);
    // Without a run id the trace is the run: its trace id is the run id.
    const id = str(attrs[a.run_id]) ?? (span.traceId || undefined);
    if (!id) { this.rejected.missing_run_id++; return; }
    const run = this.run(id, pipeline, span.traceId, resource, now, nanosToMillis(span.startTimeUnixNano));
    if (!run) return;
    const state = str(attrs[a.run_state]);
    const isRunSpan = pipeline !== undefined && (span.parentSpanId === '' || attrs[a.result] !== undefined) && !(state && START_STATES.has(state));
    if (!isRunSpan) return; // a "run started" marker span, or a sub-span carrying the run id: activity only
    const result = str(attrs[a.result]);
    const errorType = str(attrs[a.error_type]);
    let status: RunStatus;
    if (result !== undefined) status = FAILED_RESULTS.has(result) ? 'failed' : CANCELLED_RESULTS.has(result) ? 'cancelled' : 'succeeded';
    else status = span.status.code === StatusCode.ERROR || errorType ? 'failed' : 'succeeded';
    const start = nanosToMillis(span.startTimeUnixNano);
    let end = nanosToMillis(span.endTimeUnixNano);
    if (end < start) { this.rejected.clock_skew++; end = start; }
    if (start && start < run.started_at) run.started_at = start;
    this.finish(run, status, end, now, result ?? (status === 'failed' ? 'failure' : status === 'cancelled' ? 'cancellation' : 'success'), errorType);
  }

  private phaseSpan(span: Span, name: string, resource: Attributes, now: number): void {
    const a = this.s.attrs;
    const attrs = span.attributes;
    const runId = str(attrs[a.run_id]);
    let run: RunState | undefined;
    if (runId) run = this.run(runId, str(attrs[a.pipeline_name]), span.traceId, resource, now, nanosToMillis(span.startTimeUnixNano));
    else {
      const id = span.traceId ? this.byTrace.get(span.traceId) : undefined;
      run = id ? this.runs.get(id) : undefined;
      if (!run) { this.park(span, resource, now); return; }
      this.touch(run, now);
    }
    if (!run) return;
    const start = nanosToMillis(span.startTimeUnixNano);
    let end = nanosToMillis(span.endTimeUnixNano);
    if (end < start) { this.rejected.clock_skew++; end = start; }
    let p = run.phases.find((x) => x.name === name);
    if (!p) { p = { name, status: 'running' }; run.phases.push(p); }
    const taskRun = str(attrs[a.phase_run_id]);
    const type = str(attrs[a.phase_type]);
    // A retry (new task run id) replaces the earlier attempt; the same attempt only widens.
    if (p.ended_at !== undefined && taskRun && p.run_id && taskRun !== p.run_id) { p.started_at = start; p.slow_notified = false; }
    else if (p.started_at === undefined || start < p.started_at) p.started_at = start;
    p.ended_at = end;
    if (taskRun) p.run_id = taskRun;
    if (type) p.type = type;
    p.status = span.status.code === StatusCode.ERROR || attrs[a.error_type] !== undefined ? 'failed' : 'succeeded';
    if (start && start < run.started_at) run.started_at = start;
    const d = phaseDuration(p)!;
    this.onPhaseEnded?.(run.pipeline, name, p.status, d);
    if (!p.slow_notified) {
      const prior = phaseHistory(this.historyOf(run.pipeline), name);
      const usual = median(prior);
      if (usual !== undefined && isSlow(d, usual, prior.length, this.s)) {
        p.slow_notified = true;
        this.events.push({ kind: 'phase_slow', run, at: now, phase: name, duration_ms: d, usual_duration_ms: Math.round(usual) });
      }
    }
    // A phase that arrives after its run ended (another batch) still belongs in the history.
    if (run.finished) this.recordHistory(run);
    this.mark(run);
  }

  /** A log record: the run's start event, or any record with the run id (or in a run's trace) as activity. */
  log(rec: LogRecord, resource: Attributes, now: number): void {
    const a = this.s.attrs;
    const attrs = rec.attributes;
    let id = str(attrs[a.run_id]);
    if (!id) {
      if (!this.byTrace.size || !rec.traceId || !this.runServices.has(str(resource['service.name']) ?? '')) return;
      id = this.byTrace.get(rec.traceId);
      if (!id) return;
    }
    const t = nanosToMillis(rec.timeUnixNano || rec.observedTimeUnixNano) || now;
    const run = this.run(id, str(attrs[a.pipeline_name]), rec.traceId, resource, now, t);
    if (!run) return;
    const eventName = rec.eventName || str(attrs['event.name']);
    if (eventName === this.s.startEventName && t < run.started_at) run.started_at = t;
    const phase = str(attrs[a.phase_name]);
    if (phase) {
      const before = run.phases.length;
      this.phaseSeen(run, phase, t);
      if (run.phases.length !== before) this.dirty.add(run.id);
    }
  }

  /**
   * One numeric metric point with the run id attribute. SDKs re-send a gauge's last value at every
   * export, for every attribute set ever recorded (the phases done long ago included), so only a
   * point whose value changed for its stream (metric and phase) is news: it counts as activity and
   * goes into the run's metric series. A hung job whose exporter keeps sending the same values stalls.
   */
  point(metric: string, attrs: Attributes, timeMs: number, value: number, resource: Attributes, now: number): void {
    const a = this.s.attrs;
    const id = str(attrs[a.run_id]);
    if (!id || !Number.isFinite(value)) return;
    const phase = str(attrs[a.phase_name]);
    const stream = phase === undefined ? metric : `${metric}\u0000${phase}`;
    const known = this.runs.get(id);
    if (known?.last && known.last[stream] === value) return;
    const t = timeMs || now;
    const run = this.run(id, str(attrs[a.pipeline_name]), '', resource, now, t);
    if (!run) return;
    (run.last ??= {})[stream] = value;
    const phasesBefore = run.phases.length;
    if (metric === this.s.progressMetric) run.progress = Math.min(1, Math.max(0, value));
    if (phase) this.phaseSeen(run, phase, t);
    if (run.phases.length !== phasesBefore) this.dirty.add(run.id);
    let series = run.metrics[metric];
    if (!series) {
      if (Object.keys(run.metrics).length >= this.s.maxMetricsPerRun) return;
      series = run.metrics[metric] = [];
    }
    series.push([t, value]);
    if (series.length > this.s.maxPointsPerMetric) series.splice(0, series.length - this.s.maxPointsPerMetric);
    this.metricsDirty.add(run.id);
  }

  /** A phase reported as running (by a log record or metric point naming it) before its span ends. */
  private phaseSeen(run: RunState, name: string, t: number): void {
    let p = run.phases.find((x) => x.name === name);
    if (!p) {
      p = { name, status: 'running', started_at: t };
      run.phases.push(p);
      // Phases are sequential unless they overlap in spans: an earlier still-"running" one is done.
    } else if (p.status === 'running' && (p.started_at === undefined || t < p.started_at)) p.started_at = t;
  }

  // ---- runs ---------------------------------------------------------------------------------

  /** The run with this id, created (as running) when new; every call is activity. */
  private run(id: string, pipeline: string | undefined, traceId: string, resource: Attributes, now: number, startMs: number): RunState | undefined {
    let run = this.runs.get(id);
    if (!run) {
      if (this.runs.size >= this.s.maxRuns) this.evictOne();
      run = {
        id, pipeline: pipeline ?? '', status: 'running', started_at: startMs || now, updated_at: now, phases: [], metrics: {},
      };
      const service = str(resource['service.name']);
      if (service) run.service = service;
      if (this.runServices.size < this.s.maxRuns) this.runServices.add(service ?? '');
      this.runs.set(id, run);
      this.removed.delete(id);
      this.events.push({ kind: 'started', run, at: now });
      this.dirty.add(id);
    } else if (pipeline && !run.pipeline) run.pipeline = pipeline;
    if (traceId && !run.trace_id) {
      run.trace_id = traceId;
      this.byTrace.set(traceId, id);
      const parked = this.orphans.get(traceId);
      if (parked) {
        this.orphans.delete(traceId);
        this.orphanCount -= parked.length;
        for (const o of parked) this.phaseSpan(o.span, str(o.span.attributes[this.s.attrs.phase_name])!, o.service ? { 'service.name': o.service } : {}, now);
      }
    }
    this.touch(run, now);
    return run;
  }

  private touch(run: RunState | undefined, now: number): void {
    if (!run) return;
    run.updated_at = now;
    if (run.status === 'stalled') { run.status = 'running'; this.dirty.add(run.id); }
    this.soft.add(run.id);
    this.changed.add(run.id);
  }

  /** A change of phases or status. */
  private mark(run: RunState): void {
    this.dirty.add(run.id);
    this.changed.add(run.id);
  }

  private finish(run: RunState, status: RunStatus, end: number, now: number, result: string, errorType?: string): void {
    const wasFinished = run.finished;
    run.status = status;
    run.result = result;
    if (errorType) run.error_type = errorType;
    run.ended_at = end;
    run.ended_seen_at = now;
    run.finished = true;
    for (const p of run.phases) {
      if (p.status !== 'running') continue;
      // A phase still open when the run ends ended with it.
      p.status = status === 'failed' ? 'failed' : 'succeeded';
      p.ended_at = Math.max(end, p.started_at ?? end);
    }
    this.mark(run);
    if (wasFinished) return;
    this.onRunEnded?.(run.pipeline, result);
    this.recordHistory(run);
    this.events.push({ kind: status === 'succeeded' ? 'succeeded' : status === 'cancelled' ? 'cancelled' : 'failed', run, at: now });
  }

  /** The run's finished phases as the newest history entry of its pipeline (replacing an earlier entry of the same run). */
  private recordHistory(run: RunState): void {
    if (!run.pipeline) return;
    const phases = run.phases.filter((p) => p.status === 'succeeded').map((p) => ({ name: p.name, duration_ms: phaseDuration(p)! }));
    if (!phases.length) return;
    let h = this.history.get(run.pipeline);
    if (!h) this.history.set(run.pipeline, (h = []));
    const i = h.findIndex((e) => e.id === run.id);
    if (i >= 0) h[i] = { id: run.id, phases };
    else {
      h.unshift({ id: run.id, phases });
      if (h.length > this.s.historyRuns) h.length = this.s.historyRuns;
    }
    this.historyDirty.add(run.pipeline);
  }

  /** Earlier completed runs of a pipeline, newest first. */
  historyOf(pipeline: string): HistoryEntry[] {
    return this.history.get(pipeline) ?? [];
  }

  private evictOne(): void {
    let victim: RunState | undefined;
    for (const r of this.runs.values()) {
      if (r.finished) { if (!victim || !victim.finished || (r.ended_seen_at ?? 0) < (victim.ended_seen_at ?? 0)) victim = r; }
      else if (!victim || (!victim.finished && r.updated_at < victim.updated_at)) victim = r;
    }
    if (victim) { this.drop(victim.id); this.rejected.evicted++; }
  }

  private drop(id: string): void {
    const r = this.runs.get(id);
    if (!r) return;
    this.runs.delete(id);
    if (r.trace_id && this.byTrace.get(r.trace_id) === id) this.byTrace.delete(r.trace_id);
    this.dirty.delete(id);
    this.soft.delete(id);
    this.metricsDirty.delete(id);
    this.changed.delete(id);
    this.removed.add(id);
  }

  private park(span: Span, resource: Attributes, now: number): void {
    if (!span.traceId) { this.rejected.missing_run_id++; return; }
    if (this.orphanCount >= this.s.maxOrphanSpans) { this.rejected.orphans_full++; return; }
    let list = this.orphans.get(span.traceId);
    if (!list) this.orphans.set(span.traceId, (list = []));
    list.push({ span, service: str(resource['service.name']), at: now });
    this.orphanCount++;
  }

  get parkedSpans(): number {
    return this.orphanCount;
  }

  /**
   * Periodic work: stalls, phases running longer than usual, ended runs past retention, parked spans
   * whose run never came (kept for the stall timeout).
   */
  tick(now: number): void {
    for (const r of this.runs.values()) {
      if (r.status === 'running' && now - r.updated_at > this.s.stallMs) {
        r.status = 'stalled';
        this.mark(r);
        this.events.push({ kind: 'stalled', run: r, at: now });
      }
      if (r.finished) {
        if (now - (r.ended_seen_at ?? now) > this.s.retentionMs) this.drop(r.id);
        continue;
      }
      if (!this.history.has(r.pipeline)) continue;
      const v = this.view(r, now);
      for (const p of v.phases) {
        if (!p.slow || p.status !== 'running') continue;
        let st = r.phases.find((x) => x.name === p.name);
        if (st?.slow_notified) continue;
        if (!st) { st = { name: p.name, status: 'running', started_at: p.started_at }; r.phases.push(st); }
        st.slow_notified = true;
        this.mark(r);
        this.events.push({ kind: 'phase_slow', run: r, at: now, phase: p.name, duration_ms: now - (p.started_at ?? now), usual_duration_ms: p.usual_duration_ms });
      }
    }
    for (const [trace, list] of this.orphans) {
      const keep = list.filter((o) => now - o.at <= this.s.stallMs);
      if (keep.length === list.length) continue;
      this.rejected.orphan_expired += list.length - keep.length;
      this.orphanCount -= list.length - keep.length;
      if (keep.length) this.orphans.set(trace, keep);
      else this.orphans.delete(trace);
    }
  }

  takeEvents(): RunEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  takeChanged(): string[] {
    const c = [...this.changed];
    this.changed.clear();
    return c;
  }

  // ---- views --------------------------------------------------------------------------------

  get(id: string): RunState | undefined {
    return this.runs.get(id);
  }

  all(): IterableIterator<RunState> {
    return this.runs.values();
  }

  view(r: RunState, now: number): RunView {
    return runView(r, {
      expected: this.s.expectedPhases.get(r.pipeline), history: this.historyOf(r.pipeline).filter((h) => h.id !== r.id),
      slowFactor: this.s.slowFactor, minHistory: this.s.minHistory, slowMinExcessMs: this.s.slowMinExcessMs, now,
    });
  }

  // ---- persistence --------------------------------------------------------------------------

  /**
   * Loads persisted runs (most recently updated first, up to the cap) and histories. Running runs
   * get a fresh stall timeout: the time Vigil was down is not the job's silence.
   */
  load(now: number): void {
    const st = this.store;
    if (!st) return;
    for (const row of st.state.list<HistoryEntry[]>(st.ns, 'hist:')) this.history.set(row.key.slice(5), row.value);
    const series = new Map(st.state.list<Pick<RunState, 'metrics' | 'last'>>(st.ns, 'met:').map((row) => [row.key.slice(4), row.value]));
    const rows = st.state.list<RunState>(st.ns, 'run:').sort((x, y) => y.value.updated_at - x.value.updated_at);
    for (const row of rows.slice(0, this.s.maxRuns)) {
      const r = row.value;
      if (!r || typeof r.id !== 'string' || !Array.isArray(r.phases)) continue;
      r.phases = (r.phases as unknown as PackedPhase[]).map(unpackPhase);
      const m = series.get(r.id);
      r.metrics = m?.metrics ?? {};
      if (m?.last) r.last = m.last;
      if (r.status === 'running' || r.status === 'stalled') r.updated_at = Math.max(r.updated_at, now);
      this.runs.set(r.id, r);
      if (r.trace_id) this.byTrace.set(r.trace_id, r.id);
      this.runServices.add(r.service ?? '');
    }
    for (const row of rows.slice(this.s.maxRuns)) this.removed.add(row.value.id);
    for (const id of series.keys()) if (!this.runs.has(id)) this.removed.add(id);
  }

  /**
   * Writes runs whose phases or status changed (with `full`, also those with only new points or
   * activity) and histories, and deletes dropped runs, in one transaction.
   */
  persist(full = false): void {
    const st = this.store;
    if (!st) return;
    const write = full ? new Set([...this.dirty, ...this.soft]) : this.dirty;
    const writeSeries = full ? this.metricsDirty : new Set<string>();
    if (!write.size && !writeSeries.size && !this.removed.size && !this.historyDirty.size) return;
    st.state.transaction(() => {
      for (const id of this.removed) { st.state.delete(st.ns, `run:${id}`); st.state.delete(st.ns, `met:${id}`); }
      // The run without its metric series (the bulk of it), which change often and matter less.
      for (const id of write) {
        const r = this.runs.get(id);
        if (r) st.state.put(st.ns, `run:${id}`, { ...r, metrics: undefined, last: undefined, phases: r.phases.map(packPhase) });
      }
      for (const id of writeSeries) {
        const r = this.runs.get(id);
        if (r) st.state.put(st.ns, `met:${id}`, { metrics: r.metrics, last: r.last });
      }
      for (const p of this.historyDirty) st.state.put(st.ns, `hist:${p}`, this.history.get(p) ?? []);
    });
    for (const id of write) this.soft.delete(id);
    if (full) this.metricsDirty.clear();
    this.dirty.clear();
    this.removed.clear();
    this.historyDirty.clear();
  }
}

/** A phase as stored: a tuple, half the size of the object (a write of all runs is mostly phases). */
type PackedPhase = [string, PhaseState['status'], number | null, number | null, string | null, string | null, 0 | 1];

function packPhase(p: PhaseState): PackedPhase {
  return [p.name, p.status, p.started_at ?? null, p.ended_at ?? null, p.run_id ?? null, p.type ?? null, p.slow_notified ? 1 : 0];
}

function unpackPhase(t: PackedPhase): PhaseState {
  const p: PhaseState = { name: t[0], status: t[1] };
  if (t[2] !== null) p.started_at = t[2];
  if (t[3] !== null) p.ended_at = t[3];
  if (t[4] !== null) p.run_id = t[4];
  if (t[5] !== null) p.type = t[5];
  if (t[6]) p.slow_notified = true;
  return p;
}
