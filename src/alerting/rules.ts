/**
 * Alerting rules: their YAML shape, validation and compiled form.
 *
 * Rules are organised in groups as in Prometheus rule files, either inline in the connector config
 * (`groups:`) or in separate files listed in `rule_files:`:
 *
 *   groups:
 *     - name: api
 *       interval: 30s                 # evaluation interval of the group (default: evaluation_interval)
 *       rules:
 *         - alert: HighLatency
 *           kind: threshold           # threshold | success_rate | performance_degradation |
 *                                     # consecutive_failures | security | anomaly
 *           metric: http.server.request.duration
 *           matchers: ['http.route="/api"']
 *           function: quantile        # avg max min sum count last rate increase quantile
 *           quantile: 0.95
 *           window: 5m
 *           op: '>'
 *           threshold: 0.5
 *           for: 2m
 *           keep_firing_for: 0s
 *           severity: warning         # shorthand for labels.severity
 *           labels: { team: api }
 *           annotations: { summary: 'p95 latency {{ $value }}s on {{ $labels.service.name }}' }
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join as joinPath, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ConfigIssue } from '../errors';
import { parseDuration } from '../util/duration';
import { Issues, isObject, join, typeName } from './issues';
import { Matcher, parseMatcher } from './matchers';
import { Template } from './template';

export type RuleKind = 'threshold' | 'success_rate' | 'performance_degradation' | 'consecutive_failures' | 'security' | 'anomaly' | 'event';
export const RULE_KINDS: readonly RuleKind[] = ['threshold', 'success_rate', 'performance_degradation', 'consecutive_failures', 'security', 'anomaly', 'event'];
export type WindowFunction = 'avg' | 'max' | 'min' | 'sum' | 'count' | 'last' | 'rate' | 'increase' | 'quantile';
export const WINDOW_FUNCTIONS: readonly WindowFunction[] = ['avg', 'max', 'min', 'sum', 'count', 'last', 'rate', 'increase', 'quantile'];
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
export const COMPARE_OPS: readonly CompareOp[] = ['>', '>=', '<', '<=', '==', '!='];

export const DEFAULT_SUCCESS_VALUES = ['success', 'succeeded', 'pass', 'passed', 'ok', 'true'];

export interface RuleBase {
  /** Unique within the connector: "<group>/<alert>", with "#2", "#3" ... for repeated alert names. */
  key: string;
  group: string;
  alert: string;
  kind: RuleKind;
  forMs: number;
  keepFiringForMs: number;
  labels: Record<string, Template>;
  annotations: Record<string, Template>;
  /** Evaluation interval of its group. */
  intervalMs: number;
}

export interface MetricRule extends RuleBase {
  kind: 'threshold' | 'success_rate' | 'performance_degradation' | 'consecutive_failures';
  metric: string;
  matchers: Matcher[];
  /** Group series by these labels; undefined = each series alone (or, for test-health rules, all labels but the outcome). */
  by?: string[];
  windowMs: number;
  func: WindowFunction;
  quantile: number;
  op: CompareOp;
  threshold: number;
  /** performance_degradation: the longer window the baseline quantile is taken over (ending where `window` begins). */
  baselineWindowMs: number;
  /** success_rate / consecutive_failures: attribute holding the outcome, and its success values. */
  outcomeAttribute: string;
  successValues: string[];
  /** Minimum number of observations in the window before the rule can be active. */
  minSamples: number;
}

export interface EventRule extends RuleBase {
  /** `event`: any records with the rule's `event_name` (pipeline.run.failed, ...), each scoring 1. */
  kind: 'security' | 'anomaly' | 'event';
  /** The event name records must carry (security.threat / anomaly / the rule's event_name). */
  eventName: string;
  minScore: number;
  threatTypes: string[];
  matchers: Matcher[];
  by?: string[];
  windowMs: number;
  /** How many matching events within the window make the rule active. */
  count: number;
}

export type Rule = MetricRule | EventRule;

