/**
 * Acceptance-style timing scenarios in the manner of Alertmanager's own acceptance tests (grouping,
 * group_wait, group_interval, repeat_interval, resolve with send_resolved, inhibition, silences),
 * run against TWO targets with ONE table of expectations:
 *
 *   - Vigil: an in-process collector (alerts connector, api extension, webhook exporter);
 *   - the real Alertmanager (Debian's `prometheus-alertmanager`), when installed (.ci/run installs it).
 *
 * Both get the same routing (generated from the scenario table), the same alerts and silences through
 * Alertmanager's API v2, and send webhook notifications to one local HTTP server. Every notification
 * is checked against the table: receiver, group key, status, the alerts and their fingerprints (the
 * fingerprint Vigil computes), and the time it arrived. A notification may not come before the time
 * the table gives (the timers cannot be early: that bound does not depend on load); it may come late
 * by `LATE` ms on a busy machine. Then Vigil's and Alertmanager's payloads are compared field by field.
 *
 * The scenarios are independent (each has its own `scenario` label, route and receivers), so they
 * run side by side against one Alertmanager process and one collector: the file takes about as long
 * as its longest scenario.
 */
import t, { Test } from 'tap';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTest } from './helpers/collector';
import type { ApiExtension } from '../extensions/api';
import { fingerprint, Labels } from '../src/alerting/labels';
import { freePort } from './prometheus-fixtures';

t.setTimeout(120_000);

