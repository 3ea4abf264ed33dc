/**
 * Erasure of a data subject end to end: spans, log records and metric points naming the subject
 * (enduser.id, user.id, a configured key, or the resource) go into the store over OTLP; then
 * `DELETE /api/subjects/:id` (admin only, audited) and `vigil erase --subject` remove them, report
 * the counts, leave everyone else's data alone, and leave no trace of the id in the file; the same
 * for the security processor's windows, block list and threats and the anomaly processor's series,
 * live (API) and in state.db (CLI). The
 * `audit` receiver exports the audit records of all this as OTLP log records through a pipeline.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiExtension } from '../extensions/api';
import { silentLogger } from '../src/logger';
import { startCollector } from '../src/service';
import type { OtlpReceiver } from '../receivers/otlp';
import { openSqlite } from '../src/storage/sqlite';
import { AuditLog, auditPath } from '../src/storage/audit';
import { commands } from '../src/cli/index';
import { raw } from './helpers/secplat';
import { captureExporter } from './helpers/collector';
import { AuditReceiver, AuditReceiverConfig } from '../receivers/audit';
import { Telemetry } from '../src/telemetry';
import type { Logs } from '../src/model';

const eraseCommand = commands.find((c) => c.name === 'erase')!;
const SUBJECT = 'subject-7f3a9c-erase-me';
const OTHER = 'subject-keep-41bd';
const SUBJECT_IP = '203.0.113.77';
const ADMIN = 'admin-token-0123456789abc';
const OPERATOR = 'operator-token-0123456789';

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const nowNs = () => String(BigInt(Date.now()) * 1_000_000n);

function traces(user: string, n: number, key = 'enduser.id', resourceUser?: string) {
  const res = [str('service.name', 'shop'), ...(resourceUser ? [str('user.id', resourceUser)] : [])];
  return { resourceSpans: [{ resource: { attributes: res }, scopeSpans: [{ scope: { name: 't' }, spans: Array.from({ length: n }, (_, i) => ({
    traceId: `${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(16, '0')}${i.toString(16).padStart(16, '0')}`, spanId: (i + 1).toString(16).padStart(16, '0'),
    name: 'GET /cart', kind: 2, startTimeUnixNano: nowNs(), endTimeUnixNano: nowNs(), attributes: [str(key, user), str('http.route', '/cart')],
  })) }] }] };
}

function logs(user: string, n: number) {
  return { resourceLogs: [{ resource: { attributes: [str('service.name', 'shop')] }, scopeLogs: [{ scope: { name: 't' }, logRecords: Array.from({ length: n }, () => ({
    timeUnixNano: nowNs(), severityNumber: 9, body: { stringValue: 'login' }, attributes: [str('user.id', user)],
  })) }] }] };
}

/** Failed logins: the security processor keeps a window per user and per address, and blocks the address at 5. */
function failures(user: string, ip: string, n: number) {
  return { resourceLogs: [{ resource: { attributes: [str('service.name', 'shop')] }, scopeLogs: [{ scope: { name: 't' }, logRecords: Array.from({ length: n }, () => ({
    timeUnixNano: nowNs(), severityNumber: 13, eventName: 'auth.failure', body: { stringValue: 'bad password' }, attributes: [str('user.id', user), str('client.address', ip)],
  })) }] }] };
}

const stateBytes = (dir: string) => Buffer.concat(['state.db', 'state.db-wal'].map((f) => join(dir, f)).filter(existsSync).map((f) => readFileSync(f)));

function metrics(user: string) {
  return { resourceMetrics: [{ resource: { attributes: [str('service.name', 'shop')] }, scopeMetrics: [{ scope: { name: 't' }, metrics: [{
    name: 'cart.items', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [1, 2, 3].map((v, i) => ({
      startTimeUnixNano: String(BigInt(Date.now() - 60_000) * 1_000_000n), timeUnixNano: String(BigInt(Date.now() - 3000 + i * 1000) * 1_000_000n), asInt: String(v), attributes: [str('customer', user)],
    })) },
  }] }] }] };
}

