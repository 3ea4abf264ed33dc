/**
 * The alert router, with Alertmanager's dispatch semantics:
 *
 * - an alert (identified by its fingerprint) is routed through the tree and added to one aggregation
 *   group per matching route; the group is keyed by the route and the alert's group_by labels;
 * - a new group first notifies after group_wait (at once if its alert started more than group_wait
 *   ago, as after a restart), then is looked at every group_interval;
 * - at each look, muted alerts (silenced or inhibited) are left out, and the receiver is notified
 *   when: it has never been notified about the group and something fires; an alert fires that was
 *   not firing in the last notification; every alert has resolved (to clear it); an alert resolved
 *   since the last notification and the receiver takes resolved alerts; or repeat_interval has
 *   passed since the last notification and something still fires;
 * - after a successful notification, resolved alerts leave the group, and an empty group ends.
 *
 * The record of what each receiver was last told about each group (the notification log) is what
 * decides, so a restart, which restores it, neither repeats nor loses a notification.
 *
 * Escalation: on a route with an escalation policy, each firing alert, from the first time its group
 * is looked at with it firing, goes through the policy's steps: after each step's wait, while it is
 * still firing, not muted and not acknowledged, the step's receivers are notified (the last step is
 * repeated `repeat` more times). Receivers reached that way are told when the alert resolves.
 */
import type { Logger } from 'pino';
import type { AlertingConfig, EscalationPolicy } from './config';
import { receiverConfig } from './config';
import type { Clock, TimerHandle } from './clock';
import type { AlertUpdate } from './evaluator';
import { Inhibitor } from './inhibit';
import { Labels } from './labels';
import { Notification, WebhookAlert, ZERO_TIME, buildPayload, formatTime } from './notification';
import { Route, findRoute, groupKey, groupLabels, matchRoutes } from './route';
import { Silence, Silences } from './silences';

export interface StoredAlert {
  fingerprint: string;
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt?: number;
  generatorURL: string;
  updatedAt: number;
}

export interface GroupState {
  routeId: string;
  key: string;
  labels: Labels;
  fingerprints: string[];
  hasFlushed: boolean;
  nextFlushAt: number;
  createdAt: number;
}

export interface NflogEntry {
  receiver: string;
  groupKey: string;
  firing: string[];
  resolved: string[];
  ts: number;
}

export interface EscalationState {
  routeId: string;
  groupKey: string;
  fingerprint: string;
  policy: string;
  startedAt: number;
  /** Index of the next step to send; steps.length + k is the k-th repeat of the last step. */
  nextStep: number;
  /** Receivers notified so far (they get the resolved notification). */
  receivers: string[];
  acked: boolean;
}

export interface Ack {
  fingerprint: string;
  by: string;
  comment: string;
  at: number;
}

export interface RouterPersistence {
  putAlert(a: StoredAlert): void;
  deleteAlert(fp: string): void;
  putGroup(g: GroupState): void;
  deleteGroup(routeId: string, key: string): void;
  putNflog(e: NflogEntry): void;
  deleteNflog(receiver: string, groupKey: string): void;
  putSilence(s: Silence): void;
  deleteSilence(id: string): void;
  putEscalation(e: EscalationState): void;
  deleteEscalation(groupKey: string, fp: string): void;
  putAck(a: Ack): void;
  deleteAck(fp: string): void;
  /** Runs several writes in one transaction. */
  transaction?(fn: () => void): void;
}

export interface RouterSnapshot {
  alerts: StoredAlert[];
  groups: GroupState[];
  nflog: NflogEntry[];
  silences: Silence[];
  escalations: EscalationState[];
  acks: Ack[];
}

interface Group extends GroupState {
  route: Route;
  fps: Set<string>;
  timer?: TimerHandle;
  flushing: boolean;
}

export type Sender = (n: Notification) => Promise<void>;

const GC_INTERVAL = 60_000;
const ESCALATION_RETRY_MS = 10_000;
const NFLOG_RETENTION = 120 * 60 * 60_000;

