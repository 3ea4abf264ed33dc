import t from 'tap';
import { Alerting } from '../src/alerting/alerting';
import { ManualClock } from '../src/alerting/clock';
import { loadAlertingConfig, RawAlertingConfig } from '../src/alerting/config';
import { Capture, counter, gauge, histogram, threat, event } from './fixtures/alerting/helpers';
import { Double } from '../src/model';

const T0 = 1_700_000_000_000;

function setup(raw: RawAlertingConfig) {
  const clock = new ManualClock(T0);
  const cap = new Capture(() => clock.now(), T0);
  const a = new Alerting(loadAlertingConfig({ route: { receiver: 'team', group_wait: '0s', group_interval: '1s', repeat_interval: '1h' }, ...raw }), { clock, send: cap.send });
  a.start();
  return { clock, cap, a };
}

const states = (a: Alerting) => a.evaluator.alerts().map((x) => x.state);

t.test('threshold rule: pending for `for`, then firing; resolved sent as resolved', async (t) => {
  const { clock, cap, a } = setup({
    evaluation_interval: '10s',
    groups: [{ name: 'g', rules: [{ alert: 'HighCPU', metric: 'cpu', function: 'avg', window: '30s', op: '>', threshold: 0.8, for: '20s', severity: 'warning', annotations: { summary: 'cpu {{ $value }} on {{ $labels.service.name }}' } }] }],
  });
  for (let i = 1; i <= 3; i++) a.consumeMetrics(gauge('cpu', [{ t: T0 + i * 10_000 - 1, v: 0.9 }]));
  clock.advance(10_000);
  t.same(states(a), ['pending'], 'first evaluation above the threshold: pending');
  clock.advance(10_000);
  t.same(states(a), ['pending'], 'still pending after 10s of a 20s for');
  clock.advance(10_000);
  t.same(states(a), ['firing'], 'firing once active for 20s');
  await new Promise((r) => setImmediate(r));
  clock.advance(0);
  await new Promise((r) => setImmediate(r));
  t.equal(cap.sent.length, 1, 'one firing notification');
  const n = cap.sent[0].n;
  t.equal(n.status, 'firing');
  t.same(n.payload.alerts[0].labels, { alertname: 'HighCPU', severity: 'warning', 'service.name': 'api' });
  t.equal(n.payload.alerts[0].annotations.summary, 'cpu 0.9 on api');
  t.equal(n.payload.alerts[0].startsAt, '2023-11-14T22:13:50Z', 'startsAt is when it fired (written as Go writes it, as Alertmanager sends it)');
  t.equal(n.payload.alerts[0].endsAt, '0001-01-01T00:00:00Z');
  // No more samples: the window empties and the alert resolves.
  clock.advance(40_000);
  await new Promise((r) => setImmediate(r));
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  t.same(states(a), ['inactive']);
  const last = cap.sent[cap.sent.length - 1].n;
  t.equal(last.status, 'resolved', 'resolved notification');
  t.equal(last.payload.alerts[0].status, 'resolved');
  t.not(last.payload.alerts[0].endsAt, '0001-01-01T00:00:00Z');
  await a.stop();
});

t.test('a pending alert that clears is dropped silently', async (t) => {
  const { clock, cap, a } = setup({
    evaluation_interval: '10s',
    groups: [{ name: 'g', rules: [{ alert: 'Spike', metric: 'cpu', function: 'max', window: '10s', threshold: 0.8, for: '30s' }] }],
  });
  a.consumeMetrics(gauge('cpu', [{ t: T0 + 5000, v: 0.95 }]));
  clock.advance(10_000);
  t.same(states(a), ['pending']);
  clock.advance(10_000);
  t.same(states(a), [], 'dropped, not resolved');
  clock.advance(60_000);
  await new Promise((r) => setImmediate(r));
  t.equal(cap.sent.length, 0, 'nothing was ever sent');
  await a.stop();
});

