/**
 * The alerting engine: rule evaluator + router + persistence, independent of the pipeline. The
 * `alerts` connector wraps it; tests drive it directly with a manual or real clock.
 */
import type { Logger } from 'pino';
import type { Logs, Metrics } from '../model';
import type { AlertingConfig } from './config';
import { Clock, realClock } from './clock';
import { Evaluator, RuleAlert } from './evaluator';
import { Labels, sortLabels } from './labels';
import { Matcher, matchesAll } from './matchers';
import { AlertingState } from './persistence';
import { Ack, Router, Sender, StoredAlert } from './router';
import { Silence, SilenceJson, silenceFromJson, silenceToJson } from './silences';
import { formatNumber } from './template';

export interface AlertingOptions {
  clock?: Clock;
  send: Sender;
  /** Data directory for persistence (StateStore); undefined keeps everything in memory. */
  dataDir?: string;
  /** Namespace in the state store (the connector id). */
  namespace?: string;
  logger?: Logger;
}

export type AlertState = 'pending' | 'firing' | 'resolved';

/** An alert as the HTTP API lists it. */
export interface AlertView {
  fingerprint: string;
  alertname: string;
  state: AlertState;
  /** When it entered its current state (pending: activeAt, firing: startsAt, resolved: endsAt). */
  since: string;
  labels: Labels;
  annotations: Labels;
  startsAt?: string;
  endsAt?: string;
  value?: string;
  rule?: string;
  receivers: string[];
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
  acknowledged?: { by: string; comment: string; at: string };
  escalation?: Array<{ policy: string; nextStep: number; receivers: string[]; acked: boolean }>;
}

export class Alerting {
  readonly clock: Clock;
  readonly evaluator: Evaluator;
  readonly router: Router;
  private readonly state?: AlertingState;
  private started = false;

