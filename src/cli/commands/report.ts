/**
 * `vigil report`: the console's picture as a file, from a running Vigil's API (the same page
 * routes the console reads): status, components, throughput and errors, latency, security, alerts,
 * anomalies, and runs and code health when those features answer.
 *
 *   vigil report --out reports/system_health.md [--format md|html] [--start now-24h] [--end now] [--api URL]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from '../command';
import { apiCommand, callApi, Flags, one, UsageError } from '../api-client';
import { Block, fmt, toHtml, toMarkdown } from './report-render';

const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 0)} ms`);
const mib = (v: number | undefined) => (v === undefined ? '–' : `${(v / 1048576).toFixed(1)} MiB`);
const iso = (t: number | string | undefined) => (t === undefined ? '–' : new Date(typeof t === 'number' ? t : Date.parse(t)).toISOString().replace('.000', ''));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** GET, or undefined when the route is not there (a feature that is not configured). */
async function optional(f: Flags, path: string): Promise<any> {
  try {
    return await callApi(f, 'GET', path);
  } catch (e) {
    if (/HTTP 404/.test((e as Error).message)) return undefined;
    throw e;
  }
}

export async function buildReport(f: Flags): Promise<{ blocks: Block[]; title: string }> {
  const range = new URLSearchParams({ start: one(f, 'start') ?? 'now-24h', ...(one(f, 'end') ? { end: one(f, 'end')! } : {}) });
  const [overview, perf, sec, alerts, anomalies, runs, code] = await Promise.all([
    callApi(f, 'GET', '/api/console/overview') as Promise<any>,
    callApi(f, 'GET', `/api/console/performance?${range}`) as Promise<any>,
    callApi(f, 'GET', `/api/console/security?${range}`) as Promise<any>,
    callApi(f, 'GET', '/api/console/alerts') as Promise<any>,
    callApi(f, 'GET', `/api/console/anomalies?${range}`) as Promise<any>,
    optional(f, '/api/console/runs'),
    optional(f, '/api/console/codehealth'),
  ]);
  const r = perf.range;
  const title = `Vigil system health, ${iso(r.startMs)} to ${iso(r.endMs)}`;
  const b: Block[] = [{ kind: 'h', level: 1, text: title }];

  b.push({ kind: 'h', level: 2, text: 'Status' });
  b.push({ kind: 'p', text: `Overall status: ${overview.status}. Generated ${iso(Date.now())}.` });
  b.push({ kind: 'table', head: ['measure', 'value'], rows: [
    ...overview.ingest.map((i: any) => [`${i.signal} ingest`, `${fmt(i.rate)}/s`]),
    ['CPU', `${fmt(overview.process.cpu_percent, 1)}%`],
    ['RSS', mib(overview.process.rss_bytes)],
    ['heap used', mib(overview.process.heap_used_bytes)],
    ['event-loop delay p99', ms(overview.process.event_loop_delay_ms.p99)],
    ...overview.memory.map((m: any) => [`memory ${m.id}`, `${mib(m.in_use_bytes)} of ${mib(m.limit_bytes)}`]),
  ] });

  b.push({ kind: 'h', level: 2, text: 'Components' });
  b.push({ kind: 'table', head: ['component', 'kind', 'status', 'signal', 'in', 'out', 'refused', 'failed', 'queue'], align: ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
    rows: overview.components.flatMap((c: any) => (c.signals.length ? c.signals : [{ signal: '' }]).map((s: any, i: number) => [
      i ? '' : c.id, i ? '' : c.kind, i ? '' : c.status + (c.error ? ` (${c.error})` : ''), s.signal,
      s.in === undefined ? '' : String(s.in), s.out === undefined ? '' : String(s.out), s.refused === undefined ? '' : String(s.refused),
      s.failed === undefined ? '' : String(s.failed), i || c.queue_size === undefined ? '' : String(c.queue_size),
    ])) });

  b.push({ kind: 'h', level: 2, text: 'Throughput and errors' });
  const spans = perf.spans;
  if (spans.store === 'missing') b.push({ kind: 'p', text: spans.hint });
  else {
    b.push({ kind: 'p', text: `${spans.total} spans in the range${spans.sampled ? `; the figures below are from the newest ${spans.read}` : ''}.` });
    b.push({ kind: 'chart', title: 'Spans and errors per bucket', t: spans.series.t, series: [{ label: 'spans', values: spans.series.count }, { label: 'errors', values: spans.series.errors }] });
    b.push({ kind: 'table', head: ['service', 'spans', 'rate /s', 'errors', 'error ratio'], align: ['l', 'r', 'r', 'r', 'r'],
      rows: spans.services.map((s: any) => [s.service, String(s.count), fmt(s.rate_per_s, 3), String(s.errors), pct(s.error_ratio)]) });

    b.push({ kind: 'h', level: 2, text: 'Latency' });
    b.push({ kind: 'chart', title: 'Span duration p50 and p99', unit: ' ms', t: spans.series.t, series: [{ label: 'p50', values: spans.series.p50_ms }, { label: 'p99', values: spans.series.p99_ms }] });
    b.push({ kind: 'table', head: ['service', 'operation', 'spans', 'errors', 'p50', 'p90', 'p99'], align: ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
      rows: spans.operations.slice(0, 20).map((o: any) => [o.service, o.operation, String(o.count), String(o.errors), ms(o.p50_ms), ms(o.p90_ms), ms(o.p99_ms)]) });
    b.push({ kind: 'h', level: 3, text: 'Slowest operations' });
    b.push({ kind: 'table', head: ['time', 'service', 'operation', 'duration', 'trace'], align: ['l', 'l', 'l', 'r', 'l'],
      rows: spans.slowest.map((s: any) => [iso(s.time_ms), s.service, s.operation, ms(s.duration_ms), s.trace_id]) });
  }

  b.push({ kind: 'h', level: 2, text: 'Security' });
  if (!sec.configured) b.push({ kind: 'p', text: 'not configured: add the security processor to pipelines.yaml' });
  if (sec.status) b.push({ kind: 'p', text: `Detector status: ${sec.status.status}; ${sec.status.recent_alerts_count} threats in the last ${sec.status.window_seconds} s.` });
  b.push({ kind: 'h', level: 3, text: 'Block list' });
  b.push({ kind: 'table', head: ['source', 'reason', 'since', 'expires'], rows: (sec.blocked ?? []).map((x: any) => [x.ip, x.reason, iso(x.since), iso(x.until)]) });
  const th = sec.threats;
  if (th.store === 'missing') b.push({ kind: 'p', text: th.hint });
  else {
    b.push({ kind: 'p', text: `${th.total} security events in the range.` });
    b.push({ kind: 'chart', title: 'Threats by severity', t: th.series.t, series: ['low', 'medium', 'high', 'critical'].map((s) => ({ label: s, values: th.series[s] })) });
    b.push({ kind: 'table', head: ['type', 'events'], align: ['l', 'r'], rows: th.by_type.map((x: any) => [x.type, String(x.count)]) });
    b.push({ kind: 'h', level: 3, text: 'Top source IPs' });
    b.push({ kind: 'table', head: ['IP', 'events', 'max risk', 'types'], align: ['l', 'r', 'r', 'l'], rows: th.top_ips.map((x: any) => [x.ip, String(x.count), fmt(x.max_score), x.types.join(', ')]) });
    b.push({ kind: 'h', level: 3, text: 'Top users' });
    b.push({ kind: 'table', head: ['user', 'events', 'max risk', 'types'], align: ['l', 'r', 'r', 'l'], rows: th.top_users.map((x: any) => [x.user, String(x.count), fmt(x.max_score), x.types.join(', ')]) });
    b.push({ kind: 'h', level: 3, text: 'Recent security events' });
    b.push({ kind: 'table', head: ['time', 'type', 'severity', 'source', 'user', 'evidence', 'trace'],
      rows: th.recent.slice(0, 20).map((e: any) => [iso(e.time_ms), e.type, e.severity, e.source_ip, e.user, `${e.attribute ? e.attribute + ': ' : ''}${e.evidence}`.slice(0, 160), e.trace_id]) });
  }

  b.push({ kind: 'h', level: 2, text: 'Alerts' });
  if (!alerts.configured) b.push({ kind: 'p', text: alerts.hint });
  else {
    const active = (alerts.alerts as any[]).filter((a) => a.state !== 'resolved');
    b.push({ kind: 'p', text: `${active.filter((a) => a.state === 'firing').length} firing, ${active.filter((a) => a.state === 'pending').length} pending, ${(alerts.silences as any[]).filter((s) => s.status?.state === 'active').length} active silences.` });
    b.push({ kind: 'table', head: ['alert', 'state', 'since', 'labels', 'acknowledged'],
      rows: active.map((a) => [a.alertname, a.state + (a.status?.state === 'suppressed' ? ' (silenced)' : ''), iso(a.since), Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', '), a.acknowledged ? `by ${a.acknowledged.by}` : '']) });
  }

  b.push({ kind: 'h', level: 2, text: 'Anomalies' });
  const an = anomalies.anomalies;
  if (an.store === 'missing') b.push({ kind: 'p', text: an.hint });
  else b.push({ kind: 'table', head: ['time', 'kind', 'name', 'value', 'expected', 'score'], align: ['l', 'l', 'l', 'r', 'l', 'r'],
    rows: an.items.slice(0, 30).map((x: any) => [iso(x.time_ms), x.kind, x.name, fmt(x.value), `${fmt(x.expected_min)} .. ${fmt(x.expected_max)}`, fmt(x.score, 3)]) });

  if (runs?.configured) {
    b.push({ kind: 'h', level: 2, text: 'Runs' });
    b.push({ kind: 'table', head: ['run', 'pipeline', 'status', 'phase', 'progress', 'started', 'ended'],
      rows: (runs.runs ?? []).map((x: any) => [x.id, x.pipeline, x.status, x.current_phase ?? '', x.progress === undefined ? '' : pct(x.progress), iso(x.started_at), x.ended_at ? iso(x.ended_at) : '']) });
  }
  if (code?.configured) {
    b.push({ kind: 'h', level: 2, text: 'Code health' });
    for (const repo of code.repositories ?? []) {
      b.push({ kind: 'h', level: 3, text: `${repo.name}: score ${fmt(repo.score)}` });
      b.push({ kind: 'table', head: ['component', 'score', 'functions', 'implemented', 'stubs', 'lines', 'test files'], align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows: (repo.components ?? []).map((c: any) => [c.name, fmt(c.score), String(c.functions), String(c.implemented), String(c.stubs), String(c.loc), String(c.test_files)]) });
      if (repo.sprint) {
        b.push({ kind: 'p', text: `Sprint ${repo.sprint.name}: ${pct(repo.sprint.completion)} complete.` });
        b.push({ kind: 'table', head: ['goal', 'weight', 'completion', 'met'], align: ['l', 'r', 'r', 'l'],
          rows: (repo.sprint.goals ?? []).map((g: any) => [g.description || g.id, String(g.weight), pct(g.completion), g.met_at ? iso(g.met_at) : '']) });
      }
      const stubs: any[] = repo.stubs ?? [];
      if (stubs.length) {
        b.push({ kind: 'p', text: `Stubs: ${stubs.length}${stubs.length > 50 ? ' (first 50)' : ''}.` });
        b.push({ kind: 'table', head: ['location', 'function', 'kind', 'component'], rows: stubs.slice(0, 50).map((s) => [`${s.file}:${s.line}`, s.function, s.kind, s.component]) });
      }
    }
  }
  return { blocks: b, title };
}

export const reportCommand: Command = apiCommand(
  'report',
  'Write a system health report (markdown, or one self-contained HTML file) from a running Vigil',
  'vigil report [--out FILE] [--format md|html] [--start now-24h] [--end now] [--api URL] [--token T]',
  new Set(['help']),
  async (f) => {
    const format = one(f, 'format') ?? (one(f, 'out')?.endsWith('.html') ? 'html' : 'md');
    if (format !== 'md' && format !== 'markdown' && format !== 'html') throw new UsageError('--format must be md or html');
    const { blocks, title } = await buildReport(f);
    const text = format === 'html' ? toHtml(blocks, title) : toMarkdown(blocks);
    const out = one(f, 'out');
    if (!out) return text;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    return `wrote ${out}\n`;
  },
);
