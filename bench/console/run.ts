/**
 * Console benchmark: on a store holding 1,000,000 spans, 1,000,000 metric points and 100,000 log
 * records (seeded directly, see seed.ts), measures
 *
 * - the server's cost of one live update per page (building the page's JSON, as the stream does
 *   every tick): CPU time and wall time, median over --runs, for the ranges 1h, 24h and 7d;
 * - each page's first complete render in chromium: from navigation start until the page shows the
 *   data of its first stream message (performance.now() in the page), median over --runs.
 *
 *   npm run build && node dist/bench/console/run.js [--db FILE] [--spans 1000000] [--series 200] [--points 5000] [--logs 100000] [--runs 10]
 *
 * With --db FILE and an existing file, the data is reused. VIGIL_CHROMIUM overrides /usr/bin/chromium.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { silentLogger } from '../../src/logger';
import { startCollector } from '../../src/service';
import type { ApiExtension } from '../../extensions/api';
import { PAGES, Page } from '../../extensions/api/console-data';
import { seedStore } from './seed';

function arg(name: string, def: number): number;
function arg(name: string, def: string | undefined): string | undefined;
function arg(name: string, def: number | string | undefined): number | string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  return typeof def === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = arg('runs', 10);
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-console-'));
  const db = arg('db', undefined) ?? join(tmp, 'vigil.db');
  const opts = { spans: arg('spans', 1_000_000), series: arg('series', 200), points: arg('points', 5000), logs: arg('logs', 100_000) };
  if (!existsSync(db)) {
    const t0 = Date.now();
    seedStore(db, opts);
    process.stderr.write(`seeded ${db} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } else process.stderr.write(`reusing ${db} (its data was seeded relative to when it was made)\n`);

  const running = await startCollector({
    logger: silentLogger(),
    yaml: [`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  sqlite:
    path: ${db}
    retention:
      max_size_mib: 100000
extensions:
  api:
    endpoint: 127.0.0.1:0
    console:
      update_interval: 1s
service:
  data_dir: ${tmp}
  extensions: [api]
  telemetry:
    metrics:
      address: null
  pipelines:
    traces: { receivers: [otlp], exporters: [sqlite] }
`],
  });
  const api = running.collector.component<ApiExtension>('extension', 'api')!;
  const base = `http://${api.address}`;
  const load = loadavg()[0];

  process.stdout.write(`\nConsole benchmark: ${opts.spans} spans, ${opts.series * opts.points} metric points, ${opts.logs} log records; ${runs} runs; load average ${load.toFixed(1)} on ${require('node:os').cpus().length} cores\n\n`);
  process.stdout.write('| page | range | server CPU per update (median) | wall (median) |\n|---|---|---:|---:|\n');
  for (const page of PAGES) {
    for (const range of ['1h', '24h', '7d']) {
      const q = new URLSearchParams({ start: `now-${range}` });
      const cpu: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < runs; i++) {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        await api.console.data.page(page as Page, q);
        wall.push(performance.now() - w0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      process.stdout.write(`| ${page} | ${range} | ${median(cpu).toFixed(1)} ms | ${median(wall).toFixed(1)} ms |\n`);
      if (page === 'overview' || page === 'alerts' || page === 'runs' || page === 'codehealth') break; // no range
    }
  }

  const exe = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
  const profile = mkdtempSync(join(tmpdir(), 'vigil-bench-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: exe, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const tab = ctx.pages()[0] ?? (await ctx.newPage());
  process.stdout.write('\n| page (range 24h) | first complete render (median) | max |\n|---|---:|---:|\n');
  for (const page of PAGES) {
    const times: number[] = [];
    for (let i = 0; i < Math.max(3, Math.min(runs, 5)); i++) {
      await tab.goto(`${base}/?page=${page}&range=24h`, { waitUntil: 'commit' });
      // Complete: the first stream message is on the page (freshness stamped, the loading note gone).
      const t = await tab.waitForFunction(() => {
        const d = (globalThis as any).document; // eslint-disable-line @typescript-eslint/no-explicit-any
        const f = d.querySelector('.freshness');
        return f && f.getAttribute('data-at') && !d.querySelector('main .empty')?.textContent?.startsWith('Loading') ? performance.now() : 0;
      }, undefined, { polling: 'raf', timeout: 60_000 });
      times.push(Number(await t.jsonValue()));
    }
    process.stdout.write(`| ${page} | ${median(times).toFixed(0)} ms | ${Math.max(...times).toFixed(0)} ms |\n`);
  }
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
  await running.shutdown();
  if (!arg('db', undefined)) rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
