/**
 * alertmanager exporter: against Debian's prometheus-alertmanager when it is installed (started
 * here on 127.0.0.1 with a temporary storage path), else a local fake of /api/v2/alerts; and the
 * re-send and error behaviour against the fake.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertmanagerExporterFactory } from '../exporters/alertmanager';
import { PermanentError } from '../src/errors';
import { FakeServer, build, logsOf, notification, sleep } from './fixtures/notify/helpers';

const AM = ['prometheus-alertmanager', 'alertmanager'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface AmAlert { labels: Record<string, string>; annotations: Record<string, string>; status: { state: string }; endsAt: string; startsAt: string; generatorURL: string }

/** A running Alertmanager (real or fake) and how to list its alerts. */
async function alertmanager(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; list(): Promise<AmAlert[]>; real: boolean }> {
  if (AM) {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-am-'));
    writeFileSync(join(dir, 'am.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
    const port = await freePort();
    const proc = spawn(AM, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: 'ignore' });
    t.teardown(async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    });
    const url = `http://127.0.0.1:${port}`;
    const end = Date.now() + 15_000;
    for (;;) {
      const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > end) throw new Error('alertmanager did not become ready');
      await sleep(100);
    }
    return { url, real: true, list: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as AmAlert[] };
  }
  // The fake keeps what was posted, answers /api/v2/alerts with the alerts whose endsAt is ahead.
  const store = new Map<string, AmAlert>();
  const srv = await new FakeServer((r, res) => {
    if (r.method !== 'POST' || r.url !== '/api/v2/alerts') return void res.writeHead(404).end();
    for (const a of JSON.parse(r.body) as AmAlert[]) store.set(JSON.stringify(a.labels), { ...a, status: { state: 'active' } });
    res.writeHead(200).end();
  }).start();
  t.teardown(() => srv.close());
  return {
    url: srv.url, real: false,
    list: async () => [...store.values()].filter((a) => !a.endsAt || Date.parse(a.endsAt) > Date.now()),
  };
}

t.test(`alerts reach ${AM ? 'a real' : 'a fake'} Alertmanager and resolve`, async (t) => {
  const am = await alertmanager(t);
  const { ex } = build(alertmanagerExporterFactory, { url: am.url, sending_queue: { enabled: false } });
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined });
  const specs = [
    { labels: { alertname: 'DiskFull', severity: 'critical', instance: 'db-1' }, annotations: { summary: 'disk full on db-1' }, startsAt: Date.now() - 60_000 },
    { labels: { alertname: 'DiskFull', severity: 'critical', instance: 'db-2' }, annotations: { summary: 'disk full on db-2' }, startsAt: Date.now() - 30_000 },
  ];
  await ex.logs!.consume(logsOf(notification(specs)));
  let alerts = await am.list();
  t.equal(alerts.length, 2, `two active alerts (${am.real ? 'real' : 'fake'} Alertmanager)`);
  const db1 = alerts.find((a) => a.labels.instance === 'db-1')!;
  t.same(db1.labels, specs[0].labels);
  t.equal(db1.annotations.summary, 'disk full on db-1');
  t.equal(db1.status.state, 'active');
  t.equal(Date.parse(db1.startsAt), specs[0].startsAt, 'startsAt kept');
  t.ok(Date.parse(db1.endsAt) > Date.now() + 3 * 60_000, 'endsAt several resend intervals ahead');
  t.match(db1.generatorURL, /^http:\/\/vigil\.example\/alerts\?fp=/);

  await ex.logs!.consume(logsOf(notification([{ ...specs[0], status: 'resolved', endsAt: Date.now() - 1000 }, specs[1]])));
  alerts = await am.list();
  t.same(alerts.map((a) => a.labels.instance), ['db-2'], 'the resolved alert is no longer active');
  await ex.shutdown!();
});

t.test('re-sends active alerts every resend_interval; 400 is permanent', async (t) => {
  const srv = await new FakeServer((r, res) => { res.writeHead(JSON.parse(r.body).some((a: AmAlert) => a.labels.bad) ? 400 : 200).end('{"message":"invalid"}'); }).start();
  t.teardown(() => srv.close());
  const { ex } = build(alertmanagerExporterFactory, { url: `${srv.url}/`, resend_interval: '200ms', sending_queue: { enabled: false } });
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined });
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'A' } }, { labels: { alertname: 'A', i: '2' } }])));
  await sleep(700);
  const bodies = srv.requests.map((r) => JSON.parse(r.body) as Array<{ labels: Record<string, string>; endsAt: string }>);
  t.ok(bodies.length >= 3, `initial post and re-sends (${bodies.length})`);
  t.ok(srv.requests.every((r) => r.url === '/api/v2/alerts'));
  t.ok(bodies.every((b) => b.length === 2), 'each re-send holds both active alerts');
  t.ok(Date.parse(bodies.at(-1)![0].endsAt) > Date.parse(bodies[0][0].endsAt), 'endsAt moves forward');
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'A' }, status: 'resolved' }, { labels: { alertname: 'A', i: '2' }, status: 'resolved' }])));
  const n = srv.requests.length;
  await sleep(500);
  t.equal(srv.requests.length, n, 'nothing left to re-send after the resolve');
  await t.rejects(ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'B', bad: 'x' } }]))), PermanentError);
  await ex.shutdown!();
});
