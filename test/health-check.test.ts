/** health_check: 200 while components run, 503 when one fails; dependency checks and their metrics. */
import t from 'tap';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ExporterFactory, Host } from '../src/component';
import { HealthCheckExtension } from '../extensions/health_check';
import { otlpConfig, startTest } from './helpers/collector';
import { listen } from '../src/util/net';

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

t.test('health follows component status and runs checks', async (t) => {
  let host: Host | undefined;
  const flaky: ExporterFactory = {
    kind: 'exporter', type: 'flaky', description: '', signals: ['traces', 'metrics', 'logs'], configSchema: { type: 'object', properties: {} },
    create: (s, signals) => ({
      async start(h: Host) { host = h; },
      ...Object.fromEntries(signals.map((sig) => [sig, { consume: async () => {} }])),
      id: s.id,
    }),
  };
  const up = createServer((_q, r) => r.end('ok'));
  const upAddr = await listen(up, { host: '127.0.0.1', port: 0 });
  const closed = createServer();
  const closedAddr = await listen(closed, { host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => closed.close(() => r()));
  const dir = mkdtempSync(join(tmpdir(), 'vigil-health-'));
  const dbPath = join(dir, 'ok.db');
  new Database(dbPath).exec('create table t(x)');

  const extra = `exporters:
  flaky:
extensions:
  health_check:
    endpoint: 127.0.0.1:0
    check_interval: 100ms
    checks:
      - { name: upstream, http: "http://${upAddr}/" }
      - { name: db, sqlite: "${dbPath}" }
      - { name: cache, tcp: "${closedAddr}", timeout: 500ms }
`;
  const yaml = otlpConfig(['flaky'], { extra }).replace('service:\n', 'service:\n  extensions: [health_check]\n');
  const vigil = await startTest(yaml, [flaky]);
  t.teardown(async () => {
    await vigil.shutdown();
    up.close();
  });
  const hc = vigil.collector.getExtension<HealthCheckExtension>('health_check')!;
  const url = `http://${hc.address}/`;

  let r = await get(url);
  t.equal(r.status, 200, 'healthy while every component runs');
  t.equal(r.body.status, 'ok');
  t.ok(r.body.components.some((c: any) => c.id === 'otlp' && c.status === 'ok'), 'per-component status');
  const checks = Object.fromEntries(r.body.checks.map((c: any) => [c.name, c]));
  t.equal(checks.upstream.healthy, true);
  t.equal(checks.db.healthy, true);
  t.equal(checks.cache.healthy, false);
  t.match(checks.cache.error, /ECONNREFUSED/);

  const metrics = await vigil.telemetry.registry.getSingleMetricAsString('vigil_health_check_up');
  t.match(metrics, /vigil_health_check_up\{check="upstream"\} 1/);
  t.match(metrics, /vigil_health_check_up\{check="cache"\} 0/);

  host!.reportStatus('flaky', 'permanent_error', new Error('disk gone'));
  r = await get(url);
  t.equal(r.status, 503, 'a failed component makes it unhealthy');
  t.match(r.body.components.find((c: any) => c.id === 'flaky'), { status: 'permanent_error', error: 'disk gone' });
  host!.reportStatus('flaky', 'ok');
  r = await get(url);
  t.equal(r.status, 200, 'and healthy again when it recovers');
  t.equal((await get(`http://${hc.address}/other`)).status, 404);
});
