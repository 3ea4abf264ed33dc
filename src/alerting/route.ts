/**
 * Alertmanager's routing tree: each alert enters at the root and descends into the first child whose
 * matchers match (all children that match, while they set `continue: true`); a node none of whose
 * children match is itself the match. Children inherit receiver, group_by, timings and escalation
 * from their parent unless they set them.
 */
import { parseDuration } from '../util/duration';
import { Issues, isObject, join, typeName } from './issues';
import { Labels, formatLabels, labelValue, setLabel } from './labels';
import { Matcher, formatMatcher, matchesAll } from './matchers';
import { compileMatcherList } from './rules';

export const DEFAULT_GROUP_WAIT = 30_000;
export const DEFAULT_GROUP_INTERVAL = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL = 4 * 60 * 60_000;

export interface Route {
  /** Position in the tree ("0", "0.2", "0.2.1"): the identity groups are persisted under. */
  id: string;
  /** Alertmanager's route key (`{}/{severity="critical"}`), the first part of group keys. */
  key: string;
  receiver: string;
  matchers: Matcher[];
  groupBy: string[];
  groupByAll: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  continue: boolean;
  escalation?: string;
  routes: Route[];
}

export function matchRoutes(r: Route, labels: Labels): Route[] {
  if (!matchesAll(r.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of r.routes) {
    const m = matchRoutes(child, labels);
    all.push(...m);
    if (m.length > 0 && !child.continue) break;
  }
  return all.length ? all : [r];
}

/** The labels an alert is grouped on: the group_by labels it has (all of them for `...`). */
export function groupLabels(r: Route, labels: Labels): Labels {
  if (r.groupByAll) return { ...labels };
  const out: Labels = {};
  for (const n of r.groupBy) if (Object.prototype.hasOwnProperty.call(labels, n)) setLabel(out, n, labelValue(labels, n));
  return out;
}

/** Alertmanager's group key: `<route key>:<group labels>`. */
export function groupKey(r: Route, gl: Labels): string {
  return `${r.key}:${formatLabels(gl)}`;
}

export function walkRoutes(r: Route, fn: (r: Route) => void): void {
  fn(r);
  for (const c of r.routes) walkRoutes(c, fn);
}

export function findRoute(root: Route, id: string): Route | undefined {
  let found: Route | undefined;
  walkRoutes(root, (r) => { if (r.id === id) found = r; });
  return found;
}

const ROUTE_KEYS = ['receiver', 'group_by', 'continue', 'matchers', 'group_wait', 'group_interval', 'repeat_interval', 'escalation', 'routes'];

function dur(issues: Issues, path: string, v: unknown, def: number, positive: boolean): number {
  if (v === undefined) return def;
  if (typeof v !== 'string' && typeof v !== 'number') { issues.add(path, `expected a duration such as "30s", got ${typeName(v)}`); return def; }
  try {
    const ms = parseDuration(v);
    if (positive && ms <= 0) { issues.add(path, 'must be greater than 0'); return def; }
    return ms;
  } catch (e) {
    issues.add(path, (e as Error).message);
    return def;
  }
}

/** Compiles a route (sub)tree; the root must name a receiver and have no matchers. */
export function compileRoute(raw: unknown, issues: Issues, path = 'route', parent?: Route, index = 0): Route | undefined {
  if (!isObject(raw)) { issues.add(path, `expected a route mapping, got ${typeName(raw)}`); return undefined; }
  for (const k of Object.keys(raw)) if (!ROUTE_KEYS.includes(k)) issues.add(join(path, k), `unknown key (expected one of ${ROUTE_KEYS.join(', ')})`);
  const matchers = compileMatcherList(issues, join(path, 'matchers'), raw.matchers);
  if (!parent) {
    if (typeof raw.receiver !== 'string' || !raw.receiver) issues.add(join(path, 'receiver'), 'required: the root route needs a default receiver');
    if (matchers.length) issues.add(join(path, 'matchers'), 'the root route must not have matchers (it receives every alert)');
    if (raw.continue) issues.add(join(path, 'continue'), 'the root route cannot have continue set');
  }
  if (raw.receiver !== undefined && (typeof raw.receiver !== 'string' || !raw.receiver)) issues.add(join(path, 'receiver'), `expected a receiver name, got ${typeName(raw.receiver)}`);
  let groupBy = parent?.groupBy ?? [];
  let groupByAll = parent?.groupByAll ?? false;
  if (raw.group_by !== undefined) {
    if (!Array.isArray(raw.group_by) || raw.group_by.some((x) => typeof x !== 'string')) {
      issues.add(join(path, 'group_by'), `expected a list of label names, got ${typeName(raw.group_by)}`);
    } else {
      const list = raw.group_by as string[];
      groupByAll = list.includes('...');
      if (groupByAll && list.length > 1) issues.add(join(path, 'group_by'), 'cannot list other labels together with "..."');
      const seen = new Set<string>();
      for (const n of list) {
        if (seen.has(n)) issues.add(join(path, 'group_by'), `duplicate label ${JSON.stringify(n)}`);
        seen.add(n);
      }
      groupBy = groupByAll ? [] : list;
    }
  }
  if (raw.continue !== undefined && typeof raw.continue !== 'boolean') issues.add(join(path, 'continue'), `expected true or false, got ${typeName(raw.continue)}`);
  if (raw.escalation !== undefined && (typeof raw.escalation !== 'string' || !raw.escalation)) issues.add(join(path, 'escalation'), `expected an escalation policy name, got ${typeName(raw.escalation)}`);
  const matcherKey = `{${matchers.map(formatMatcher).join(',')}}`;
  const r: Route = {
    id: parent ? `${parent.id}.${index}` : '0',
    key: parent ? `${parent.key}/${matcherKey}` : matcherKey,
    receiver: typeof raw.receiver === 'string' && raw.receiver ? raw.receiver : parent?.receiver ?? '',
    matchers,
    groupBy,
    groupByAll,
    groupWaitMs: dur(issues, join(path, 'group_wait'), raw.group_wait, parent?.groupWaitMs ?? DEFAULT_GROUP_WAIT, false),
    groupIntervalMs: dur(issues, join(path, 'group_interval'), raw.group_interval, parent?.groupIntervalMs ?? DEFAULT_GROUP_INTERVAL, true),
    repeatIntervalMs: dur(issues, join(path, 'repeat_interval'), raw.repeat_interval, parent?.repeatIntervalMs ?? DEFAULT_REPEAT_INTERVAL, true),
    continue: raw.continue === true,
    escalation: typeof raw.escalation === 'string' && raw.escalation ? raw.escalation : parent?.escalation,
    routes: [],
  };
  if (raw.routes !== undefined) {
    if (!Array.isArray(raw.routes)) issues.add(join(path, 'routes'), `expected a list of routes, got ${typeName(raw.routes)}`);
    else raw.routes.forEach((c, i) => {
      const child = compileRoute(c, issues, join(join(path, 'routes'), i), r, i);
      if (child) r.routes.push(child);
    });
  }
  return r;
}

export function describeRoute(r: Route): Record<string, unknown> {
  return {
    id: r.id,
    key: r.key,
    receiver: r.receiver,
    matchers: r.matchers.map(formatMatcher),
    group_by: r.groupByAll ? ['...'] : r.groupBy,
    continue: r.continue,
    ...(r.escalation ? { escalation: r.escalation } : {}),
  };
}
