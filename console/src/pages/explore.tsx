// Explore: trace search and a waterfall, log search, metric query with a chart. Form values live in
// the URL like the rest of the console's state; the queries go to the query API (src/query).
import { useState } from 'preact/hooks';
import { useJson } from '../api';
import { Chart } from '../chart';
import { ms, num, time } from '../format';
import { navigate } from '../state';
import { ErrorBox, KV, Section, Table } from '../ui';

const TABS = [['traces', 'Traces'], ['logs', 'Logs'], ['metrics', 'Metrics']] as const;

function Field({ name, label, q, placeholder, type = 'text' }: { name: string; label: string; q: URLSearchParams; placeholder?: string; type?: string }) {
  return <label>{label} <input name={name} type={type} defaultValue={q.get(name) ?? ''} placeholder={placeholder} /></label>;
}

function submitTo(fields: string[]) {
  return (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const changes: Record<string, string | undefined> = { trace: undefined };
    for (const k of fields) changes[k] = String(f.get(k) ?? '') || undefined;
    navigate(changes);
  };
}

function attrParams(raw: string | null, p: URLSearchParams) {
  for (const part of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i > 0) p.set(`attr.${part.slice(0, i)}`, part.slice(i + 1));
  }
}

function Spans({ q, range }: { q: URLSearchParams; range: Record<string, string> }) {
  const p = new URLSearchParams({ ...range, limit: '100' });
  for (const k of ['service', 'name', 'status', 'min_duration']) if (q.get(k)) p.set(k, q.get(k)!);
  attrParams(q.get('attrs'), p);
  const r = useJson(`/api/spans?${p}`);
  return (
    <>
      <form class="inline-form" onSubmit={submitTo(['service', 'name', 'status', 'min_duration', 'attrs'])} aria-label="Trace search">
        <Field name="service" label="service" q={q} />
        <Field name="name" label="operation" q={q} />
        <label>status <select name="status" defaultValue={q.get('status') ?? ''}><option value="">any</option><option>ok</option><option>error</option><option>unset</option></select></label>
        <Field name="min_duration" label="min duration" q={q} placeholder="250ms" />
        <Field name="attrs" label="attributes" q={q} placeholder="http.route=/cart, user=ann" />
        <button type="submit">Search</button>
      </form>
      {r.error && <ErrorBox error={r.error.message} />}
      {r.data && <Table caption="Spans found" rows={r.data.items} empty="no spans match" columns={[
        { label: 'when', value: (s: any) => time(s.start_time) },
        { label: 'service', value: (s: any) => s.service },
        { label: 'operation', value: (s: any) => s.name },
        { label: 'duration', value: (s: any) => ms(s.duration_ms), num: true },
        { label: 'status', value: (s: any) => s.status.code },
        { label: 'trace', value: (s: any) => <a href={`?${new URLSearchParams({ ...Object.fromEntries(q), trace: s.trace_id })}`} data-nav>{s.trace_id.slice(0, 12)}…</a> },
      ]} />}
    </>
  );
}

function flatten(nodes: any[], depth = 0, out: Array<{ s: any; depth: number }> = []) {
  for (const n of nodes) {
    out.push({ s: n, depth });
    flatten(n.children ?? [], depth + 1, out);
  }
  return out;
}

function Waterfall({ id }: { id: string }) {
  const r = useJson(`/api/traces/${encodeURIComponent(id)}`);
  const [sel, setSel] = useState<string>();
  if (r.error) return <ErrorBox error={`trace ${id}: ${r.error.message}`} />;
  if (!r.data) return <p class="empty">Loading the trace…</p>;
  const t = r.data;
  const rows = flatten(t.roots);
  const t0 = Math.min(...rows.map((x) => Number(BigInt(x.s.start_time_unix_nano) / 1000n)));
  const total = Math.max(0.001, t.duration_ms);
  const span = rows.find((x) => x.s.span_id === sel)?.s ?? rows[0]?.s;
  return (
    <Section title={`Trace ${id}`}>
      <p class="note">{t.span_count} spans, {ms(t.duration_ms)}, services: {t.services.join(', ')}{t.truncated ? ' (truncated)' : ''}</p>
      <ol class="waterfall" aria-label="Trace waterfall">
        {rows.map(({ s, depth }) => {
          const start = (Number(BigInt(s.start_time_unix_nano) / 1000n) - t0) / 1000;
          return (
            <li class={`${s.status.code === 'error' ? 'err' : ''} ${s === span ? 'sel' : ''}`}>
              <button type="button" class="wf-row" onClick={() => setSel(s.span_id)} aria-label={`${s.service} ${s.name} ${ms(s.duration_ms)}`}>
                <span class="wf-name" style={{ paddingLeft: `${depth * 14}px` }}>{s.service}: {s.name}</span>
                <span class="wf-track"><span class="wf-bar" style={{ left: `${(start / total) * 100}%`, width: `${Math.max(0.5, (s.duration_ms / total) * 100)}%` }} /></span>
                <span class="wf-dur">{ms(s.duration_ms)}</span>
              </button>
            </li>
          );
        })}
      </ol>
      {span && (
        <div class="span-detail">
          <h3>{span.name}</h3>
          <KV items={[['service', span.service], ['kind', span.kind], ['status', `${span.status.code} ${span.status.message}`], ['start', span.start_time], ['duration', ms(span.duration_ms)], ['span id', span.span_id]]} />
          <Table caption="Span attributes" rows={Object.entries(span.attributes)} empty="none" columns={[
            { label: 'key', value: (e: any) => e[0] }, { label: 'value', value: (e: any) => <code class="attr-value">{typeof e[1] === 'string' ? e[1] : JSON.stringify(e[1])}</code> },
          ]} />
          <Table caption="Span events" rows={span.events} empty="none" columns={[
            { label: 'name', value: (e: any) => e.name }, { label: 'attributes', value: (e: any) => <code>{JSON.stringify(e.attributes ?? {})}</code> },
          ]} />
        </div>
      )}
    </Section>
  );
}

