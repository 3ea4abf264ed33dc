/**
 * What each console page shows, built on the server: the live state of the running collector
 * (component statuses, its own counters turned into rates, the pipeline graph, process resources)
 * and summaries of the store (src/query/summary.ts), plus other features' routes called in-process
 * (security, alerts, runs, code health). Each page is one JSON document, the same for the page
 * route and for the stream.
 */
import { monitorEventLoopDelay, IntervalHistogram } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import type { Host } from '../../src/component';
import type { Telemetry } from '../../src/telemetry';
import type { PipelineConfig, ValidatedConfig } from '../../src/config/validate';
import { ApiError } from '../../src/api';
import { openStore, StoreReader } from '../../exporters/sqlite/store';
import { timeRange } from '../../src/query/params';
import { capacityHint } from './capacity';
import { anomalySummary, Range, spanSummary, threatSummary } from '../../src/query/summary';

export const PAGES = ['overview', 'performance', 'security', 'alerts', 'anomalies', 'runs', 'codehealth'] as const;
export type Page = (typeof PAGES)[number];

type Invoke = (path: string, query?: URLSearchParams) => Promise<{ status: number; body: unknown }>;

const HOUR_NS = 3_600_000_000_000n;

export function rangeOf(q: URLSearchParams, nowMs = Date.now()): Range {
  const nowNs = BigInt(nowMs) * 1_000_000n;
  const r = timeRange(q, nowNs, HOUR_NS, 31n * 24n * HOUR_NS);
  return { startMs: Number(r.start / 1_000_000n), endMs: Number(r.end / 1_000_000n) };
}


interface Sample {
  at: number;
  values: Map<string, number>;
}

interface MetricJson {
  name: string;
  type: string;
  values: Array<{ value: number; labels: Record<string, string | number> }>;
}

const key = (name: string, labels: Record<string, string | number>) => `${name}${JSON.stringify(labels)}`;

export class ConsoleData {
  private host?: Host;
  private reader?: StoreReader;
  private storePath?: string;
  private prev?: Sample;
  private last?: Sample;
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private cpuPrev = { at: Date.now(), usage: process.cpuUsage() };
  private cpuPercent = 0;
  private sampler?: NodeJS.Timeout;

  constructor(private readonly telemetry: Telemetry | undefined, private readonly invoke: Invoke) {}

  attach(host: Host): void {
    this.host = host;
    this.loop.enable();
    // Sample the counters in the background too, so that a one-off request has rates.
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = setInterval(() => void this.rates().catch(() => undefined), 2000);
    this.sampler.unref();
    const cfg = this.config();
    for (const c of cfg?.exporters?.values() ?? []) {
      if (c.type === 'sqlite' && typeof c.config.path === 'string' && c.config.path !== ':memory:') this.storePath = c.config.path;
    }
  }

  close(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.loop.disable();
    this.reader?.close();
    this.reader = undefined;
  }

  /** The running collector's validated config (the host is the Collector), or undefined in tests with a bare host. */
  private config(): Partial<ValidatedConfig> | undefined {
    return (this.host as unknown as { config?: ValidatedConfig } | undefined)?.config;
  }

  private db(): Database.Database | undefined {
    if (!this.storePath) return undefined;
    if (!this.reader) {
      try {
        this.reader = openStore(this.storePath);
      } catch {
        return undefined; // not written yet: the page says "no store data" and the next tick retries
      }
    }
    return this.reader.db;
  }

  async page(page: Page, q: URLSearchParams): Promise<unknown> {
    switch (page) {
      case 'overview': return this.overview();
      case 'performance': return this.performance(rangeOf(q));
      case 'security': return this.security(rangeOf(q));
      case 'alerts': return this.alerts();
      case 'anomalies': return this.anomalies(rangeOf(q));
      case 'runs': return this.foreign('/api/runs', q, ['pipeline', 'status', 'limit'], 'a runs tracker');
      case 'codehealth': return this.foreign('/api/codehealth', q, [], 'a code health scanner');
    }
    throw new ApiError(404, `no console page ${String(page)}`);
  }

  /** Another feature's route, or `{configured: false}` when nothing registered it. */
  private async foreign(path: string, q: URLSearchParams, pass: string[], what: string): Promise<unknown> {
    const sub = new URLSearchParams();
    for (const p of pass) if (q.get(p)) sub.set(p, q.get(p)!);
    const r = await this.invoke(path, sub);
    if (r.status === 404) return { configured: false, hint: `not configured: add ${what} to pipelines.yaml (${path} is not served)` };
    if (r.status >= 400) throw new ApiError(r.status, String((r.body as { error?: string })?.error ?? `${path} answered ${r.status}`));
    return { configured: true, ...(r.body as object) };
  }

