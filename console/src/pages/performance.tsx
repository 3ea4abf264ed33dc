import { Chart } from '../chart';
import { bytes, ms, num, pct, time } from '../format';
import { KV, NotConfigured, Section, Table, traceLink } from '../ui';

const opLink = (service: string, operation: string) => <a href={`?page=explore&tab=traces&service=${encodeURIComponent(service)}&name=${encodeURIComponent(operation)}`} data-nav>{operation}</a>;

export function Performance({ data }: { data: any }) {
  const s = data.spans;
  const p = data.process;
  const c = data.capacity;
  return (
    <div class="grid">
      {s.store === 'missing' ? <NotConfigured hint={s.hint} /> : (
        <>
          <Section title="Requests over the range">
            <p class="note">{num(s.total)} spans in the range{s.sampled ? `; figures from the newest ${num(s.read)}` : ''}.</p>
            <Chart title="Spans per bucket and errors" t={s.series.t} range={s.range} series={[
              { label: 'spans', values: s.series.count, bars: true },
              { label: 'errors', values: s.series.errors, colour: '#D55E00' },
            ]} />
            <Chart title="Span duration p50 and p99" unit=" ms" t={s.series.t} range={s.range} series={[
              { label: 'p50', values: s.series.p50_ms.map((v: number, i: number) => (s.series.count[i] ? v : null)) },
              { label: 'p99', values: s.series.p99_ms.map((v: number, i: number) => (s.series.count[i] ? v : null)), colour: '#E69F00' },
            ]} />
          </Section>
          <Section title="Services (RED)">
            <Table caption="Rate, errors and duration per service" rows={s.services} columns={[
              { label: 'service', value: (r: any) => r.service },
              { label: 'spans', value: (r: any) => num(r.count), num: true },
              { label: 'rate /s', value: (r: any) => num(r.rate_per_s, 3), num: true },
              { label: 'errors', value: (r: any) => `${num(r.errors)} (${pct(r.error_ratio)})`, num: true },
              { label: 'p50', value: (r: any) => ms(r.p50_ms), num: true },
              { label: 'p90', value: (r: any) => ms(r.p90_ms), num: true },
              { label: 'p99', value: (r: any) => ms(r.p99_ms), num: true },
            ]} />
          </Section>
          <Section title="Operations (RED)">
            <Table caption="Rate, errors and duration per operation" rows={s.operations} columns={[
              { label: 'service', value: (r: any) => r.service },
              { label: 'operation', value: (r: any) => opLink(r.service, r.operation) },
              { label: 'spans', value: (r: any) => num(r.count), num: true },
              { label: 'rate /s', value: (r: any) => num(r.rate_per_s, 3), num: true },
              { label: 'errors', value: (r: any) => `${num(r.errors)} (${pct(r.error_ratio)})`, num: true },
              { label: 'p50', value: (r: any) => ms(r.p50_ms), num: true },
              { label: 'p90', value: (r: any) => ms(r.p90_ms), num: true },
              { label: 'p99', value: (r: any) => ms(r.p99_ms), num: true },
            ]} />
          </Section>
          <Section title="Slowest operations">
            <Table caption="The slowest spans in the range" rows={s.slowest} columns={[
              { label: 'when', value: (r: any) => time(r.time_ms) },
              { label: 'service', value: (r: any) => r.service },
              { label: 'operation', value: (r: any) => r.operation },
              { label: 'duration', value: (r: any) => ms(r.duration_ms), num: true },
              { label: 'trace', value: (r: any) => traceLink(r.trace_id) },
            ]} />
          </Section>
        </>
      )}
      <Section title="Vigil itself">
        <KV items={[
          ['CPU', `${num(p.cpu_percent, 1)}%`], ['RSS', bytes(p.rss_bytes)], ['heap used', `${bytes(p.heap_used_bytes)} of ${bytes(p.heap_total_bytes)}`],
          ['event-loop delay p50 / p99 / max', `${ms(p.event_loop_delay_ms.p50)} / ${ms(p.event_loop_delay_ms.p99)} / ${ms(p.event_loop_delay_ms.max)}`],
          ['uptime', ms(p.uptime_s * 1000)],
        ]} />
      </Section>
      <Section title="Capacity">
        {c ? (
          <>
            <KV items={[
              ['spans ingested now', `${num(c.spans_per_s, 1)} /s`],
              ['measured for this path', `${num(c.measured.spans_per_s)} /s (${c.measured.path})`],
              ['load', `${pct(c.ratio)}: ${c.level}`],
            ]} />
            <p class="note">Source: {c.measured.source}.</p>
          </>
        ) : <p class="note">no capacity figure</p>}
      </Section>
    </div>
  );
}
