// Small shared pieces: tables, status badges, empty and error states.
import type { ComponentChildren } from 'preact';

export function Status({ value }: { value: string }) {
  const v = String(value ?? 'unknown');
  const cls = /^(ok|succeeded|running|firing-acked|healthy|active|sent)$/.test(v) ? 'ok' : /(error|failed|firing|critical|stalled)/.test(v) ? 'bad' : /(degraded|pending|warn|high|starting|suppressed|retrying|sending)/.test(v) ? 'warn' : 'neutral';
  const icon = cls === 'ok' ? '●' : cls === 'bad' ? '✖' : cls === 'warn' ? '▲' : '○';
  return <span class={`badge ${cls}`}><span aria-hidden="true">{icon} </span>{v}</span>;
}

export interface Column<T> {
  label: string;
  value: (row: T) => ComponentChildren;
  num?: boolean;
}

export function Table<T>({ rows, columns, caption, empty = 'Nothing in this range.', rowKey }: { rows: T[]; columns: Column<T>[]; caption: string; empty?: string; rowKey?: (r: T, i: number) => string }) {
  if (!rows.length) return <p class="empty" aria-label={caption}>{caption}: {empty}</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead><tr>{columns.map((c) => <th scope="col" class={c.num ? 'num' : ''}>{c.label}</th>)}</tr></thead>
        <tbody>{rows.map((r, i) => <tr key={rowKey ? rowKey(r, i) : i}>{columns.map((c) => <td class={c.num ? 'num' : ''}>{c.value(r)}</td>)}</tr>)}</tbody>
      </table>
    </div>
  );
}

export function Section({ title, children, id, wide }: { title: string; children: ComponentChildren; id?: string; wide?: boolean }) {
  return <section class={wide ? 'card wide' : 'card'} aria-labelledby={id ?? slug(title)}><h2 id={id ?? slug(title)}>{title}</h2>{children}</section>;
}

export const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');

export function NotConfigured({ hint }: { hint: string }) {
  return <p class="notice" role="status">{hint}</p>;
}

export function ErrorBox({ error }: { error: string }) {
  return <p class="error" role="alert">{error}</p>;
}

export function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  const p = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <div class="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p * 100)}>
      <div class={`bar-fill ${p > 0.9 ? 'bad' : p > 0.7 ? 'warn' : ''}`} style={{ width: `${(p * 100).toFixed(1)}%` }} />
    </div>
  );
}

export function KV({ items }: { items: Array<[string, ComponentChildren]> }) {
  return <dl class="kv">{items.map(([k, v]) => <div><dt>{k}</dt><dd>{v}</dd></div>)}</dl>;
}

export function traceLink(traceId: string | undefined) {
  if (!traceId) return '–';
  return <a href={`?page=explore&tab=traces&trace=${encodeURIComponent(traceId)}`} data-nav>{traceId.slice(0, 12)}…</a>;
}