async function post(http: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

function count(db: string, sql: string, ...args: unknown[]): number {
  const d = openSqlite(db, { readonly: true });
  try {
    return Number(d.prepare(sql).pluck().get(...args));
  } finally {
    d.close();
  }
}

t.test('DELETE /api/subjects/:id and vigil erase remove a subject from the store, and only that subject', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-secplat-erase-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'vigil.db');
  const { factory, capture } = captureExporter();
  const vigil = await startCollector({ logger: silentLogger(), factories: [factory], yaml: [`
extensions:
  api:
    endpoint: 127.0.0.1:0
    auth:
      tokens:
        - { principal: dpo, role: admin, token: ${ADMIN} }
        - { principal: ops, role: operator, token: ${OPERATOR} }
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
  otlp/state:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
  audit:
    poll_interval: 50ms
processors:
  security:
    crs: { enabled: false }
    persist_interval: 100ms
  anomaly:
    persist_interval: 100ms
exporters:
  nop:
  capture:
  sqlite:
    path: ${db}
    subject_keys: [enduser.id, user.id, customer]
service:
  extensions: [api]
  data_dir: ${dir}
  telemetry: { metrics: { address: null } }
  pipelines:
    traces: { receivers: [otlp], exporters: [sqlite] }
    logs: { receivers: [otlp], exporters: [sqlite] }
    metrics: { receivers: [otlp], exporters: [sqlite] }
    logs/audit: { receivers: [audit], exporters: [capture] }
    logs/security: { receivers: [otlp/state], processors: [security], exporters: [nop] }
    metrics/anomaly: { receivers: [otlp/state], processors: [anomaly], exporters: [nop] }
`] });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : vigil.shutdown()));
  const http = vigil.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints.http!;
  const api = vigil.collector.getExtension<ApiExtension>('api')!.address!;
  const stateHttp = vigil.collector.component<OtlpReceiver>('receiver', 'otlp/state')!.endpoints.http!;

  // The sqlite exporter answers only once rows are committed (durability: acknowledged).
  await post(http, '/v1/traces', traces(SUBJECT, 5));
  await post(http, '/v1/traces', traces(SUBJECT, 2, 'user.id'));
  await post(http, '/v1/traces', traces('someone', 3, 'http.user_agent', SUBJECT)); // named by the resource only
  await post(http, '/v1/traces', traces(OTHER, 4));
  await post(http, '/v1/logs', logs(SUBJECT, 6));
  await post(http, '/v1/logs', logs(OTHER, 2));
  await post(http, '/v1/metrics', metrics(SUBJECT));
  await post(http, '/v1/metrics', metrics(OTHER));
  t.equal(count(db, 'SELECT count(*) FROM spans'), 14);
  // Component state naming the subjects: security windows, a block of the subject's address, anomaly series.
  await post(stateHttp, '/v1/logs', failures(SUBJECT, SUBJECT_IP, 5));
  await post(stateHttp, '/v1/logs', failures(OTHER, '198.51.100.7', 2));
  await post(stateHttp, '/v1/metrics', metrics(SUBJECT));
  await post(stateHttp, '/v1/metrics', metrics(OTHER));
  const persisted = Date.now() + 30_000;
  while (!(stateBytes(dir).includes(SUBJECT) && stateBytes(dir).includes(SUBJECT_IP) && stateBytes(dir).includes(OTHER))) {
    if (Date.now() > persisted) throw new Error('the detector state never reached state.db');
    await new Promise((r) => setTimeout(r, 50));
  }

  const del = (token: string, id = SUBJECT) => raw(api, 'DELETE', `/api/subjects/${encodeURIComponent(id)}`, { authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  t.equal((await raw(api, 'DELETE', `/api/subjects/${SUBJECT}`, { 'content-type': 'application/json' })).status, 401, 'anonymous: 401');
  t.equal((await del(OPERATOR)).status, 403, 'operator: 403 (erasure is an admin action)');
  t.equal(count(db, 'SELECT count(*) FROM spans'), 14, 'nothing erased by the refused calls');

  const r = await del(ADMIN);
  t.equal(r.status, 200, r.text);
  const [report] = r.json().stores;
  t.match(report, { store: db, spans: 10, logs: 6, metric_points: 3, metric_series: 1, resources: 1 }, 'the counts of what was removed');
  const state = r.json().state as Array<{ place: string; removed: Record<string, number> }>;
  t.same(state.find((s) => s.place === 'security/security')?.removed, { users: 1, user_in_ip_windows: 1, ip_windows: 0, blocked: 0, profiles: 0, recent_threats: 2 }, 'security state: the user window, its mention in the address window, its two threats (user and address brute force)');
  t.same(state.find((s) => s.place === 'anomaly:anomaly')?.removed, { series: 1 }, 'anomaly: the series keyed by the subject');
  t.notOk(stateBytes(dir).includes(SUBJECT), 'the id is not in state.db or its WAL (written through, scrubbed)');
  t.ok(stateBytes(dir).includes(OTHER), "the other subject's state stays");
  const status = await raw(api, 'GET', '/api/security/status', { authorization: `Bearer ${ADMIN}` });
  t.notOk(status.text.includes(SUBJECT), 'the running processor forgot the subject (status)');
  t.ok(status.text.includes(SUBJECT_IP), 'its address is still blocked: erased only when the address is the subject');
  const byIp = await raw(api, 'DELETE', `/api/subjects/${SUBJECT_IP}`, { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' });
  t.match(byIp.json().state.find((s: { place: string }) => s.place === 'security/security').removed, { ip_windows: 1, blocked: 1, recent_threats: 0 }, 'an address as the subject: its window and block entry (its threats went with the user)');
  t.notOk((await raw(api, 'GET', '/api/security/blocked', { authorization: `Bearer ${ADMIN}` })).text.includes(SUBJECT_IP), 'unblocked');
  t.equal(count(db, 'SELECT count(*) FROM spans'), 4, "the other subject's spans stay");
  t.equal(count(db, 'SELECT count(*) FROM logs'), 2, "the other subject's logs stay");
  t.equal(count(db, 'SELECT count(*) FROM metric_number_points'), 3, "the other subject's points stay");
  t.equal(count(db, "SELECT count(*) FROM spans WHERE json_extract(attributes, '$.\"enduser.id\"') = ?", OTHER), 4);

  // Nothing left that names the subject: not in any row, not in the file's bytes (secure_delete, WAL folded in).
  const d = openSqlite(db, { readonly: true });
  for (const table of ['spans', 'logs', 'metric_series', 'resources']) {
    const rows = d.prepare(`SELECT * FROM ${table}`).all();
    t.notOk(JSON.stringify(rows).includes(SUBJECT), `no ${table} row names the subject`);
  }
  d.close();
  const bytes = Buffer.concat([readFileSync(db), ...(existsSync(`${db}-wal`) ? [readFileSync(`${db}-wal`)] : [])]);
  t.equal(bytes.indexOf(SUBJECT), -1, 'the id is not in the database file or its WAL');

  // The store keeps working after erasure (the writer's cached series and resources ids stay valid).
  await post(http, '/v1/metrics', metrics(OTHER));
  await post(http, '/v1/traces', traces(OTHER, 1));
  t.equal(count(db, 'SELECT count(*) FROM spans'), 5);

  // The audit records flow out as OTLP log records (the audit receiver follows audit.db).
  const exported = () => (capture.logs as Logs[]).flatMap((l) => l.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
  const deadline = Date.now() + 30_000;
  while (!exported().some((r) => r.attributes['vigil.audit.principal'] === 'dpo')) {
    if (Date.now() > deadline) throw new Error('the erasure never reached the logs pipeline');
    await new Promise((r) => setTimeout(r, 50));
  }
  const erasureLog = exported().find((r) => r.attributes['vigil.audit.principal'] === 'dpo')!;
  t.match(erasureLog, { eventName: 'vigil.audit', severityText: 'INFO', attributes: { 'vigil.audit.action': 'DELETE /api/subjects/:id', 'vigil.audit.outcome': 'ok', 'vigil.audit.status': 200, 'vigil.audit.role': 'admin' } }, 'the erasure as a log record');
  t.match(erasureLog.attributes['vigil.audit.hash'], /^[0-9a-f]{64}$/, 'with its link in the hash chain');
  t.ok(exported().some((r) => r.attributes['vigil.audit.principal'] === 'ops' && r.attributes['vigil.audit.outcome'] === 'refused' && r.severityText === 'WARN'), 'the refused attempt too');
  t.ok(exported().some((r) => r.attributes['vigil.audit.principal'] === 'anonymous' && r.attributes['vigil.audit.status'] === 401), 'and the anonymous one');
  const seqs = exported().map((r) => r.attributes['vigil.audit.seq'] as number);
  t.same(seqs, [...seqs].sort((a, b) => a - b).filter((v, i, a) => a.indexOf(v) === i), 'each record once, in order');

  // Audited: who erased, the refusals too.
  await vigil.shutdown();
  stopped = true;
  const audit = new AuditLog(auditPath(dir));
  const records = audit.list({ limit: 50 }).filter((x) => x.action === 'DELETE /api/subjects/:id');
  t.ok(records.some((x) => x.principal === 'dpo' && x.outcome === 'ok'), 'the erasure by the admin is in the audit log');
  t.ok(records.some((x) => x.principal === 'ops' && x.outcome === 'refused' && x.status === 403), 'the operator’s attempt too');
  audit.close();

  // The CLI, with Vigil stopped: the other subject, counted, audited.
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  (process.stdout as { write: unknown }).write = (s: string) => (out.push(String(s)), true);
  let code: number;
  try {
    code = await eraseCommand.run(['--user', OTHER, '--db', db, '--key', 'enduser.id', '--key', 'user.id', '--key', 'customer', '--data-dir', dir, '--json']);
  } finally {
    (process.stdout as { write: unknown }).write = write;
  }
  t.equal(code, 0);
  const cli = JSON.parse(out.join(''));
  t.match(cli.stores[0], { spans: 5, logs: 2, metric_points: 6 }, 'vigil erase reports what it removed');
  t.match(cli.state.find((s: { place: string }) => s.place === 'security/security').removed, { users: 1, user_in_ip_windows: 1 }, 'and what it removed from state.db');
  t.match(cli.state.find((s: { place: string }) => s.place === 'anomaly:anomaly').removed, { series: 1 });
  t.notOk(stateBytes(dir).includes(OTHER), 'the id is gone from state.db');
  t.equal(count(db, 'SELECT count(*) FROM spans'), 0);
  const audit2 = new AuditLog(auditPath(dir));
  t.ok(audit2.list({ limit: 5 }).some((x) => x.action === 'erase' && x.target === OTHER && x.remote === 'cli'), 'vigil erase is audited');
  t.equal(audit2.verify().ok, true, 'the audit chain is intact');
  audit2.close();
  t.equal(await eraseCommand.run(['--subject', 'x', '--db', join(dir, 'missing.db'), '--data-dir', dir]), 1, 'a missing store is an error');

  // The audit receiver resumes after a restart where it stopped: only the records written since
  // (the CLI's) come out; a pipeline refusal leaves them to be offered again.
  let refuse = true;
  const got: Logs[] = [];
  const receiver = new AuditReceiver(
    { id: 'audit', config: { poll_interval: '1h', start_at: 'beginning', max_batch: 500 } as AuditReceiverConfig, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir },
    { logs: { consume: async (l: Logs) => { if (refuse) throw new Error('pipeline full'); got.push(l); } } } as never,
  );
  await receiver.start();
  t.equal(got.length, 0, 'refused: nothing marked exported');
  refuse = false;
  await receiver.poll();
  const resumed = got.flatMap((l) => l.resourceLogs[0].scopeLogs[0].logRecords);
  t.same(resumed.map((r) => r.attributes['vigil.audit.action']), ['erase', 'erase'], 'only the records written after the restart, offered again after the refusal');
  t.equal(Number(resumed[0].attributes['vigil.audit.seq']), Math.max(...seqs) + 1, 'continuing the sequence');
  await receiver.shutdown();
});
