/**
 * Vigil as a drop-in for Alertmanager:
 *
 * 1. a real Prometheus (Debian's `prometheus`) scrapes Vigil's own metrics, evaluates an alerting rule
 *    on them and sends the alert to Vigil (`alerting.alertmanagers`): Vigil routes, groups and
 *    delivers it like its own rule alerts, with Prometheus's startsAt and generatorURL kept;
 * 2. POST /api/v2/alerts as Alertmanager takes it (defaults, resolve_timeout, validation, plain
 *    string errors), silenced and inhibited posted alerts;
 * 3. amtool (Debian's prometheus-alertmanager package) against Vigil: alert query with -s, -i,
 *    --receiver and matchers, silence add/query/update/expire, config show, config routes, cluster show;
 *    where the real Alertmanager is installed, the same amtool alert query runs against it too and
 *    prints the same alerts.
 */
import t, { Test } from 'tap';
import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { captureExporter, startTest } from './helpers/collector';
import type { ApiExtension } from '../extensions/api';
import { parseNotification, Notification } from '../src/alerting/notification';
import type { LogRecord } from '../src/model';
import { freePort } from './prometheus-fixtures';

const run = promisify(execFile);
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const PROMETHEUS = has('prometheus');
const AMTOOL = has('amtool');
const AM = ['prometheus-alertmanager', 'alertmanager'].find(has);

// Starting whole collectors (and Prometheus) is slow on a loaded machine: a generous bound, not a speed check.
t.setTimeout(300_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function vigil(t: Test, telemetryPort?: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-amapi-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { factory, capture } = captureExporter();
  const yaml = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
connectors:
  alerts:
    resolve_timeout: 2s
    route:
      receiver: team
      group_by: [alertname]
      group_wait: 200ms
      group_interval: 500ms
      repeat_interval: 1h
      routes:
        - receiver: dba
          matchers: ['team="db"']
    inhibit_rules:
      - source_matchers: ['severity="critical"']
        target_matchers: ['severity="warning"']
        equal: [cluster]
exporters:
  capture:
extensions:
  api:
    endpoint: 127.0.0.1:0
service:
  data_dir: ${dataDir}
  extensions: [api]
  telemetry:
    metrics:
      address: ${telemetryPort ? `127.0.0.1:${telemetryPort}` : 'null'}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [capture]
`;
  const running = await startTest(yaml, [factory]);
  t.teardown(() => running.shutdown());
  const address = running.collector.component<ApiExtension>('extension', 'api')!.address;
  const notifications = (): Notification[] => capture.logs.flatMap((l) => l.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)))
    .map((r: LogRecord) => parseNotification(r)).filter((n): n is Notification => !!n);
  return { url: `http://${address}`, address, notifications };
}

const post = (url: string, body: unknown) => fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

if (!PROMETHEUS) t.comment('prometheus is not installed: the check with a real Prometheus did not run (.ci/run installs it)');
else t.test('a real Prometheus sends its rule alerts to Vigil, which routes and delivers them', async (t) => {
  const port = await freePort();
  const v = await vigil(t, port);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prom-am-'));
  writeFileSync(join(dir, 'rules.yml'), `groups:
  - name: vigil
    interval: 1s
    rules:
      - alert: VigilScraped
        expr: up{job="vigil"} == 1
        labels: { severity: warning, team: db }
        annotations: { summary: 'Vigil at {{ $labels.instance }} is up' }
`);
  writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${join(dir, 'rules.yml')}]
scrape_configs:
  - job_name: vigil
    static_configs: [{ targets: ['127.0.0.1:${port}'] }]
alerting:
  alertmanagers:
    - static_configs: [{ targets: ['${v.address}'] }]
`);
  const promPort = await freePort();
  const proc: ChildProcess = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, `--web.external-url=http://127.0.0.1:${promPort}`], { stdio: 'ignore' });
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  });
  const n = await waitFor('a notification of the Prometheus alert', () => v.notifications().find((x) => x.payload.commonLabels.alertname === 'VigilScraped'), 90_000);
  t.equal(n.receiver, 'dba', 'routed by its labels (team="db" → dba)');
  t.equal(n.groupKey, '{}/{team="db"}:{alertname="VigilScraped"}');
  const a = n.payload.alerts[0];
  t.equal(a.status, 'firing');
  t.match(a.generatorURL, new RegExp(`^http://127\\.0\\.0\\.1:${promPort}/graph\\?g0\\.expr=`), 'generatorURL from Prometheus kept');
  t.equal(a.annotations.summary, `Vigil at 127.0.0.1:${port} is up`);
  t.equal(a.endsAt, '0001-01-01T00:00:00Z', 'Prometheus gives an end (its resend validity), not exposed while firing, as Alertmanager');
  // Prometheus's startsAt is when the rule started firing; Vigil must keep it, not its own time.
  const promAlerts = await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json() as { data: { alerts: Array<{ activeAt: string }> } };
  t.equal(Date.parse(a.startsAt), Date.parse(promAlerts.data.alerts[0].activeAt), 'startsAt is Prometheus\'s activeAt');
  const listed = await (await fetch(`${v.url}/api/v2/alerts`)).json() as Array<{ labels: Record<string, string>; receivers: Array<{ name: string }> }>;
  t.same(listed.map((x) => [x.labels.alertname, x.receivers.map((r) => r.name)]), [['VigilScraped', ['dba']]]);
});

