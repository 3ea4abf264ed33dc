import { Bar, KV, Section, Status, Table } from '../ui';
import { bytes, ms, num } from '../format';
import { PipelineGraph } from './graph';

export function Overview({ data }: { data: any }) {
  const ORDER = ['receiver', 'processor', 'connector', 'exporter', 'extension'];
  const comps: any[] = [...(data.components ?? [])].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || a.id.localeCompare(b.id));
  const rows = comps.flatMap((c) => (c.signals.length ? c.signals : [{ signal: '–' }]).map((s: any, i: number) => ({ c, s, first: i === 0 })));
  return (
    <div class="grid">
      <Section title="Health">
        <p class="big">System status: <Status value={data.status} /></p>
        <KV items={[
          ...data.ingest.map((i: any) => [`${i.signal} in`, `${num(i.rate)}/s`] as [string, string]),
          ['CPU', `${num(data.process.cpu_percent, 1)}%`],
          ['RSS', bytes(data.process.rss_bytes)],
          ['event-loop delay p99', ms(data.process.event_loop_delay_ms.p99)],
          ['store', data.store.configured ? (data.store.readable ? 'readable' : 'no data yet') : 'not configured'],
        ]} />
      </Section>
      <Section title="Memory">
        {data.memory.length ? data.memory.map((m: any) => (
          <div class="mem">
            <p>{m.id}: {bytes(m.in_use_bytes)} of {m.limit_bytes ? bytes(m.limit_bytes) : 'no limit'}</p>
            {m.limit_bytes && <Bar value={m.in_use_bytes} max={m.limit_bytes} label={`${m.id} memory in use against the limit`} />}
          </div>
        )) : <p class="empty">No memory_limiter configured; heap in use {bytes(data.process.heap_used_bytes)}.</p>}
        <Table caption="Exporter queues" rows={data.queues} empty="no queued exporters" columns={[
          { label: 'exporter', value: (r: any) => r.exporter },
          { label: 'batches queued', value: (r: any) => num(r.size), num: true },
        ]} />
      </Section>
      <Section title="Pipeline graph" wide>
        <PipelineGraph pipelines={data.pipelines} edges={data.edges} connectors={data.connectors} components={comps} />
      </Section>
      <Section title="Components" wide>
        <Table caption="Components, items per signal" rows={rows} columns={[
          { label: 'component', value: (r: any) => (r.first ? r.c.id : '') },
          { label: 'kind', value: (r: any) => (r.first ? r.c.kind : '') },
          { label: 'status', value: (r: any) => (r.first ? <Status value={r.c.status} /> : '') },
          { label: 'signal', value: (r: any) => r.s.signal },
          { label: 'in', value: (r: any) => num(r.s.in), num: true },
          { label: 'out', value: (r: any) => num(r.s.out), num: true },
          { label: 'refused', value: (r: any) => num(r.s.refused), num: true },
          { label: 'failed', value: (r: any) => num(r.s.failed), num: true },
          { label: 'rate /s', value: (r: any) => num(r.s.in_rate ?? r.s.out_rate), num: true },
          { label: 'queue', value: (r: any) => (r.first && r.c.queue_size !== undefined ? num(r.c.queue_size) : ''), num: true },
        ]} />
      </Section>
    </div>
  );
}