function nflogKey(receiver: string, key: string): string {
  return JSON.stringify([receiver, key]);
}

function groupMapKey(routeId: string, key: string): string {
  return `${routeId}\u0000${key}`;
}

function escKey(groupKey: string, fp: string): string {
  return `${groupKey}\u0000${fp}`;
}

function isSubset(sup: ReadonlySet<string>, sub: Iterable<string>): boolean {
  for (const x of sub) if (!sup.has(x)) return false;
  return true;
}

export class Router {
  readonly silences: Silences;
  private readonly alertsByFp = new Map<string, StoredAlert>();
  private readonly groups = new Map<string, Group>();
  private readonly nflog = new Map<string, NflogEntry>();
  private readonly escalations = new Map<string, EscalationState>();
  private readonly acks = new Map<string, Ack>();
  private readonly inhibitor: Inhibitor;
  private escalationTimer?: TimerHandle;
  private gcTimer?: TimerHandle;
  private stopped = false;
  /** Counters for self-telemetry and tests. */
  readonly stats = { sent: 0, failed: 0 };

  constructor(
    private readonly config: AlertingConfig,
    private readonly clock: Clock,
    private readonly send: Sender,
    private readonly persist?: RouterPersistence,
    private readonly logger?: Logger,
  ) {
    this.inhibitor = new Inhibitor(config.inhibitRules);
    this.silences = new Silences((s, deleted) => {
      if (deleted) this.persist?.deleteSilence(s.id);
      else this.persist?.putSilence(s);
      this.rescheduleEscalationSoon(); // a new or expired silence can mute or free a due step
    });
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Loads persisted state (before start). Groups whose route no longer exists are dropped. */
  restore(s: RouterSnapshot): void {
    for (const a of s.alerts) this.alertsByFp.set(a.fingerprint, a);
    for (const e of s.nflog) this.nflog.set(nflogKey(e.receiver, e.groupKey), e);
    this.silences.load(s.silences);
    for (const e of s.escalations) this.escalations.set(escKey(e.groupKey, e.fingerprint), e);
    for (const a of s.acks) this.acks.set(a.fingerprint, a);
    for (const g of s.groups) {
      const route = findRoute(this.config.route, g.routeId);
      if (!route || !g.key.startsWith(route.key + ':')) { this.persist?.deleteGroup(g.routeId, g.key); continue; }
      const fps = new Set(g.fingerprints.filter((fp) => this.alertsByFp.has(fp)));
      this.groups.set(groupMapKey(g.routeId, g.key), { ...g, route, fps, flushing: false });
    }
  }

  start(): void {
    for (const g of this.groups.values()) this.scheduleFlush(g, g.nextFlushAt - this.clock.now());
    this.scheduleEscalation();
    const gc = () => {
      if (this.stopped) return;
      this.gc();
      this.gcTimer = this.clock.setTimer(GC_INTERVAL, gc);
    };
    this.gcTimer = this.clock.setTimer(GC_INTERVAL, gc);
  }

  /** Stops the timers and waits for notifications in flight, so that their outcome is recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.groups.values()) g.timer?.cancel();
    this.escalationTimer?.cancel();
    this.gcTimer?.cancel();
    await Promise.allSettled([...this.inflight]);
    this.writeGroups();
  }

  private readonly inflight = new Set<Promise<void>>();

  /** Runs timer work: never an unhandled rejection, and tracked so that stop() can wait for it. */
  private background(work: () => Promise<void>): void {
    const p = work().catch((e) => { this.logger?.error({ err: (e as Error).message }, 'alert router task failed'); });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  // ---- alerts in ----------------------------------------------------------------------------

  /** Adds or updates an alert (firing, or resolved when endsAt is set and past). */
  upsert(u: AlertUpdate): void {
    const now = this.clock.now();
    const prev = this.alertsByFp.get(u.fingerprint);
    if (!prev && u.endsAt !== undefined && u.endsAt <= now) return; // resolving something never seen
    const changed = !prev || prev.endsAt !== u.endsAt || prev.startsAt !== u.startsAt || !sameLabels(prev.annotations, u.annotations);
    const a: StoredAlert = {
      fingerprint: u.fingerprint,
      labels: u.labels,
      annotations: u.annotations,
      startsAt: u.startsAt,
      ...(u.endsAt !== undefined ? { endsAt: u.endsAt } : {}),
      generatorURL: u.generatorURL,
      updatedAt: changed ? now : prev!.updatedAt,
    };
    this.alertsByFp.set(a.fingerprint, a);
    if (changed) this.persist?.putAlert(a);
    // A new firing episode of the same alert forgets the old acknowledgement.
    if (prev && prev.endsAt !== undefined && u.endsAt === undefined && this.acks.has(a.fingerprint)) {
      this.acks.delete(a.fingerprint);
      this.persist?.deleteAck(a.fingerprint);
    }
    for (const route of matchRoutes(this.config.route, a.labels)) this.insert(route, a, now);
    if (changed) this.rescheduleEscalationSoon(); // an alert that fires or resolves can start or end an inhibition
  }

  private insert(route: Route, a: StoredAlert, now: number): void {
    const gl = groupLabels(route, a.labels);
    const key = groupKey(route, gl);
    const mk = groupMapKey(route.id, key);
    let g = this.groups.get(mk);
    if (!g) {
      if (a.endsAt !== undefined && a.endsAt <= now) return;
      g = {
        routeId: route.id, key, labels: gl, fingerprints: [], hasFlushed: false,
        nextFlushAt: now + route.groupWaitMs, createdAt: now, route, fps: new Set(), flushing: false,
      };
      this.groups.set(mk, g);
      g.fps.add(a.fingerprint);
      this.saveGroup(g);
      this.scheduleFlush(g, route.groupWaitMs);
    } else if (!g.fps.has(a.fingerprint)) {
      g.fps.add(a.fingerprint);
      this.saveGroup(g);
    }
    // An alert that started long ago need not wait: Alertmanager flushes such a group at once.
    if (!g.hasFlushed && a.startsAt + route.groupWaitMs < now && g.nextFlushAt > now) {
      g.nextFlushAt = now;
      this.saveGroup(g);
      this.scheduleFlush(g, 0);
    }
  }

  private readonly dirtyGroups = new Set<Group>();

  /**
   * Groups are written once per turn of the event loop rather than at every insert: a rule that
   * fires thousands of alerts into one group would otherwise rewrite its member list each time.
   */
  private saveGroup(g: Group): void {
    if (this.dirtyGroups.size === 0) queueMicrotask(() => this.writeGroups());
    this.dirtyGroups.add(g);
  }

  private writeGroups(): void {
    const list = [...this.dirtyGroups];
    this.dirtyGroups.clear();
    const write = () => {
      for (const g of list) {
        if (this.groups.get(groupMapKey(g.routeId, g.key)) !== g) continue; // ended meanwhile
        g.fingerprints = [...g.fps];
        const { route: _r, fps: _f, timer: _t, flushing: _fl, ...state } = g;
        this.persist?.putGroup(state);
      }
    };
    try {
      if (this.persist?.transaction) this.persist.transaction(write);
      else write();
    } catch (e) {
      this.logger?.error({ err: (e as Error).message }, 'cannot save alert groups');
    }
  }

  private scheduleFlush(g: Group, ms: number): void {
    g.timer?.cancel();
    if (this.stopped) return;
    g.timer = this.clock.setTimer(Math.max(0, ms), () => this.background(() => this.onGroupTimer(g)));
  }

  private async onGroupTimer(g: Group): Promise<void> {
    if (this.stopped || this.groups.get(groupMapKey(g.routeId, g.key)) !== g) return;
    const now = this.clock.now();
    g.hasFlushed = true;
    g.nextFlushAt = now + g.route.groupIntervalMs;
    this.saveGroup(g);
    this.scheduleFlush(g, g.route.groupIntervalMs);
    await this.flush(g);
  }

  // ---- muting -------------------------------------------------------------------------------

  firingAlerts(now: number): StoredAlert[] {
    const out: StoredAlert[] = [];
    for (const a of this.alertsByFp.values()) if (!isResolved(a, now)) out.push(a);
    return out;
  }

  silencedBy(a: StoredAlert, now: number): string[] {
    return this.silences.mutedBy(a.labels, now);
  }

  inhibitedBy(a: StoredAlert, now: number, firing = this.firingAlerts(now)): string[] {
    return this.inhibitor.inhibitedBy(a, firing);
  }

  private muted(a: StoredAlert, now: number, firing: StoredAlert[]): boolean {
    return this.silencedBy(a, now).length > 0 || this.inhibitedBy(a, now, firing).length > 0;
  }

  // ---- notifying ----------------------------------------------------------------------------

  private webhookAlert(a: StoredAlert, now: number): WebhookAlert {
    const resolved = isResolved(a, now);
    return {
      status: resolved ? 'resolved' : 'firing',
      labels: a.labels,
      annotations: a.annotations,
      startsAt: formatTime(a.startsAt),
      // As Alertmanager: an end not reached yet (a sender's validity or resolve_timeout) is not exposed.
      endsAt: resolved ? formatTime(a.endsAt) : ZERO_TIME,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    };
  }

  private notification(receiver: string, g: GroupState, alerts: StoredAlert[], now: number, step?: number, policy?: string): Notification | undefined {
    const rc = receiverConfig(this.config, receiver);
    let list = rc.sendResolved ? alerts : alerts.filter((a) => !isResolved(a, now));
    if (!list.length) return undefined;
    list = [...list].sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0));
    const truncated = rc.maxAlerts > 0 && list.length > rc.maxAlerts ? list.length - rc.maxAlerts : 0;
    if (truncated) list = list.slice(0, rc.maxAlerts);
    const payload = buildPayload({
      receiver, groupKey: g.key, groupLabels: g.labels, externalURL: this.config.externalURL,
      alerts: list.map((a) => this.webhookAlert(a, now)), truncatedAlerts: truncated,
    });
    return { receiver, groupKey: g.key, status: payload.status, payload, ...(step !== undefined ? { escalationStep: step, escalationPolicy: policy } : {}) };
  }

