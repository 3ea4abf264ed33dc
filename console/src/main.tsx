// The Vigil console: a shell (navigation, time range, theme, freshness) around one page at a time.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { RANGES, navigate, rangeParams, useUrl } from './state';
import { useStream } from './api';
import { ago } from './format';
import { Overview } from './pages/overview';
import { Performance } from './pages/performance';
import { Security } from './pages/security';
import { Alerts } from './pages/alerts';
import { Anomalies } from './pages/anomalies';
import { Explore } from './pages/explore';
import { Runs } from './pages/runs';
import { CodeHealth } from './pages/codehealth';
import { ErrorBox } from './ui';

const PAGES: Array<{ id: string; title: string; live: boolean; view: (p: { data: any; q: URLSearchParams; range: Record<string, string> }) => any }> = [
  { id: 'overview', title: 'Overview', live: true, view: Overview },
  { id: 'performance', title: 'Performance', live: true, view: Performance },
  { id: 'security', title: 'Security', live: true, view: Security },
  { id: 'alerts', title: 'Alerts', live: true, view: Alerts },
  { id: 'anomalies', title: 'Anomalies', live: true, view: Anomalies },
  { id: 'explore', title: 'Explore', live: false, view: Explore },
  { id: 'runs', title: 'Runs', live: true, view: Runs },
  { id: 'codehealth', title: 'Code health', live: true, view: CodeHealth },
];

function Theme() {
  const [theme, setTheme] = useState(() => localStorage.getItem('vigil.theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('vigil.theme', theme);
  }, [theme]);
  return <button type="button" class="theme" aria-pressed={theme === 'dark'} onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>{theme === 'dark' ? 'Light theme' : 'Dark theme'}</button>;
}

function RangePicker({ q }: { q: URLSearchParams }) {
  const range = q.get('range') ?? '1h';
  const toLocal = (v: string | null) => (v && !Number.isNaN(Date.parse(v)) ? new Date(Date.parse(v) - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
  return (
    <fieldset class="range" aria-label="Time range">
      <legend class="sr-only">Time range</legend>
      {RANGES.map((r) => (
        <button type="button" aria-pressed={range === r} onClick={() => navigate({ range: r, start: undefined, end: undefined })}>{r}</button>
      ))}
      <button type="button" aria-pressed={range === 'custom'} onClick={() => navigate({ range: 'custom', start: q.get('start') ?? new Date(Date.now() - 3600_000).toISOString(), end: q.get('end') ?? new Date().toISOString() })}>custom</button>
      {range === 'custom' && (
        <span class="custom">
          <label>from <input type="datetime-local" value={toLocal(q.get('start'))} onChange={(e) => navigate({ start: new Date((e.target as HTMLInputElement).value).toISOString() })} /></label>
          <label>to <input type="datetime-local" value={toLocal(q.get('end'))} onChange={(e) => navigate({ end: new Date((e.target as HTMLInputElement).value).toISOString() })} /></label>
        </span>
      )}
    </fieldset>
  );
}

function Freshness({ at, intervalMs, connected }: { at?: number; intervalMs: number; connected: boolean }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const stale = !connected || (at !== undefined && now - at > intervalMs * 3);
  return (
    <span class={`freshness ${stale ? 'stale' : ''}`} role="status" aria-live="polite" data-at={at ?? ''}>
      {at === undefined ? 'connecting…' : `${stale ? 'stale: ' : 'live, '}updated ${ago(at, now)} (every ${intervalMs / 1000}s)`}
    </span>
  );
}

function LivePage({ page, q }: { page: (typeof PAGES)[number]; q: URLSearchParams }) {
  const range = rangeParams(q);
  const params: Record<string, string> = { ...range };
  if (q.get('interval')) params.interval = q.get('interval')!;
  const s = useStream(page.id, params);
  const View = page.view;
  return (
    <>
      <div class="page-head"><h1>{page.title}</h1><Freshness at={s.at} intervalMs={s.intervalMs} connected={s.connected} /></div>
      {s.error && <ErrorBox error={s.error} />}
      {s.data ? <View data={s.data} q={q} range={range} /> : !s.error && <p class="empty">Loading…</p>}
    </>
  );
}

function App() {
  const q = useUrl();
  const id = q.get('page') ?? 'overview';
  const page = PAGES.find((p) => p.id === id) ?? PAGES[0];
  useEffect(() => {
    document.title = `${page.title} · Vigil`;
  }, [page.id]);
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Vigil</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => <a href={`?${new URLSearchParams({ ...Object.fromEntries(q), page: p.id }).toString()}`} aria-current={p.id === page.id ? 'page' : undefined} data-nav>{p.title}</a>)}
        </nav>
        <RangePicker q={q} />
        <Theme />
      </header>
      <main id="main" tabIndex={-1}>
        {page.live ? <LivePage key={page.id} page={page} q={q} /> : <><div class="page-head"><h1>{page.title}</h1></div><page.view data={undefined} q={q} range={rangeParams(q)} /></>}
      </main>
    </div>
  );
}

// In-app links (href="?...") change the view without reloading; modified clicks open a new tab as usual.
document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  history.pushState(null, '', a.href);
  dispatchEvent(new PopStateEvent('popstate'));
  (document.getElementById('main') as HTMLElement | null)?.focus();
});

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
