/**
 * Router timing tests in the style of Alertmanager's acceptance tests: alerts are pushed at given
 * times with group_wait / group_interval of about a second, and notifications are expected inside
 * time windows wide enough for a loaded 2-core machine (timers are real).
 */
import t, { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alerting } from '../src/alerting/alerting';
import { loadAlertingConfig, RawAlertingConfig } from '../src/alerting/config';
import { fingerprint, Labels } from '../src/alerting/labels';
import { Capture, threat } from './fixtures/alerting/helpers';

// The scenarios are independent and mostly wait on timers: run them side by side.
(t as unknown as { jobs: number }).jobs = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Slack for timers on a busy machine. */
const LATE = 700;
/** Node's timers run on a monotonic millisecond clock, Date.now() on the wall clock: readings of the two
 * round differently, so a timer due in 1000 ms can read as 999 ms. Early by more than that is a defect. */
const EARLY = 2;

function make(raw: RawAlertingConfig, dataDir?: string, cap?: Capture) {
  const c = cap ?? new Capture(() => Date.now());
  const a = new Alerting(loadAlertingConfig(raw), { send: c.send, ...(dataDir ? { dataDir, namespace: 'alerts' } : {}) });
  a.start();
  return { a, cap: c };
}

function fire(a: Alerting, labels: Labels, startsAt = Date.now()): string {
  const fp = fingerprint(labels);
  a.router.upsert({ fingerprint: fp, labels, annotations: { summary: `${labels.alertname} fired` }, startsAt, generatorURL: '' });
  return fp;
}

function resolve(a: Alerting, labels: Labels, startsAt: number): void {
  a.router.upsert({ fingerprint: fingerprint(labels), labels, annotations: { summary: `${labels.alertname} fired` }, startsAt, endsAt: Date.now(), generatorURL: '' });
}

function within(t: Test, at: number, lo: number, hi: number, what: string): void {
  t.ok(at >= lo - EARLY && at <= hi + LATE, `${what}: at ${at} ms, expected in [${lo}, ${hi}] (-${EARLY}/+${LATE} ms slack)`);
}

const route = (extra: Record<string, unknown> = {}) => ({ receiver: 'team', group_by: ['alertname'], group_wait: '1s', group_interval: '1500ms', repeat_interval: '1h', ...extra });

t.test('grouping: group_wait first, new alerts at the next group_interval, nothing when nothing changes', async (t) => {
  const { a, cap } = make({ route: route() });
  const t0 = Date.now();
  fire(a, { alertname: 'A', instance: '1' });
  fire(a, { alertname: 'A', instance: '2' });
  fire(a, { alertname: 'B', instance: '1' });
  await sleep(1300);
  fire(a, { alertname: 'A', instance: '3' });
  await sleep(3200);
  await a.stop();
  const sent = cap.sent.map((s) => ({ at: s.at, key: s.n.groupKey, n: s.n.payload.alerts.length }));
  t.equal(sent.length, 3, `three notifications: ${JSON.stringify(sent)}`);
  const a1 = sent.filter((s) => s.key === '{}:{alertname="A"}');
  const b1 = sent.filter((s) => s.key === '{}:{alertname="B"}');
  t.equal(b1.length, 1, 'B once');
  within(t, b1[0].at, 1000, 1000, 'B after group_wait');
  t.equal(a1.length, 2, 'A twice');
  within(t, a1[0].at, 1000, 1000, 'A after group_wait');
  t.equal(a1[0].n, 2, 'first A notification holds both alerts');
  within(t, a1[1].at, 2500, 2500, 'A again one group_interval later');
  t.equal(a1[1].n, 3, 'second A notification holds all three');
  t.ok(cap.sent.every((s) => s.n.receiver === 'team'));
  const p = cap.sent.find((s) => s.n.groupKey === '{}:{alertname="A"}')!.n.payload;
  t.same(p.groupLabels, { alertname: 'A' });
  t.same(p.commonLabels, { alertname: 'A' });
  t.same(p.commonAnnotations, { summary: 'A fired' });
  t.equal(p.version, '4');
  t.ok(Date.now() - t0 < 6000);
});

t.test('repeat_interval: an unchanged group is sent again at the first group_interval tick after repeat_interval', async (t) => {
  const { a, cap } = make({ route: route({ group_interval: '1s', repeat_interval: '1500ms' }) });
  fire(a, { alertname: 'R' });
  await sleep(6300); // the next repeat would be at 7 s
  await a.stop();
  const ats = cap.sent.map((s) => s.at);
  t.equal(ats.length, 3, `at ${ats}`);
  within(t, ats[0], 1000, 1000, 'first');
  within(t, ats[1], 3000, 3000, 'first repeat');
  within(t, ats[2], 5000, 5000, 'second repeat');
});

