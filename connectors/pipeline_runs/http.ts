/**
 * The runs API on the `api` extension: GET /api/runs, GET /api/runs/:id and the live stream
 * GET /api/runs/stream (Server-Sent Events). See README.md for the contract.
 */
import { ApiError, ApiRequest, ApiResponse, ApiServer } from '../../src/api';
import type { RunStatus, RunView } from './run';
import type { RunTracker } from './tracker';

const STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'stalled', 'cancelled'];
const MAX_LIMIT = 1000;
const HEARTBEAT_MS = 15_000;

interface Client { write: (text: string) => boolean; pipeline?: string }

export class RunsApi {
  private readonly clients = new Set<Client>();
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly tracker: RunTracker, private readonly o: { streamMs: number; maxClients: number; now: () => number }) {}

  register(api: ApiServer): void {
    api.route('GET', '/api/runs', (req) => this.list(req));
    // Before /api/runs/:id, which would otherwise take "stream" for an id.
    api.route('GET', '/api/runs/stream', (req) => this.stream(req));
    api.route('GET', '/api/runs/:id', (req) => this.detail(req));
  }

  list(req: ApiRequest): { runs: RunView[] } {
    const q = req.query;
    const pipeline = q.get('pipeline') || undefined;
    const status = q.get('status') || undefined;
    if (status !== undefined && !STATUSES.includes(status as RunStatus)) throw new ApiError(400, `status must be one of ${STATUSES.join(', ')}`);
    const limit = intParam(q.get('limit'), 'limit', 100, 1, MAX_LIMIT);
    const since = intParam(q.get('since'), 'since', 0, 0, Number.MAX_SAFE_INTEGER);
    const now = this.o.now();
    const picked = [];
    for (const r of this.tracker.all()) {
      if (pipeline !== undefined && r.pipeline !== pipeline) continue;
      if (status !== undefined && r.status !== status) continue;
      if (since && r.updated_at < since && (r.ended_at ?? r.started_at) < since) continue;
      picked.push(r);
    }
    // Newest first: the runs people look for are the ones going on now.
    picked.sort((a, b) => b.started_at - a.started_at || (a.id < b.id ? -1 : 1));
    return { runs: picked.slice(0, limit).map((r) => this.tracker.view(r, now)) };
  }

  detail(req: ApiRequest): unknown {
    const r = this.tracker.get(req.params.id);
    if (!r) throw new ApiError(404, `no run ${req.params.id} (runs are kept for ended_retention after they end)`);
    const previous = this.tracker.historyOf(r.pipeline).filter((h) => h.id !== r.id).map((h) => ({ id: h.id, phases: h.phases.map((p) => ({ ...p })) }));
    return { run: { ...this.tracker.view(r, this.o.now()), metrics: r.metrics, previous } };
  }

  stream(req: ApiRequest): ApiResponse {
    if (this.clients.size >= this.o.maxClients) throw new ApiError(503, `too many run stream clients (max_stream_clients ${this.o.maxClients})`);
    const pipeline = req.query.get('pipeline') || undefined;
    return {
      status: 200,
      stream: (write) => {
        const client: Client = { write, pipeline };
        this.clients.add(client);
        write('retry: 3000\n\n');
        // The current state first, so a client needs no separate list call.
        const now = this.o.now();
        for (const r of this.tracker.all()) if (!pipeline || r.pipeline === pipeline) send(client, this.tracker.view(r, now));
        this.startTimers();
        return () => {
          this.clients.delete(client);
          if (!this.clients.size) this.stopTimers();
        };
      },
    };
  }

  /** Pushes the runs changed since the last push to every client. */
  push(): void {
    const ids = this.tracker.takeChanged();
    if (!this.clients.size || !ids.length) return;
    const now = this.o.now();
    for (const id of ids) {
      const r = this.tracker.get(id);
      if (!r) continue;
      const view = this.tracker.view(r, now);
      for (const c of this.clients) if (!c.pipeline || c.pipeline === r.pipeline) send(c, view);
    }
  }

  private startTimers(): void {
    if (this.timer) return;
    this.tracker.takeChanged(); // what changed before anyone listened was in the snapshot
    this.timer = setInterval(() => this.push(), this.o.streamMs);
    this.timer.unref();
    this.heartbeat = setInterval(() => { for (const c of this.clients) c.write(': keep-alive\n\n'); }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stopTimers(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = this.heartbeat = undefined;
  }

  close(): void {
    this.stopTimers();
    this.clients.clear();
  }
}

function send(c: Client, view: RunView): void {
  c.write(`event: run\ndata: ${JSON.stringify(view)}\n\n`);
}

function intParam(v: string | null, name: string, def: number, min: number, max: number): number {
  if (v === null || v === '') return def;
  if (!/^\d+$/.test(v)) throw new ApiError(400, `${name} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new ApiError(400, `${name} must be between ${min} and ${max}`);
  return n;
}