  // ---- overview ----

  private async sample(): Promise<Sample> {
    const values = new Map<string, number>();
    if (this.telemetry) {
      const all = (await this.telemetry.registry.getMetricsAsJSON()) as unknown as MetricJson[];
      for (const m of all) {
        if (!/^vigil_(receiver|processor|exporter|connector)_/.test(m.name)) continue;
        for (const v of m.values) values.set(key(m.name, v.labels), v.value);
      }
    }
    return { at: Date.now(), values };
  }

  /** Counter rates per second between the last sample at least 1 s old and now. */
  private async rates(): Promise<{ now: Sample; rate: (k: string) => number }> {
    const now = await this.sample();
    if (!this.last || now.at - this.last.at >= 1000) {
      this.prev = this.last;
      this.last = now;
    }
    const base = this.prev && now.at - this.prev.at >= 500 ? this.prev : undefined;
    return {
      now,
      rate: (k) => {
        if (!base) return 0;
        const d = (now.values.get(k) ?? 0) - (base.values.get(k) ?? 0);
        return d > 0 ? d / ((now.at - base.at) / 1000) : 0;
      },
    };
  }

  private processStats() {
    const t = Date.now();
    if (t - this.cpuPrev.at >= 1000) {
      const u = process.cpuUsage(this.cpuPrev.usage);
      this.cpuPercent = ((u.user + u.system) / 1000 / (t - this.cpuPrev.at)) * 100;
      this.cpuPrev = { at: t, usage: process.cpuUsage() };
    }
    const m = process.memoryUsage();
    const out = {
      cpu_percent: this.cpuPercent, rss_bytes: m.rss, heap_used_bytes: m.heapUsed, heap_total_bytes: m.heapTotal, external_bytes: m.external,
      event_loop_delay_ms: { p50: this.loop.percentile(50) / 1e6, p99: this.loop.percentile(99) / 1e6, max: this.loop.max / 1e6 },
      uptime_s: process.uptime(),
    };
    this.loop.reset();
    return out;
  }

