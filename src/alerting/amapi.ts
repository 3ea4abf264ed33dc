/**
 * Alertmanager's HTTP API v2 on Vigil's alerting engine, following Alertmanager's OpenAPI spec
 * (api/v2/openapi.yaml) for every route offered, so that Prometheus (`alerting.alertmanagers`),
 * amtool and other Alertmanager clients work against Vigil unchanged:
 *
 *   POST   /api/v2/alerts               postableAlerts: routed, grouped, inhibited, silenced, escalated
 *                                       and delivered like Vigil's own rule alerts
 *   GET    /api/v2/alerts               ?active&silenced&inhibited&unprocessed&filter=...&receiver=regex
 *   GET    /api/v2/alerts/groups        ?active&silenced&inhibited&filter=...&receiver=regex
 *   GET    /api/v2/silences             ?filter=...
 *   POST   /api/v2/silences             create, or update by id (Alertmanager's rules, below)
 *   GET    /api/v2/silence/{id}
 *   DELETE /api/v2/silence/{id}
 *   GET    /api/v2/status               cluster (disabled: one node), versionInfo, config.original, uptime
 *   GET    /api/v2/receivers
 *
 * Error bodies are plain JSON strings, as the spec has them (amtool prints them as the reason).
 *
 * Posted alerts, as Alertmanager takes them: a missing startsAt is the time received (or endsAt when
 * only that is given); a missing endsAt is received + resolve_timeout, and such an alert resolves by
 * itself unless the sender posts it again (Prometheus re-sends firing alerts every evaluation with
 * its own endsAt); the sender's times are kept. A re-post whose active range overlaps the alert held
 * is merged (earliest start; an explicit end wins over a timeout end), as Alertmanager's store does.
 */
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import type { ApiRequest, ApiResponse, ApiServer } from '../api';
import type { Alerting } from './alerting';
import { fingerprint, setLabel, sortLabels, Labels } from './labels';
import { Matcher, compileAnchored, formatMatcher, matchesAll, parseMatchers } from './matchers';
import { ZERO_TIME } from './notification';
import type { Route } from './route';
import type { StoredAlert } from './router';
import { Silence, SilenceJson, silenceFromJson, silenceState, silenceToJson } from './silences';

/** An Alertmanager-style error: the body is the message as a JSON string. */
function fail(status: number, message: string): ApiResponse {
  return { status, body: message };
}

class Refusal extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function boolParam(req: ApiRequest, name: string, def = true): boolean {
  const v = req.query.get(name);
  if (v === null || v === '') return def;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Refusal(400, `${name} must be true or false`);
}

function filterParam(req: ApiRequest): Matcher[] {
  try {
    return parseMatchers(req.query.getAll('filter'));
  } catch (e) {
    throw new Refusal(400, `bad matcher format: ${(e as Error).message}`);
  }
}

function receiverParam(req: ApiRequest): RegExp | undefined {
  const r = req.query.get('receiver');
  if (r === null || r === '') return undefined;
  try {
    return compileAnchored(r);
  } catch (e) {
    throw new Refusal(400, `failed to parse receiver param: ${(e as Error).message}`);
  }
}

function time(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '' || v === ZERO_TIME) return undefined;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new Error(`${what}: not an RFC 3339 date-time: ${JSON.stringify(v).slice(0, 64)}`);
  return t <= 0 ? undefined : t; // Go's zero time and the epoch mean "unset"
}