t.test('keep_firing_for holds a firing alert after its condition clears', async (t) => {
  const { clock, a } = setup({
    evaluation_interval: '10s',
    groups: [{ name: 'g', rules: [{ alert: 'Flap', metric: 'cpu', function: 'last', window: '10s', threshold: 0.8, keep_firing_for: '25s' }] }],
  });
  a.consumeMetrics(gauge('cpu', [{ t: T0 + 5000, v: 0.95 }]));
  clock.advance(10_000);
  t.same(states(a), ['firing'], 'for 0: fires at the first evaluation');
  clock.advance(10_000); // cleared at T0+20s: keep firing since then
  t.same(states(a), ['firing']);
  clock.advance(10_000);
  t.same(states(a), ['firing'], '10s into keep_firing_for');
  clock.advance(10_000);
  t.same(states(a), ['firing'], '20s into keep_firing_for');
  clock.advance(10_000);
  t.same(states(a), ['inactive'], 'resolved after keep_firing_for');
  await a.stop();
});

t.test('window functions: rate on a cumulative counter, quantile on histograms', async (t) => {
  const { clock, a } = setup({
    evaluation_interval: '60s',
    groups: [{ name: 'g', rules: [
      { alert: 'ErrorRate', metric: 'errors', function: 'rate', window: '60s', threshold: 1, labels: { kind: 'rate' } },
      { alert: 'SlowP95', metric: 'latency', function: 'quantile', quantile: 0.95, window: '60s', threshold: 0.4 },
    ] }],
  });
  // 0 → 150 errors over the minute: 2.5/s.
  a.consumeMetrics(counter('errors', [{ t: T0 - 1000, v: 0, start: T0 - 5000 }, { t: T0 + 30_000, v: 90, start: T0 - 5000 }, { t: T0 + 59_000, v: 150, start: T0 - 5000 }]));
  // 100 observations; 90 ≤ 0.1, 10 in (0.5, 1]: p95 interpolates to 0.75.
  a.consumeMetrics(histogram('latency', [0.1, 0.5, 1], [{ t: T0 + 20_000, buckets: [90, 0, 10, 0] }]));
  clock.advance(60_000);
  const byName = new Map(a.evaluator.alerts().map((x) => [x.alertname, x]));
  t.equal(byName.get('ErrorRate')?.value, 2.5);
  t.equal(byName.get('SlowP95')?.value, 0.75);
  await a.stop();
});

t.test('test health: success rate, performance degradation, consecutive failures', async (t) => {
  const { clock, a } = setup({
    evaluation_interval: '60s',
    groups: [{ name: 'health', rules: [
      { alert: 'LowSuccess', kind: 'success_rate', metric: 'test.runs', window: '5m', threshold: 0.95, outcome_attribute: 'test.outcome' },
      { alert: 'Slower', kind: 'performance_degradation', metric: 'test.duration', window: '1m', baseline_window: '10m', quantile: 0.95, threshold: 1.5 },
      { alert: 'Failing', kind: 'consecutive_failures', metric: 'test.result', threshold: 3, outcome_attribute: 'test.outcome', by: ['test.name'] },
    ] }],
  });
  const start = T0 - 1000;
  // 90 passed, 10 failed in the window: 90% < 95%.
  a.consumeMetrics(counter('test.runs', [{ t: T0 + 10_000, v: 90, start, attrs: { 'test.outcome': 'passed', suite: 's' } }, { t: T0 + 10_000, v: 10, start, attrs: { 'test.outcome': 'failed', suite: 's' } }]));
  // Baseline durations around 100ms for 9 minutes, then 300ms in the last minute.
  const pts = [];
  for (let i = 0; i < 90; i++) pts.push({ t: T0 - 540_000 + i * 6000, v: 100 + (i % 5) });
  for (let i = 0; i < 10; i++) pts.push({ t: T0 + 5000 + i * 5000, v: 300 + i });
  a.consumeMetrics(gauge('test.duration', pts));
  // A test that fails three runs in a row (each point is one run, value 1).
  const run = (i: number, outcome: string) => a.consumeMetrics(gauge('test.result', [{ t: T0 + i * 1000, v: 1, attrs: { 'test.name': 'login', 'test.outcome': outcome } }]));
  run(1, 'passed'); run(2, 'failed'); run(3, 'failed');
  clock.advance(60_000);
  let byName = new Map(a.evaluator.alerts().map((x) => [x.alertname, x]));
  t.equal(byName.get('LowSuccess')?.value, 0.9, 'success rate 0.9');
  t.same(byName.get('LowSuccess')?.labels, { alertname: 'LowSuccess', suite: 's', 'service.name': 'api' }, 'grouped without the outcome');
  t.ok((byName.get('Slower')?.value ?? 0) >= 1.5, `p95 ratio ${byName.get('Slower')?.value} ≥ 1.5`);
  t.notOk(byName.has('Failing'), 'two failures in a row are not three');
  run(61, 'failed');
  clock.advance(60_000);
  byName = new Map(a.evaluator.alerts().map((x) => [x.alertname, x]));
  t.equal(byName.get('Failing')?.value, 3, 'third failure in a row fires');
  t.equal(byName.get('Failing')?.labels['test.name'], 'login');
  run(121, 'passed');
  clock.advance(60_000);
  byName = new Map(a.evaluator.alerts().map((x) => [x.alertname, x]));
  t.equal(byName.get('Failing')?.state, 'inactive', 'a pass resolves it');
  await a.stop();
});

