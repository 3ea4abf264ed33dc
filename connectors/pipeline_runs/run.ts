/**
 * The state of one run and its view for the API. State is plain JSON (persisted as is); the view
 * adds what is derived from the pipeline's history and its expected phases: pending phases, the
 * current phase ("phase 3 of 7"), usual durations, slow flags, progress and ETA.
 */

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'stalled' | 'cancelled';
export type PhaseStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface PhaseState {
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  started_at?: number;
  ended_at?: number;
  /** The phase span's cicd.pipeline.task.run.id (a retry has a new one). */
  run_id?: string;
  type?: string;
  /** A phase_slow event was emitted for it. */
  slow_notified?: boolean;
}

export interface RunState {
  id: string;
  pipeline: string;
  status: RunStatus;
  result?: string;
  error_type?: string;
  /** Sender's clock (ms epoch): the earliest start seen. */
  started_at: number;
  ended_at?: number;
  /** Vigil's clock: the last span, log record or metric point of the run arrived then. */
  updated_at: number;
  trace_id?: string;
  service?: string;
  phases: PhaseState[];
  progress?: number;
  metrics: Record<string, [number, number][]>;
  /** The last value per metric stream (metric and phase), to tell new points from re-sent ones. */
  last?: Record<string, number>;
  /** Vigil's clock when the run ended (retention counts from here). */
  ended_seen_at?: number;
  /** The run span ended: later spans only fill phases in. */
  finished?: boolean;
}

export interface PhaseView {
  name: string;
  status: PhaseStatus;
  started_at?: number;
  ended_at?: number;
  duration_ms?: number;
  usual_duration_ms?: number;
  slow?: boolean;
}

export interface RunView {
  id: string;
  pipeline: string;
  status: RunStatus;
  result?: string;
  error_type?: string;
  started_at: number;
  ended_at?: number;
  updated_at: number;
  current_phase?: string;
  /** 1-based position of current_phase in `phases`: "phase {phase_index} of {phase_count}". */
  phase_index?: number;
  phase_count?: number;
  progress?: number;
  eta_ms?: number;
  trace_id?: string;
  phases: PhaseView[];
}

export interface HistoryEntry {
  id: string;
  phases: { name: string; duration_ms: number }[];
}

/** What the view needs from the rest of the tracker. */
export interface ViewContext {
  expected?: string[];
  history: HistoryEntry[];
  slowFactor: number;
  minHistory: number;
  slowMinExcessMs: number;
  now: number;
}

export function phaseDuration(p: PhaseState): number | undefined {
  if (p.started_at === undefined || p.ended_at === undefined) return undefined;
  return Math.max(0, p.ended_at - p.started_at);
}

/** Durations of a phase in earlier runs, newest first. */
export function phaseHistory(history: HistoryEntry[], name: string): number[] {
  const out: number[] = [];
  for (const h of history) {
    const p = h.phases.find((x) => x.name === name);
    if (p) out.push(p.duration_ms);
  }
  return out;
}

export function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Slower than usual by the factor and by at least the minimum excess, with enough history to say. */
export function isSlow(ms: number, usual: number, historyRuns: number, o: { slowFactor: number; minHistory: number; slowMinExcessMs: number }): boolean {
  return historyRuns >= o.minHistory && ms > usual * o.slowFactor && ms - usual >= o.slowMinExcessMs;
}

const isActive = (s: RunStatus) => s === 'running' || s === 'stalled';

