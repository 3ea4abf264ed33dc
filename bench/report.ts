/**
 * The benchmark's result: one object, printed as a readable table and as a single JSON line that
 * scripts can collect.
 */
import { cpus } from 'node:os';
import type { PhaseStats } from './load';

export interface ServerFigures {
  pid: number;
  cpuPercent: number;
  itemsPerCpuSecond: number;
  rssPeakMiB: number;
  rssSteadyMiB: number;
  alive: boolean;
}

export interface PhaseResult {
  name: string;
  offeredRate: number;
  itemsPerSecond: number;
  stats: PhaseStats;
  server?: ServerFigures;
}

export interface BenchResult {
  scenario: string;
  date: string;
  machine: string;
  target: string;
  transport: string;
  signal: string;
  encoding: string;
  gzip: boolean;
  itemsPerRequest: number;
  concurrency: number;
  pinned: boolean;
  phases: PhaseResult[];
  sqlite?: { table: string; rows: number; accepted: number; missing: number; error?: string };
  overload?: {
    capacity: number;
    offered: number;
    refusals: number;
    refusalsWithRetryAfter: number;
    memoryLimitMiB?: number;
    rssPeakMiB?: number;
    survived: boolean;
    recoveryRatio: number;
  };
  notes: string[];
}

export function machineDescription(): string {
  const c = cpus();
  return `${c.length}× ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function row(label: string, value: string): string {
  return `  ${label.padEnd(28)} ${value}`;
}

export function formatTable(r: BenchResult): string {
  const unit = r.signal === 'traces' ? 'spans' : r.signal === 'metrics' ? 'points' : 'records';
  const lines: string[] = [];
  lines.push(`${r.scenario}: ${r.signal} over ${r.transport} (${r.encoding}${r.gzip ? ', gzip' : ''}), ${r.itemsPerRequest} ${unit}/request, ${r.concurrency} in flight${r.pinned ? ', server pinned' : ''}`);
  lines.push(`  target ${r.target}; ${r.machine}; ${r.date}`);
  for (const p of r.phases) {
    const s = p.stats;
    lines.push('');
    lines.push(`[${p.name}] ${fmt(s.elapsedMs / 1000, 1)} s, offered ${p.offeredRate > 0 ? `${fmt(p.offeredRate)} ${unit}/s` : 'max rate'}`);
    lines.push(row(`${unit}/s accepted`, fmt(p.itemsPerSecond)));
    lines.push(row('requests by status', Object.entries(s.byStatus).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ') || 'none'));
    if (s.itemsRejected) lines.push(row(`${unit} rejected (partial)`, fmt(s.itemsRejected)));
    if (s.retryAfter) lines.push(row('refusals with Retry-After', fmt(s.retryAfter)));
    if (s.skipped) lines.push(row('not sent (slots full)', fmt(s.skipped)));
    lines.push(row('latency p50 / p99 / max', `${fmt(s.latency.p50, 1)} / ${fmt(s.latency.p99, 1)} / ${fmt(s.latency.max, 1)} ms`));
    if (p.server) {
      lines.push(row('server CPU (% of one core)', `${fmt(p.server.cpuPercent, 1)} %`));
      lines.push(row(`${unit} per CPU-second`, fmt(p.server.itemsPerCpuSecond)));
      lines.push(row('server RSS steady / peak', `${fmt(p.server.rssSteadyMiB, 1)} / ${fmt(p.server.rssPeakMiB, 1)} MiB`));
      if (!p.server.alive) lines.push(row('server', 'DIED during this phase'));
    }
  }
  if (r.sqlite) {
    lines.push('');
    lines.push(`[sqlite check] table ${r.sqlite.table}: ${fmt(r.sqlite.rows)} rows for ${fmt(r.sqlite.accepted)} accepted, ${r.sqlite.missing > 0 ? `${fmt(r.sqlite.missing)} MISSING` : 'none missing'}${r.sqlite.error ? ` (${r.sqlite.error})` : ''}`);
  }
  if (r.overload) {
    const o = r.overload;
    lines.push('');
    lines.push(`[overload] capacity ${fmt(o.capacity)} ${unit}/s, offered ${fmt(o.offered)} ${unit}/s`);
    lines.push(row('refusals (429/503/gRPC)', `${fmt(o.refusals)}, ${fmt(o.refusalsWithRetryAfter)} with Retry-After`));
    if (o.rssPeakMiB !== undefined) lines.push(row('RSS peak vs memory limit', `${fmt(o.rssPeakMiB, 1)} MiB vs ${o.memoryLimitMiB !== undefined ? `${fmt(o.memoryLimitMiB)} MiB` : 'no limit set'}`));
    lines.push(row('server survived', o.survived ? 'yes' : 'NO'));
    lines.push(row('throughput after / before', `${fmt(o.recoveryRatio * 100, 0)} %`));
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** The same result on one line, with latency distributions kept and nothing else dropped. */
export function jsonLine(r: BenchResult): string {
  return JSON.stringify(r);
}