export interface RuleGroup {
  name: string;
  intervalMs: number;
  rules: Rule[];
}

const COMMON_KEYS = ['alert', 'kind', 'for', 'keep_firing_for', 'labels', 'annotations', 'severity'];
const KEYS: Record<RuleKind, string[]> = {
  threshold: ['metric', 'matchers', 'by', 'window', 'function', 'quantile', 'op', 'threshold'],
  success_rate: ['metric', 'matchers', 'by', 'window', 'threshold', 'outcome_attribute', 'success_values', 'min_samples'],
  performance_degradation: ['metric', 'matchers', 'by', 'window', 'baseline_window', 'quantile', 'threshold', 'min_samples'],
  consecutive_failures: ['metric', 'matchers', 'by', 'threshold', 'outcome_attribute', 'success_values'],
  security: ['min_score', 'threat_types', 'matchers', 'by', 'window', 'count'],
  anomaly: ['min_score', 'matchers', 'by', 'window', 'count'],
  event: ['event_name', 'matchers', 'by', 'window', 'count'],
};

const ALERT_NAME = /^[^\s{}"]+$/u;

interface Ctx { issues: Issues; defaultIntervalMs: number }

function duration(ctx: Ctx, path: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'string' && typeof v !== 'number') {
    ctx.issues.add(path, `expected a duration such as "30s" or "5m", got ${typeName(v)}`);
    return def;
  }
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.issues.add(path, (e as Error).message);
    return def;
  }
}

function num(ctx: Ctx, path: string, v: unknown, def: number, check?: (n: number) => string | undefined): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    ctx.issues.add(path, `expected a number, got ${typeName(v)}`);
    return def;
  }
  const err = check?.(v);
  if (err) ctx.issues.add(path, err);
  return v;
}

function str(ctx: Ctx, path: string, v: unknown, def?: string): string | undefined {
  if (v === undefined) return def;
  if (typeof v !== 'string' || v === '') {
    ctx.issues.add(path, `expected a non-empty string, got ${typeName(v)}`);
    return def;
  }
  return v;
}

function strList(ctx: Ctx, path: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    ctx.issues.add(path, `expected a list of strings, got ${typeName(v)}`);
    return undefined;
  }
  return v as string[];
}

export function compileMatcherList(issues: Issues, path: string, v: unknown): Matcher[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    issues.add(path, `expected a list of matchers such as ['severity="critical"'], got ${typeName(v)}`);
    return [];
  }
  const out: Matcher[] = [];
  v.forEach((s, i) => {
    if (typeof s !== 'string') { issues.add(join(path, i), `expected a matcher string, got ${typeName(s)}`); return; }
    try {
      out.push(parseMatcher(s));
    } catch (e) {
      issues.add(join(path, i), (e as Error).message);
    }
  });
  return out;
}

function templates(ctx: Ctx, path: string, v: unknown): Record<string, Template> {
  const out: Record<string, Template> = {};
  if (v === undefined) return out;
  if (!isObject(v)) { ctx.issues.add(path, `expected a mapping of name: template, got ${typeName(v)}`); return out; }
  for (const [k, t] of Object.entries(v)) {
    const p = join(path, k);
    if (typeof t !== 'string' && typeof t !== 'number' && typeof t !== 'boolean') { ctx.issues.add(p, `expected a string, got ${typeName(t)}`); continue; }
    try {
      Object.defineProperty(out, k, { value: Template.compile(String(t)), enumerable: true, writable: true, configurable: true });
    } catch (e) {
      ctx.issues.add(p, (e as Error).message);
    }
  }
  return out;
}

/**
 * The key rule state is persisted under. It does not depend on the rule's position, so reordering
 * rules keeps their alerts across a restart.
 */
function ruleKey(group: string, alert: string, seen: Map<string, number>): string {
  const n = (seen.get(alert) ?? 0) + 1;
  seen.set(alert, n);
  return n === 1 ? `${group}/${alert}` : `${group}/${alert}#${n}`;
}