const AM = ['prometheus-alertmanager', 'alertmanager'].find((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0);

/** How late a notification may arrive on a loaded machine (the real Alertmanager was seen 1.7 s late at
 *  load 17 on 2 cores). Early is never allowed: the lower bounds are exact. */
const LATE = 2500;
/** Date.now() against the senders' monotonic timers: a reading may round 1 ms the other way. */
const EARLY = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The scenario table

interface Receiver { name: string; send_resolved?: boolean }
interface Route {
  receiver: string;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  matchers?: string[];
  routes?: Route[];
}
interface InhibitRule { source_matchers: string[]; target_matchers: string[]; equal: string[] }
/** One expected webhook notification. Alerts are written `status name=value,name=value` without the
 *  scenario label. `at` is the time window after the scenario's start, before the LATE slack. */
interface Expected { receiver: string; groupKey: string; status: 'firing' | 'resolved'; alerts: string[]; at: [number, number] }

/** What a step may do to a target, through Alertmanager's API v2 only. */
interface Target {
  name: string;
  url: string;
  /** Silence ids by the scenario's own names (the targets choose different ids). */
  silences: Map<string, string>;
}
interface Step {
  at: number;
  /** Wait (up to a generous timeout) until the scenario has this many notifications on the target. */
  afterNotifications?: number;
  run: (tg: Target, ctx: StepContext) => Promise<void>;
}
interface StepContext { t: Test; scenario: Scenario; step: Step; t0: number }

interface Scenario {
  name: string;
  what: string;
  route: Route; // its matchers get scenario="<name>"
  receivers: Receiver[];
  inhibit_rules?: InhibitRule[];
  steps: Step[];
  /** Nothing more may arrive before this time. */
  end: number;
  expect: Expected[];
}

/** A scenario's alert: its labels with the scenario label. Its start is the scenario's start, and a
 *  resolved alert ends at its step's scheduled time (already past when it is posted): the same times
 *  for both targets. */
function alert(c: StepContext, labels: Labels, resolved = false) {
  const s = c.scenario.name;
  return { labels: { ...labels, scenario: s }, annotations: { summary: `${labels.alertname} fired` }, generatorURL: `http://rules.example/${s}`, startsAt: iso(c.t0), ...(resolved ? { endsAt: iso(c.t0 + c.step.at) } : {}) };
}

async function post(tg: Target, alerts: unknown[]): Promise<void> {
  const r = await fetch(`${tg.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  if (r.status !== 200) throw new Error(`${tg.name}: POST /api/v2/alerts answered ${r.status}: ${await r.text()}`);
}

async function addSilence(tg: Target, key: string, matchers: Array<{ name: string; value: string; isRegex: boolean }>): Promise<void> {
  const body = { matchers: matchers.map((m) => ({ ...m, isEqual: true })), startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), createdBy: 'acceptance', comment: key };
  const r = await fetch(`${tg.url}/api/v2/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${tg.name}: POST /api/v2/silences answered ${r.status}: ${await r.text()}`);
  tg.silences.set(key, ((await r.json()) as { silenceID: string }).silenceID);
}

async function expireSilence(tg: Target, key: string): Promise<void> {
  const r = await fetch(`${tg.url}/api/v2/silence/${tg.silences.get(key)}`, { method: 'DELETE' });
  if (r.status !== 200) throw new Error(`${tg.name}: DELETE /api/v2/silence answered ${r.status}: ${await r.text()}`);
}

async function listAlerts(tg: Target, filter: string): Promise<Array<{ labels: Labels; fingerprint: string; status: { state: string; silencedBy: string[]; inhibitedBy: string[] } }>> {
  const r = await fetch(`${tg.url}/api/v2/alerts?${new URLSearchParams([['filter', filter]])}`);
  return (await r.json()) as never;
}

const iso = (ms: number) => new Date(ms).toISOString();

const scenarios: Scenario[] = [
  {
    name: 'grouping',
    what: 'group_wait first, an alert joining is sent at the next group_interval, nothing when nothing changes',
    route: { receiver: 'grouping', group_by: ['alertname'], group_wait: '1s', group_interval: '1500ms', repeat_interval: '1h' },
    receivers: [{ name: 'grouping' }],
    steps: [
      { at: 0, run: (tg, c) => post(tg, [alert(c, { alertname: 'A', instance: '1' }), alert(c, { alertname: 'A', instance: '2' }), { ...alert(c, { alertname: 'B', instance: '1' }), endsAt: iso(c.t0 + 3600_000) }]) },
      { at: 1300, afterNotifications: 2, run: (tg, c) => post(tg, [alert(c, { alertname: 'A', instance: '3' })]) },
    ],
    end: 4500,
    expect: [
      { receiver: 'grouping', groupKey: '{}/{scenario="grouping"}:{alertname="A"}', status: 'firing', alerts: ['firing alertname=A,instance=1', 'firing alertname=A,instance=2'], at: [1000, 1000] },
      { receiver: 'grouping', groupKey: '{}/{scenario="grouping"}:{alertname="B"}', status: 'firing', alerts: ['firing alertname=B,instance=1'], at: [1000, 1000] },
      { receiver: 'grouping', groupKey: '{}/{scenario="grouping"}:{alertname="A"}', status: 'firing', alerts: ['firing alertname=A,instance=1', 'firing alertname=A,instance=2', 'firing alertname=A,instance=3'], at: [2500, 2500] },
    ],
  },
  {
    name: 'repeat',
    what: 'repeat_interval: an unchanged group is sent again at the first group_interval tick after repeat_interval',
    route: { receiver: 'repeat', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1500ms' },
    receivers: [{ name: 'repeat' }],
    steps: [{ at: 0, run: (tg, c) => post(tg, [alert(c, { alertname: 'R' })]) }],
    end: 5600, // the next repeat would be at 7 s
    expect: [1000, 3000, 5000].map((at) => ({ receiver: 'repeat', groupKey: '{}/{scenario="repeat"}:{alertname="R"}', status: 'firing' as const, alerts: ['firing alertname=R'], at: [at, at] as [number, number] })),
  },
  {
    name: 'resolve',
    what: 'resolved alerts are sent once as resolved where send_resolved is on, not where it is off',
    route: { receiver: 'resolve-loud', group_by: ['alertname'], group_wait: '1s', group_interval: '1500ms', repeat_interval: '1h', routes: [{ matchers: ['team="quiet"'], receiver: 'resolve-quiet' }] },
    receivers: [{ name: 'resolve-loud' }, { name: 'resolve-quiet', send_resolved: false }],
    steps: [
      { at: 0, run: (tg, c) => post(tg, [alert(c, { alertname: 'X', team: 'loud' }), alert(c, { alertname: 'X', team: 'quiet' })]) },
      // After the firing notifications (1 s), before the next look (2.5 s).
      { at: 1500, afterNotifications: 2, run: (tg, c) => post(tg, [alert(c, { alertname: 'X', team: 'loud' }, true), alert(c, { alertname: 'X', team: 'quiet' }, true)]) },
    ],
    end: 4500,
    expect: [
      { receiver: 'resolve-loud', groupKey: '{}/{scenario="resolve"}:{alertname="X"}', status: 'firing', alerts: ['firing alertname=X,team=loud'], at: [1000, 1000] },
      { receiver: 'resolve-quiet', groupKey: '{}/{scenario="resolve"}/{team="quiet"}:{alertname="X"}', status: 'firing', alerts: ['firing alertname=X,team=quiet'], at: [1000, 1000] },
      { receiver: 'resolve-loud', groupKey: '{}/{scenario="resolve"}:{alertname="X"}', status: 'resolved', alerts: ['resolved alertname=X,team=loud'], at: [2500, 2500] },
    ],
  },
  {
    name: 'inhibit',
    what: 'a critical alert mutes warnings with the same cluster only, until it resolves',
    route: { receiver: 'inhibit', group_by: ['alertname', 'cluster'], group_wait: '1s', group_interval: '1500ms', repeat_interval: '1h' },
    receivers: [{ name: 'inhibit' }],
    inhibit_rules: [{ source_matchers: ['scenario="inhibit"', 'severity="critical"'], target_matchers: ['scenario="inhibit"', 'severity="warning"'], equal: ['cluster'] }],
    steps: [
      { at: 0, run: (tg, c) => post(tg, [alert(c, { alertname: 'DBDown', severity: 'critical', cluster: 'eu' }), alert(c, { alertname: 'SlowQueries', severity: 'warning', cluster: 'eu' }), alert(c, { alertname: 'SlowQueries', severity: 'warning', cluster: 'us' })]) },
      {
        at: 1300, afterNotifications: 2, run: async (tg, c) => {
          const [eu] = await listAlerts(tg, 'cluster="eu"').then((l) => l.filter((a) => a.labels.alertname === 'SlowQueries'));
          c.t.equal(eu?.status.state, 'suppressed', `${tg.name}: the eu warning is suppressed`);
          c.t.same(eu?.status.inhibitedBy, [fingerprint({ alertname: 'DBDown', severity: 'critical', cluster: 'eu', scenario: 'inhibit' })], `${tg.name}: inhibited by the critical alert's fingerprint`);
          // The source resolves: the warning is sent at its group's next look (2.5 s).
          await post(tg, [alert(c, { alertname: 'DBDown', severity: 'critical', cluster: 'eu' }, true)]);
        },
      },
    ],
    end: 4500,
    expect: [
      { receiver: 'inhibit', groupKey: '{}/{scenario="inhibit"}:{alertname="DBDown", cluster="eu"}', status: 'firing', alerts: ['firing alertname=DBDown,cluster=eu,severity=critical'], at: [1000, 1000] },
      { receiver: 'inhibit', groupKey: '{}/{scenario="inhibit"}:{alertname="SlowQueries", cluster="us"}', status: 'firing', alerts: ['firing alertname=SlowQueries,cluster=us,severity=warning'], at: [1000, 1000] },
      { receiver: 'inhibit', groupKey: '{}/{scenario="inhibit"}:{alertname="DBDown", cluster="eu"}', status: 'resolved', alerts: ['resolved alertname=DBDown,cluster=eu,severity=critical'], at: [2500, 2500] },
      { receiver: 'inhibit', groupKey: '{}/{scenario="inhibit"}:{alertname="SlowQueries", cluster="eu"}', status: 'firing', alerts: ['firing alertname=SlowQueries,cluster=eu,severity=warning'], at: [2500, 2500] },
    ],
  },
  {
    name: 'silence',
    what: 'silenced alerts are muted until the silence is expired, then sent at the next look',
    route: { receiver: 'silence', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
    receivers: [{ name: 'silence' }],
    steps: [
      {
        at: 0, run: async (tg, c) => {
          await addSilence(tg, 'noisy', [{ name: 'alertname', value: 'Noisy|Chatty', isRegex: true }, { name: 'scenario', value: 'silence', isRegex: false }]);
          await post(tg, [alert(c, { alertname: 'Noisy' }), alert(c, { alertname: 'Quiet' })]);
        },
      },
      {
        at: 1400, afterNotifications: 1, run: async (tg, c) => {
          const [noisy] = await listAlerts(tg, 'alertname="Noisy"').then((l) => l.filter((a) => a.labels.scenario === 'silence'));
          c.t.equal(noisy?.status.state, 'suppressed', `${tg.name}: Noisy is suppressed`);
          c.t.same(noisy?.status.silencedBy, [tg.silences.get('noisy')], `${tg.name}: silenced by the silence`);
          await expireSilence(tg, 'noisy');
        },
      },
    ],
    end: 3600,
    expect: [
      { receiver: 'silence', groupKey: '{}/{scenario="silence"}:{alertname="Quiet"}', status: 'firing', alerts: ['firing alertname=Quiet'], at: [1000, 1000] },
      { receiver: 'silence', groupKey: '{}/{scenario="silence"}:{alertname="Noisy"}', status: 'firing', alerts: ['firing alertname=Noisy'], at: [2000, 2000] },
    ],
  },
  {
    name: 'mute-ends',
    what: 'the end of a mute alone does not notify again before repeat_interval (nothing was sent or recorded while muted)',
    route: { receiver: 'mute-ends', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
    receivers: [{ name: 'mute-ends' }],
    steps: [
      { at: 0, run: (tg, c) => post(tg, [alert(c, { alertname: 'M' })]) },
      { at: 1300, afterNotifications: 1, run: (tg, c) => addSilence(tg, 'm', [{ name: 'scenario', value: 'mute-ends', isRegex: false }]) },
      // The look at 2 s finds everything muted; the silence ends before the look at 3 s.
      { at: 2300, run: (tg, c) => expireSilence(tg, 'm') },
    ],
    end: 4500,
    expect: [
      { receiver: 'mute-ends', groupKey: '{}/{scenario="mute-ends"}:{alertname="M"}', status: 'firing', alerts: ['firing alertname=M'], at: [1000, 1000] },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Configuration of both targets from the table

function scenarioRoute(s: Scenario): Route {
  return { ...s.route, matchers: [`scenario="${s.name}"`, ...(s.route.matchers ?? [])] };
}
const allReceivers = () => scenarios.flatMap((s) => s.receivers);
const allInhibitRules = () => scenarios.flatMap((s) => s.inhibit_rules ?? []);
const root = () => ({ receiver: 'none', group_by: ['alertname'], routes: scenarios.map(scenarioRoute) });

/** The webhook sink both targets post to: /vigil and /alertmanager. */
interface Received { target: string; at: number; body: WebhookPayload }
interface WebhookPayload {
  version: string; groupKey: string; truncatedAlerts: number; status: string; receiver: string;
  groupLabels: Labels; commonLabels: Labels; commonAnnotations: Labels; externalURL: string;
  alerts: Array<{ status: string; labels: Labels; annotations: Labels; startsAt: string; endsAt: string; generatorURL: string; fingerprint: string }>;
}
async function webhookSink(t: Test): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ target: (req.url ?? '').slice(1), at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function startVigil(t: Test, hook: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-accept-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const alerts = { route: root(), receivers: [{ name: 'none' }, ...allReceivers()], inhibit_rules: allInhibitRules() };
  const yaml = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
connectors:
  alerts: ${JSON.stringify(alerts)}
exporters:
  webhook:
    url: ${hook}/vigil
extensions:
  api:
    endpoint: 127.0.0.1:0
service:
  data_dir: ${dataDir}
  extensions: [api]
  telemetry:
    metrics:
      address: null
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [webhook]
`;
  const running = await startTest(yaml);
  t.teardown(() => running.shutdown());
  return `http://${running.collector.component<ApiExtension>('extension', 'api')!.address}`;
}

async function startAlertmanager(t: Test, bin: string, hook: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-accept-am-'));
  const receivers = [{ name: 'none' }, ...allReceivers().map((r) => ({ name: r.name, webhook_configs: [{ url: `${hook}/alertmanager`, send_resolved: r.send_resolved ?? true }] }))];
  writeFileSync(join(dir, 'am.yml'), JSON.stringify({ route: root(), receivers, inhibit_rules: allInhibitRules() }));
  const port = await freePort();
  const proc: ChildProcess = spawn(bin, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30_000;
  while (!(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false))) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`alertmanager did not start: ${stderr}`);
    await sleep(50);
  }
  return url;
}

// ---------------------------------------------------------------------------------------------
// Running a scenario on every target at once, and checking what arrived

const short = (a: WebhookPayload['alerts'][number]) =>
  `${a.status} ${Object.entries(a.labels).filter(([k]) => k !== 'scenario').sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',')}`;

/** Alerts in a notification have no defined order in Alertmanager (a map): compare them sorted. */
const normal = (p: WebhookPayload) => ({ ...p, externalURL: '', alerts: [...p.alerts].sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : 1)) });