  private async deliver(n: Notification): Promise<boolean> {
    try {
      await this.send(n);
      this.stats.sent++;
      return true;
    } catch (e) {
      this.stats.failed++;
      this.logger?.warn({ receiver: n.receiver, groupKey: n.groupKey, err: (e as Error).message }, 'alert notification failed; retrying at the next group interval');
      return false;
    }
  }

  /** Alertmanager's DedupStage decision. */
  private needsUpdate(entry: NflogEntry | undefined, firing: Set<string>, resolved: Set<string>, repeatMs: number, sendResolved: boolean, now: number): boolean {
    if (!entry) return firing.size > 0;
    if (!isSubset(new Set(entry.firing), firing)) return true;
    if (firing.size === 0) return entry.firing.length > 0;
    if (sendResolved && !isSubset(new Set(entry.resolved), resolved)) return true;
    return entry.ts <= now - repeatMs;
  }

  /** Looks at a group once; exposed for tests that drive a manual clock. */
  async flush(g: Group): Promise<void> {
    if (g.flushing) return;
    g.flushing = true;
    try {
      const now = this.clock.now();
      const firingAll = this.firingAlerts(now);
      const members = [...g.fps].map((fp) => this.alertsByFp.get(fp)).filter((a): a is StoredAlert => !!a);
      const snapshot = new Map(members.map((a) => [a.fingerprint, a.updatedAt]));
      const visible = members.filter((a) => !this.muted(a, now, firingAll));
      const firing = new Set(visible.filter((a) => !isResolved(a, now)).map((a) => a.fingerprint));
      const resolved = new Set(visible.filter((a) => isResolved(a, now)).map((a) => a.fingerprint));
      const receiver = g.route.receiver;
      const rc = receiverConfig(this.config, receiver);
      const nk = nflogKey(receiver, g.key);
      let ok = true;
      // With every alert muted, Alertmanager's pipeline stops before its notification log: nothing is
      // sent or recorded, so the end of the mute alone does not trigger a notification.
      if (visible.length > 0 && this.needsUpdate(this.nflog.get(nk), firing, resolved, g.route.repeatIntervalMs, rc.sendResolved, now)) {
        const n = this.notification(receiver, g, visible, now);
        ok = n ? await this.deliver(n) : true;
        if (ok) {
          const e: NflogEntry = { receiver, groupKey: g.key, firing: [...firing], resolved: [...resolved], ts: now };
          this.nflog.set(nk, e);
          this.persist?.putNflog(e);
        }
      }
      if (g.route.escalation) await this.escalationOnFlush(g, members, visible, now);
      if (!ok) return;
      // Resolved alerts leave the group unless they changed while we were notifying.
      for (const a of members) {
        const cur = this.alertsByFp.get(a.fingerprint);
        if (isResolved(a, now) && cur && cur.updatedAt === snapshot.get(a.fingerprint)) g.fps.delete(a.fingerprint);
      }
      if (g.fps.size === 0) this.endGroup(g);
      else this.saveGroup(g);
    } finally {
      g.flushing = false;
    }
  }