function compileRule(ctx: Ctx, path: string, raw: unknown, group: string, seen: Map<string, number>, intervalMs: number): Rule | undefined {
  if (!isObject(raw)) { ctx.issues.add(path, `expected a rule mapping, got ${typeName(raw)}`); return undefined; }
  if (raw.record !== undefined) { ctx.issues.add(join(path, 'record'), 'recording rules are not supported; only alerting rules (alert:)'); return undefined; }
  const alert = str(ctx, join(path, 'alert'), raw.alert);
  if (alert === undefined) { if (raw.alert === undefined) ctx.issues.add(join(path, 'alert'), 'required: the alert name'); return undefined; }
  if (!ALERT_NAME.test(alert)) ctx.issues.add(join(path, 'alert'), `invalid alert name ${JSON.stringify(alert)}: no spaces, braces or quotes`);
  const kind = (raw.kind ?? 'threshold') as RuleKind;
  if (!RULE_KINDS.includes(kind)) { ctx.issues.add(join(path, 'kind'), `expected one of ${RULE_KINDS.join(', ')}, got ${typeName(raw.kind)}`); return undefined; }
  const allowed = new Set([...COMMON_KEYS, ...KEYS[kind]]);
  for (const k of Object.keys(raw)) if (!allowed.has(k)) ctx.issues.add(join(path, k), `unknown key for a ${kind} rule (expected one of ${[...allowed].join(', ')})`);

  const labels = templates(ctx, join(path, 'labels'), raw.labels);
  if (raw.severity !== undefined) {
    const sev = str(ctx, join(path, 'severity'), raw.severity);
    if (sev !== undefined) {
      try {
        labels.severity = Template.compile(sev);
      } catch (e) {
        ctx.issues.add(join(path, 'severity'), (e as Error).message);
      }
    }
  }
  const base: RuleBase = {
    key: ruleKey(group, alert, seen),
    group, alert, kind,
    forMs: duration(ctx, join(path, 'for'), raw.for, 0),
    keepFiringForMs: duration(ctx, join(path, 'keep_firing_for'), raw.keep_firing_for, 0),
    labels,
    annotations: templates(ctx, join(path, 'annotations'), raw.annotations),
    intervalMs,
  };
  const by = strList(ctx, join(path, 'by'), raw.by);
  const matchers = compileMatcherList(ctx.issues, join(path, 'matchers'), raw.matchers);

  if (kind === 'security' || kind === 'anomaly' || kind === 'event') {
    if (kind === 'event' && (typeof raw.event_name !== 'string' || !raw.event_name)) ctx.issues.add(join(path, 'event_name'), 'required: the event name of the records the rule counts (e.g. pipeline.run.failed)');
    const rule: EventRule = {
      ...base, kind,
      eventName: kind === 'security' ? 'security.threat' : kind === 'anomaly' ? 'anomaly' : String(raw.event_name ?? ''),
      minScore: kind === 'event' ? 0 : num(ctx, join(path, 'min_score'), raw.min_score, kind === 'security' ? 0.7 : 0.5),
      threatTypes: strList(ctx, join(path, 'threat_types'), raw.threat_types) ?? [],
      matchers,
      by,
      windowMs: duration(ctx, join(path, 'window'), raw.window, 5 * 60_000),
      count: num(ctx, join(path, 'count'), raw.count, 1, (n) => (Number.isInteger(n) && n >= 1 ? undefined : 'expected an integer ≥ 1')),
    };
    if (rule.windowMs <= 0) ctx.issues.add(join(path, 'window'), 'must be greater than 0');
    return rule;
  }

  const metric = str(ctx, join(path, 'metric'), raw.metric);
  if (raw.metric === undefined) ctx.issues.add(join(path, 'metric'), 'required: the metric name the rule watches');
  const defaults: Record<string, { threshold: number; op: CompareOp }> = {
    threshold: { threshold: NaN, op: '>' },
    success_rate: { threshold: 0.95, op: '<' },
    performance_degradation: { threshold: 1.5, op: '>=' },
    consecutive_failures: { threshold: 3, op: '>=' },
  };
  const d = defaults[kind];
  if (kind === 'threshold' && raw.threshold === undefined) ctx.issues.add(join(path, 'threshold'), 'required: the number the value is compared with');
  const func = (raw.function ?? 'avg') as WindowFunction;
  if (!WINDOW_FUNCTIONS.includes(func)) ctx.issues.add(join(path, 'function'), `expected one of ${WINDOW_FUNCTIONS.join(', ')}, got ${typeName(raw.function)}`);
  const op = (raw.op ?? d.op) as CompareOp;
  if (!COMPARE_OPS.includes(op)) ctx.issues.add(join(path, 'op'), `expected one of ${COMPARE_OPS.join(' ')}, got ${typeName(raw.op)}`);
  const rule: MetricRule = {
    ...base, kind,
    metric: metric ?? '',
    matchers,
    by,
    windowMs: duration(ctx, join(path, 'window'), raw.window, 5 * 60_000),
    func,
    quantile: num(ctx, join(path, 'quantile'), raw.quantile, 0.95, (n) => (n >= 0 && n <= 1 ? undefined : 'expected a number between 0 and 1')),
    op,
    threshold: num(ctx, join(path, 'threshold'), raw.threshold, d.threshold,
      kind === 'consecutive_failures' ? (n) => (Number.isInteger(n) && n >= 1 ? undefined : 'expected an integer ≥ 1 (failures in a row)') : undefined),
    baselineWindowMs: duration(ctx, join(path, 'baseline_window'), raw.baseline_window, 60 * 60_000),
    outcomeAttribute: str(ctx, join(path, 'outcome_attribute'), raw.outcome_attribute, 'outcome')!,
    successValues: strList(ctx, join(path, 'success_values'), raw.success_values) ?? DEFAULT_SUCCESS_VALUES,
    minSamples: num(ctx, join(path, 'min_samples'), raw.min_samples, 1, (n) => (n >= 0 ? undefined : 'expected a number ≥ 0')),
  };
  if (rule.windowMs <= 0) ctx.issues.add(join(path, 'window'), 'must be greater than 0');
  if (kind === 'performance_degradation' && rule.baselineWindowMs <= rule.windowMs) {
    ctx.issues.add(join(path, 'baseline_window'), `must be longer than window (${rule.windowMs} ms)`);
  }
  if (kind === 'threshold' && func === 'quantile' && raw.quantile === undefined) ctx.issues.add(join(path, 'quantile'), 'required with function: quantile (e.g. 0.95)');
  return rule;
}

