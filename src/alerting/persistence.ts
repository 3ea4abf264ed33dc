/**
 * Alerting state in the shared SQLite store (src/state.ts), one namespace per connector id. Every
 * change is written through at once (SQLite in WAL mode makes that cheap), so that a crash or a
 * restart loses at most the change being made.
 *
 *   rule/[rule, fp]        the rule evaluator's alerts (pending, firing, recently resolved)
 *   streak/<rule>          consecutive-failure counters
 *   alert/<fp>             the router's alerts
 *   group/[route, key]     aggregation groups and when they next notify
 *   nflog/[receiver, key]  what each receiver was last told about each group
 *   silence/<id>, esc/[group key, fp], ack/<fp>
 */
import { StateStore } from '../state';
import type { EvaluatorPersistence, RuleAlert, StreakState } from './evaluator';
import type { Ack, EscalationState, GroupState, NflogEntry, RouterPersistence, RouterSnapshot, StoredAlert } from './router';
import { Silence, SilenceJson, silenceFromStored, silenceToJson } from './silences';

export class AlertingState implements EvaluatorPersistence, RouterPersistence {
  private readonly store: StateStore;

  constructor(dataDir: string, private readonly ns: string) {
    this.store = StateStore.open(dataDir);
  }

  close(): void {
    this.store.release();
  }

  private put(key: string, v: unknown): void { this.store.put(this.ns, key, v); }
  private del(key: string): void { this.store.delete(this.ns, key); }
  private list<T>(prefix: string): T[] { return this.store.list<T>(this.ns, prefix).map((r) => r.value); }

  putRuleAlert(a: RuleAlert): void { const { restored: _r, ...v } = a; this.put(`rule/${JSON.stringify([a.rule, a.fingerprint])}`, v); }
  deleteRuleAlert(rule: string, fp: string): void { this.del(`rule/${JSON.stringify([rule, fp])}`); }
  putStreaks(rule: string, streaks: StreakState[]): void { this.put(`streak/${rule}`, { rule, streaks }); }

  putAlert(a: StoredAlert): void { this.put(`alert/${a.fingerprint}`, a); }
  deleteAlert(fp: string): void { this.del(`alert/${fp}`); }
  putGroup(g: GroupState): void { this.put(`group/${JSON.stringify([g.routeId, g.key])}`, g); }
  deleteGroup(routeId: string, key: string): void { this.del(`group/${JSON.stringify([routeId, key])}`); }
  putNflog(e: NflogEntry): void { this.put(`nflog/${JSON.stringify([e.receiver, e.groupKey])}`, e); }
  deleteNflog(receiver: string, groupKey: string): void { this.del(`nflog/${JSON.stringify([receiver, groupKey])}`); }
  putSilence(s: Silence): void { this.put(`silence/${s.id}`, silenceToJson(s, Date.now())); }
  deleteSilence(id: string): void { this.del(`silence/${id}`); }
  putEscalation(e: EscalationState): void { this.put(`esc/${JSON.stringify([e.groupKey, e.fingerprint])}`, e); }
  deleteEscalation(groupKey: string, fp: string): void { this.del(`esc/${JSON.stringify([groupKey, fp])}`); }
  putAck(a: Ack): void { this.put(`ack/${a.fingerprint}`, a); }
  transaction(fn: () => void): void { this.store.transaction(fn); }
  deleteAck(fp: string): void { this.del(`ack/${fp}`); }

  ruleAlerts(): RuleAlert[] { return this.list<RuleAlert>('rule/'); }
  streaks(): Array<{ rule: string; streaks: StreakState[] }> { return this.list('streak/'); }

  routerSnapshot(): RouterSnapshot {
    const silences: Silence[] = [];
    for (const j of this.list<SilenceJson>('silence/')) {
      try { silences.push(silenceFromStored(j)); } catch { /* a silence that no longer compiles is dropped */ }
    }
    return {
      alerts: this.list<StoredAlert>('alert/'),
      groups: this.list<GroupState>('group/'),
      nflog: this.list<NflogEntry>('nflog/'),
      silences,
      escalations: this.list<EscalationState>('esc/'),
      acks: this.list<Ack>('ack/'),
    };
  }
}
