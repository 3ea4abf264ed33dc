// The console's state lives in the URL (?page=&range=&start=&end=&...), so a link shows the same view.
import { useEffect, useState } from 'preact/hooks';

export const RANGES = ['5m', '1h', '24h', '7d'] as const;

export function readUrl(): URLSearchParams {
  return new URLSearchParams(location.search);
}

let listeners: Array<() => void> = [];
addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Change some URL parameters (undefined removes one) and re-render. */
export function navigate(changes: Record<string, string | undefined>, replace = false): void {
  const q = readUrl();
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  }
  const url = `${location.pathname}?${q.toString()}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

export function useUrl(): URLSearchParams {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    listeners.push(l);
    return () => {
      listeners = listeners.filter((x) => x !== l);
    };
  }, []);
  return readUrl();
}

/** The range as the API takes it: start/end (custom) or start=now-<range>. */
export function rangeParams(q: URLSearchParams): Record<string, string> {
  const range = q.get('range') ?? '1h';
  if (range === 'custom' && q.get('start')) return { start: q.get('start')!, ...(q.get('end') ? { end: q.get('end')! } : {}) };
  return { start: `now-${(RANGES as readonly string[]).includes(range) ? range : '1h'}` };
}