/**
 * Compiles a rules document (`{ groups: [...] }`); `issues` receives every problem found.
 * `basePath` prefixes issue paths (e.g. "connectors.alerts" for inline rules).
 */
export function compileRuleGroups(doc: unknown, issues: Issues, defaultIntervalMs: number, basePath = ''): RuleGroup[] {
  const ctx: Ctx = { issues, defaultIntervalMs };
  if (!isObject(doc)) { issues.add(basePath, `expected a mapping with a "groups" list, got ${typeName(doc)}`); return []; }
  for (const k of Object.keys(doc)) if (k !== 'groups') issues.add(join(basePath, k), 'unknown key (a rule file holds only "groups")');
  const groupsPath = join(basePath, 'groups');
  if (doc.groups === undefined || doc.groups === null) return [];
  if (!Array.isArray(doc.groups)) { issues.add(groupsPath, `expected a list of rule groups, got ${typeName(doc.groups)}`); return []; }
  const names = new Set<string>();
  const out: RuleGroup[] = [];
  doc.groups.forEach((g, gi) => {
    const gp = join(groupsPath, gi);
    if (!isObject(g)) { issues.add(gp, `expected a group mapping with name and rules, got ${typeName(g)}`); return; }
    for (const k of Object.keys(g)) if (!['name', 'interval', 'rules'].includes(k)) issues.add(join(gp, k), 'unknown key (expected name, interval, rules)');
    const name = str(ctx, join(gp, 'name'), g.name);
    if (name === undefined) { if (g.name === undefined) issues.add(join(gp, 'name'), 'required: the group name'); return; }
    if (names.has(name)) issues.add(join(gp, 'name'), `duplicate group name ${JSON.stringify(name)}`);
    names.add(name);
    const intervalMs = duration(ctx, join(gp, 'interval'), g.interval, defaultIntervalMs);
    if (intervalMs <= 0) issues.add(join(gp, 'interval'), 'must be greater than 0');
    if (!Array.isArray(g.rules)) { issues.add(join(gp, 'rules'), `expected a list of rules, got ${typeName(g.rules)}`); return; }
    const rules: Rule[] = [];
    const seen = new Map<string, number>();
    g.rules.forEach((r, ri) => {
      const rule = compileRule(ctx, join(join(gp, 'rules'), ri), r, name, seen, intervalMs);
      if (rule) rules.push(rule);
    });
    out.push({ name, intervalMs, rules });
  });
  return out;
}

