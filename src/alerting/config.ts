/**
 * The alerting configuration as the `alerts` connector takes it (snake_case keys, as in Prometheus
 * and Alertmanager), compiled and checked in one pass so that every problem is reported at once.
 */
import { ConfigError, ConfigIssue } from '../errors';
import { parseDuration } from '../util/duration';
import { Issues, isObject, join, typeName } from './issues';
import { Matcher } from './matchers';
import { Route, compileRoute, walkRoutes } from './route';
import { RuleGroup, compileMatcherList, compileRuleGroups, expandRuleFiles, loadRuleFile } from './rules';

export interface ReceiverConfig {
  name: string;
  /** Whether the receiver is told about resolved alerts (Alertmanager's send_resolved, default true). */
  sendResolved: boolean;
  /** At most this many alerts per notification (0 = no limit); the rest are counted in truncatedAlerts. */
  maxAlerts: number;
}

export interface InhibitRule {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

export interface EscalationStep {
  waitMs: number;
  receivers: string[];
}

export interface EscalationPolicy {
  name: string;
  steps: EscalationStep[];
  /** How many more times the last step is repeated (each after its wait). */
  repeat: number;
}

export interface AlertingConfig {
  evaluationIntervalMs: number;
  externalURL: string;
  groups: RuleGroup[];
  route: Route;
  /** Declared receivers; when empty any name is accepted with send_resolved true. */
  receivers: Map<string, ReceiverConfig>;
  inhibitRules: InhibitRule[];
  escalationPolicies: Map<string, EscalationPolicy>;
  /** How long resolved alerts and expired silences are kept for the API. */
  resolvedRetentionMs: number;
  silenceRetentionMs: number;
  /** Alertmanager's global.resolve_timeout: an alert posted to /api/v2/alerts without endsAt resolves this long after its last update. */
  resolveTimeoutMs: number;
  /** Label names copied from resource attributes into series labels. */
  resourceLabels: string[];
  /** Bounds on memory. */
  maxSeries: number;
  maxSamplesPerSeries: number;
  maxEventsPerRule: number;
}

export interface RawAlertingConfig {
  evaluation_interval?: string | number;
  external_url?: string;
  rule_files?: string[];
  groups?: unknown;
  route?: unknown;
  receivers?: unknown;
  inhibit_rules?: unknown;
  escalation_policies?: unknown;
  resolved_retention?: string | number;
  silence_retention?: string | number;
  resolve_timeout?: string | number;
  resource_labels?: string[];
  max_series?: number;
  max_samples_per_series?: number;
  max_events_per_rule?: number;
}

export const DEFAULT_RESOURCE_LABELS = ['service.name', 'service.namespace', 'service.instance.id', 'deployment.environment.name'];

function dur(issues: Issues, path: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'string' && typeof v !== 'number') { issues.add(path, `expected a duration, got ${typeName(v)}`); return def; }
  try { return parseDuration(v); } catch (e) { issues.add(path, (e as Error).message); return def; }
}

function names(issues: Issues, path: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    issues.add(path, `expected a list of names, got ${typeName(v)}`);
    return [];
  }
  return v as string[];
}

/**
 * Compiles the connector config; rule files are read relative to `baseDir`. Returns the config and
 * every problem found; `loadAlertingConfig` throws a ConfigError instead.
 */
