import { useState } from 'preact/hooks';
import { useJson } from '../api';
import { Chart } from '../chart';
import { num, time } from '../format';
import { ErrorBox, NotConfigured, Section, Table } from '../ui';

function Around({ item }: { item: any }) {
  const start = Math.floor((item.time_ms - 5 * 60_000) / 1000);
  const end = Math.ceil((item.time_ms + 2 * 60_000) / 1000);
  const isMetric = item.kind === 'metric';
  const path = isMetric ? `/api/metrics?${new URLSearchParams({ name: item.name, start: String(start), end: String(end), agg: 'max', step: '1s', by: '' })}` : undefined;
  const r = useJson(path);
  if (!isMetric) return <p class="note">{item.kind} anomaly on {item.name}: value {num(item.value)}, expected {num(item.expected_min)}..{num(item.expected_max)}.</p>;
  if (r.error) return <ErrorBox error={`the series: ${r.error.message}`} />;
  const pts: Array<[number, number]> = r.data?.series?.[0]?.points ?? [];
  const t = pts.map((p) => p[0] * 1000);
  return (
    <Chart title={`${item.name} around the anomaly at ${time(item.time_ms)}`} t={t} range={{ startMs: start * 1000, endMs: end * 1000 }} series={[
      { label: item.name, values: pts.map((p) => p[1]) },
      { label: 'expected min', values: t.map(() => item.expected_min), dash: true, colour: '#009E73' },
      { label: 'expected max', values: t.map(() => item.expected_max), dash: true, colour: '#009E73' },
    ]} />
  );
}

export function Anomalies({ data }: { data: any }) {
  const a = data.anomalies;
  const [sel, setSel] = useState<number>(0);
  if (a.store === 'missing') return <NotConfigured hint={a.hint} />;
  const item = a.items[sel] ?? a.items[0];
  return (
    <div class="grid">
      <Section title="Anomaly events">
        <Table caption="Recent anomaly events" rows={a.items} empty="no anomalies in this range" columns={[
          { label: 'when', value: (r: any) => time(r.time_ms) },
          { label: 'kind', value: (r: any) => r.kind },
          { label: 'series', value: (r: any) => <code>{r.series || r.name}</code> },
          { label: 'value', value: (r: any) => num(r.value), num: true },
          { label: 'expected', value: (r: any) => `${num(r.expected_min)} .. ${num(r.expected_max)}` },
          { label: 'score', value: (r: any) => num(r.score, 3), num: true },
          { label: '', value: (r: any) => <button type="button" aria-pressed={r === item} onClick={() => setSel(a.items.indexOf(r))}>Show</button> },
        ]} />
      </Section>
      {item && <Section title="Series around the anomaly"><Around key={`${item.series}${item.time_ms}`} item={item} /></Section>}
    </div>
  );
}
