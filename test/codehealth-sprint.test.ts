/**
 * Sprint goals that cannot be evaluated (GitHub failing, no store, unknown component) keep completion 0
 * with an error and keep an earlier met time; weighted completion; the GitHub answer cache.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { listen } from '../src/util/net';
import { evaluateSprint, Sprint } from '../receivers/codehealth/sprint';
import type { ScanResult } from '../receivers/codehealth/analyze/scan';

const result = {
  components: [{ name: 'api', files: 1, functions: 4, implemented: 3, stubs: 1, exempt: 0, score: 0.75, loc: 10, test_files: 0 }],
} as unknown as ScanResult;

t.test('failing sources give errors, not crashes; met times survive a failure', async (t) => {
  let calls = 0;
  const gh = createServer((_req, res) => { calls++; res.writeHead(500).end('{"message":"boom"}'); });
  const addr = await listen(gh, { host: '127.0.0.1', port: 0 });
  t.teardown(() => new Promise<void>((r) => { gh.close(() => r()); gh.closeAllConnections(); }));
  const sprint: Sprint = {
    name: 'S', start: '2026-12-01', end: '2026-12-12',
    goals: [
      { id: 'm', description: '', weight: 1, kind: 'github_milestone', cond: { repository: 'a/b', milestone: 1, base_url: `http://${addr}` } },
      { id: 'q', description: '', weight: 1, kind: 'metric', cond: { name: 'x', threshold: 1, range: '1h' } },
      { id: 'c', description: '', weight: 1, kind: 'min_score', cond: { component: 'nope', score: 0.5 } },
      { id: 's', description: '', weight: 2, kind: 'min_score', cond: { component: 'api', score: 0.5 } },
    ],
  };
  const met = new Map<string, number | undefined>([['m', 1234]]);
  const cache = new Map<string, { at: number; completion: number }>();
  const st = await evaluateSprint(sprint, {
    repositories: [{ name: 'r', root: '.', result }],
    metAt: { get: (g) => met.get(g), set: (g, at) => met.set(g, at) },
    githubCache: cache,
    timeoutMs: 5000,
  });
  const g = Object.fromEntries(st.goals.map((x) => [x.id, x]));
  t.match(g.m, { completion: 0, met_at: 1234, error: /GitHub|500|boom/i });
  t.match(g.q, { completion: 0, error: /no store configured/ });
  t.match(g.c, { completion: 0, error: /no component "nope"/ });
  t.match(g.s, { completion: 1 });
  t.type(g.s.met_at, 'number');
  t.equal(st.completion, 2 / 5, 'weighted: only the weight-2 goal is done');
  t.ok(calls >= 1);
  t.equal(cache.size, 0, 'failures are not cached');
});

t.test('with several repositories, each goal goes out with the repository it is about; the total with the sprint', async (t) => {
  const { scanMetrics, sprintMetrics } = await import('../receivers/codehealth/telemetry');
  const scanOf = (stubs: number) => ({ ...result, score: 1, problems: [], components: [{ ...result.components[0], stubs, score: stubs ? 0.75 : 1 }] }) as unknown as ScanResult;
  const sprint: Sprint = {
    name: 'S', start: '2026-12-01', end: '2026-12-12',
    goals: [
      { id: 'shop-clean', description: '', weight: 1, kind: 'no_stubs', cond: { repository: 'shop', component: 'api' } },
      { id: 'billing-score', description: '', weight: 1, kind: 'min_score', cond: { repository: 'billing', component: 'api', score: 0.5 } },
      { id: 'latency', description: '', weight: 1, kind: 'metric', cond: { name: 'x', threshold: 1, range: '1h' } },
    ],
  };
  const repos = [{ name: 'shop', root: '.', result: scanOf(0) }, { name: 'billing', root: '.', result: scanOf(1) }];
  const st = await evaluateSprint(sprint, { repositories: repos, metAt: { get: () => undefined, set: () => undefined } });
  t.same(st.goals.map((g) => [g.id, g.repository]), [['shop-clean', 'shop'], ['billing-score', 'billing'], ['latency', undefined]]);
  const points = (m: ReturnType<typeof sprintMetrics>, name: string) => m.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.filter((x) => x.name === name)))
    .flatMap((x) => (x.data.type === 'gauge' ? x.data.dataPoints.map((p) => `${p.attributes['codehealth.goal'] ?? 'total'}=${p.value}`) : []));
  const shop = scanMetrics('shop', '/src/shop', repos[0].result, st, 1n);
  const billing = scanMetrics('billing', '/src/billing', repos[1].result, st, 1n);
  const whole = sprintMetrics(st, ['shop', 'billing'], 1n);
  t.same(points(shop, 'codehealth.sprint.goal.completion'), ['shop-clean=1']);
  t.same(points(billing, 'codehealth.sprint.goal.completion'), ['billing-score=1']);
  t.same(points(whole, 'codehealth.sprint.goal.completion'), ['latency=0'], 'a goal over the store belongs to no repository');
  t.same(points(whole, 'codehealth.sprint.completion'), [`total=${2 / 3}`]);
  t.same(points(shop, 'codehealth.sprint.completion'), [], 'the total is not repeated per repository');
  t.same(whole.resourceMetrics[0].resource.attributes, { 'service.name': 'codehealth', 'codehealth.sprint': 'S' });
  t.equal(billing.resourceMetrics[0].resource.attributes['codehealth.repository'], 'billing');
});