  private endGroup(g: Group): void {
    g.timer?.cancel();
    this.groups.delete(groupMapKey(g.routeId, g.key));
    this.persist?.deleteGroup(g.routeId, g.key);
    const nk = nflogKey(g.route.receiver, g.key);
    const e = this.nflog.get(nk);
    if (e && e.firing.length === 0) {
      this.nflog.delete(nk);
      this.persist?.deleteNflog(g.route.receiver, g.key);
    }
  }

  // ---- escalation ---------------------------------------------------------------------------

  private policy(name: string): EscalationPolicy | undefined {
    return this.config.escalationPolicies.get(name);
  }

  /** When step `i` of a policy is due, relative to the escalation start. */
  static stepOffset(p: EscalationPolicy, i: number): number {
    let t = 0;
    const last = p.steps.length - 1;
    for (let j = 0; j <= Math.min(i, last); j++) t += p.steps[j].waitMs;
    if (i > last) t += (i - last) * p.steps[last].waitMs;
    return t;
  }

  private async escalationOnFlush(g: Group, members: StoredAlert[], visible: StoredAlert[], now: number): Promise<void> {
    const policy = this.policy(g.route.escalation!);
    if (!policy) return;
    const visibleFps = new Set(visible.map((a) => a.fingerprint));
    const resolvedByReceiver = new Map<string, StoredAlert[]>();
    for (const a of members) {
      const k = escKey(g.key, a.fingerprint);
      const e = this.escalations.get(k);
      if (isResolved(a, now)) {
        if (e) {
          for (const r of e.receivers) {
            const l = resolvedByReceiver.get(r) ?? [];
            l.push(a);
            resolvedByReceiver.set(r, l);
          }
          this.escalations.delete(k);
          this.persist?.deleteEscalation(g.key, a.fingerprint);
        }
        continue;
      }
      if (!e && visibleFps.has(a.fingerprint) && !this.acks.has(a.fingerprint)) {
        const st: EscalationState = {
          routeId: g.routeId, groupKey: g.key, fingerprint: a.fingerprint, policy: policy.name,
          startedAt: now, nextStep: 0, receivers: [], acked: false,
        };
        this.escalations.set(k, st);
        this.persist?.putEscalation(st);
      }
    }
    for (const [receiver, alerts] of resolvedByReceiver) {
      const n = this.notification(receiver, g, alerts, now, undefined, undefined);
      if (n) await this.deliver({ ...n, escalationPolicy: policy.name });
    }
    this.scheduleEscalation();
  }