async function play(t: Test, s: Scenario, targets: Target[], received: Received[]): Promise<void> {
  const t0 = Date.now();
  const mine = (tg: Target) => received.filter((r) => r.target === tg.name && r.body.alerts[0]?.labels.scenario === s.name);
  for (const step of s.steps) {
    const wait = t0 + step.at - Date.now();
    if (wait > 0) await sleep(wait);
    await Promise.all(targets.map(async (tg) => {
      const end = Date.now() + 30_000;
      while (step.afterNotifications !== undefined && mine(tg).length < step.afterNotifications) {
        if (Date.now() > end) throw new Error(`${s.name} on ${tg.name}: waited 30 s for notification ${step.afterNotifications}`);
        await sleep(20);
      }
      await step.run(tg, { t, scenario: s, step, t0 });
    }));
  }
  // Until the end of the scenario, and until every expected notification came (however late).
  const end = Date.now() + 30_000;
  while (Date.now() < t0 + s.end || targets.some((tg) => mine(tg).length < s.expect.length)) {
    if (Date.now() > end) break;
    await sleep(50);
  }
  const got = new Map(targets.map((tg) => [tg.name, mine(tg)]));
  for (const tg of targets) {
    const list = got.get(tg.name)!;
    const seen = list.map((r) => `${r.at - t0}ms ${r.body.receiver} ${r.body.groupKey} ${r.body.status} [${r.body.alerts.map(short).sort().join('; ')}]`);
    t.equal(list.length, s.expect.length, `${tg.name}: ${s.expect.length} notifications; got ${JSON.stringify(seen, null, 1)}`);
    const left = [...list];
    for (const e of s.expect) {
      const i = left.findIndex((r) => r.body.receiver === e.receiver && r.body.groupKey === e.groupKey && r.body.status === e.status &&
        JSON.stringify(r.body.alerts.map(short).sort()) === JSON.stringify([...e.alerts].sort()));
      if (!t.ok(i >= 0, `${tg.name}: ${e.receiver} ${e.groupKey} ${e.status} [${e.alerts.join('; ')}]`)) continue;
      const [r] = left.splice(i, 1);
      const at = r.at - t0;
      t.ok(at >= e.at[0] - EARLY && at <= e.at[1] + LATE, `${tg.name}: ${e.groupKey} ${e.status} at ${at} ms, expected in [${e.at[0]}, ${e.at[1]}] (+${LATE} ms slack)`);
      for (const a of r.body.alerts) t.equal(a.fingerprint, fingerprint(a.labels), `${tg.name}: fingerprint of ${short(a)}`);
    }
  }
  // Same notifications, same payloads (the external URL aside), on both targets.
  const [vigil, am] = [got.get('vigil')!, got.get('alertmanager')];
  if (am) {
    const key = (r: Received) => `${r.body.groupKey} ${r.body.status} ${r.body.alerts.map(short).sort().join(';')}`;
    for (const v of vigil) {
      const twin = am.find((r) => key(r) === key(v));
      if (twin) t.same(normal(v.body), normal(twin.body), `payload of ${key(v)} as Alertmanager sends it`);
    }
  }
}

t.test('acceptance scenarios on Vigil and the real Alertmanager, one expectations table', async (t) => {
  const sink = await webhookSink(t);
  const targets: Target[] = [{ name: 'vigil', url: await startVigil(t, sink.url), silences: new Map() }];
  if (AM) targets.push({ name: 'alertmanager', url: await startAlertmanager(t, AM, sink.url), silences: new Map() });
  else t.comment('Alertmanager is not installed: the scenarios ran against Vigil only (.ci/run installs prometheus-alertmanager)');
  // The scenarios mostly wait on timers: run them side by side.
  (t as unknown as { jobs: number }).jobs = scenarios.length;
  await Promise.all(scenarios.map((s) => t.test(`${s.name}: ${s.what}`, (t) => play(t, s, targets, sink.received))));
});
