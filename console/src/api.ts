// Talking to Vigil's API: JSON GETs, state-changing requests with the session's CSRF token, and the
// one live stream per page.
import { useEffect, useState } from 'preact/hooks';

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function getJson<T = any>(path: string): Promise<T> {
  const r = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new HttpError(r.status, body?.error ?? `HTTP ${r.status}`);
  return body as T;
}

export interface Session {
  principal?: string;
  role?: string;
  csrf_token?: string;
  /** False when an auth layer answered with a read-only role. */
  canWrite: boolean;
}

let session: Promise<Session> | undefined;
const READ_ONLY_ROLES = new Set(['viewer', 'read', 'readonly', 'read-only']);

/** `GET /api/session` when the server has it; without it the server takes changes as they come. */
export function getSession(): Promise<Session> {
  session ??= getJson('/api/session').then(
    (s) => ({ ...s, canWrite: !READ_ONLY_ROLES.has(String(s.role ?? '').toLowerCase()) }),
    (e) => ({ canWrite: e instanceof HttpError && e.status === 404 }),
  );
  return session;
}

export async function send<T = any>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const s = await getSession();
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (s.csrf_token) headers['X-CSRF-Token'] = s.csrf_token;
  const r = await fetch(path, { method, headers, credentials: 'same-origin', body: JSON.stringify(body ?? {}) });
  const out = await r.json().catch(() => ({}));
  if (!r.ok) throw new HttpError(r.status, out?.error ?? `HTTP ${r.status}`);
  return out as T;
}

export interface StreamState<T> {
  data?: T;
  error?: string;
  /** Time the server built the data (ms). */
  at?: number;
  intervalMs: number;
  connected: boolean;
}

/** The page's live data: one EventSource, reopened when the page or the range changes. */
export function useStream<T = any>(page: string, params: Record<string, string>): StreamState<T> {
  const qs = new URLSearchParams({ page, ...params }).toString();
  const [state, setState] = useState<StreamState<T>>({ intervalMs: 2000, connected: false });
  useEffect(() => {
    setState({ intervalMs: 2000, connected: false });
    const es = new EventSource(`/api/stream?${qs}`);
    es.onopen = () => setState((s) => ({ ...s, connected: true }));
    es.onerror = () => setState((s) => ({ ...s, connected: false }));
    es.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      setState((s) => ({ data: m.error ? s.data : m.data, error: m.error, at: m.at, intervalMs: m.interval_ms, connected: true }));
    };
    return () => es.close();
  }, [qs]);
  return state;
}

/** A one-off GET that reruns when `path` changes. */
export function useJson<T = any>(path: string | undefined): { data?: T; error?: HttpError | Error; loading: boolean } {
  const [s, set] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: !!path });
  useEffect(() => {
    if (!path) return set({ loading: false });
    let live = true;
    set((p) => ({ ...p, loading: true }));
    getJson<T>(path).then((data) => live && set({ data, loading: false }), (error) => live && set({ error, loading: false }));
    return () => {
      live = false;
    };
  }, [path]);
  return s;
}