  private escalationRescheduleQueued = false;

  /** Re-plans the escalation timer once per turn of the event loop (upserts come in bursts). */
  private rescheduleEscalationSoon(): void {
    if (this.escalationRescheduleQueued || this.escalations.size === 0) return;
    this.escalationRescheduleQueued = true;
    queueMicrotask(() => {
      this.escalationRescheduleQueued = false;
      if (!this.escalating) this.scheduleEscalation();
    });
  }

  /**
   * Arms the escalation timer for the next real deadline. A step that is already due but cannot be
   * sent is not a deadline: while its alert is silenced, the wake-up is the end of the silence;
   * while it is inhibited, the next alert change re-plans (upsert); once resolved, its group's next
   * look takes over. Arming for a past deadline would spin a 0 ms timer for as long as the mute lasts.
   */
  private scheduleEscalation(): void {
    this.escalationTimer?.cancel();
    this.escalationTimer = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    let firingAll: StoredAlert[] | undefined;
    let next: number | undefined;
    for (const e of this.escalations.values()) {
      const p = this.policy(e.policy);
      if (!p || e.acked || e.nextStep >= p.steps.length + p.repeat) continue;
      let due = e.startedAt + Router.stepOffset(p, e.nextStep);
      if (due <= now) {
        const a = this.alertsByFp.get(e.fingerprint);
        if (!a || isResolved(a, now) || !this.groups.has(groupMapKey(e.routeId, e.groupKey))) continue;
        const silencedUntil = this.silencedUntil(a, now);
        if (silencedUntil !== undefined) due = silencedUntil;
        else if (this.inhibitedBy(a, now, (firingAll ??= this.firingAlerts(now))).length > 0) continue;
      }
      if (next === undefined || due < next) next = due;
    }
    if (next === undefined) return;
    if (this.escalationRetryAt !== undefined) next = Math.max(next, this.escalationRetryAt);
    this.escalationTimer = this.clock.setTimer(next - now, () => this.background(() => this.escalate()));
  }