t.test('POST /api/v2/alerts as Alertmanager takes it', async (t) => {
  const v = await vigil(t);
  // Defaults: no startsAt → now; no endsAt → now + resolve_timeout (2s here).
  const before = Date.now();
  t.equal((await post(v.url, [{ labels: { alertname: 'Disk', severity: 'warning', cluster: 'a' }, annotations: { summary: 's' }, generatorURL: 'http://gen/x' }])).status, 200);
  let list = await (await fetch(`${v.url}/api/v2/alerts`)).json() as any[];
  t.equal(list.length, 1);
  t.ok(Date.parse(list[0].startsAt) >= before - 1000 && Date.parse(list[0].startsAt) <= Date.now() + 1000, 'startsAt defaults to when it was received');
  t.ok(Math.abs(Date.parse(list[0].endsAt) - Date.parse(list[0].startsAt) - 2000) < 1000, 'endsAt defaults to received + resolve_timeout');
  t.equal(list[0].generatorURL, 'http://gen/x');
  t.same(list[0].status, { state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: [] });
  // Sender times are kept.
  const started = '2025-01-01T00:00:00.000Z';
  await post(v.url, [{ labels: { alertname: 'Old', cluster: 'a' }, startsAt: started, endsAt: new Date(Date.now() + 3600_000).toISOString() }]);
  list = await (await fetch(`${v.url}/api/v2/alerts?filter=alertname%3D%22Old%22`)).json() as any[];
  t.equal(list[0].startsAt, started);
  // Invalid alerts: 400 with a plain string; the valid ones of the same request are taken.
  const bad = await post(v.url, [{ labels: {} }, { labels: { alertname: 'X' }, startsAt: '2025-01-02T00:00:00Z', endsAt: '2025-01-01T00:00:00Z' }, { labels: { alertname: 'Good' } }]);
  t.equal(bad.status, 400);
  const msg = await bad.json();
  t.type(msg, 'string', 'the error body is a JSON string');
  t.match(msg, /at least one label pair required/);
  t.match(msg, /start time must be before end time/);
  t.ok((await (await fetch(`${v.url}/api/v2/alerts?filter=alertname%3D%22Good%22`)).json() as any[]).length === 1, 'the valid alert was taken');
  t.equal((await post(v.url, { labels: { a: 'b' } })).status, 400, 'not an array');
  // Inhibition: a critical alert of the same cluster mutes a warning posted after it.
  await post(v.url, [{ labels: { alertname: 'Outage', severity: 'critical', cluster: 'a' } }]);
  await post(v.url, [{ labels: { alertname: 'Fan', severity: 'warning', cluster: 'a' } }]);
  const disk = (await (await fetch(`${v.url}/api/v2/alerts?filter=alertname%3D%22Fan%22`)).json() as any[])[0];
  t.equal(disk.status.state, 'suppressed');
  t.equal(disk.status.inhibitedBy.length, 1);
  t.equal((await (await fetch(`${v.url}/api/v2/alerts?inhibited=false&filter=alertname%3D%22Fan%22`)).json() as any[]).length, 0, 'inhibited=false leaves it out');
  // Delivered like Vigil's own: grouped per alertname, the inhibited warning not sent.
  await waitFor('notifications', () => v.notifications().some((n) => n.payload.commonLabels.alertname === 'Outage') || undefined);
  await sleep(1000); // two more group looks
  t.notOk(v.notifications().some((n) => n.payload.alerts.some((a) => a.labels.alertname === 'Fan')), 'the inhibited alert is not sent');
  // An alert posted without endsAt resolves by itself after resolve_timeout.
  await waitFor('Good resolved by timeout', async () => (await (await fetch(`${v.url}/api/v2/alerts?filter=alertname%3D%22Good%22`)).json() as any[]).length === 0 || undefined, 30_000);
  await waitFor('the resolved notification', () => v.notifications().some((n) => n.payload.commonLabels.alertname === 'Good' && n.status === 'resolved') || undefined, 30_000);
  t.pass('resolved by resolve_timeout and told as resolved');
});