  constructor(readonly config: AlertingConfig, opts: AlertingOptions) {
    this.clock = opts.clock ?? realClock;
    if (opts.dataDir !== undefined) this.state = new AlertingState(opts.dataDir, opts.namespace ?? 'alerts');
    this.router = new Router(config, this.clock, opts.send, this.state, opts.logger);
    this.evaluator = new Evaluator(config, this.clock, (u) => this.router.upsert(u), this.state);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.state) {
      this.router.restore(this.state.routerSnapshot());
      this.evaluator.restore(this.state.ruleAlerts().filter((a) => this.evaluator.isKnownRule(a.rule)), this.state.streaks());
      // Firing alerts whose rule is gone from the config will never be resolved by it: resolve them now.
      const held = new Set(this.evaluator.alerts().map((a) => a.fingerprint));
      const now = this.clock.now();
      for (const a of this.router.alerts()) {
        // Alerts with an end (posted to /api/v2/alerts) resolve by themselves when it passes.
        if (!this.router.isResolved(a, now) && a.endsAt === undefined && !held.has(a.fingerprint)) {
          this.router.upsert({ fingerprint: a.fingerprint, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: now, generatorURL: a.generatorURL });
        }
      }
      for (const a of this.state.ruleAlerts()) if (!this.evaluator.isKnownRule(a.rule)) this.state.deleteRuleAlert(a.rule, a.fingerprint);
    }
    this.router.start();
    this.evaluator.start();
  }

  /** Stops evaluating and routing; waits for notifications in flight before closing the state. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.evaluator.stop();
    await this.router.stop();
    this.state?.close();
  }

  // Data arriving before start or after stop (during the pipeline's shutdown) is not evaluated.
  consumeMetrics(m: Metrics): void {
    if (this.started) this.evaluator.consumeMetrics(m);
  }

  consumeLogs(l: Logs): void {
    if (this.started) this.evaluator.consumeLogs(l);
  }

  // ---- API operations -----------------------------------------------------------------------

  listAlerts(filter: { state?: AlertState; matchers?: Matcher[] } = {}): AlertView[] {
    const now = this.clock.now();
    const ruleByFp = new Map<string, RuleAlert>();
    for (const a of this.evaluator.alerts()) {
      const prev = ruleByFp.get(a.fingerprint);
      if (!prev || a.state !== 'inactive') ruleByFp.set(a.fingerprint, a);
    }
    const out: AlertView[] = [];
    const seen = new Set<string>();
    const firing = this.router.firingAlerts(now);
    for (const a of this.router.alerts()) {
      seen.add(a.fingerprint);
      out.push(this.view(a, ruleByFp.get(a.fingerprint), now, firing));
    }
    for (const r of ruleByFp.values()) {
      if (seen.has(r.fingerprint) || r.state !== 'pending') continue;
      out.push({
        fingerprint: r.fingerprint, alertname: r.alertname, state: 'pending', since: new Date(r.activeAt).toISOString(),
        labels: sortLabels(r.labels), annotations: sortLabels(r.annotations), value: formatNumber(r.value), rule: r.rule,
        receivers: [], status: { state: 'unprocessed', silencedBy: [], inhibitedBy: [] },
      });
    }
    return out
      .filter((v) => (!filter.state || v.state === filter.state) && (!filter.matchers || matchesAll(filter.matchers, v.labels)))
      .sort((x, y) => (x.since < y.since ? -1 : x.since > y.since ? 1 : x.fingerprint < y.fingerprint ? -1 : 1));
  }

  private view(a: StoredAlert, r: RuleAlert | undefined, now: number, firing: StoredAlert[]): AlertView {
    const resolved = this.router.isResolved(a, now);
    const silencedBy = resolved ? [] : this.router.silencedBy(a, now);
    const inhibitedBy = resolved ? [] : this.router.inhibitedBy(a, now, firing);
    const ack = this.router.ackOf(a.fingerprint);
    const esc = this.router.escalationOf(a.fingerprint);
    return {
      fingerprint: a.fingerprint,
      alertname: a.labels.alertname ?? '',
      state: resolved ? 'resolved' : 'firing',
      since: new Date(resolved ? a.endsAt! : a.startsAt).toISOString(),
      labels: sortLabels(a.labels),
      annotations: sortLabels(a.annotations),
      startsAt: new Date(a.startsAt).toISOString(),
      ...(a.endsAt !== undefined ? { endsAt: new Date(a.endsAt).toISOString() } : {}),
      ...(r ? { value: formatNumber(r.value), rule: r.rule } : {}),
      receivers: this.router.receiversOf(a),
      status: { state: silencedBy.length || inhibitedBy.length ? 'suppressed' : 'active', silencedBy, inhibitedBy },
      ...(ack ? { acknowledged: { by: ack.by, comment: ack.comment, at: new Date(ack.at).toISOString() } } : {}),
      ...(esc.length ? { escalation: esc.map((e) => ({ policy: e.policy, nextStep: e.nextStep, receivers: e.receivers, acked: e.acked })) } : {}),
    };
  }

  listGroups(): Array<{ groupKey: string; labels: Labels; receiver: string; route: string; alerts: string[]; nextNotificationAt: string }> {
    return this.router.groupList().map((g) => ({
      groupKey: g.key, labels: sortLabels(g.labels), receiver: g.receiver, route: g.routeId, alerts: g.fingerprints.sort(),
      nextNotificationAt: new Date(g.nextFlushAt).toISOString(),
    }));
  }

  acknowledge(fp: string, by: string, comment: string): Ack | undefined {
    return this.router.acknowledge(fp, by, comment);
  }

  listSilences(): SilenceJson[] {
    const now = this.clock.now();
    const order = { active: 0, pending: 1, expired: 2 };
    return this.router.silences.list().map((s) => silenceToJson(s, now))
      .sort((a, b) => order[a.status.state] - order[b.status.state] || (a.endsAt < b.endsAt ? -1 : 1));
  }

  getSilence(id: string): SilenceJson | undefined {
    const s = this.router.silences.get(id);
    return s ? silenceToJson(s, this.clock.now()) : undefined;
  }

  /** Creates (or updates, when body.id names an existing silence) a silence; throws on invalid input. */
  addSilence(body: unknown): string {
    const now = this.clock.now();
    const s: Silence = silenceFromJson(body, now);
    return this.router.silences.set(s, now);
  }

  expireSilence(id: string): boolean {
    return this.router.silences.expire(id, this.clock.now());
  }
}