/** Adds YAML line/column positions to issues of one file, from the dotted paths. */
function locate(issues: ConfigIssue[], text: string): void {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  for (const i of issues) {
    const keys = i.path.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '').map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    for (let n = keys.length; n > 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const pos = lc.linePos(node.range[0]);
        i.line = pos.line;
        i.col = pos.col;
        break;
      }
    }
  }
}

/** Reads and compiles one rule file; problems (including YAML syntax errors) go to the returned issues. */
export function loadRuleFile(path: string, defaultIntervalMs: number): { groups: RuleGroup[]; issues: ConfigIssue[] } {
  const issues = new Issues(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    issues.add('', `cannot read rule file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return { groups: [], issues: issues.list };
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    for (const err of doc.errors) issues.add('', `YAML syntax error: ${err.message.split('\n')[0]}`);
    return { groups: [], issues: issues.list };
  }
  const groups = compileRuleGroups(doc.toJS(), issues, defaultIntervalMs);
  locate(issues.list, text);
  return { groups, issues: issues.list };
}

/**
 * Validation entry point for `vigil validate`: checks rule files (paths relative to `baseDir`,
 * default the working directory) and returns every problem with file, line, dotted path and what was
 * expected. An empty list means the files are valid.
 */
export function validateRules(files: readonly string[], baseDir: string = process.cwd()): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const alerts = new Map<string, string>();
  for (const path of files.flatMap((f) => expandRuleFiles(f, baseDir))) {
    const { groups, issues } = loadRuleFile(path, 60_000);
    out.push(...issues);
    for (const g of groups) {
      const prev = alerts.get(g.name);
      if (prev !== undefined) out.push({ file: path, path: 'groups', message: `group name ${JSON.stringify(g.name)} is also used in ${prev}` });
      alerts.set(g.name, path);
    }
  }
  return out;
}

export function resolveRuleFile(f: string, baseDir: string = process.cwd()): string {
  return isAbsolute(f) ? f : resolve(baseDir, f);
}

/**
 * Expands `*` and `?` in the file-name part of a rule file path (as Prometheus's rule_files
 * globs, without directory wildcards). A pattern that matches nothing expands to nothing; a plain
 * path is returned as is, so that a missing file is reported.
 */
export function expandRuleFiles(f: string, baseDir: string = process.cwd()): string[] {
  const path = resolveRuleFile(f, baseDir);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  const dir = dirname(path);
  if (/[*?]/.test(dir)) return [path];
  const re = new RegExp('^' + name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  try {
    return readdirSync(dir).filter((n) => re.test(n)).sort().map((n) => joinPath(dir, n));
  } catch {
    return [];
  }
}
