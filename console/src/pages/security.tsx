import { Chart } from '../chart';
import { SEVERITY_COLOURS, num, time } from '../format';
import { KV, NotConfigured, Section, Table, traceLink } from '../ui';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

export function Security({ data }: { data: any }) {
  const t = data.threats;
  const st = data.status ?? {};
  return (
    <div class="grid">
      {!data.configured && <NotConfigured hint="not configured: add the security processor to pipelines.yaml" />}
      {data.status && (
        <Section title="Detector status">
          <KV items={Object.entries(st).filter(([, v]) => typeof v !== 'object').map(([k, v]) => [k.replace(/_/g, ' '), String(v)] as [string, string])} />
        </Section>
      )}
      <Section title="Block list">
        <Table caption="Blocked sources" rows={data.blocked ?? []} empty="nothing is blocked" columns={[
          { label: 'source', value: (r: any) => r.key ?? r.ip ?? r.source ?? JSON.stringify(r) },
          { label: 'since', value: (r: any) => time(r.since) },
          { label: 'reason', value: (r: any) => r.reason ?? '' },
          { label: 'expires', value: (r: any) => time(r.until ?? r.expires_at ?? r.expires) },
        ]} />
      </Section>
      {t.store === 'missing' ? <NotConfigured hint={t.hint} /> : (
        <>
          <Section title="Threats over time">
            <p class="note">{num(t.total)} security events in the range{t.limited ? ' (newest shown)' : ''}.</p>
            <Chart title="Threats by severity" t={t.series.t} range={t.range} series={SEVERITIES.map((s) => ({ label: s, values: t.series[s], colour: SEVERITY_COLOURS[s], bars: false }))} />
            <Table caption="Threats by type" rows={t.by_type} columns={[
              { label: 'type', value: (r: any) => r.type }, { label: 'events', value: (r: any) => num(r.count), num: true },
            ]} />
          </Section>
          <Section title="Top sources">
            <Table caption="Top source IPs" rows={t.top_ips} columns={[
              { label: 'IP', value: (r: any) => r.ip }, { label: 'events', value: (r: any) => num(r.count), num: true },
              { label: 'max risk', value: (r: any) => num(r.max_score), num: true }, { label: 'types', value: (r: any) => r.types.join(', ') },
            ]} />
            <Table caption="Top users" rows={t.top_users} columns={[
              { label: 'user', value: (r: any) => r.user }, { label: 'events', value: (r: any) => num(r.count), num: true },
              { label: 'max risk', value: (r: any) => num(r.max_score), num: true }, { label: 'types', value: (r: any) => r.types.join(', ') },
            ]} />
          </Section>
          <Section title="Recent security events" wide>
            <Table caption="Recent security events with evidence" rows={t.recent} columns={[
              { label: 'when', value: (r: any) => time(r.time_ms) },
              { label: 'type', value: (r: any) => r.type },
              { label: 'severity', value: (r: any) => <span class={`sev sev-${r.severity}`}>{r.severity}</span> },
              { label: 'score', value: (r: any) => num(r.score), num: true },
              { label: 'source', value: (r: any) => r.source_ip || '–' },
              { label: 'user', value: (r: any) => r.user || '–' },
              { label: 'evidence', value: (r: any) => <code class="evidence">{r.attribute ? `${r.attribute}: ` : ''}{r.evidence}</code> },
              { label: 'trace', value: (r: any) => traceLink(r.trace_id) },
            ]} />
          </Section>
        </>
      )}
    </div>
  );
}