t.test('security and anomaly event rules', async (t) => {
  const { clock, a } = setup({
    evaluation_interval: '10s',
    groups: [{ name: 'sec', rules: [
      { alert: 'HighThreat', kind: 'security', min_score: 0.7, window: '1m', severity: 'critical' },
      { alert: 'SqliBurst', kind: 'security', threat_types: ['sqli'], min_score: 0.5, count: 3, window: '1m', by: ['client.address'] },
      { alert: 'Anomalous', kind: 'anomaly', min_score: 0.8, window: '1m' },
    ] }],
  });
  a.consumeLogs(threat(T0 + 1000, 'sqli', 0.6, '10.0.0.1'));
  a.consumeLogs(threat(T0 + 2000, 'sqli', 0.65, '10.0.0.1'));
  a.consumeLogs(threat(T0 + 3000, 'xss', 0.9, '10.0.0.2'));
  a.consumeLogs(threat(T0 + 4000, 'sqli', 0.6, '10.0.0.3'));
  a.consumeLogs(event('anomaly', T0 + 5000, { 'anomaly.score': new Double(0.95), 'anomaly.name': 'cpu', 'anomaly.kind': 'metric' }, { 'service.name': 'db' }));
  a.consumeLogs(event('anomaly', T0 + 5000, { 'anomaly.score': new Double(0.3), 'anomaly.name': 'mem', 'anomaly.kind': 'metric' }, { 'service.name': 'db' }));
  clock.advance(10_000);
  let list = a.evaluator.alerts();
  t.same(list.filter((x) => x.alertname === 'HighThreat').map((x) => x.labels['client.address']), ['10.0.0.2'], 'only the 0.9 threat is ≥ 0.7');
  t.equal(list.filter((x) => x.alertname === 'SqliBurst').length, 0, 'two sqli from one IP are not three');
  const anom = list.filter((x) => x.alertname === 'Anomalous');
  t.equal(anom.length, 1);
  t.equal(anom[0].labels['anomaly.name'], 'cpu');
  t.equal(anom[0].labels['service.name'], 'db');
  t.notOk('anomaly.score' in anom[0].labels, 'scores are not labels');
  a.consumeLogs(threat(T0 + 11_000, 'sqli', 0.7, '10.0.0.1'));
  clock.advance(10_000);
  list = a.evaluator.alerts();
  const burst = list.filter((x) => x.alertname === 'SqliBurst');
  t.equal(burst.length, 1, 'third sqli from the same IP within the window');
  t.same(burst[0].labels, { alertname: 'SqliBurst', 'client.address': '10.0.0.1' });
  t.equal(burst[0].value, 3);
  clock.advance(60_000);
  t.ok(a.evaluator.alerts().every((x) => x.state === 'inactive'), 'all resolve once the window has passed');
  await a.stop();
});
