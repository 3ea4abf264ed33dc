/**
 * Rule evaluation and the alert lifecycle, exactly as Prometheus's alerting rules:
 *
 * - each evaluation computes the rule's active series (those whose condition holds);
 * - a new active series becomes a `pending` alert (activeAt = now); it turns `firing` once it has been
 *   active for `for` (immediately when `for` is 0), and firedAt is set;
 * - a pending alert whose condition clears is dropped silently (nothing is ever sent for it);
 * - a firing alert whose condition clears stays firing for `keep_firing_for` (counted from the first
 *   evaluation where it cleared), then becomes resolved (resolvedAt = now) and is sent as resolved;
 *   resolved alerts are kept `resolved_retention` (15m) for the API, and a series that comes back
 *   later starts a new alert;
 * - labels are the series labels, then the rule's labels (templated), then `alertname`; labels with
 *   empty values are dropped. Annotations are templated with the series labels and the value.
 *
 * After a restart the restored alerts keep their state; a rule does not resolve them until it has
 * run for one window, since its windows start empty.
 */
import { Logs, Metrics, nanosToMillis, numericValue, stringValue } from '../model';
import type { AlertingConfig } from './config';
import type { Clock, TimerHandle } from './clock';
import { Labels, copyLabels, dropEmpty, fingerprint, setLabel } from './labels';
import { matchesAll } from './matchers';
import { CompareOp, EventRule, MetricRule, Rule, RuleGroup } from './rules';
import {
  Series, SeriesStore, attributesToLabels, bucketQuantile, histogramDelta, inWindow, increase, summaryQuantile, valuesQuantile,
} from './series';
import { formatNumber } from './template';

export type RuleAlertState = 'pending' | 'firing' | 'inactive';

export interface RuleAlert {
  fingerprint: string;
  rule: string;
  alertname: string;
  labels: Labels;
  annotations: Labels;
  value: number;
  state: RuleAlertState;
  activeAt: number;
  firedAt?: number;
  resolvedAt?: number;
  keepFiringSince?: number;
  lastEvalAt: number;
  /** Restored from state at startup and not seen since. */
  restored?: boolean;
}

/** What the router is told: firing alerts, and alerts that have just resolved. */
export interface AlertUpdate {
  fingerprint: string;
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  /** Set when resolved. */
  endsAt?: number;
  generatorURL: string;
}

export interface EvaluatorPersistence {
  putRuleAlert(a: RuleAlert): void;
  deleteRuleAlert(rule: string, fp: string): void;
  putStreaks(rule: string, streaks: StreakState[]): void;
  transaction?(fn: () => void): void;
}

export interface StreakState { labels: Labels; streak: number; t: number }

interface Result { labels: Labels; value: number }

interface EventSample { t: number; labels: Labels; score: number }

const MAX_STREAK_GROUPS = 10_000;

export function compare(v: number, op: CompareOp, threshold: number): boolean {
  if (Number.isNaN(v)) return false;
  switch (op) {
    case '>': return v > threshold;
    case '>=': return v >= threshold;
    case '<': return v < threshold;
    case '<=': return v <= threshold;
    case '==': return v === threshold;
    case '!=': return v !== threshold;
  }
}

function pick(labels: Labels, names: readonly string[]): Labels {
  const out: Labels = {};
  for (const n of names) if (Object.prototype.hasOwnProperty.call(labels, n) && labels[n] !== '') setLabel(out, n, labels[n]);
  return out;
}

function without(labels: Labels, name: string): Labels {
  const out = copyLabels(labels);
  delete out[name];
  return out;
}