function Logs({ q, range }: { q: URLSearchParams; range: Record<string, string> }) {
  const p = new URLSearchParams({ ...range, limit: '100' });
  for (const [k, param] of [['lservice', 'service'], ['body', 'body'], ['severity_min', 'severity_min'], ['event_name', 'event_name']]) if (q.get(k)) p.set(param, q.get(k)!);
  const r = useJson(`/api/logs?${p}`);
  return (
    <>
      <form class="inline-form" onSubmit={submitTo(['lservice', 'body', 'severity_min', 'event_name'])} aria-label="Log search">
        <Field name="lservice" label="service" q={q} />
        <Field name="body" label="text" q={q} />
        <label>severity ≥ <select name="severity_min" defaultValue={q.get('severity_min') ?? ''}><option value="">any</option>{['debug', 'info', 'warn', 'error', 'fatal'].map((s) => <option>{s}</option>)}</select></label>
        <Field name="event_name" label="event name" q={q} />
        <button type="submit">Search</button>
      </form>
      {r.error && <ErrorBox error={r.error.message} />}
      {r.data && <Table caption="Log records" rows={r.data.items} empty="no log records match" columns={[
        { label: 'when', value: (l: any) => time(l.time) },
        { label: 'service', value: (l: any) => l.service },
        { label: 'severity', value: (l: any) => l.severity_text || String(l.severity_number) },
        { label: 'body', value: (l: any) => <code>{typeof l.body === 'string' ? l.body : JSON.stringify(l.body)}</code> },
        { label: 'trace', value: (l: any) => (l.trace_id ? <a href={`?page=explore&tab=traces&trace=${l.trace_id}`} data-nav>{l.trace_id.slice(0, 12)}…</a> : '–') },
      ]} />}
    </>
  );
}

function Metrics({ q, range }: { q: URLSearchParams; range: Record<string, string> }) {
  const names = useJson('/api/metrics/names');
  const name = q.get('metric');
  const p = new URLSearchParams({ ...range });
  if (name) p.set('name', name);
  if (q.get('agg')) p.set('agg', q.get('agg')!);
  if (q.has('by')) p.set('by', q.get('by')!);
  const r = useJson(name ? `/api/metrics?${p}` : undefined);
  const series: any[] = r.data?.series ?? [];
  const t = [...new Set(series.flatMap((s) => s.points.map((x: [number, number]) => x[0])))].sort((a, b) => a - b);
  return (
    <>
      <form class="inline-form" onSubmit={submitTo(['metric', 'agg', 'by'])} aria-label="Metric query">
        <label>metric <input name="metric" list="metric-names" defaultValue={name ?? ''} /></label>
        <datalist id="metric-names">{(names.data?.names ?? []).map((n: any) => <option value={n.name} />)}</datalist>
        <label>aggregation <select name="agg" defaultValue={q.get('agg') ?? ''}><option value="">default</option>{['avg', 'min', 'max', 'sum', 'count', 'rate', 'increase', 'quantile'].map((a) => <option>{a}</option>)}</select></label>
        <Field name="by" label="group by" q={q} placeholder="label,label (empty: all series)" />
        <button type="submit">Query</button>
      </form>
      {r.error && <ErrorBox error={r.error.message} />}
      {r.data && (series.length ? (
        <Chart title={`${r.data.name} (${r.data.agg}, step ${r.data.step_seconds}s)`} t={t.map((x) => x * 1000)} range={{ startMs: r.data.start * 1000, endMs: r.data.end * 1000 }} series={series.slice(0, 8).map((s) => {
          const m = new Map<number, number>(s.points);
          return { label: Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',') || r.data.name, values: t.map((x) => m.get(x) ?? null) };
        })} />
      ) : <p class="empty">No points for {name} in this range.</p>)}
      {series.length > 8 && <p class="note">{num(series.length)} series; the first 8 are drawn. Group with "group by" to combine them.</p>}
    </>
  );
}

export function Explore({ q, range }: { data: any; q: URLSearchParams; range: Record<string, string> }) {
  const tab = q.get('tab') ?? 'traces';
  return (
    <div class="explore">
      <div role="tablist" aria-label="Explore" class="tabs">
        {TABS.map(([id, label]) => <button type="button" role="tab" aria-selected={tab === id} onClick={() => navigate({ tab: id })}>{label}</button>)}
      </div>
      {tab === 'traces' && (q.get('trace') ? <><button type="button" onClick={() => navigate({ trace: undefined })}>← back to the search</button><Waterfall id={q.get('trace')!} /></> : <Spans q={q} range={range} />)}
      {tab === 'logs' && <Logs q={q} range={range} />}
      {tab === 'metrics' && <Metrics q={q} range={range} />}
    </div>
  );
}