  /** When the earliest active silence muting the alert ends, or undefined when none does. */
  private silencedUntil(a: StoredAlert, now: number): number | undefined {
    let until: number | undefined;
    for (const id of this.silences.mutedBy(a.labels, now)) {
      const s = this.silences.get(id);
      if (s && (until === undefined || s.endsAt < until)) until = s.endsAt;
    }
    return until;
  }

  private escalating = false;
  /** After a failed escalation delivery, no retry before this time. */
  private escalationRetryAt?: number;

  /** Sends every escalation step that is due. */
  async escalate(): Promise<void> {
    if (this.escalating || this.stopped) return;
    this.escalating = true;
    try {
      const now = this.clock.now();
      const firingAll = this.firingAlerts(now);
      // (group, step) → alerts due for that step.
      const batches = new Map<string, { g: GroupState; step: number; policy: EscalationPolicy; states: EscalationState[] }>();
      for (const e of this.escalations.values()) {
        const p = this.policy(e.policy);
        if (!p || e.acked || e.nextStep >= p.steps.length + p.repeat) continue;
        if (e.startedAt + Router.stepOffset(p, e.nextStep) > now) continue;
        const a = this.alertsByFp.get(e.fingerprint);
        const g = this.groups.get(groupMapKey(e.routeId, e.groupKey));
        if (!a || !g || isResolved(a, now)) continue; // the group's next look sends the resolution
        if (this.muted(a, now, firingAll)) continue; // waits while muted; escalates once unmuted
        const bk = `${e.groupKey}\u0000${e.nextStep}`;
        const b = batches.get(bk) ?? { g, step: e.nextStep, policy: p, states: [] };
        b.states.push(e);
        batches.set(bk, b);
      }
      let failed = false;
      for (const b of batches.values()) {
        const stepDef = b.policy.steps[Math.min(b.step, b.policy.steps.length - 1)];
        const alerts = b.states.map((e) => this.alertsByFp.get(e.fingerprint)!);
        let allOk = true;
        for (const receiver of stepDef.receivers) {
          const n = this.notification(receiver, b.g, alerts, now, b.step, b.policy.name);
          if (n && !(await this.deliver(n))) allOk = false;
        }
        if (!allOk) { failed = true; continue; }
        for (const e of b.states) {
          e.nextStep++;
          for (const r of stepDef.receivers) if (!e.receivers.includes(r)) e.receivers.push(r);
          this.persist?.putEscalation(e);
        }
      }
      this.escalationRetryAt = failed ? now + ESCALATION_RETRY_MS : undefined;
      this.scheduleEscalation();
    } finally {
      this.escalating = false;
    }
  }

