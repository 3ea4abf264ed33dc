/**
 * Router defects found from outside, each pinned by a test on a manual clock that counts timers:
 * no timer re-armed for a deadline that has already passed while an escalation waits on a mute, and
 * no notification recorded (or re-sent) for a group whose every alert is muted, as in Alertmanager.
 */
import t from 'tap';
import { Alerting } from '../src/alerting/alerting';
import { Clock, ManualClock, TimerHandle } from '../src/alerting/clock';
import { loadAlertingConfig, RawAlertingConfig } from '../src/alerting/config';
import { fingerprint, Labels } from '../src/alerting/labels';
import { Capture } from './fixtures/alerting/helpers';

const T0 = 1_700_000_000_000;

/** A manual clock that counts the timers armed, and refuses to loop forever on 0 ms timers. */
class CountingClock implements Clock {
  readonly inner = new ManualClock(T0);
  armed = 0;
  now(): number { return this.inner.now(); }
  setTimer(ms: number, fn: () => void): TimerHandle {
    if (++this.armed > 100_000) throw new Error('timer storm: more than 100000 timers armed');
    return this.inner.setTimer(ms, fn);
  }
}

function setup(raw: Partial<RawAlertingConfig>) {
  const clock = new CountingClock();
  const cap = new Capture(() => clock.now(), T0);
  const a = new Alerting(loadAlertingConfig({
    route: { receiver: 'team', group_by: ['alertname'], group_wait: '10s', group_interval: '1m', repeat_interval: '1h' }, ...raw,
  }), { clock, send: cap.send });
  a.start();
  const step = async (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      clock.inner.advance(Math.min(1000, left));
      await new Promise((r) => setImmediate(r));
    }
  };
  const fire = (labels: Labels, startsAt = clock.now()) => a.router.upsert({ fingerprint: fingerprint(labels), labels, annotations: {}, startsAt, generatorURL: '' });
  const resolve = (labels: Labels, startsAt: number) => a.router.upsert({ fingerprint: fingerprint(labels), labels, annotations: {}, startsAt, endsAt: clock.now(), generatorURL: '' });
  const silence = (name: string, minutes: number) => a.addSilence({
    matchers: [{ name: 'alertname', value: name, isRegex: false, isEqual: true }],
    startsAt: new Date(clock.now()).toISOString(), endsAt: new Date(clock.now() + minutes * 60_000).toISOString(), createdBy: 't', comment: 'c',
  });
  return { clock, cap, a, step, fire, resolve, silence };
}

const escalating = {
  route: { receiver: 'team', group_by: ['alertname'], group_wait: '10s', group_interval: '1m', repeat_interval: '1h', escalation: 'p' },
  escalation_policies: [{ name: 'p', steps: [{ wait: '1m', receivers: ['lead'] }, { wait: '1m', receivers: ['pager'] }] }],
};

t.test('an escalation step due while its alert is silenced arms no timer until the silence ends', async (t) => {
  const { clock, cap, a, step, fire, silence } = setup(escalating);
  fire({ alertname: 'Down' });
  await step(15_000); // first look at 10 s starts the escalation
  silence('Down', 10);
  const before = clock.armed;
  await step(5 * 60_000); // step 0 falls due at 70 s, inside the silence
  t.ok(clock.armed - before < 40, `timers armed during 5 muted minutes: ${clock.armed - before}`);
  t.equal(cap.for('lead').length, 0, 'no escalation while silenced');
  await step(6 * 60_000); // the silence ends at 10m15s
  t.equal(cap.for('lead').length, 1, 'the step is sent once the silence ends');
  await a.stop();
});

t.test('an escalation step due while its alert is inhibited waits for the inhibiting alert to resolve', async (t) => {
  const { clock, cap, a, step, fire, resolve } = setup({
    ...escalating,
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['cluster'] }],
  });
  fire({ alertname: 'Slow', severity: 'warning', cluster: 'c' });
  await step(15_000);
  const s = clock.now();
  fire({ alertname: 'Outage', severity: 'critical', cluster: 'c' });
  const before = clock.armed;
  await step(5 * 60_000);
  t.ok(clock.armed - before < 40, `timers armed during 5 inhibited minutes: ${clock.armed - before}`);
  t.equal(cap.for('lead').filter((n) => n.n.payload.commonLabels.alertname === 'Slow').length, 0, 'no escalation while inhibited');
  resolve({ alertname: 'Outage', severity: 'critical', cluster: 'c' }, s);
  await step(2000);
  t.equal(cap.for('lead').filter((n) => n.n.payload.commonLabels.alertname === 'Slow').length, 1, 'escalated once the inhibition ended');
  await a.stop();
});

t.test('a resolved escalating alert arms no timer storm before its group looks again', async (t) => {
  const { clock, a, step, fire, resolve } = setup({
    ...escalating,
    route: { ...escalating.route, group_interval: '10m' },
  });
  const s = clock.now();
  fire({ alertname: 'Down' });
  await step(15_000);
  await step(50_000); // step 0 due at 70 s
  resolve({ alertname: 'Down' }, s);
  const before = clock.armed;
  await step(3 * 60_000); // the group looks again at 10m10s
  t.ok(clock.armed - before < 40, `timers armed: ${clock.armed - before}`);
  await a.stop();
});

t.test('a fully muted group records nothing, and is not re-sent when the mute ends before repeat_interval', async (t) => {
  const { cap, a, step, fire, silence } = setup({});
  fire({ alertname: 'A' });
  await step(15_000);
  t.equal(cap.sent.length, 1, 'first notification at group_wait');
  const id = silence('A', 60);
  await step(3 * 60_000); // three looks while silenced
  t.equal(cap.sent.length, 1, 'nothing while silenced');
  a.expireSilence(id);
  await step(5 * 60_000);
  t.equal(cap.sent.length, 1, 'no notification when the silence ends: Alertmanager waits for repeat_interval');
  await step(60 * 60_000);
  t.equal(cap.sent.length, 2, 'repeated once repeat_interval has passed');
  await a.stop();
});

t.test('an alert firing for the first time inside a silence is sent when the silence ends', async (t) => {
  const { cap, a, step, fire, silence } = setup({});
  const id = silence('B', 60);
  fire({ alertname: 'B' });
  await step(3 * 60_000);
  t.equal(cap.sent.length, 0, 'nothing while silenced');
  a.expireSilence(id);
  await step(61_000);
  t.equal(cap.sent.length, 1, 'sent at the first look after the silence');
  await a.stop();
});
