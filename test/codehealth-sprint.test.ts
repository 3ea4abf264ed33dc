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