  // ---- acknowledgement ----------------------------------------------------------------------

  /** Acknowledges a firing alert, stopping its escalation. Returns false when no such firing alert exists. */
  acknowledge(fp: string, by: string, comment: string): Ack | undefined {
    const now = this.clock.now();
    const a = this.alertsByFp.get(fp);
    if (!a || isResolved(a, now)) return undefined;
    const ack: Ack = { fingerprint: fp, by, comment, at: now };
    this.acks.set(fp, ack);
    this.persist?.putAck(ack);
    for (const e of this.escalations.values()) {
      if (e.fingerprint === fp && !e.acked) {
        e.acked = true;
        this.persist?.putEscalation(e);
      }
    }
    this.scheduleEscalation();
    return ack;
  }

  ackOf(fp: string): Ack | undefined {
    return this.acks.get(fp);
  }

  // ---- views --------------------------------------------------------------------------------

  alert(fp: string): StoredAlert | undefined {
    return this.alertsByFp.get(fp);
  }

  alerts(): StoredAlert[] {
    return [...this.alertsByFp.values()];
  }

  groupList(): Array<GroupState & { receiver: string }> {
    this.writeGroups();
    return [...this.groups.values()].map((g) => ({
      routeId: g.routeId, key: g.key, labels: g.labels, fingerprints: [...g.fps], hasFlushed: g.hasFlushed,
      nextFlushAt: g.nextFlushAt, createdAt: g.createdAt, receiver: g.route.receiver,
    }));
  }

  /** Receivers an alert is routed to (for the API). */
  receiversOf(a: StoredAlert): string[] {
    return [...new Set(matchRoutes(this.config.route, a.labels).map((r) => r.receiver))];
  }

  escalationOf(fp: string): EscalationState[] {
    return [...this.escalations.values()].filter((e) => e.fingerprint === fp);
  }

  isResolved(a: StoredAlert, now = this.clock.now()): boolean {
    return isResolved(a, now);
  }

  // ---- housekeeping -------------------------------------------------------------------------

  gc(now = this.clock.now()): void {
    const inGroup = new Set<string>();
    for (const g of this.groups.values()) for (const fp of g.fps) inGroup.add(fp);
    for (const a of [...this.alertsByFp.values()]) {
      if (inGroup.has(a.fingerprint) || !isResolved(a, now)) continue;
      if (now - (a.endsAt ?? now) < this.config.resolvedRetentionMs) continue;
      this.alertsByFp.delete(a.fingerprint);
      this.persist?.deleteAlert(a.fingerprint);
      if (this.acks.delete(a.fingerprint)) this.persist?.deleteAck(a.fingerprint);
      for (const [k, e] of this.escalations) if (e.fingerprint === a.fingerprint) { this.escalations.delete(k); this.persist?.deleteEscalation(e.groupKey, e.fingerprint); }
    }
    this.silences.gc(now, this.config.silenceRetentionMs);
    for (const [k, e] of this.nflog) {
      if (now - e.ts > NFLOG_RETENTION) { this.nflog.delete(k); this.persist?.deleteNflog(e.receiver, e.groupKey); }
    }
  }

  /** Test hook: the live group object for a key. */
  groupByKey(key: string): Group | undefined {
    for (const g of this.groups.values()) if (g.key === key) return g;
    return undefined;
  }
}

export function isResolved(a: StoredAlert, now: number): boolean {
  return a.endsAt !== undefined && a.endsAt <= now;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