t.test('resolve: resolved alerts are sent once as resolved (send_resolved), and the group ends', async (t) => {
  const { a, cap } = make({
    route: route({ routes: [{ matchers: ['team="quiet"'], receiver: 'quiet' }] }),
    receivers: [{ name: 'team' }, { name: 'quiet', send_resolved: false }],
  });
  const s = Date.now();
  fire(a, { alertname: 'X', team: 'loud' }, s);
  fire(a, { alertname: 'X', team: 'quiet' }, s);
  await sleep(1900); // after the 1 s notification, before the 2.5 s look
  resolve(a, { alertname: 'X', team: 'loud' }, s);
  resolve(a, { alertname: 'X', team: 'quiet' }, s);
  await sleep(2600);
  await a.stop();
  const team = cap.for('team');
  t.equal(team.length, 2, 'firing then resolved');
  t.equal(team[1].n.status, 'resolved');
  t.equal(team[1].n.payload.alerts[0].status, 'resolved');
  within(t, team[1].at, 2500, 2500, 'resolved at the next group_interval');
  const quiet = cap.for('quiet');
  t.equal(quiet.length, 1, 'send_resolved false: only the firing notification');
  t.equal(quiet[0].n.status, 'firing');
  t.equal(a.listGroups().length, 0, 'groups ended');
});

t.test('inhibition: a critical alert mutes warnings with the same cluster only', async (t) => {
  const { a, cap } = make({
    route: route({ group_by: ['alertname', 'cluster'] }),
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['cluster'] }],
  });
  fire(a, { alertname: 'DBDown', severity: 'critical', cluster: 'eu' });
  fire(a, { alertname: 'SlowQueries', severity: 'warning', cluster: 'eu' });
  fire(a, { alertname: 'SlowQueries', severity: 'warning', cluster: 'us' });
  await sleep(2100); // before the 2.5 s look
  const keys = cap.sent.map((s) => s.n.groupKey).sort();
  t.same(keys, ['{}:{alertname="DBDown", cluster="eu"}', '{}:{alertname="SlowQueries", cluster="us"}'], 'the eu warning is inhibited');
  const view = a.listAlerts().find((x) => x.labels.alertname === 'SlowQueries' && x.labels.cluster === 'eu')!;
  t.equal(view.status.state, 'suppressed');
  t.same(view.status.inhibitedBy, [fingerprint({ alertname: 'DBDown', severity: 'critical', cluster: 'eu' })]);
  // The source resolves: the warning is no longer inhibited and goes out at the next interval.
  resolve(a, { alertname: 'DBDown', severity: 'critical', cluster: 'eu' }, Date.now() - 2000);
  await sleep(1900);
  await a.stop();
  const eu = cap.sent.filter((s) => s.n.groupKey === '{}:{alertname="SlowQueries", cluster="eu"}');
  t.equal(eu.length, 1, 'the warning is sent once the critical alert resolved');
});

t.test('silences: matching alerts are muted until the silence is expired', async (t) => {
  const { a, cap } = make({ route: route({ group_interval: '1s' }) });
  const id = a.addSilence({
    matchers: [{ name: 'alertname', value: 'Noisy|Chatty', isRegex: true, isEqual: true }],
    startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'sre', comment: 'maintenance',
  });
  fire(a, { alertname: 'Noisy' });
  fire(a, { alertname: 'Quiet' });
  await sleep(1900);
  t.same(cap.sent.map((s) => s.n.payload.alerts[0].labels.alertname), ['Quiet'], 'Noisy is silenced');
  t.equal(a.listAlerts({ matchers: [] }).find((x) => x.alertname === 'Noisy')?.status.silencedBy[0], id);
  t.ok(a.expireSilence(id));
  t.equal(a.getSilence(id)?.status.state, 'expired');
  t.notOk(a.expireSilence(id), 'expiring twice is refused');
  await sleep(1600);
  await a.stop();
  t.same(cap.sent.map((s) => s.n.payload.alerts[0].labels.alertname), ['Quiet', 'Noisy'], 'Noisy is sent after the silence expired');
});

t.test('silence validation', async (t) => {
  const { a } = make({ route: route() });
  const end = new Date(Date.now() + 60_000).toISOString();
  t.throws(() => a.addSilence({ matchers: [], endsAt: end, createdBy: 'x', comment: 'y' }), /at least one matcher/);
  t.throws(() => a.addSilence({ matchers: [{ name: 'a', value: '.*', isRegex: true }], endsAt: end, createdBy: 'x', comment: 'y' }), /must not match the empty string/);
  t.throws(() => a.addSilence({ matchers: [{ name: 'a', value: 'b', isRegex: false }], endsAt: new Date(Date.now() - 1000).toISOString(), createdBy: 'x', comment: 'y' }), /endsAt/);
  t.throws(() => a.addSilence({ matchers: [{ name: 'a', value: '(a+)+', isRegex: true }], endsAt: end, createdBy: 'x', comment: 'y' }), /backtracking/);
  t.throws(() => a.addSilence({ matchers: [{ name: 'a', value: 'b', isRegex: false }], endsAt: end, comment: 'y' }), /createdBy/);
  await a.stop();
});