  async overview() {
    const statuses = this.host?.componentStatuses?.() ?? [];
    const bad = statuses.filter((s) => s.status === 'permanent_error' || s.status === 'recoverable_error');
    const status = bad.some((s) => s.status === 'permanent_error') ? 'failed' : bad.length ? 'degraded' : 'ok';
    const { now, rate } = await this.rates();
    const val = (name: string, labels: Record<string, string>) => now.values.get(key(name, labels)) ?? 0;
    const rt = (name: string, labels: Record<string, string>) => rate(key(name, labels));
    const cfg = this.config();
    const pipelines: PipelineConfig[] = cfg?.service?.pipelines ?? [];
    const ITEM = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' } as const;
    const signals = ['traces', 'metrics', 'logs'] as const;

    const components = statuses.map((s) => {
      const base = s.id.split('@')[0];
      const kind = s.kind;
      const per: Array<{ signal: string; in?: number; out?: number; refused?: number; failed?: number; in_rate?: number; out_rate?: number }> = [];
      for (const sig of signals) {
        const item = ITEM[sig];
        if (kind === 'receiver') {
          const l = { receiver: base };
          if (!now.values.has(key(`vigil_receiver_accepted_${item}_total`, l))) continue;
          per.push({ signal: sig, out: val(`vigil_receiver_accepted_${item}_total`, l), refused: val(`vigil_receiver_refused_${item}_total`, l), out_rate: rt(`vigil_receiver_accepted_${item}_total`, l) });
        } else if (kind === 'exporter') {
          const l = { exporter: base };
          if (!now.values.has(key(`vigil_exporter_sent_${item}_total`, l))) continue;
          per.push({ signal: sig, out: val(`vigil_exporter_sent_${item}_total`, l), failed: val(`vigil_exporter_send_failed_${item}_total`, l), out_rate: rt(`vigil_exporter_sent_${item}_total`, l) });
        }
      }
      if (kind === 'processor') {
        const inPipeline = s.id.split('@')[1];
        for (const p of pipelines.filter((p) => p.processors.includes(base) && (!inPipeline || p.id === inPipeline))) {
          const l = { processor: base, pipeline: p.id, otel_signal: p.signal };
          per.push({ signal: `${p.signal} (${p.id})`, in: val('vigil_processor_incoming_items_total', l), in_rate: rt('vigil_processor_incoming_items_total', l) });
        }
        const refused = val('vigil_processor_refused_total', { processor: base, reason: 'memory' });
        if (refused && per[0]) per[0].refused = refused;
      }
      const queue = now.values.get(key('vigil_exporter_queue_size', { exporter: base }));
      return { id: s.id, kind, status: s.status, since: s.since, ...(s.error ? { error: s.error } : {}), signals: per, ...(queue !== undefined ? { queue_size: queue } : {}) };
    });

    // Edges: what enters each node of each pipeline per second (the first processor's count,
    // or the receivers' accepted items when a pipeline has no processors).
    const edges: Array<{ pipeline: string; from: string; to: string; rate: number }> = [];
    for (const p of pipelines) {
      const item = ITEM[p.signal];
      const inRate = (proc: string) => rt('vigil_processor_incoming_items_total', { processor: proc, pipeline: p.id, otel_signal: p.signal });
      const recvRate = p.receivers.reduce((a, r) => a + rt(`vigil_receiver_accepted_${item}_total`, { receiver: r }), 0);
      const chain = [...p.processors];
      if (chain.length) for (const r of p.receivers) edges.push({ pipeline: p.id, from: r, to: chain[0], rate: inRate(chain[0]) / Math.max(1, p.receivers.length) });
      for (let i = 1; i < chain.length; i++) edges.push({ pipeline: p.id, from: chain[i - 1], to: chain[i], rate: inRate(chain[i]) });
      const lastRate = chain.length ? inRate(chain[chain.length - 1]) : recvRate;
      const froms = chain.length ? [chain[chain.length - 1]] : p.receivers;
      for (const f of froms) for (const e of p.exporters) edges.push({ pipeline: p.id, from: f, to: e, rate: lastRate });
    }
    const connectors = [...(cfg?.connectors?.keys() ?? [])];

    const memory = [...(cfg?.processors?.values() ?? [])].filter((c) => c.type === 'memory_limiter').map((c) => ({
      id: c.id,
      in_use_bytes: now.values.get(key('vigil_processor_memory_limiter_in_use_bytes', { processor: c.id })) ?? process.memoryUsage().heapUsed,
      limit_bytes: typeof c.config.limit_mib === 'number' ? c.config.limit_mib * 1024 * 1024 : undefined,
      spike_limit_bytes: typeof c.config.spike_limit_mib === 'number' ? c.config.spike_limit_mib * 1024 * 1024 : undefined,
    }));
    const queues = components.filter((c) => 'queue_size' in c).map((c) => ({ exporter: c.id, size: (c as { queue_size?: number }).queue_size ?? 0 }));
    const ingest = signals.map((sig) => ({ signal: sig, rate: [...now.values.keys()].filter((k) => k.startsWith(`vigil_receiver_accepted_${ITEM[sig]}_total{`)).reduce((a, k) => a + rate(k), 0) }));
    return {
      status, components, pipelines, edges, connectors, memory, queues, ingest, process: this.processStats(),
      store: this.storePath ? { configured: true, readable: !!this.db() } : { configured: false },
    };
  }

  // ---- store pages ----

  private storeOr<T>(f: (db: Database.Database) => T): T | { store: 'missing'; hint: string } {
    const db = this.db();
    if (!db) return { store: 'missing', hint: this.storePath ? 'the store has no data yet' : 'not configured: add a sqlite exporter to pipelines.yaml' };
    return f(db);
  }

  async performance(r: Range) {
    const { now, rate } = await this.rates();
    const spansPerS = [...now.values.keys()].filter((k) => k.startsWith('vigil_receiver_accepted_spans_total{')).reduce((a, k) => a + rate(k), 0);
    return { range: r, spans: this.storeOr((db) => spanSummary(db, r)), process: this.processStats(), capacity: capacityHint(spansPerS, !!this.storePath) };
  }

  async security(r: Range) {
    const status = await this.invoke('/api/security/status');
    const blocked = await this.invoke('/api/security/blocked');
    return {
      range: r,
      configured: status.status !== 404,
      status: status.status === 200 ? status.body : undefined,
      blocked: blocked.status === 200 ? (blocked.body as { blocked: unknown[] }).blocked : [],
      threats: this.storeOr((db) => threatSummary(db, r)),
    };
  }

  async alerts() {
    const alerts = await this.invoke('/api/alerts');
    if (alerts.status === 404) return { configured: false, hint: 'not configured: add an alerts connector with rules to pipelines.yaml' };
    const [groups, silences, notifications] = await Promise.all([this.invoke('/api/alerts/groups'), this.invoke('/api/silences'), this.invoke('/api/alerts/notifications')]);
    return { configured: true, alerts: alerts.body, groups: groups.body, silences: silences.body, notifications: notifications.status === 200 ? notifications.body : { channels: [] } };
  }

  async anomalies(r: Range) {
    return { range: r, anomalies: this.storeOr((db) => anomalySummary(db, r)) };
  }
}