export function compileAlertingConfig(raw: RawAlertingConfig, baseDir = process.cwd(), basePath = ''): { config: AlertingConfig; issues: ConfigIssue[] } {
  const issues = new Issues();
  const p = (k: string) => join(basePath, k);
  const evaluationIntervalMs = dur(issues, p('evaluation_interval'), raw.evaluation_interval, 60_000);
  if (evaluationIntervalMs <= 0) issues.add(p('evaluation_interval'), 'must be greater than 0');

  const groups = compileRuleGroups({ groups: raw.groups ?? [] }, issues, evaluationIntervalMs, basePath);
  const fileIssues: ConfigIssue[] = [];
  for (const f of names(issues, p('rule_files'), raw.rule_files).flatMap((x) => expandRuleFiles(x, baseDir))) {
    const r = loadRuleFile(f, evaluationIntervalMs);
    groups.push(...r.groups);
    fileIssues.push(...r.issues);
  }
  const seen = new Set<string>();
  for (const g of groups) {
    if (seen.has(g.name)) issues.add(p('groups'), `rule group name ${JSON.stringify(g.name)} is used twice (inline or in rule_files)`);
    seen.add(g.name);
  }

  const receivers = new Map<string, ReceiverConfig>();
  if (raw.receivers !== undefined) {
    if (!Array.isArray(raw.receivers)) issues.add(p('receivers'), `expected a list of receivers, got ${typeName(raw.receivers)}`);
    else raw.receivers.forEach((r, i) => {
      const rp = join(p('receivers'), i);
      if (!isObject(r) || typeof r.name !== 'string' || !r.name) { issues.add(rp, 'expected {name, send_resolved?, max_alerts?}'); return; }
      for (const k of Object.keys(r)) if (!['name', 'send_resolved', 'max_alerts'].includes(k)) issues.add(join(rp, k), 'unknown key (expected name, send_resolved, max_alerts)');
      if (receivers.has(r.name)) issues.add(join(rp, 'name'), `duplicate receiver ${JSON.stringify(r.name)}`);
      if (r.send_resolved !== undefined && typeof r.send_resolved !== 'boolean') issues.add(join(rp, 'send_resolved'), 'expected true or false');
      const maxAlerts = r.max_alerts === undefined ? 0 : r.max_alerts;
      if (typeof maxAlerts !== 'number' || !Number.isInteger(maxAlerts) || maxAlerts < 0) issues.add(join(rp, 'max_alerts'), 'expected an integer ≥ 0');
      receivers.set(r.name, { name: r.name, sendResolved: r.send_resolved !== false, maxAlerts: typeof maxAlerts === 'number' ? maxAlerts : 0 });
    });
  }

  const route = compileRoute(raw.route ?? { receiver: 'default' }, issues, p('route'))
    ?? compileRoute({ receiver: 'default' }, new Issues())!;

  const inhibitRules: InhibitRule[] = [];
  if (raw.inhibit_rules !== undefined) {
    if (!Array.isArray(raw.inhibit_rules)) issues.add(p('inhibit_rules'), `expected a list, got ${typeName(raw.inhibit_rules)}`);
    else raw.inhibit_rules.forEach((r, i) => {
      const ip = join(p('inhibit_rules'), i);
      if (!isObject(r)) { issues.add(ip, `expected {source_matchers, target_matchers, equal}, got ${typeName(r)}`); return; }
      for (const k of Object.keys(r)) if (!['source_matchers', 'target_matchers', 'equal'].includes(k)) issues.add(join(ip, k), 'unknown key (expected source_matchers, target_matchers, equal)');
      const rule: InhibitRule = {
        sourceMatchers: compileMatcherList(issues, join(ip, 'source_matchers'), r.source_matchers),
        targetMatchers: compileMatcherList(issues, join(ip, 'target_matchers'), r.target_matchers),
        equal: names(issues, join(ip, 'equal'), r.equal),
      };
      if (!rule.sourceMatchers.length) issues.add(join(ip, 'source_matchers'), 'required: at least one matcher');
      if (!rule.targetMatchers.length) issues.add(join(ip, 'target_matchers'), 'required: at least one matcher');
      inhibitRules.push(rule);
    });
  }

  const escalationPolicies = new Map<string, EscalationPolicy>();
  if (raw.escalation_policies !== undefined) {
    if (!Array.isArray(raw.escalation_policies)) issues.add(p('escalation_policies'), `expected a list, got ${typeName(raw.escalation_policies)}`);
    else raw.escalation_policies.forEach((e, i) => {
      const ep = join(p('escalation_policies'), i);
      if (!isObject(e) || typeof e.name !== 'string' || !e.name) { issues.add(ep, 'expected {name, steps: [{wait, receivers}], repeat?}'); return; }
      for (const k of Object.keys(e)) if (!['name', 'steps', 'repeat'].includes(k)) issues.add(join(ep, k), 'unknown key (expected name, steps, repeat)');
      if (escalationPolicies.has(e.name)) issues.add(join(ep, 'name'), `duplicate escalation policy ${JSON.stringify(e.name)}`);
      const steps: EscalationStep[] = [];
      if (!Array.isArray(e.steps) || e.steps.length === 0) issues.add(join(ep, 'steps'), 'required: a non-empty list of {wait, receivers}');
      else e.steps.forEach((s, si) => {
        const sp = join(join(ep, 'steps'), si);
        if (!isObject(s)) { issues.add(sp, `expected {wait, receivers}, got ${typeName(s)}`); return; }
        for (const k of Object.keys(s)) if (!['wait', 'receivers'].includes(k)) issues.add(join(sp, k), 'unknown key (expected wait, receivers)');
        const rs = names(issues, join(sp, 'receivers'), s.receivers);
        if (!rs.length) issues.add(join(sp, 'receivers'), 'required: at least one receiver');
        steps.push({ waitMs: dur(issues, join(sp, 'wait'), s.wait, 0), receivers: rs });
      });
      const repeat = e.repeat === undefined ? 0 : e.repeat;
      if (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 0 || repeat > 100) issues.add(join(ep, 'repeat'), 'expected an integer between 0 and 100');
      if (typeof repeat === 'number' && repeat > 0 && steps.length && steps[steps.length - 1].waitMs <= 0) {
        issues.add(join(ep, 'repeat'), 'repeating the last step needs a wait greater than 0 on it');
      }
      escalationPolicies.set(e.name, { name: e.name, steps, repeat: typeof repeat === 'number' ? repeat : 0 });
    });
  }

  // Cross references: receivers and escalation policies named by routes must exist.
  const knownReceiver = (name: string) => receivers.size === 0 || receivers.has(name);
  walkRoutes(route, (r) => {
    const rp = p(r.id === '0' ? 'route' : `route (${r.key})`);
    if (r.receiver && !knownReceiver(r.receiver)) issues.add(join(rp, 'receiver'), `undefined receiver ${JSON.stringify(r.receiver)} (declared: ${[...receivers.keys()].join(', ')})`);
    if (r.escalation && !escalationPolicies.has(r.escalation)) issues.add(join(rp, 'escalation'), `undefined escalation policy ${JSON.stringify(r.escalation)}`);
  });
  for (const [name, e] of escalationPolicies) e.steps.forEach((s, si) => s.receivers.forEach((rn) => {
    if (!knownReceiver(rn)) issues.add(p(`escalation_policies (${name}).steps[${si}].receivers`), `undefined receiver ${JSON.stringify(rn)}`);
  }));

  const resourceLabels = raw.resource_labels === undefined ? DEFAULT_RESOURCE_LABELS : names(issues, p('resource_labels'), raw.resource_labels);
  const positiveInt = (k: keyof RawAlertingConfig, def: number): number => {
    const v = raw[k];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) { issues.add(p(k), 'expected an integer ≥ 1'); return def; }
    return v;
  };
  const config: AlertingConfig = {
    evaluationIntervalMs,
    externalURL: typeof raw.external_url === 'string' ? raw.external_url.replace(/\/+$/, '') : '',
    groups,
    route,
    receivers,
    inhibitRules,
    escalationPolicies,
    resolvedRetentionMs: dur(issues, p('resolved_retention'), raw.resolved_retention, 15 * 60_000),
    silenceRetentionMs: dur(issues, p('silence_retention'), raw.silence_retention, 120 * 60 * 60_000),
    resolveTimeoutMs: dur(issues, p('resolve_timeout'), raw.resolve_timeout, 5 * 60_000),
    resourceLabels,
    maxSeries: positiveInt('max_series', 100_000),
    maxSamplesPerSeries: positiveInt('max_samples_per_series', 10_000),
    maxEventsPerRule: positiveInt('max_events_per_rule', 100_000),
  };
  return { config, issues: [...issues.list, ...fileIssues] };
}

export function loadAlertingConfig(raw: RawAlertingConfig, baseDir?: string, basePath = ''): AlertingConfig {
  const { config, issues } = compileAlertingConfig(raw, baseDir, basePath);
  if (issues.length) throw new ConfigError(issues);
  return config;
}

export function receiverConfig(c: AlertingConfig, name: string): ReceiverConfig {
  return c.receivers.get(name) ?? { name, sendResolved: true, maxAlerts: 0 };
}
