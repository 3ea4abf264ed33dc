/**
 * The codehealth receiver in a running collector: metrics and stub logs through a pipeline into a
 * real SQLite store, GET /api/codehealth as the console and report read it, a file change picked
 * up by the watcher, a sprint with every kind of goal (GitHub faked at the protocol level), met
 * times kept across a restart, and `vigil validate` locating sprint file errors.
 */
import t from 'tap';
import { createServer, Server } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../src/logger';
import { startCollector, RunningCollector, loadAndValidate } from '../src/service';
import type { ApiExtension } from '../extensions/api';
import type { CodehealthReceiver } from '../receivers/codehealth';
import { ConfigError, formatIssue } from '../src/errors';
import { listen } from '../src/util/net';
import { buildReport } from '../src/cli/commands/report';

const dir = mkdtempSync(join(tmpdir(), 'vigil-codehealth-e2e-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

const repo = join(dir, 'repo');
function write(p: string, s: string): void {
  mkdirSync(join(repo, p, '..'), { recursive: true });
  writeFileSync(join(repo, p), s);
}
write('src/api/handlers.py', 'def list_users():\n    return []\n\ndef health():\n    return "ok"\n');
write('src/workers/jobs.ts', 'export function run(n: number): number { return n * 2; }\n');
write('src/workers/jobs.test.ts', 'export function helper(): void {}\n');
write('src/auth/login.py', 'class Login:\n    def check(self, user, pw):\n        return self.store.verify(user, pw)\n');

// A fake GitHub API: just the milestone listing the sprint goal reads.
let ghRequests = 0;
let ghAuth = '';
const gh: Server = createServer((req, res) => {
  ghRequests++;
  ghAuth = String(req.headers.authorization ?? '');
  if (req.url?.startsWith('/repos/acme/app/milestones')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([
      { number: 3, title: 'Sprint 7', open_issues: 1, closed_issues: 3, state: 'open' },
      { number: 2, title: 'Sprint 6', open_issues: 0, closed_issues: 9, state: 'closed' },
    ]));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
});

const db = join(dir, 'vigil.db');
const sprintFile = join(dir, 'sprint.yaml');

function config(): string {
  return `
receivers:
  codehealth:
    repositories:
      - path: ${repo}
        name: shop
        components: { api: src/api, workers: src/workers, auth: src/auth }
    collection_interval: 300ms
    debounce: 50ms
    sprint: ${sprintFile}
    store: ${db}
exporters:
  sqlite:
    path: ${db}
    flush_interval: 20ms
extensions:
  api:
    endpoint: 127.0.0.1:0
service:
  data_dir: ${join(dir, 'data')}
  extensions: [api]
  telemetry: { metrics: { address: null } }
  pipelines:
    metrics: { receivers: [codehealth], exporters: [sqlite] }
    logs: { receivers: [codehealth], exporters: [sqlite] }
`;
}

async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function api(running: RunningCollector): Promise<any> {
  const res = await fetch(`http://${running.collector.getExtension<ApiExtension>('api')!.address}/api/codehealth`);
  return res.json();
}

t.test('end to end', async (t) => {
  const ghAddr = await listen(gh, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((r) => { gh.close(() => r()); gh.closeAllConnections(); }));
  writeFileSync(sprintFile, `
sprint:
  name: Sprint 7
  start: 2026-11-30
  end: 2026-12-11
  goals:
    - id: api-no-stubs
      description: No stubs left in the API
      weight: 2
      no_stubs: { component: api }
    - id: workers-score
      min_score: { component: workers, score: 0.9 }
    - id: auth-login
      exists: { file: src/auth/login.py, symbol: Login.check }
    - id: auth-logout
      exists: { file: src/auth/logout.py }
    - id: score-metric
      metric: { name: codehealth.score, agg: min, range: 1h, op: '>=', threshold: 0.5 }
    - id: milestone
      github_milestone: { repository: acme/app, milestone: Sprint 7, token: gh-test-token, base_url: http://${ghAddr} }
`);
  let running = await startCollector({ yaml: [config()], logger: silentLogger() });
  t.teardown(() => running.shutdown());

  // Metrics and one log per stub reach the store.
  const store = new Database(db, { readonly: true, fileMustExist: false });
  const stubRows = await waitFor('stub logs in SQLite', () => {
    try {
      const rows = new Database(db, { readonly: true }).prepare(`SELECT body, attributes, event_name FROM logs`).all() as Array<{ body: string; attributes: string; event_name: string }>;
      return rows.length ? rows : undefined;
    } catch { return undefined; }
  });
  t.equal(stubRows.length, 1, 'one stub in the tree');
  t.match(JSON.parse(stubRows[0].attributes), { 'code.filepath': 'src/api/handlers.py', 'code.lineno': 1, 'code.function': 'list_users', 'codehealth.stub.kind': 'placeholder_return', 'codehealth.component': 'api' });
  t.equal(stubRows[0].event_name, 'codehealth.stub');
  store.close();

  const metricValue = (name: string, component: string) => {
    const d = new Database(db, { readonly: true });
    try {
      const row = d.prepare(`SELECT p.value FROM metric_series s JOIN metric_number_points p USING (series_id)
        WHERE s.metric_name = ? AND json_extract(s.attributes, '$."codehealth.component"') = ? ORDER BY p.time_unix_nano DESC LIMIT 1`).get(name, component) as { value: number } | undefined;
      return row?.value;
    } finally { d.close(); }
  };
  await waitFor('metrics in SQLite', () => metricValue('codehealth.score', 'api') !== undefined);
  t.equal(metricValue('codehealth.functions', 'api'), 2);
  t.equal(metricValue('codehealth.stubs', 'api'), 1);
  t.equal(metricValue('codehealth.score', 'api'), 0.5);
  t.equal(metricValue('codehealth.test_files', 'workers'), 1);
  t.equal(metricValue('codehealth.functions', 'workers'), 1, 'test helpers are not scored');

  // The API, in the contract's shape; the metric goal needs stored data, so it is met on a later scan.
  const body = await waitFor('the sprint evaluated with stored metrics', async () => {
    const b = await api(running);
    return b.repositories?.[0]?.sprint?.goals?.find((g: any) => g.id === 'score-metric')?.completion === 1 ? b : undefined;
  });
  t.same(Object.keys(body), ['repositories']);
  const r = body.repositories[0];
  t.same(Object.keys(r).sort(), ['components', 'name', 'path', 'scanned_at', 'score', 'sprint', 'stubs']);
  t.match(r, { name: 'shop', path: repo, score: 3 / 4 });
  t.type(r.scanned_at, 'number');
  t.same(r.components.find((c: any) => c.name === 'api'), { name: 'api', functions: 2, implemented: 1, stubs: 1, score: 0.5, loc: 4, test_files: 0 });
  t.same(r.stubs, [{ file: 'src/api/handlers.py', line: 1, function: 'list_users', kind: 'placeholder_return', component: 'api' }]);
  const goals = Object.fromEntries(r.sprint.goals.map((g: any) => [g.id, g]));
  t.match(r.sprint, { name: 'Sprint 7', start: '2026-11-30', end: '2026-12-11' });
  t.equal(goals['api-no-stubs'].completion, 0.5, 'progress toward no stubs is the score');
  t.notOk('met_at' in goals['api-no-stubs']);
  t.equal(goals['workers-score'].completion, 1);
  t.type(goals['workers-score'].met_at, 'number');
  t.equal(goals['auth-login'].completion, 1);
  t.equal(goals['auth-logout'].completion, 0);
  t.equal(goals['milestone'].completion, 0.75, '3 of 4 issues closed');
  t.equal(ghAuth, 'token gh-test-token');
  t.same(Object.keys(goals['api-no-stubs']).sort(), ['completion', 'description', 'id', 'repository', 'weight']);
  t.equal(goals['api-no-stubs'].repository, 'shop', 'a code goal names its repository');
  t.equal(goals['milestone'].repository, undefined, 'a GitHub goal is about no repository');
  // weights 2,1,1,1,1,1: (2*0.5 + 1 + 1 + 0 + 1 + 0.75) / 7
  t.ok(Math.abs(r.sprint.completion - (2 * 0.5 + 1 + 1 + 0 + 1 + 0.75) / 7) < 1e-9, `sprint completion ${r.sprint.completion}`);
  const metAt = goals['workers-score'].met_at;

  // A change: the stub gets implemented, a new file appears; the watcher rescans only what changed.
  const receiver = running.collector.component<CodehealthReceiver>('receiver', 'codehealth')!;
  write('src/api/handlers.py', 'def list_users():\n    return db.query("select * from users")\n\ndef health():\n    return "ok"\n');
  write('src/auth/logout.py', 'def logout(session):\n    pass\n');
  const after = await waitFor('the change picked up', async () => {
    const b = await api(running);
    const x = b.repositories[0];
    const done = (id: string) => x.sprint.goals.find((g: any) => g.id === id).completion === 1;
    return x.stubs.length === 1 && x.stubs[0].file === 'src/auth/logout.py' && done('api-no-stubs') && done('auth-logout') ? x : undefined;
  });
  const goals2 = Object.fromEntries(after.sprint.goals.map((g: any) => [g.id, g]));
  t.equal(goals2['api-no-stubs'].completion, 1);
  t.equal(goals2['auth-logout'].completion, 1);
  t.equal(goals2['workers-score'].met_at, metAt, 'met time kept while the goal stays met');

  // `vigil report`'s code health section: components, sprint goals and the stub list with file:line.
  const { blocks } = await buildReport({ values: new Map([['api', [`http://${running.collector.getExtension<ApiExtension>('api')!.address}`]]]), bools: new Set(), rest: [] });
  const at = blocks.findIndex((b: any) => b.kind === 'h' && b.text === 'Code health');
  t.ok(at >= 0, 'a Code health section');
  const section = JSON.stringify(blocks.slice(at));
  t.match(section, /"shop: score /);
  t.match(section, /Sprint 7: \d+(\.\d+)?% complete/);
  t.match(section, /"No stubs left in the API","2","100(\.0)?%"/);
  t.match(section, /"src\/auth\/logout\.py:1","logout","pass_only","auth"/);
  await waitFor('the new stub logged', () => {
    const d = new Database(db, { readonly: true });
    try {
      return (d.prepare(`SELECT count(*) AS n FROM logs WHERE json_extract(attributes, '$."code.filepath"') = 'src/auth/logout.py'`).get() as { n: number }).n === 1;
    } finally { d.close(); }
  });
  await receiver.idle();

  // A restart keeps the met times and does not log known stubs again.
  await running.shutdown();
  running = await startCollector({ yaml: [config()], logger: silentLogger() });
  const again = await waitFor('the API after a restart', async () => (await api(running)).repositories?.find((x: any) => x.sprint));
  t.equal(again.sprint.goals.find((g: any) => g.id === 'workers-score').met_at, metAt);
  await running.collector.component<CodehealthReceiver>('receiver', 'codehealth')!.idle();
  await new Promise((r) => setTimeout(r, 200));
  const d = new Database(db, { readonly: true });
  t.equal((d.prepare(`SELECT count(*) AS n FROM logs WHERE json_extract(attributes, '$."code.filepath"') = 'src/auth/logout.py'`).get() as { n: number }).n, 1, 'no duplicate stub log after restart');
  d.close();
  t.ok(ghRequests > 0);
});

t.test('vigil validate locates sprint file problems at file:line:col', async (t) => {
  const bad = join(dir, 'bad-sprint.yaml');
  writeFileSync(bad, `sprint:
  name: S
  start: 2026-12-01
  end: 2026-11-01
  goals:
    - id: a
      weight: -1
      no_stubs: { component: api }
    - id: b
      min_score: { component: api, score: 2 }
      exists: { file: x.py }
    - id: c
      no_stubs: { component: api, repository: nope }
`);
  const yaml = config().replace(sprintFile, bad);
  let err: unknown;
  try { loadAndValidate({ yaml: [yaml] }); } catch (e) { err = e; }
  t.ok(err instanceof ConfigError);
  const text = (err as ConfigError).issues.map(formatIssue).join('\n');
  t.match(text, `${bad}:7:7 sprint.goals[0].weight: must be > 0`);
  t.match(text, `${bad}:10:36 sprint.goals[1].min_score.score: must be <= 1`);
  const t2 = join(dir, 'bad2.yaml');
  writeFileSync(t2, `sprint:\n  name: S\n  start: 2026-12-01\n  end: 2026-11-01\n  goals:\n    - id: b\n      min_score: { component: api, score: 0.5 }\n      exists: { file: x.py }\n    - id: c\n      no_stubs: { component: api, repository: nope }\n`);
  try { loadAndValidate({ yaml: [config().replace(sprintFile, t2)] }); err = undefined; } catch (e) { err = e; }
  const text2 = (err as ConfigError).issues.map(formatIssue).join('\n');
  t.match(text2, `${t2}:6:7 sprint.goals[0]: give exactly one condition`);
  t.match(text2, `${t2}:10:35 sprint.goals[1].no_stubs.repository: no configured repository named "nope"`);
  t.match(text2, `${t2}:4:3 sprint.end: the sprint ends before it starts`);
});