function groupKeyOf(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}\u0001${labels[k]}`).join('\u0000');
}

export class Evaluator {
  readonly series: SeriesStore;
  /** rule key → fingerprint → alert. */
  private readonly active = new Map<string, Map<string, RuleAlert>>();
  private readonly events = new Map<string, EventSample[]>();
  /** Event names of `event` rules, so other records are skipped without looking at the rules. */
  private readonly eventNames = new Set<string>();
  private readonly streaks = new Map<string, Map<string, StreakState>>();
  private readonly rules: Rule[];
  private readonly timers: TimerHandle[] = [];
  private readonly startedAt: number;
  private stopped = false;
  droppedEvents = 0;
  /** Called after each group evaluation (self-telemetry). */
  afterEvaluation?: () => void;

  constructor(
    private readonly config: AlertingConfig,
    private readonly clock: Clock,
    private readonly onUpdate: (u: AlertUpdate) => void,
    private readonly persist?: EvaluatorPersistence,
  ) {
    this.startedAt = clock.now();
    this.rules = config.groups.flatMap((g) => g.rules);
    this.series = new SeriesStore(config.resourceLabels, config.maxSeries, config.maxSamplesPerSeries, this.startedAt);
    for (const r of this.rules) {
      this.active.set(r.key, new Map());
      if (r.kind === 'security' || r.kind === 'anomaly' || r.kind === 'event') { this.events.set(r.key, []); if (r.kind === 'event') this.eventNames.add((r as EventRule).eventName); }
      else if (r.kind === 'consecutive_failures') { this.streaks.set(r.key, new Map()); this.series.watch((r as MetricRule).metric, 60 * 60_000); }
      else {
        const mr = r as MetricRule;
        this.series.watch(mr.metric, (mr.kind === 'performance_degradation' ? mr.baselineWindowMs : mr.windowMs) + mr.intervalMs);
      }
    }
  }

  /** Restores alerts and streaks saved by a previous run (unknown rules are ignored). */
  restore(alerts: RuleAlert[], streaks: Array<{ rule: string; streaks: StreakState[] }>): void {
    for (const a of alerts) {
      const m = this.active.get(a.rule);
      if (m) m.set(a.fingerprint, { ...a, restored: true });
    }
    for (const s of streaks) {
      const m = this.streaks.get(s.rule);
      if (m) for (const st of s.streaks) m.set(groupKeyOf(st.labels), st);
    }
  }

  /** Rules' alerts that were persisted but whose rule no longer exists. */
  isKnownRule(key: string): boolean {
    return this.active.has(key);
  }

  start(): void {
    for (const g of this.config.groups) this.schedule(g);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.length = 0;
  }

  private schedule(g: RuleGroup): void {
    if (this.stopped) return;
    const idx = this.timers.length;
    const tick = () => {
      if (this.stopped) return;
      this.evaluateGroup(g, this.clock.now());
      this.timers[idx] = this.clock.setTimer(g.intervalMs, tick);
    };
    this.timers.push(this.clock.setTimer(g.intervalMs, tick));
  }

  // ---- ingestion ----------------------------------------------------------------------------

  consumeMetrics(m: Metrics): void {
    const now = this.clock.now();
    this.series.ingest(m, now, (s, sample, inc) => this.countOutcome(s, sample.t, inc));
  }

  private countOutcome(s: Series, t: number, inc: number): void {
    if (inc <= 0) return;
    for (const r of this.rules) {
      if (r.kind !== 'consecutive_failures' || r.metric !== s.metric) continue;
      if (!matchesAll(r.matchers, s.labels)) continue;
      const outcome = s.labels[r.outcomeAttribute];
      if (outcome === undefined) continue;
      const labels = r.by ? pick(s.labels, r.by) : without(s.labels, r.outcomeAttribute);
      const key = groupKeyOf(labels);
      const m = this.streaks.get(r.key)!;
      let st = m.get(key);
      if (!st) {
        if (m.size >= MAX_STREAK_GROUPS) continue;
        st = { labels, streak: 0, t };
        m.set(key, st);
      }
      if (t < st.t) continue; // older than what we already counted
      st.streak = r.successValues.includes(outcome.toLowerCase()) ? 0 : st.streak + Math.round(inc);
      st.t = t;
      this.markStreaks(r.key);
    }
  }

  private readonly dirtyStreaks = new Set<string>();

  /** Streaks are written once per batch, not per point. */
  private markStreaks(rule: string): void {
    if (!this.persist) return;
    if (this.dirtyStreaks.size === 0) {
      queueMicrotask(() => {
        const rules = [...this.dirtyStreaks];
        this.dirtyStreaks.clear();
        if (this.stopped) return;
        const write = () => { for (const k of rules) this.persist!.putStreaks(k, [...this.streaks.get(k)!.values()]); };
        if (this.persist!.transaction) this.persist!.transaction(write);
        else write();
      });
    }
    this.dirtyStreaks.add(rule);
  }

  consumeLogs(l: Logs): void {
    const now = this.clock.now();
    for (const rl of l.resourceLogs) {
      let res: Labels | undefined;
      for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) {
        const name = rec.eventName || stringValue(rec.attributes['event.name']);
        if (name !== 'security.threat' && name !== 'anomaly' && !(name && this.eventNames.has(name))) continue;
        if (!res) { res = {}; attributesToLabels(res, rl.resource.attributes, this.config.resourceLabels); }
        const labels: Labels = { ...res };
        attributesToLabels(labels, rec.attributes);
        delete labels['event.name'];
        const t = rec.timeUnixNano ? nanosToMillis(rec.timeUnixNano) : rec.observedTimeUnixNano ? nanosToMillis(rec.observedTimeUnixNano) : now;
        const score = name === 'anomaly' || name === 'security.threat' ? numericValue(rec.attributes[name === 'anomaly' ? 'anomaly.score' : 'security.threat.score']) ?? 0 : 1;
        for (const r of this.rules) {
          if ((r.kind !== 'security' && r.kind !== 'anomaly' && r.kind !== 'event') || r.eventName !== name) continue;
          if (score < r.minScore) continue;
          if (r.kind === 'security' && r.threatTypes.length && !r.threatTypes.includes(labels['security.threat.type'] ?? '')) continue;
          if (!matchesAll(r.matchers, labels)) continue;
          const arr = this.events.get(r.key)!;
          const numeric = new Set(Object.keys(rec.attributes).filter((k) => numericValue(rec.attributes[k]) !== undefined));
          const by = r.by ?? (r.kind === 'security'
            ? ['service.name', 'security.threat.type', 'client.address']
            : Object.keys(labels).filter((k) => !numeric.has(k)));
          arr.push({ t, labels: pick(labels, by), score });
          if (arr.length > this.config.maxEventsPerRule) { arr.shift(); this.droppedEvents++; }
        }
      }
    }
  }

  // ---- evaluation ---------------------------------------------------------------------------

  evaluateAll(now = this.clock.now()): void {
    for (const g of this.config.groups) this.evaluateGroup(g, now);
  }

  /** One evaluation of a group; its state writes (and the router's) go in one transaction. */
  evaluateGroup(g: RuleGroup, now: number): void {
    if (this.persist?.transaction) this.persist.transaction(() => this.evaluateRules(g, now));
    else this.evaluateRules(g, now);
    this.afterEvaluation?.();
  }

  private evaluateRules(g: RuleGroup, now: number): void {
    this.series.gc(now);
    for (const r of g.rules) {
      let results: Result[];
      try {
        results = this.results(r, now);
      } catch {
        results = [];
      }
      this.lifecycle(r, results, now);
    }
  }

  private results(r: Rule, now: number): Result[] {
    switch (r.kind) {
      case 'security':
      case 'anomaly': case 'event': return this.eventResults(r, now);
      case 'consecutive_failures': {
        const out: Result[] = [];
        for (const st of this.streaks.get(r.key)!.values()) if (st.streak >= r.threshold) out.push({ labels: st.labels, value: st.streak });
        return out;
      }
      default: return this.metricResults(r, now);
    }
  }

  private eventResults(r: EventRule, now: number): Result[] {
    const arr = this.events.get(r.key)!;
    const from = now - r.windowMs;
    while (arr.length && arr[0].t <= from - r.intervalMs) arr.shift();
    const groups = new Map<string, { labels: Labels; n: number; max: number }>();
    for (const e of inWindow(arr, from, now)) {
      const k = groupKeyOf(e.labels);
      const g = groups.get(k) ?? { labels: e.labels, n: 0, max: -Infinity };
      g.n++; g.max = Math.max(g.max, e.score);
      groups.set(k, g);
    }
    const out: Result[] = [];
    // With a count threshold the value is the number of events; otherwise the highest score.
    for (const g of groups.values()) if (g.n >= r.count) out.push({ labels: g.labels, value: r.count > 1 ? g.n : g.max });
    return out;
  }

  private metricResults(r: MetricRule, now: number): Result[] {
    const from = now - r.windowMs;
    const selected = this.series.select(r.metric).filter((s) => matchesAll(r.matchers, s.labels));
    const byOutcome = r.kind === 'success_rate';
    const groups = new Map<string, { labels: Labels; series: Series[] }>();
    for (const s of selected) {
      const labels = r.by ? pick(s.labels, r.by) : byOutcome ? without(s.labels, r.outcomeAttribute) : s.labels;
      const k = groupKeyOf(labels);
      const g = groups.get(k) ?? { labels, series: [] };
      g.series.push(s);
      groups.set(k, g);
    }
    const out: Result[] = [];
    for (const g of groups.values()) {
      const v = r.kind === 'success_rate' ? this.successRate(r, g.series, from, now)
        : r.kind === 'performance_degradation' ? this.degradation(r, g.series, now)
        : windowValue(r.func, r.quantile, g.series, from, now, r.windowMs);
      if (v === undefined) continue;
      if (compare(v, r.op, r.threshold)) out.push({ labels: g.labels, value: v });
    }
    return out;
  }

  private successRate(r: MetricRule, series: Series[], from: number, to: number): number | undefined {
    let total = 0;
    let ok = 0;
    for (const s of series) {
      const outcome = s.labels[r.outcomeAttribute];
      if (outcome === undefined) continue;
      const inc = increase(s, from, to);
      if (!inc) continue;
      total += inc.value;
      if (r.successValues.includes(outcome.toLowerCase())) ok += inc.value;
    }
    if (total <= 0 || total < r.minSamples) return undefined;
    return ok / total;
  }

  private degradation(r: MetricRule, series: Series[], now: number): number | undefined {
    const cur = quantileOver(r.quantile, series, now - r.windowMs, now);
    // The baseline stops where the current window begins, so a fresh slowdown does not lift its own baseline.
    const base = quantileOver(r.quantile, series, now - r.baselineWindowMs, now - r.windowMs);
    if (!cur || !base || cur.n < r.minSamples || base.n < r.minSamples) return undefined;
    if (!(base.q > 0) || Number.isNaN(cur.q)) return undefined;
    return cur.q / base.q;
  }

  private lifecycle(r: Rule, results: Result[], now: number): void {
    const active = this.active.get(r.key)!;
    const seen = new Set<string>();
    for (const res of results) {
      const tmpl = { value: res.value, labels: res.labels, externalURL: this.config.externalURL };
      const labels = copyLabels(res.labels);
      for (const [k, t] of Object.entries(r.labels)) setLabel(labels, k, t.expand(tmpl));
      setLabel(labels, 'alertname', r.alert);
      const final = dropEmpty(labels);
      const annotations: Labels = {};
      for (const [k, t] of Object.entries(r.annotations)) setLabel(annotations, k, t.expand(tmpl));
      const fp = fingerprint(final);
      if (seen.has(fp)) continue; // two series that differ only in dropped labels: first wins
      seen.add(fp);
      let a = active.get(fp);
      if (a && a.state !== 'inactive') {
        const changed = a.keepFiringSince !== undefined || a.restored || !sameLabels(a.annotations, annotations);
        a.value = res.value;
        a.annotations = annotations;
        a.keepFiringSince = undefined;
        a.restored = undefined;
        a.lastEvalAt = now;
        if (changed) this.persist?.putRuleAlert(a);
      } else {
        a = { fingerprint: fp, rule: r.key, alertname: r.alert, labels: final, annotations, value: res.value, state: 'pending', activeAt: now, lastEvalAt: now };
        active.set(fp, a);
        this.persist?.putRuleAlert(a);
      }
      if (a.state === 'pending' && now - a.activeAt >= r.forMs) {
        a.state = 'firing';
        a.firedAt = now;
        this.persist?.putRuleAlert(a);
      }
    }
    const warmingUp = now - this.startedAt < (r.kind === 'consecutive_failures' ? 0 : r.windowMs);
    for (const [fp, a] of active) {
      if (seen.has(fp)) continue;
      if (a.state === 'inactive') {
        if (now - (a.resolvedAt ?? now) >= this.config.resolvedRetentionMs) {
          active.delete(fp);
          this.persist?.deleteRuleAlert(r.key, fp);
        }
        continue;
      }
      if (a.restored && warmingUp) continue;
      if (a.state === 'pending') {
        active.delete(fp);
        this.persist?.deleteRuleAlert(r.key, fp);
        continue;
      }
      if (r.keepFiringForMs > 0) {
        if (a.keepFiringSince === undefined) { a.keepFiringSince = now; this.persist?.putRuleAlert(a); }
        if (now - a.keepFiringSince < r.keepFiringForMs) continue;
      }
      a.state = 'inactive';
      a.resolvedAt = now;
      a.restored = undefined;
      this.persist?.putRuleAlert(a);
      this.onUpdate(this.toUpdate(a));
    }
    for (const a of active.values()) if (a.state === 'firing') this.onUpdate(this.toUpdate(a));
  }

  private toUpdate(a: RuleAlert): AlertUpdate {
    return {
      fingerprint: a.fingerprint,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.firedAt ?? a.activeAt,
      ...(a.state === 'inactive' ? { endsAt: a.resolvedAt } : {}),
      generatorURL: this.config.externalURL ? `${this.config.externalURL}/api/alerts?filter=${encodeURIComponent(`alertname="${a.alertname}"`)}` : '',
    };
  }

  /** Every alert the rules hold (pending, firing, recently resolved). */
  alerts(): RuleAlert[] {
    const out: RuleAlert[] = [];
    for (const m of this.active.values()) out.push(...m.values());
    return out;
  }

  ruleOf(key: string): Rule | undefined {
    return this.rules.find((r) => r.key === key);
  }

  describeValue(a: RuleAlert): string {
    return formatNumber(a.value);
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Quantile over the window across series (histograms merged when their bounds agree; gauges by value). */
function quantileOver(q: number, series: Series[], from: number, to: number): { q: number; n: number } | undefined {
  const hist = series.filter((s) => s.type === 'histogram');
  if (hist.length) {
    let bounds: number[] | undefined;
    let buckets: number[] | undefined;
    for (const s of hist) {
      const d = histogramDelta(s, from, to);
      if (!d) continue;
      if (!bounds) { bounds = d.bounds; buckets = d.buckets.slice(); continue; }
      if (d.bounds.length !== bounds.length || d.bounds.some((b, i) => b !== bounds![i])) continue;
      d.buckets.forEach((c, i) => { buckets![i] += c; });
    }
    if (!bounds || !buckets) return undefined;
    const n = buckets.reduce((a, b) => a + b, 0);
    return n > 0 ? { q: bucketQuantile(q, bounds, buckets), n } : undefined;
  }
  const summaries = series.filter((s) => s.type === 'summary' && s.quantiles && inWindow(s.hist, from, to).length);
  if (summaries.length) {
    const vals = summaries.map((s) => summaryQuantile(q, s.quantiles!));
    return { q: Math.max(...vals), n: summaries.length };
  }
  const values = series.flatMap((s) => inWindow(s.num, from, to).map((x) => x.v));
  return values.length ? { q: valuesQuantile(q, values), n: values.length } : undefined;
}

/** One of the window functions over a group of series. */
export function windowValue(func: MetricRule['func'], q: number, series: Series[], from: number, to: number, windowMs: number): number | undefined {
  if (func === 'quantile') return quantileOver(q, series, from, to)?.q;
  const hist = series.filter((s) => s.type !== 'number');
  if (hist.length) {
    // Histograms and summaries: the functions apply to the observations recorded in the window.
    let count = 0; let sum = 0; let any = false;
    for (const s of hist) {
      const d = s.type === 'histogram' ? histogramDelta(s, from, to) : summaryDelta(s, from, to);
      if (!d) continue;
      any = true; count += d.count; sum += d.sum;
    }
    if (!any) return undefined;
    switch (func) {
      case 'count': case 'increase': return count;
      case 'sum': return sum;
      case 'avg': return count > 0 ? sum / count : undefined;
      case 'rate': return count / (windowMs / 1000);
      case 'max': return quantileOver(1, hist, from, to)?.q;
      case 'min': return quantileOver(0, hist, from, to)?.q;
      case 'last': return count > 0 ? sum / count : undefined;
    }
  }
  if (func === 'increase' || func === 'rate') {
    let total = 0; let any = false;
    for (const s of series) {
      const inc = increase(s, from, to);
      if (inc) { total += inc.value; any = true; }
    }
    if (!any) return undefined;
    return func === 'rate' ? total / (windowMs / 1000) : total;
  }
  const samples = series.flatMap((s) => inWindow(s.num, from, to));
  if (!samples.length) return undefined;
  switch (func) {
    case 'avg': return samples.reduce((a, x) => a + x.v, 0) / samples.length;
    case 'max': return Math.max(...samples.map((x) => x.v));
    case 'min': return Math.min(...samples.map((x) => x.v));
    case 'sum': return samples.reduce((a, x) => a + x.v, 0);
    case 'count': return samples.length;
    case 'last': {
      // With several series, the newest value of each, summed.
      let total = 0;
      for (const s of series) { const w = inWindow(s.num, from, to); if (w.length) total += w[w.length - 1].v; }
      return total;
    }
  }
  return undefined;
}

function summaryDelta(s: Series, from: number, to: number): { count: number; sum: number } | undefined {
  const win = inWindow(s.hist, from, to);
  if (!win.length) return undefined;
  const last = win[win.length - 1];
  let base: { count: number; sum: number } | undefined;
  for (const x of s.hist) { if (x.t <= from) base = x; else break; }
  if (!base) return s.startMs > from ? { count: last.count, sum: last.sum } : win.length > 1 ? { count: last.count - win[0].count, sum: last.sum - win[0].sum } : undefined;
  return last.count >= base.count ? { count: last.count - base.count, sum: last.sum - base.sum } : { count: last.count, sum: last.sum };
}
