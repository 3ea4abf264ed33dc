/** Alertmanager's dispatch corner cases, on a manual clock (fast and exact). */
import t from 'tap';
import { Alerting } from '../src/alerting/alerting';
import { ManualClock } from '../src/alerting/clock';
import { loadAlertingConfig, RawAlertingConfig } from '../src/alerting/config';
import { fingerprint, Labels } from '../src/alerting/labels';
import { Capture, threat } from './fixtures/alerting/helpers';

const T0 = 1_700_000_000_000;

function setup(raw: Partial<RawAlertingConfig> = {}) {
  const clock = new ManualClock(T0);
  const cap = new Capture(() => clock.now(), T0);
  const a = new Alerting(loadAlertingConfig({
    route: { receiver: 'team', group_by: ['alertname'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' }, ...raw,
  }), { clock, send: cap.send });
  a.start();
  const step = async (ms: number) => {
    // Advance in small steps so that async flushes settle between timers.
    for (let left = ms; left > 0; left -= 1000) {
      clock.advance(Math.min(1000, left));
      await new Promise((r) => setImmediate(r));
    }
  };
  const fire = (labels: Labels, startsAt = clock.now()) => a.router.upsert({ fingerprint: fingerprint(labels), labels, annotations: {}, startsAt, generatorURL: '' });
  const resolve = (labels: Labels, startsAt: number) => a.router.upsert({ fingerprint: fingerprint(labels), labels, annotations: {}, startsAt, endsAt: clock.now(), generatorURL: '' });
  return { clock, cap, a, step, fire, resolve };
}

t.test('default timings: group_wait 30s, group_interval 5m, repeat_interval 4h', async (t) => {
  const { cap, a, step, fire } = setup();
  fire({ alertname: 'A' });
  await step(29_000);
  t.equal(cap.sent.length, 0, 'nothing before group_wait');
  await step(1000);
  t.same(cap.sent.map((s) => s.at), [30_000], 'at group_wait');
  await step(4 * 3600_000);
  // Looks happen at 30s + k·5m; the first one at least 4h after the notification is 30s + 48·5m.
  t.same(cap.sent.map((s) => s.at), [30_000, 30_000 + 4 * 3600_000], 'repeated at the first look 4h later');
  await a.stop();
});

t.test('an alert that fires and resolves within group_wait is never sent', async (t) => {
  const { cap, a, step, fire, resolve, clock } = setup();
  const s = clock.now();
  fire({ alertname: 'Blip' });
  await step(10_000);
  resolve({ alertname: 'Blip' }, s);
  await step(60_000);
  t.equal(cap.sent.length, 0);
  t.equal(a.listGroups().length, 0, 'the group ended');
  await a.stop();
});

t.test('an alert that started long ago is sent at once (no group_wait)', async (t) => {
  const { cap, a, step, fire, clock } = setup();
  fire({ alertname: 'Old' }, clock.now() - 10 * 60_000);
  await step(1000);
  t.same(cap.sent.map((s) => s.at), [0]);
  await a.stop();
});

t.test('send_resolved false: the all-resolved update clears the log without a message, and a refire notifies', async (t) => {
  const { cap, a, step, fire, resolve, clock } = setup({ receivers: [{ name: 'team', send_resolved: false }] });
  const s = clock.now();
  fire({ alertname: 'A', i: '1' });
  fire({ alertname: 'A', i: '2' });
  await step(30_000);
  t.equal(cap.sent.length, 1);
  resolve({ alertname: 'A', i: '1' }, s);
  await step(5 * 60_000);
  t.equal(cap.sent.length, 1, 'one resolved among firing: no message to a receiver without send_resolved');
  resolve({ alertname: 'A', i: '2' }, s);
  await step(5 * 60_000);
  t.equal(cap.sent.length, 1, 'all resolved: still no message');
  fire({ alertname: 'A', i: '1' });
  await step(30_000);
  t.equal(cap.sent.length, 2, 'firing again is news');
  t.same(cap.sent[1].n.payload.alerts.map((x) => x.labels.i), ['1']);
  await a.stop();
});

t.test('a resolved alert among firing ones is sent to send_resolved receivers, then leaves the group', async (t) => {
  const { cap, a, step, fire, resolve, clock } = setup();
  const s = clock.now();
  fire({ alertname: 'A', i: '1' });
  fire({ alertname: 'A', i: '2' });
  await step(30_000);
  resolve({ alertname: 'A', i: '1' }, s);
  await step(5 * 60_000);
  t.equal(cap.sent.length, 2);
  t.same(cap.sent[1].n.payload.alerts.map((x) => `${x.labels.i}:${x.status}`).sort(), ['1:resolved', '2:firing']);
  t.equal(cap.sent[1].n.status, 'firing', 'the group still fires');
  await step(5 * 60_000);
  t.equal(cap.sent.length, 2, 'no change, no message');
  t.same(a.listGroups()[0].alerts, [fingerprint({ alertname: 'A', i: '2' })], 'the resolved alert left the group');
  await a.stop();
});

t.test('max_alerts truncates and counts the rest', async (t) => {
  const { cap, a, step, fire } = setup({ receivers: [{ name: 'team', max_alerts: 2 }] });
  for (let i = 0; i < 5; i++) fire({ alertname: 'Many', i: String(i) });
  await step(30_000);
  t.equal(cap.sent[0].n.payload.alerts.length, 2);
  t.equal(cap.sent[0].n.payload.truncatedAlerts, 3);
  await a.stop();
});

t.test('the alert view reports state, since and receivers', async (t) => {
  const { a, step, fire, clock } = setup({ route: { receiver: 'team', routes: [{ matchers: ['sev="page"'], receiver: 'pager', continue: true }, { matchers: ['sev=~".+"'], receiver: 'chat' }] } });
  const s = clock.now();
  fire({ alertname: 'V', sev: 'page' });
  await step(1000);
  const [v] = a.listAlerts();
  t.equal(v.state, 'firing');
  t.equal(v.since, new Date(s).toISOString());
  t.same(v.receivers, ['pager', 'chat']);
  t.same(a.listAlerts({ state: 'resolved' }), []);
  await a.stop();
});

t.test('escalation and acknowledgements survive a restart without repeating a step', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-esc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(T0);
  const cap = new Capture(() => clock.now(), T0);
  // Alerts come from a rule, as in production: restored rule state keeps them firing.
  const raw: RawAlertingConfig = {
    groups: [{ name: 'sec', interval: '10s', rules: [{ alert: 'E', kind: 'security', min_score: 0.5, window: '2h', by: ['client.address'] }] }],
    route: { receiver: 'team', group_by: ['alertname', 'client.address'], group_wait: '10s', group_interval: '1m', repeat_interval: '4h', escalation: 'p' },
    escalation_policies: [{ name: 'p', steps: [{ wait: '5m', receivers: ['lead'] }, { wait: '10m', receivers: ['pager'] }] }],
  };
  const make = () => { const a = new Alerting(loadAlertingConfig(raw), { clock, send: cap.send, dataDir: dir }); a.start(); return a; };
  const step = async (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) { clock.advance(Math.min(1000, left)); await new Promise((r) => setImmediate(r)); }
  };
  const seen = (ip: string) => cap.sent.filter((s) => s.n.groupKey.includes(ip)).map((s) => `${s.n.receiver}@${s.at / 1000}`);
  let a = make();
  a.consumeLogs(threat(clock.now(), 'sqli', 0.9, '10.0.0.1'));
  await step(6 * 60_000); // fires at 10 s, first look at 20 s, lead due at 5m20s
  t.same(seen('10.0.0.1'), ['team@20', 'lead@320']);
  await a.stop();
  a = make();
  await step(10 * 60_000); // pager due at 15m20s
  t.same(seen('10.0.0.1'), ['team@20', 'lead@320', 'pager@920'], 'no repeated step, the next one on time');

  // An acknowledgement made before a restart still holds after it.
  const start2 = clock.now() - T0;
  a.consumeLogs(threat(clock.now(), 'sqli', 0.9, '10.0.0.2'));
  await step(30_000);
  const fp = a.listAlerts().find((x) => x.labels['client.address'] === '10.0.0.2')!.fingerprint;
  t.ok(a.acknowledge(fp, 'carol', ''));
  await a.stop();
  a = make();
  await step(20 * 60_000);
  t.same(seen('10.0.0.2'), [`team@${start2 / 1000 + 20}`], 'acknowledged: never escalated');
  t.equal(a.listAlerts().find((x) => x.fingerprint === fp)?.acknowledged?.by, 'carol');
  await a.stop();
});