t.test('escalation: steps after their waits, bounded repeat, stopped by acknowledge, resolved told', async (t) => {
  const { a, cap } = make({
    route: route({ group_wait: '500ms', group_interval: '1s', escalation: 'oncall' }),
    escalation_policies: [{ name: 'oncall', steps: [{ wait: '1s', receivers: ['lead'] }, { wait: '1s', receivers: ['pager'] }], repeat: 1 }],
  });
  const s = Date.now();
  fire(a, { alertname: 'Down', service: 'a' }, s);
  await sleep(4800);
  // Escalation started at the first look (0.5 s): lead at 1.5 s, pager at 2.5 s, pager again at 3.5 s, then stop.
  const lead = cap.for('lead');
  const pager = cap.for('pager');
  t.equal(lead.length, 1, 'lead once');
  within(t, lead[0].at, 1500, 1500, 'step 0');
  t.equal(lead[0].n.escalationStep, 0);
  t.equal(lead[0].n.escalationPolicy, 'oncall');
  t.equal(pager.length, 2, `pager at step 1 and one repeat: ${pager.map((p) => p.at)}`);
  within(t, pager[0].at, 2500, 2500, 'step 1');
  within(t, pager[1].at, 3500, 3500, 'repeat of the last step');
  t.same(pager.map((p) => p.n.escalationStep), [1, 2]);
  resolve(a, { alertname: 'Down', service: 'a' }, s);
  await sleep(1500);
  t.equal(cap.for('lead').at(-1)?.n.status, 'resolved', 'lead is told it resolved');
  t.equal(cap.for('pager').at(-1)?.n.status, 'resolved', 'pager is told it resolved');
  await a.stop();
});

t.test('escalation: acknowledging stops it', async (t) => {
  const { a, cap } = make({
    route: route({ group_wait: '500ms', group_interval: '1s', escalation: 'oncall' }),
    escalation_policies: [{ name: 'oncall', steps: [{ wait: '1s', receivers: ['lead'] }, { wait: '2s', receivers: ['pager'] }] }],
  });
  const fp = fire(a, { alertname: 'Down', service: 'b' });
  await sleep(2300); // lead due at 1.5 s, pager at 3.5 s
  t.equal(cap.for('lead').length, 1, 'step 0 reached');
  t.ok(a.acknowledge(fp, 'alice', 'on it'));
  await sleep(2200);
  t.equal(cap.for('pager').length, 0, 'acknowledged: no further step');
  t.equal(a.listAlerts().find((x) => x.fingerprint === fp)?.acknowledged?.by, 'alice');
  t.notOk(a.acknowledge('0000000000000000', 'x', ''), 'unknown fingerprints cannot be acknowledged');
  await a.stop();
});

t.test('restart in the middle of a group: no duplicate, no lost notification', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Alerts come from a rule here, as in production, so that the restored rule state holds them.
  const raw: RawAlertingConfig = {
    evaluation_interval: '200ms',
    groups: [{ name: 'sec', rules: [{ alert: 'P', kind: 'security', min_score: 0.5, window: '30s', by: ['client.address'] }] }],
    route: route({ group_wait: '1500ms', group_interval: '1500ms' }),
  };
  const cap = new Capture(() => Date.now());
  let { a } = make(raw, dir, cap);
  a.consumeLogs(threat(Date.now(), 'sqli', 0.9, '10.0.0.1'));
  await sleep(700);
  t.same(a.listAlerts().map((x) => x.state), ['firing'], 'firing before the restart');
  await a.stop(); // during group_wait
  ({ a } = make(raw, dir, cap));
  t.same(a.listAlerts().map((x) => x.state), ['firing'], 'still firing after the restart');
  await sleep(1900);
  t.equal(cap.sent.length, 1, 'notified once, at the end of the original group_wait');
  within(t, cap.sent[0]?.at ?? -1, 1700, 1700, 'first notification');
  // After the notification: restarting must not send it again.
  await a.stop();
  ({ a } = make(raw, dir, cap));
  await sleep(1900);
  t.equal(cap.sent.length, 1, 'no duplicate after a restart');
  // A new alert joins, then a restart before the group_interval tick: it still goes out, once.
  a.consumeLogs(threat(Date.now(), 'sqli', 0.9, '10.0.0.2'));
  await sleep(400);
  await a.stop();
  ({ a } = make(raw, dir, cap));
  await sleep(2000);
  await a.stop();
  t.equal(cap.sent.length, 2, `exactly one more notification: ${cap.sent.map((x) => x.at)}`);
  t.same(cap.sent[1]?.n.payload.alerts.map((x) => x.labels['client.address']).sort(), ['10.0.0.1', '10.0.0.2'], 'holding both alerts');
});

t.test('a failed notification is retried at the next group_interval, not lost', async (t) => {
  const { a, cap } = make({ route: route({ group_interval: '1s' }) });
  cap.failNext = 1;
  fire(a, { alertname: 'F' });
  await sleep(2900);
  await a.stop();
  t.equal(cap.sent.length, 1, 'delivered once');
  within(t, cap.sent[0].at, 2000, 2000, 'on the retry one group_interval later');
  t.equal(a.router.stats.failed, 1);
});