t.test('silences over /api/v2 as Alertmanager: unknown id 404, expired one updated into a new silence', async (t) => {
  const v = await vigil(t);
  const add = (body: unknown) => fetch(`${v.url}/api/v2/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const base = { matchers: [{ name: 'alertname', value: 'Disk', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), createdBy: 't', comment: 'c' };
  const unknown = await add({ ...base, id: 'no-such-silence' });
  t.equal(unknown.status, 404);
  t.type(await unknown.json(), 'string');
  const { silenceID } = await (await add(base)).json() as { silenceID: string };
  t.equal((await fetch(`${v.url}/api/v2/silence/${silenceID}`, { method: 'DELETE' })).status, 200);
  const again = await add({ ...base, id: silenceID, endsAt: new Date(Date.now() + 7200_000).toISOString() });
  t.equal(again.status, 200);
  const { silenceID: newId } = await again.json() as { silenceID: string };
  t.not(newId, silenceID, 'updating an expired silence creates a new one');
  const filtered = await (await fetch(`${v.url}/api/v2/silences?filter=alertname%3D%22Disk%22`)).json() as any[];
  t.same(filtered.map((s) => s.status.state).sort(), ['active', 'expired']);
  t.equal((await (await fetch(`${v.url}/api/v2/silences?filter=alertname%3D%22Other%22`)).json() as any[]).length, 0, 'filter on the silence matchers');
  const status = await (await fetch(`${v.url}/api/v2/status`)).json() as any;
  t.equal(status.cluster.status, 'disabled');
  t.match(status.config.original, /receiver: team/);
  t.same(await (await fetch(`${v.url}/api/v2/receivers`)).json(), [{ name: 'dba' }, { name: 'team' }]);
});

async function amtool(url: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run('amtool', [`--alertmanager.url=${url}`, ...args], { timeout: 30_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/** A real Alertmanager with the same routing as the Vigil above, for side-by-side answers. */
async function realAlertmanager(t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-am-'));
  writeFileSync(join(dir, 'am.yml'), `route:
  receiver: team
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 500ms
  repeat_interval: 1h
  routes:
    - receiver: dba
      matchers: ['team="db"']
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
receivers: [{ name: team }, { name: dba }]
`);
  const port = await freePort();
  const proc = spawn(AM!, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: 'ignore' });
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('alertmanager ready', async () => (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) || undefined, 30_000);
  return url;
}

if (!AMTOOL) t.comment('amtool is not installed: the amtool checks did not run (.ci/run installs prometheus-alertmanager)');
else t.test('amtool against Vigil (and the real Alertmanager, same expectations)', async (t) => {
  const v = await vigil(t);
  const targets: Array<[string, string]> = [['vigil', v.url]];
  if (AM) targets.push(['alertmanager', await realAlertmanager(t)]);
  const endsAt = new Date(Date.now() + 3600_000).toISOString();
  const alerts = [
    { labels: { alertname: 'Disk', severity: 'warning', cluster: 'a', team: 'db' }, annotations: { summary: 'disk' }, endsAt },
    { labels: { alertname: 'Outage', severity: 'critical', cluster: 'a' }, annotations: { summary: 'outage' }, endsAt },
    { labels: { alertname: 'Cpu', severity: 'warning', cluster: 'b' }, annotations: { summary: 'cpu' }, endsAt },
    { labels: { alertname: 'Mem', severity: 'warning', cluster: 'b' }, annotations: { summary: 'mem' }, endsAt },
  ];
  const names = (out: string) => out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean).sort();
  // The targets are independent: run the same commands on both at once.
  await Promise.all(targets.map(async ([who, url]) => {
    t.equal((await post(url, alerts)).status, 200, `${who}: alerts posted`);
    const add = await amtool(url, 'silence', 'add', 'alertname=Mem', '-c', 'maintenance', '-a', 'tester', '-d', '1h');
    t.equal(add.code, 0, `${who}: silence add: ${add.err}`);
    const sid = add.out.trim();
    t.match(sid, /^[0-9a-f-]{36}$/, `${who}: prints the silence id`);
    // Muting is applied at once by Vigil, within a moment by Alertmanager.
    await waitFor(`${who}: Mem silenced`, async () => (await amtool(url, 'alert', 'query', '-s')).out.includes('Mem') || undefined, 10_000);
    t.same(names((await amtool(url, 'alert', 'query')).out), ['Cpu', 'Outage'], `${who}: alert query lists active alerts only`);
    t.same(names((await amtool(url, 'alert', 'query', '-s')).out), ['Mem'], `${who}: -s lists the silenced`);
    t.same(names((await amtool(url, 'alert', 'query', '-i')).out), ['Disk'], `${who}: -i lists the inhibited`);
    t.same(names((await amtool(url, 'alert', 'query', '-a', '-s', '-i')).out), ['Cpu', 'Disk', 'Mem', 'Outage'], `${who}: all states`);
    t.same(names((await amtool(url, 'alert', 'query', '-i', '--receiver', 'dba')).out), ['Disk'], `${who}: --receiver`);
    t.same(names((await amtool(url, 'alert', 'query', '-a', '-s', '-i', 'cluster=b')).out), ['Cpu', 'Mem'], `${who}: matchers`);
    t.same(names((await amtool(url, 'alert', 'query', 'Outage')).out), ['Outage'], `${who}: a bare word is the alertname`);
    const q = await amtool(url, 'silence', 'query', '-q');
    t.equal(q.out.trim(), sid, `${who}: silence query -q`);
    const upd = await amtool(url, 'silence', 'update', '-q', sid, '-d', '2h');
    t.equal(upd.code, 0, `${who}: silence update: ${upd.err}`);
    // (amtool 0.25 prints a Go pointer for update -q, against Alertmanager too: look at the list instead.)
    t.equal((await amtool(url, 'silence', 'query', '-q')).out.trim(), sid, `${who}: an active silence is updated in place`);
    t.equal((await amtool(url, 'silence', 'expire', sid)).code, 0, `${who}: silence expire`);
    t.equal((await amtool(url, 'silence', 'query', '-q')).out.trim(), '', `${who}: no active silence left`);
    t.match((await amtool(url, 'silence', 'query', '-q', '--expired')).out, sid, `${who}: listed as expired`);
    t.equal((await amtool(url, 'silence', 'expire', sid)).code, 0, `${who}: expiring an expired silence is not an error`);
    const unknown = await amtool(url, 'silence', 'expire', '00000000-0000-0000-0000-000000000000');
    t.not(unknown.code, 0, `${who}: expiring an unknown silence fails`);
    t.notMatch(unknown.err, /cannot unmarshal/, `${who}: with a readable reason: ${unknown.err.trim()}`);
    const bad = await amtool(url, 'silence', 'add', 'alertname=X', '-c', 'c', '-a', 'a', '--start', '2030-01-02T00:00:00Z', '--end', '2030-01-01T00:00:00Z');
    t.not(bad.code, 0, `${who}: an invalid silence is refused`);
    t.notMatch(bad.err, /cannot unmarshal/, `${who}: the reason is printed: ${bad.err.trim()}`);
    // alert add, and the other output formats of alert query.
    const added = await amtool(url, 'alert', 'add', 'Added', 'severity=info', 'cluster=c', '--annotation=summary=added by amtool', `--end=${endsAt}`);
    t.equal(added.code, 0, `${who}: alert add: ${added.err}`);
    await waitFor(`${who}: the added alert listed`, async () => names((await amtool(url, 'alert', 'query', 'Added')).out).includes('Added') || undefined, 10_000);
    const asJson = JSON.parse((await amtool(url, 'alert', 'query', '-o', 'json', 'Added')).out) as Array<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string } }>;
    t.same(asJson.map((a) => [a.labels, a.annotations, a.status.state]), [[{ alertname: 'Added', severity: 'info', cluster: 'c' }, { summary: 'added by amtool' }, 'active']], `${who}: alert query -o json`);
    const extended = (await amtool(url, 'alert', 'query', '-o', 'extended', 'Added')).out;
    t.match(extended, /^Labels\s+Annotations\s+Starts At\s+Ends At\s+Generator URL/, `${who}: -o extended header`);
    t.match(extended, /alertname="Added" cluster="c" severity="info"\s+summary="added by amtool"/, `${who}: -o extended row`);
    // --unprocessed alone asks for unprocessed alerts only: none, once an alert is routed.
    const unprocessed = await amtool(url, 'alert', 'query', '--unprocessed', 'Added');
    t.equal(unprocessed.code, 0, `${who}: --unprocessed`);
    t.same(names(unprocessed.out), [], `${who}: --unprocessed lists no processed alert`);
    // silence import: the JSON array `silence query -o json` prints.
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-amtool-')), 'silences.json');
    writeFileSync(file, JSON.stringify([{ matchers: [{ name: 'alertname', value: 'Imported', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), createdBy: 'importer', comment: 'imported' }]));
    const imported = await amtool(url, 'silence', 'import', file);
    rmSync(join(file, '..'), { recursive: true, force: true });
    t.equal(imported.code, 0, `${who}: silence import: ${imported.err}`);
    t.match(imported.out.trim(), /^[0-9a-f-]{36}$/, `${who}: silence import prints the new id`);
    t.equal((await amtool(url, 'silence', 'query', '-q', 'alertname=Imported')).out.trim(), imported.out.trim(), `${who}: the imported silence is listed`);
    const show = await amtool(url, 'config', 'show');
    t.equal(show.code, 0, `${who}: config show: ${show.err}`);
    t.match(show.out, /receiver: team/);
    const routes = await amtool(url, 'config', 'routes');
    t.equal(routes.code, 0, `${who}: config routes: ${routes.err}`);
    t.match(routes.out, /team/);
    t.match(routes.out, /dba/);
    const test = await amtool(url, 'config', 'routes', 'test', 'team=db');
    t.equal(test.out.trim(), 'dba', `${who}: config routes test`);
    const cluster = await amtool(url, 'cluster', 'show');
    t.equal(cluster.code, 0, `${who}: cluster show: ${cluster.err}`);
    t.match(cluster.out, /Status:/);
  }));
});