function stringMap(v: unknown, what: string): Labels {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be an object of strings`);
  const out: Labels = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'string') throw new Error(`${what}.${k} must be a string`);
    if (k.length > 1024 || x.length > 65_536) throw new Error(`${what}.${k} is too long`);
    setLabel(out, k, x);
  }
  return out;
}

interface Posted {
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt: number;
  generatorURL: string;
  /** endsAt was not given: it is received + resolve_timeout. */
  timeout: boolean;
}

/** One postableAlert as Alertmanager reads and validates it; throws with Alertmanager's wording. */
export function parsePostableAlert(v: unknown, now: number, resolveTimeoutMs: number): Posted {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('an alert must be a JSON object');
  const o = v as Record<string, unknown>;
  const labels: Labels = {};
  const raw = stringMap(o.labels, 'labels');
  for (const k of Object.keys(raw)) if (raw[k] !== '') setLabel(labels, k, raw[k]); // empty = absent
  if (Object.keys(labels).length === 0) throw new Error('at least one label pair required');
  for (const k of Object.keys(labels)) if (!k) throw new Error(`invalid label name ${JSON.stringify(k)}`);
  const annotations = stringMap(o.annotations, 'annotations');
  let startsAt = time(o.startsAt, 'startsAt');
  let endsAt = time(o.endsAt, 'endsAt');
  if (startsAt === undefined) startsAt = endsAt ?? now;
  let timeout = false;
  if (endsAt === undefined) { endsAt = now + resolveTimeoutMs; timeout = true; }
  if (endsAt < startsAt) throw new Error('start time must be before end time');
  const generatorURL = typeof o.generatorURL === 'string' ? o.generatorURL.slice(0, 4096) : '';
  return { labels, annotations, startsAt, endsAt, generatorURL, timeout };
}

/** Alertmanager's Alert.Merge of the alert held with a newer post of it (received at `now`). */
function merge(old: StoredAlert, oldTimeout: boolean, p: Posted, now: number): { startsAt: number; endsAt: number } {
  const startsAt = Math.min(old.startsAt, p.startsAt);
  let endsAt = p.endsAt;
  if (p.endsAt <= now) {
    // Both resolved: the latest explicit end wins.
    if (old.endsAt !== undefined && old.endsAt <= now && old.endsAt > p.endsAt) endsAt = old.endsAt;
  } else if (old.endsAt !== undefined && old.endsAt > p.endsAt && !oldTimeout) {
    // A later end that is not a timeout rules.
    endsAt = old.endsAt;
  }
  return { startsAt, endsAt };
}

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The routing tree as Alertmanager configuration (what amtool's `config routes` draws). */
function routeYaml(r: Route, parent?: Route): Record<string, unknown> {
  const out: Record<string, unknown> = { receiver: r.receiver };
  if (r.groupByAll) out.group_by = ['...'];
  else if (!parent || r.groupBy.join('\u0000') !== parent.groupBy.join('\u0000')) out.group_by = r.groupBy;
  if (parent && r.matchers.length) out.matchers = r.matchers.map(formatMatcher);
  if (parent && r.continue) out.continue = true;
  if (!parent || r.groupWaitMs !== parent.groupWaitMs) out.group_wait = durationText(r.groupWaitMs);
  if (!parent || r.groupIntervalMs !== parent.groupIntervalMs) out.group_interval = durationText(r.groupIntervalMs);
  if (!parent || r.repeatIntervalMs !== parent.repeatIntervalMs) out.repeat_interval = durationText(r.repeatIntervalMs);
  if (r.routes.length) out.routes = r.routes.map((c) => routeYaml(c, r));
  return out;
}

/** Every receiver named by the config: declared, on a route, or in an escalation step. */
function receiverNames(a: Alerting): string[] {
  const c = a.config;
  const names = new Set<string>(c.receivers.keys());
  const walk = (r: Route) => { names.add(r.receiver); r.routes.forEach(walk); };
  walk(c.route);
  for (const p of c.escalationPolicies.values()) for (const s of p.steps) s.receivers.forEach((n) => names.add(n));
  return [...names].sort();
}

/** Vigil's alerting configuration written as an Alertmanager configuration file (escalation, Vigil's own, left out). */
export function alertmanagerConfigYaml(a: Alerting): string {
  const c = a.config;
  const doc: Record<string, unknown> = {
    global: { resolve_timeout: durationText(c.resolveTimeoutMs) },
    route: routeYaml(c.route),
    ...(c.inhibitRules.length ? {
      inhibit_rules: c.inhibitRules.map((r) => ({
        source_matchers: r.sourceMatchers.map(formatMatcher), target_matchers: r.targetMatchers.map(formatMatcher), ...(r.equal.length ? { equal: r.equal } : {}),
      })),
    } : {}),
    receivers: receiverNames(a).map((name) => ({ name })),
  };
  return stringify(doc);
}

const STARTED = Date.now();

export function registerAlertmanagerApi(api: ApiServer, alerting: Alerting, version = '0.1.0'): void {
  const router = alerting.router;
  /** Fingerprints of posted alerts whose end is a resolve timeout (Alertmanager's Alert.Timeout). */
  const timeouts = new Map<string, boolean>();
  const guard = (fn: (req: ApiRequest) => unknown) => async (req: ApiRequest) => {
    try {
      return await fn(req);
    } catch (e) {
      if (e instanceof Refusal) return fail(e.status, e.message);
      throw e;
    }
  };

  api.route('POST', '/api/v2/alerts', guard((req) => {
    if (!Array.isArray(req.body)) return fail(400, 'expected a JSON array of alerts');
    const now = alerting.clock.now();
    const errors: string[] = [];
    for (const item of req.body) {
      let p: Posted;
      try {
        p = parsePostableAlert(item, now, alerting.config.resolveTimeoutMs);
      } catch (e) {
        errors.push((e as Error).message);
        continue;
      }
      const fp = fingerprint(p.labels);
      const old = router.alert(fp);
      let { startsAt, endsAt } = p;
      const oldEnd = old ? old.endsAt ?? Infinity : 0;
      // Alertmanager merges a post with the alert held when their active ranges overlap.
      if (old && ((p.endsAt > old.startsAt && p.endsAt < oldEnd) || (p.startsAt > old.startsAt && p.startsAt < oldEnd))) {
        ({ startsAt, endsAt } = merge(old, timeouts.get(fp) ?? false, p, now));
      }
      timeouts.set(fp, p.timeout);
      if (timeouts.size > 200_000) timeouts.delete(timeouts.keys().next().value!);
      router.upsert({ fingerprint: fp, labels: p.labels, annotations: p.annotations, startsAt, endsAt, generatorURL: p.generatorURL });
    }
    // Valid alerts are taken even when others in the same request are not, as in Alertmanager.
    if (errors.length) return fail(400, errors.join('; '));
    return { status: 200, body: '' };
  }));

  const gettable = (a: StoredAlert, now: number, firing: StoredAlert[]) => {
    const silencedBy = router.silencedBy(a, now);
    const inhibitedBy = router.inhibitedBy(a, now, firing);
    return {
      labels: sortLabels(a.labels),
      annotations: sortLabels(a.annotations),
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt !== undefined ? new Date(a.endsAt).toISOString() : ZERO_TIME,
      updatedAt: new Date(a.updatedAt).toISOString(),
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
      receivers: router.receiversOf(a).map((name) => ({ name })),
      status: { state: silencedBy.length || inhibitedBy.length ? 'suppressed' : 'active', silencedBy, inhibitedBy, mutedBy: [] as string[] },
    };
  };
  type Gettable = ReturnType<typeof gettable>;

  /** Alertmanager's alert filter: state flags, label matchers, receiver regex; resolved alerts are never listed. */
  const selector = (req: ApiRequest, withUnprocessed: boolean) => {
    const active = boolParam(req, 'active');
    const silenced = boolParam(req, 'silenced');
    const inhibited = boolParam(req, 'inhibited');
    const unprocessed = withUnprocessed ? boolParam(req, 'unprocessed') : true;
    const matchers = filterParam(req);
    const receiver = receiverParam(req);
    return (g: Gettable): boolean => {
      if (receiver && !g.receivers.some((r) => receiver.test(r.name))) return false;
      if (!matchesAll(matchers, g.labels)) return false;
      if (!active && g.status.state === 'active') return false;
      if (!unprocessed && g.status.state === ('unprocessed' as string)) return false;
      if (!silenced && g.status.silencedBy.length) return false;
      if (!inhibited && g.status.inhibitedBy.length) return false;
      return true;
    };
  };

  api.route('GET', '/api/v2/alerts', guard((req) => {
    const keep = selector(req, true);
    const now = alerting.clock.now();
    const firing = router.firingAlerts(now);
    return firing.map((a) => gettable(a, now, firing)).filter(keep)
      .sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0));
  }));

  api.route('GET', '/api/v2/alerts/groups', guard((req) => {
    const keep = selector(req, false);
    const groupReceiver = receiverParam(req);
    const now = alerting.clock.now();
    const firing = router.firingAlerts(now);
    const out: Array<{ labels: Labels; receiver: { name: string }; alerts: Gettable[] }> = [];
    for (const g of router.groupList()) {
      const alerts = g.fingerprints.map((fp) => router.alert(fp)).filter((a): a is StoredAlert => !!a && !router.isResolved(a, now))
        .map((a) => gettable(a, now, firing)).filter(keep)
        .filter(() => !groupReceiver || groupReceiver.test(g.receiver));
      if (alerts.length) out.push({ labels: sortLabels(g.labels), receiver: { name: g.receiver }, alerts });
    }
    return out;
  }));

  const silenceJson = (s: Silence, now: number) => {
    const j: SilenceJson = silenceToJson(s, now);
    return { ...j, matchers: j.matchers.map((m) => ({ ...m, isEqual: m.isEqual !== false })) };
  };
  const stateOrder = { active: 0, pending: 1, expired: 2 } as const;

  api.route('GET', '/api/v2/silences', guard((req) => {
    const matchers = filterParam(req);
    const now = alerting.clock.now();
    return router.silences.list()
      .filter((s) => {
        // Alertmanager matches the filter against the silence's own matchers (name → pattern).
        const byName: Labels = {};
        for (const m of s.matchers) setLabel(byName, m.name, m.value);
        return matchers.every((m) => Object.prototype.hasOwnProperty.call(byName, m.name) && matchesAll([m], byName));
      })
      .map((s) => ({ s, state: silenceState(s, now) }))
      .sort((a, b) => stateOrder[a.state] - stateOrder[b.state]
        || (a.state === 'active' ? a.s.endsAt - b.s.endsAt : a.state === 'pending' ? a.s.startsAt - b.s.startsAt : b.s.endsAt - a.s.endsAt))
      .map(({ s }) => silenceJson(s, now));
  }));

  api.route('POST', '/api/v2/silences', guard((req) => {
    const now = alerting.clock.now();
    const body = req.body as Record<string, unknown> | undefined;
    let s: Silence;
    try {
      // Times in the past are allowed for startsAt (it becomes now); endsAt must be later.
      s = silenceFromJson(body && typeof body === 'object' ? { ...body, id: undefined } : body, now);
    } catch (e) {
      return fail(400, (e as Error).message);
    }
    const id = body && typeof body.id === 'string' ? body.id : '';
    if (id) {
      const prev = router.silences.get(id);
      if (!prev) return fail(404, 'silence not found');
      if (canUpdate(prev, s, now)) {
        s.id = id;
        router.silences.set(s, now);
        return { silenceID: id };
      }
      // Otherwise Alertmanager ends the old one (unless already over) and creates a new silence.
      if (silenceState(prev, now) !== 'expired') router.silences.expire(id, now);
    }
    s.id = randomUUID();
    if (s.startsAt < now) s.startsAt = now;
    try {
      router.silences.set(s, now);
    } catch (e) {
      return fail(400, (e as Error).message);
    }
    return { silenceID: s.id };
  }));

  api.route('GET', '/api/v2/silence/:id', guard((req) => {
    const s = router.silences.get(req.params.id);
    if (!s) return fail(404, 'silence not found');
    return silenceJson(s, alerting.clock.now());
  }));

  api.route('DELETE', '/api/v2/silence/:id', guard((req) => {
    const now = alerting.clock.now();
    const s = router.silences.get(req.params.id);
    if (!s) return fail(404, 'silence not found');
    // Expiring an expired silence succeeds, as in Alertmanager.
    router.silences.expire(req.params.id, now);
    return { status: 200, body: '' };
  }));

  api.route('GET', '/api/v2/status', () => ({
    cluster: { status: 'disabled', peers: [] },
    versionInfo: { version, revision: 'vigil', branch: 'vigil', buildUser: 'vigil', buildDate: '', goVersion: 'none (Vigil, Node.js ' + process.version + ')' },
    config: { original: alertmanagerConfigYaml(alerting) },
    uptime: new Date(STARTED).toISOString(),
  }));

  api.route('GET', '/api/v2/receivers', () => receiverNames(alerting).map((name) => ({ name })));
}

/** Alertmanager's canUpdate: same matchers, and only the times a silence in its state may change. */
function canUpdate(prev: Silence, next: Silence, now: number): boolean {
  if (prev.matchers.map(formatMatcher).join(',') !== next.matchers.map(formatMatcher).join(',')) return false;
  switch (silenceState(prev, now)) {
    case 'active': return next.startsAt === prev.startsAt && next.endsAt >= now;
    case 'pending': return next.startsAt >= now;
    case 'expired': return false;
  }
}