export function runView(r: RunState, ctx: ViewContext): RunView {
  // The expected order: declared in config, else the phases of the last completed run.
  const expected = ctx.expected ?? ctx.history[0]?.phases.map((p) => p.name) ?? [];
  const byName = new Map(r.phases.map((p) => [p.name, p]));
  const order: string[] = [];
  const inOrder = new Set<string>();
  for (const n of expected) if (!inOrder.has(n)) { order.push(n); inOrder.add(n); }
  const extra = r.phases.filter((p) => !inOrder.has(p.name)).sort((a, b) => (a.started_at ?? 0) - (b.started_at ?? 0));
  for (const p of extra) order.push(p.name);

  const phases: PhaseView[] = [];
  let lastEnd = r.started_at;
  for (const p of r.phases) if (p.ended_at !== undefined && p.ended_at > lastEnd) lastEnd = p.ended_at;
  let current: number | undefined;
  for (let i = 0; i < order.length; i++) {
    const name = order[i];
    const st = byName.get(name);
    const durations = phaseHistory(ctx.history, name);
    const usual = median(durations);
    const v: PhaseView = { name, status: st ? st.status : 'pending' };
    if (st?.started_at !== undefined) v.started_at = st.started_at;
    if (st?.ended_at !== undefined) v.ended_at = st.ended_at;
    const d = st ? phaseDuration(st) : undefined;
    if (d !== undefined) v.duration_ms = d;
    if (usual !== undefined) v.usual_duration_ms = Math.round(usual);
    if (st?.status === 'running') current = i;
    phases.push(v);
    const elapsed = d ?? (st?.status === 'running' && st.started_at !== undefined ? Math.max(0, ctx.now - st.started_at) : undefined);
    if (usual !== undefined && elapsed !== undefined && isSlow(elapsed, usual, durations.length, ctx)) v.slow = true;
  }
  if (current === undefined && isActive(r.status)) {
    // No phase reported as running: the first phase not yet seen after the last one that ended is
    // where the run is (phase spans only arrive when they end).
    let lastSeen = -1;
    for (let i = 0; i < phases.length; i++) if (phases[i].status !== 'pending') lastSeen = i;
    const next = phases.findIndex((p, i) => i > lastSeen && p.status === 'pending');
    if (next >= 0) {
      current = next;
      const v = phases[next];
      v.status = 'running';
      v.started_at = lastEnd;
      const durations = phaseHistory(ctx.history, v.name);
      if (v.usual_duration_ms !== undefined && isSlow(ctx.now - lastEnd, v.usual_duration_ms, durations.length, ctx)) v.slow = true;
    }
  }

  const view: RunView = {
    id: r.id, pipeline: r.pipeline, status: r.status, started_at: r.started_at, updated_at: r.updated_at, phases,
  };
  if (r.result !== undefined) view.result = r.result;
  if (r.error_type !== undefined) view.error_type = r.error_type;
  if (r.ended_at !== undefined) view.ended_at = r.ended_at;
  if (r.trace_id) view.trace_id = r.trace_id;
  if (phases.length) view.phase_count = phases.length;
  if (current !== undefined) {
    view.current_phase = phases[current].name;
    view.phase_index = current + 1;
  }
  const done = phases.filter((p) => p.status === 'succeeded' || p.status === 'failed').length;
  if (r.progress !== undefined) view.progress = r.progress;
  else if (r.status === 'succeeded') view.progress = 1;
  else if (phases.length) view.progress = done / phases.length;
  if (isActive(r.status)) {
    const eta = estimate(view, ctx.now);
    if (eta !== undefined) view.eta_ms = eta;
  }
  return view;
}

/**
 * Time left: what remains of the current phase and the usual durations of the phases after it.
 * Without history for every remaining phase, the reported progress extrapolated linearly.
 */
function estimate(v: RunView, now: number): number | undefined {
  let total = 0;
  let known = v.phases.length > 0 && v.current_phase !== undefined;
  for (let i = (v.phase_index ?? 1) - 1; known && i < v.phases.length; i++) {
    const p = v.phases[i];
    if (p.usual_duration_ms === undefined) { known = false; break; }
    if (p.status === 'running') total += Math.max(0, p.usual_duration_ms - Math.max(0, now - (p.started_at ?? now)));
    else if (p.status === 'pending') total += p.usual_duration_ms;
  }
  if (known) return Math.round(total);
  const p = v.progress;
  const elapsed = now - v.started_at;
  if (p !== undefined && p >= 0.01 && p < 1 && elapsed > 0) return Math.round((elapsed * (1 - p)) / p);
  return undefined;
}
