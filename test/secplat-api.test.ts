/**
 * The API's gate: no state change from a web page (content type, Origin, Host/DNS rebinding, CSRF),
 * roles on every registered route (401 anonymous, 403 below the role), and the audit log of every
 * state change and refusal, hash-chained so tampering is found.
 */
import t from 'tap';
import type { ApiExtension } from '../extensions/api';
import { AuditLog } from '../src/storage/audit';
import { openSqlite } from '../src/storage/sqlite';
import { raw, startDefault } from './helpers/secplat';

const SILENCE = JSON.stringify({ matchers: [{ name: 'alertname', value: 'X', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3600e3).toISOString(), createdBy: 't', comment: 'c' });

t.test('auth off: a web page cannot change state; programs and the console can', async (t) => {
  const d = await startDefault();
  t.teardown(() => d.stop());
  const api = d.vigil.collector.getExtension<ApiExtension>('api')!.address!;
  const page = { origin: 'https://evil.example' };

  // The issue's three forgeries, each refused on its own.
  t.equal((await raw(api, 'POST', '/api/silences', { 'content-type': 'text/plain' }, SILENCE)).status, 415, 'text/plain (a CORS simple request) is refused');
  t.equal((await raw(api, 'POST', '/api/silences', { 'content-type': 'application/json', ...page }, SILENCE)).status, 403, 'foreign Origin is refused');
  const rebound = await raw(api, 'POST', '/api/silences', { 'content-type': 'application/json', host: 'evil.example:8686' }, SILENCE);
  t.equal(rebound.status, 403, 'DNS rebinding: Host evil.example is refused');
  t.equal((await raw(api, 'GET', '/api/silences', { host: 'evil.example:8686' })).status, 403, 'reads too, under a foreign Host');
  t.equal((await raw(api, 'POST', '/api/alerts/0123456789abcdef/ack', { 'content-type': 'text/plain', ...page }, '{}')).status, 415);
  t.equal((await raw(api, 'GET', '/api/silences')).json().length, 0, 'nothing was silenced');

  // A program (no Origin, no cookies) with JSON: allowed without a token.
  t.equal((await raw(api, 'POST', '/api/silences', { 'content-type': 'application/json' }, SILENCE)).status, 200, 'program');
  // The console (same origin) needs the CSRF token from /api/session.
  const own = { origin: `http://${api}`, 'content-type': 'application/json' };
  const noToken = await raw(api, 'POST', '/api/silences', own, SILENCE);
  t.equal(noToken.status, 403);
  t.match(noToken.json().error, /X-CSRF-Token/);
  const session = (await raw(api, 'GET', '/api/session')).json();
  t.same(Object.keys(session).sort(), ['csrf_token', 'principal', 'role']);
  t.equal(session.principal, null);
  t.equal(session.role, 'admin', 'auth off: everyone may do everything');
  t.equal((await raw(api, 'POST', '/api/silences', { ...own, 'x-csrf-token': (session.csrf_token[0] === 'x' ? 'y' : 'x') + session.csrf_token.slice(1) }, SILENCE)).status, 403, 'wrong token');
  t.equal((await raw(api, 'POST', '/api/silences', { ...own, 'x-csrf-token': session.csrf_token }, SILENCE)).status, 200, 'console with token');
  t.equal((await raw(api, 'GET', '/api/silences', { host: `localhost:${api.split(':')[1]}` })).status, 200, 'localhost is a loopback name');
  t.equal((await raw(api, 'GET', '/api/silences')).json().length, 2);
});

const TOKENS = { viewer: 'viewer-token-0123456789', operator: 'operator-token-0123456789', admin: 'admin-token-0123456789' } as const;
const AUTH = `extensions:
  api:
    auth:
      tokens:
${Object.entries(TOKENS).map(([role, token]) => `        - { principal: ${role}-user, role: ${role}, token: ${token} }`).join('\n')}
`;
const RANK = ['viewer', 'operator', 'admin'] as const;

t.test('auth on: every route refuses anonymous callers (401) and roles below its own (403); the audit log records it all', async (t) => {
  const d = await startDefault(AUTH);
  t.teardown(() => d.stop());
  const ext = d.vigil.collector.getExtension<ApiExtension>('api')!;
  const api = ext.address!;
  const routes = ext.listRoutes();
  t.ok(routes.length >= 20, `walks ${routes.length} routes`);
  t.ok(routes.some((r) => r.pattern === '/api/audit' && r.role === 'admin'));
  let checked = 0;
  for (const r of routes) {
    const path = r.pattern.replace(/:[A-Za-z]+/g, '0123456789abcdef');
    const need = r.role ?? (r.method === 'GET' ? 'viewer' : 'operator');
    const headers: Record<string, string> = r.method === 'GET' ? {} : { 'content-type': 'application/json' };
    const body = r.method === 'GET' ? undefined : '{}';
    const anon = await raw(api, r.method, path, headers, body);
    if (need === 'anonymous') {
      t.not(anon.status, 401, `${r.method} ${r.pattern} is public`);
      continue;
    }
    t.equal(anon.status, 401, `${r.method} ${r.pattern}: anonymous → 401`);
    t.match(String(anon.headers['www-authenticate']), /^Bearer/);
    const wrong = await raw(api, r.method, path, { ...headers, authorization: 'Bearer not-a-token-at-all-xx' }, body);
    t.equal(wrong.status, 401, `${r.method} ${r.pattern}: wrong token → 401`);
    for (const role of RANK) {
      const res = await raw(api, r.method, path, { ...headers, authorization: `Bearer ${TOKENS[role]}` }, body);
      if (RANK.indexOf(role) < RANK.indexOf(need as (typeof RANK)[number])) t.equal(res.status, 403, `${r.method} ${r.pattern}: ${role} → 403`);
      else t.notOk([401, 403].includes(res.status), `${r.method} ${r.pattern}: ${role} is let through (${res.status})`);
    }
    checked++;
  }
  t.ok(checked >= 20);

  const session = (await raw(api, 'GET', '/api/session', { authorization: `Bearer ${TOKENS.operator}` })).json();
  t.same({ principal: session.principal, role: session.role }, { principal: 'operator-user', role: 'operator' });
  t.equal((await raw(api, 'GET', '/api/session')).json().principal, null, 'anonymous session');

  // The audit log: who, what, from where, outcome, for refusals and for calls let through.
  const audit = (await raw(api, 'GET', '/api/audit?limit=1000', { authorization: `Bearer ${TOKENS.admin}` })).json();
  t.equal(audit.enabled, true);
  const recs = audit.records as Array<Record<string, any>>;
  const silence403 = recs.find((x) => x.action === 'POST /api/silences' && x.principal === 'viewer-user' && x.status === 403);
  t.ok(silence403, 'a viewer trying to silence is recorded');
  t.equal(silence403!.outcome, 'refused');
  t.match(silence403!.remote, /^127\.0\.0\.1:\d+$/);
  const opSilence = recs.find((x) => x.action === 'POST /api/silences' && x.principal === 'operator-user');
  t.ok(opSilence, 'an operator silence call is recorded');
  t.equal(opSilence!.outcome, 'failed', 'the empty silence was refused by the handler (400), and recorded so');
  t.ok(recs.some((x) => x.principal === null && x.status === 401), 'anonymous refusals are recorded');
  t.notOk(JSON.stringify(recs).includes('token-0123456789'), 'no credentials in the audit log');
  t.ok(recs.every((x) => typeof x.time === 'string' && x.hash.length === 64));

  const log = new AuditLog(`${d.dir}/audit.db`);
  const ok = log.verify();
  t.equal(ok.ok, true);
  t.ok(ok.records >= recs.length);
  t.throws(() => log.db.prepare('UPDATE audit_log SET principal = ? WHERE seq = 2').run('someone-else'), /append-only/);
  t.throws(() => log.db.prepare('DELETE FROM audit_log WHERE seq = 2').run(), /append-only/);
  log.close();
});

t.test('a tampered audit chain is found, wherever the change is', async (t) => {
  const log = new AuditLog(':memory:');
  for (let i = 0; i < 5; i++) log.append({ principal: `p${i}`, role: 'operator', remote: '127.0.0.1:1', action: 'POST /api/silences', target: '/api/silences', outcome: 'ok', status: 200 });
  t.equal(log.verify().ok, true);
  // Someone with write access drops the guards and edits a record.
  log.db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
  log.db.prepare("UPDATE audit_log SET principal = 'nobody' WHERE seq = 3").run();
  const v = log.verify();
  t.equal(v.ok, false);
  t.equal((v as { seq: number }).seq, 3);
  log.db.prepare("UPDATE audit_log SET principal = 'p2' WHERE seq = 3").run();
  t.equal(log.verify().ok, true, 'restored');
  log.db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
  const gap = log.verify();
  t.equal(gap.ok, false);
  t.match((gap as { problem: string }).problem, /record 2 is missing/);
  log.close();
  t.ok(openSqlite(':memory:').open);
});
