/**
 * The console in a real browser (Debian's chromium through playwright-core), against a Vigil fed
 * by the OpenTelemetry JS SDK: what a person sees on each page, a live update arriving without a
 * reload, the time range changing the charts, and attacker-controlled HTML rendered as text.
 * Screenshots go to test-artefacts/console/ (VIGIL_TEST_ARTEFACTS to change it).
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { ATTACKER_IP, BRUTE_IP, HOOK_REFUSAL, XSS, Scenario, startScenario } from './helpers/console-scenario';
import { findAssets } from '../extensions/api/console';
import { reportCommand } from '../src/cli/commands/report';

// Functions passed to page.evaluate run in the browser; this file is type-checked without the DOM
// library, so they reach document and window through globalThis.

const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
const ARTEFACTS = resolve(process.env.VIGIL_TEST_ARTEFACTS ?? join(__dirname, '..', 'test-artefacts', 'console'));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

t.setTimeout(300_000);

t.test('the console in chromium', async (t) => {
  t.ok(existsSync(CHROMIUM), `chromium at ${CHROMIUM} (apt-get install -y chromium, or set VIGIL_CHROMIUM)`);
  t.ok(findAssets(), 'the console is built (npm run build)');
  mkdirSync(ARTEFACTS, { recursive: true });
  const s: Scenario = await startScenario({ interval: '1s' });
  t.teardown(() => s.stop());
  const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  const ctx: BrowserContext = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  t.teardown(async () => {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page: Page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(30_000);
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Full pages as test artefacts; with VIGIL_UPDATE_DOCS=1 also the first screen of each for the README.
  const shot = async (name: string) => {
    await page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });
    if (process.env.VIGIL_UPDATE_DOCS === '1') await page.screenshot({ path: join(__dirname, '..', 'docs', 'console', `${name}.png`) });
  };
  // Live pages show how fresh their data is; Explore answers searches and has no stream to wait for.
  const goto = async (query: string) => {
    await page.goto(`${s.api}/?${query}`);
    if (!query.startsWith('page=explore')) await page.locator('.freshness[data-at]:not([data-at=""])').first().waitFor();
  };

  // The report first, while no new data arrives: it must say what the API says.
  await t.test('vigil report: markdown and HTML, section by section', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-report-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const api = async (path: string) => (await fetch(`${s.api}${path}`)).json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const overview = await api('/api/console/overview');
    const perf = await api('/api/console/performance?start=now-1h');
    // (Each run prints one "wrote FILE" line, which tap passes through.)
    t.equal(await reportCommand.run(['--api', s.api, '--out', join(dir, 'system_health.md'), '--start', 'now-1h']), 0);
    t.equal(await reportCommand.run(['--api', s.api, '--out', join(dir, 'system_health.html'), '--format', 'html', '--start', 'now-1h']), 0);
    const md = readFileSync(join(dir, 'system_health.md'), 'utf8');
    const section = (name: string) => md.split(/^## /m).find((x) => x.startsWith(name)) ?? '';
    t.match(section('Status'), `Overall status: ${overview.status}.`);
    const otlp = overview.components.find((c: { id: string }) => c.id === 'otlp');
    t.match(section('Components'), `| otlp | receiver | ok | traces |  | ${otlp.signals[0].out} | 0 |`, 'receiver counts as the API has them');
    t.match(section('Throughput and errors'), `${perf.spans.total} spans in the range.`);
    t.match(section('Throughput and errors'), /\| checkout \| \d+ \| [\d.]+ \| 1 \| /, 'one error for checkout');
    t.match(section('Latency'), '| checkout | POST /api/checkout | 1 | 0 | 1.50 s | 1.50 s | 1.50 s |');
    t.match(section('Latency'), `| checkout | POST /api/checkout | 1.50 s | ${s.slowTraceId} |`, 'slowest operation with its trace');
    t.match(section('Security'), new RegExp(`\\| ${BRUTE_IP.replace(/\./g, '\\.')} \\| brute_force \\|`), 'the block');
    t.match(section('Security'), new RegExp(`sql_injection \\| critical \\| ${ATTACKER_IP.replace(/\./g, '\\.')} \\| mallory \\| url\\.query: union select`), 'the attack with evidence');
    t.match(section('Alerts'), /^Alerts\n\n[1-9]\d* firing, /, 'the alert fires');
    t.match(section('Alerts'), '| AttackerIP | firing |');
    t.match(section('Anomalies'), /\| metric \| queue\.depth \| 500 \| /);
    t.notMatch(md, /<script/i, 'no raw HTML from telemetry');
    const html = readFileSync(join(dir, 'system_health.html'), 'utf8');
    t.ok((html.match(/<svg /g) ?? []).length >= 3, 'charts as inline SVG');
    t.notMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no scripts, no external resources');
    t.match(html, `<td>${s.slowTraceId}</td>`);
  });

  await t.test('overview: status, components with their counts, the pipeline graph', async (t) => {
    await goto('page=overview');
    await page.getByText('System status:').waitFor();
    t.equal(await page.locator('.big .badge').innerText(), '● ok');
    const otlp = page.locator('tr', { has: page.locator('td', { hasText: /^otlp$/ }) });
    await otlp.first().waitFor();
    const traces = Number(await otlp.first().locator('td').nth(5).innerText());
    t.ok(traces >= 22, `otlp shows the spans it accepted (${traces})`);
    t.ok(await page.locator('svg.graph .node', { hasText: 'security_events' }).count() >= 2, 'the connector appears on both sides in the graph');
    t.ok(await page.locator('svg.graph .edge').count() > 10, 'edges drawn');
    await shot('overview');

    // A live update: more spans arrive and the count grows, without a reload.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    await s.requests(7);
    await page.waitForFunction((n) => {
      const rows = [...(globalThis as any).document.querySelectorAll('tr')] as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
      const row = rows.find((r) => r.querySelector('td')?.textContent === 'otlp');
      return Number(row?.querySelectorAll('td')[5]?.textContent) >= n + 7;
    }, traces, { timeout: 30_000 });
    t.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'same document: updated live, not reloaded');
    t.match(await page.locator('.freshness').innerText(), /live, updated \d+s ago/);
  });

  await t.test('performance: RED per operation, the slow operation, and the time range', async (t) => {
    await goto('page=performance&range=1h');
    const row = page.locator('tr', { has: page.locator('td', { hasText: 'POST /api/checkout' }) }).first();
    await row.waitFor();
    t.match(await row.innerText(), /1\.50 s/, 'p99 of the slow operation');
    t.ok(await page.locator('table', { hasText: 'slowest' }).locator('td', { hasText: 'POST /api/checkout' }).count() >= 1, 'listed among the slowest');
    // Capacity: the ingest rate now against the figure bench/ measured for the store path, with its source.
    const capacity = await page.locator('section', { has: page.locator('h2', { hasText: 'Capacity' }) }).innerText();
    t.match(capacity, /measured for this path\s+80\.0k \/s \(otlp → batch → sqlite\)/, 'the sqlite path figure');
    t.match(capacity, /spans ingested now\s+\d/);
    t.match(capacity, /Source: bench\/README\.md, `npm run bench -- sqlite --rate 80000`/);
    const chart = page.locator('figure.chart').first();
    const before = { min: Number(await chart.getAttribute('data-xmin')), points: Number(await chart.getAttribute('data-points')) };
    await shot('performance');
    await page.getByRole('button', { name: '5m', exact: true }).click();
    await page.waitForFunction((min) => Number((globalThis as any).document.querySelector('figure.chart')?.getAttribute('data-xmin')) > min + 30 * 60_000, before.min); // eslint-disable-line @typescript-eslint/no-explicit-any
    t.match(page.url(), /range=5m/, 'the range is in the URL');
    const after = Number(await chart.getAttribute('data-xmin'));
    t.ok(after - before.min > 50 * 60_000, 'the chart now starts about 55 minutes later');
    // The link keeps the view.
    await page.reload();
    await page.locator('button[aria-pressed="true"]', { hasText: '5m' }).waitFor();
    t.pass('reloaded with the 5m range selected');
  });

  await t.test('security: the block, the attack with its evidence, linked to its trace', async (t) => {
    await goto('page=security');
    await page.locator('td', { hasText: BRUTE_IP }).first().waitFor();
    t.ok(await page.locator('table', { hasText: 'Blocked sources' }).locator('td', { hasText: BRUTE_IP }).count() === 1, 'the brute-force IP is on the block list');
    const attack = page.locator('table', { hasText: 'Recent security events' }).locator('tr', { has: page.locator('td', { hasText: 'sql_injection' }) }).filter({ hasText: ATTACKER_IP }).first();
    await attack.waitFor();
    t.match(await attack.innerText(), /union select/i, 'evidence shown');
    await shot('security');
    await attack.getByRole('link').click();
    await page.locator('.waterfall').waitFor();
    t.match(page.url(), new RegExp(`trace=${s.attackTraceId}`));
    // The attacker's attribute is text on the page, not markup.
    const cell = page.locator('code.attr-value', { hasText: XSS });
    await cell.waitFor();
    t.equal(await cell.innerText(), XSS, 'the <script> attribute is shown as text');
    t.equal(await page.locator('script').count(), 1, 'no script element was added');
    t.same(dialogs, [], 'no alert() ran');
    await shot('explore-attack-trace');
  });

  await t.test('explore: the slow trace as a waterfall, and a span search', async (t) => {
    await goto(`page=explore&tab=traces&trace=${s.slowTraceId}`);
    const rows = page.locator('.waterfall li');
    await rows.first().waitFor();
    t.equal(await rows.count(), 2);
    t.match(await rows.nth(0).innerText(), /POST \/api\/checkout[\s\S]*1\.50 s/);
    t.match(await rows.nth(1).innerText(), /charge card[\s\S]*1\.20 s/);
    await rows.nth(1).locator('button').click();
    await page.locator('.span-detail h3', { hasText: 'charge card' }).waitFor();
    await shot('explore-waterfall');
    await goto('page=explore&tab=traces&min_duration=1s');
    await page.locator('table', { hasText: 'Spans found' }).waitFor();
    t.equal(await page.locator('table', { hasText: 'Spans found' }).locator('tbody tr').count(), 2, 'min_duration=1s finds the two slow spans');
  });

  await t.test('alerts: the firing alert, acknowledged from the page', async (t) => {
    await goto('page=alerts');
    const row = page.locator('tr', { hasText: 'AttackerIP' }).filter({ hasText: ATTACKER_IP }).first();
    await row.waitFor();
    t.match(await row.innerText(), /firing/);
    await shot('alerts');
    const posts: Array<{ type?: string }> = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push({ type: r.headers()['content-type'] });
    });
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText(/acknowledged$/).first().waitFor();
    await page.locator('tr', { hasText: ATTACKER_IP }).filter({ hasText: 'by console' }).first().waitFor();
    t.same(posts.map((p) => p.type), ['application/json'], 'sent as JSON');
  });

  await t.test('alerts: recent notifications per channel, a refused delivery shown as failed with its error as text', async (t) => {
    await goto('page=alerts');
    const pager = page.locator('table', { hasText: 'Channel webhook/pager' });
    const sent = pager.locator('tbody tr', { hasText: 'AttackerIP' }).filter({ hasText: 'sent' }).first();
    await sent.waitFor();
    t.match(await sent.innerText(), /team/, 'with its receiver');
    t.ok(s.pagerBodies.some((b) => JSON.parse(b).groupLabels?.alertname === 'AttackerIP'), 'the pager channel did receive it');
    const chat = page.locator('table', { hasText: 'Channel webhook/chat' });
    const failed = chat.locator('tbody tr', { hasText: 'AttackerIP' }).filter({ hasText: 'failed' }).first();
    await failed.waitFor();
    t.ok((await failed.innerText()).includes(`answered 400: ${HOOK_REFUSAL}`), 'the refusal, HTML included, is shown as text');
    t.equal(await chat.locator('img').count(), 0, 'no element is made from the answer');
    await shot('alerts-notifications');
    const api = await (await fetch(`${s.api}/api/alerts/notifications`)).json() as any;
    const byChannel = Object.fromEntries(api.channels.map((c: any) => [c.channel, c.deliveries]));
    t.equal(byChannel['webhook/chat']?.[0]?.state, 'failed', 'the API says the same');
    t.equal(byChannel['webhook/chat']?.[0]?.attempts, 1, 'a 400 is not retried');
    t.equal(byChannel['webhook/pager']?.[0]?.state, 'sent');
    t.equal((await fetch(`${s.api}/api/alerts/notifications?limit=0`)).status, 400, 'a bad limit is refused');
  });

  await t.test('anomalies: the jump with its expected range and a chart around it', async (t) => {
    await goto('page=anomalies');
    const row = page.locator('tr', { hasText: 'queue.depth' }).first();
    await row.waitFor();
    t.match(await row.innerText(), /500/);
    await page.locator('figure.chart[data-points]:not([data-points="0"])').first().waitFor();
    t.ok(Number(await page.locator('figure.chart').first().getAttribute('data-points')) >= 2, 'the series is drawn');
    await shot('anomalies');
  });

  await t.test('runs and code health say what to configure when their routes are absent', async (t) => {
    await goto('page=runs');
    await page.getByText('not configured: add a runs tracker to pipelines.yaml', { exact: false }).waitFor();
    await goto('page=codehealth');
    await page.getByText('not configured: add a code health scanner to pipelines.yaml', { exact: false }).waitFor();
    t.pass('both pages explain');
  });

  await t.test('keyboard, theme and a phone-sized screen', async (t) => {
    await goto('page=overview');
    await page.locator('nav a', { hasText: 'Security' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/page=security/);
    await page.getByRole('button', { name: 'Dark theme' }).press('Enter');
    t.equal(await page.evaluate(() => (globalThis as any).document.documentElement.dataset.theme), 'dark'); // eslint-disable-line @typescript-eslint/no-explicit-any
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('td', { hasText: BRUTE_IP }).first().waitFor();
    const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth); // eslint-disable-line @typescript-eslint/no-explicit-any
    t.ok(overflow <= 1, `no horizontal scrolling of the page on a phone (${overflow}px)`);
    await shot('security-dark-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('button', { name: 'Light theme' }).click();
  });

  t.same(pageErrors, [], 'no script errors in the page');
});
