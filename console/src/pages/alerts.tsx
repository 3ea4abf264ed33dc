import { useEffect, useState } from 'preact/hooks';
import { getSession, send, Session } from '../api';
import { ago, time } from '../format';
import { NotConfigured, Section, Status, Table } from '../ui';

const labelText = (l: Record<string, string>) => Object.entries(l ?? {}).map(([k, v]) => `${k}="${v}"`).join(', ');

function SilenceForm({ onDone }: { onDone: (msg: string) => void }) {
  const [matcher, setMatcher] = useState('alertname=');
  const [hours, setHours] = useState('1');
  const [comment, setComment] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const matchers = matcher.split(',').map((m) => m.trim()).filter(Boolean).map((m) => {
      const [, name, op, value] = /^([^=!~]+)(=~|!~|!=|=)(.*)$/.exec(m) ?? [];
      if (!name) throw new Error(`cannot read matcher ${m}`);
      return { name: name.trim(), value: value.replace(/^"|"$/g, ''), isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
    });
    const now = new Date();
    try {
      const r = await send('POST', '/api/silences', { matchers, startsAt: now.toISOString(), endsAt: new Date(now.getTime() + Number(hours) * 3600_000).toISOString(), createdBy: 'console', comment: comment || 'silenced from the console' });
      onDone(`silence ${r.silenceID} created`);
    } catch (err) {
      onDone(`could not create the silence: ${(err as Error).message}`);
    }
  };
  return (
    <form class="inline-form" onSubmit={(e) => void submit(e).catch((err) => onDone((err as Error).message))}>
      <label>matchers <input value={matcher} onInput={(e) => setMatcher((e.target as HTMLInputElement).value)} placeholder='alertname="HighErrorRate", service="api"' /></label>
      <label>hours <input type="number" min="0.1" step="0.1" value={hours} onInput={(e) => setHours((e.target as HTMLInputElement).value)} /></label>
      <label>comment <input value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Create silence</button>
    </form>
  );
}

export function Alerts({ data }: { data: any }) {
  const [session, setSession] = useState<Session>();
  const [msg, setMsg] = useState('');
  useEffect(() => void getSession().then(setSession), []);
  if (!data.configured) return <NotConfigured hint={data.hint} />;
  const alerts: any[] = data.alerts ?? [];
  const active = alerts.filter((a) => a.state !== 'resolved');
  const canWrite = !!session?.canWrite;
  const ack = async (fp: string) => {
    try {
      await send('POST', `/api/alerts/${fp}/ack`, { by: session?.principal ?? 'console', comment: 'acknowledged in the console' });
      setMsg(`alert ${fp} acknowledged`);
    } catch (e) {
      setMsg(`could not acknowledge: ${(e as Error).message}`);
    }
  };
  const expire = async (id: string) => {
    try {
      await send('DELETE', `/api/silences/${encodeURIComponent(id)}`);
      setMsg(`silence ${id} expired`);
    } catch (e) {
      setMsg(`could not expire: ${(e as Error).message}`);
    }
  };
  return (
    <div class="grid">
      {msg && <p class="notice" role="status">{msg}</p>}
      {!canWrite && session && <p class="note">Read-only: your role does not allow changes.</p>}
      <Section title="Firing and pending alerts" wide>
        <Table caption="Alerts" rows={active} empty="no firing or pending alerts" columns={[
          { label: 'alert', value: (a: any) => a.alertname },
          { label: 'state', value: (a: any) => <Status value={a.state + (a.status?.state === 'suppressed' ? ' (silenced)' : '')} /> },
          { label: 'for', value: (a: any) => ago(a.since) },
          { label: 'labels', value: (a: any) => <code>{labelText(a.labels)}</code> },
          { label: 'summary', value: (a: any) => a.annotations?.summary ?? a.annotations?.description ?? '' },
          { label: 'value', value: (a: any) => a.value ?? '' },
          { label: 'escalation', value: (a: any) => (a.escalation ?? []).map((e: any) => `${e.policy}: next step ${e.nextStep}${e.acked ? ' (acked)' : ''} → ${e.receivers.join(', ')}`).join('; ') || '–' },
          { label: 'acknowledged', value: (a: any) => (a.acknowledged ? `by ${a.acknowledged.by} ${ago(a.acknowledged.at)}` : a.state === 'firing' && canWrite ? <button type="button" onClick={() => void ack(a.fingerprint)}>Acknowledge</button> : '–') },
          { label: 'receivers', value: (a: any) => (a.receivers ?? []).join(', ') },
        ]} />
      </Section>
      <Section title="Groups">
        <Table caption="Aggregation groups" rows={Array.isArray(data.groups) ? data.groups : []} empty="no groups" columns={[
          { label: 'labels', value: (g: any) => <code>{labelText(g.labels)}</code> },
          { label: 'receiver', value: (g: any) => g.receiver?.name ?? g.receiver ?? '' },
          { label: 'alerts', value: (g: any) => String(g.alerts?.length ?? 0), num: true },
          { label: 'notifications', value: (g: any) => (g.notifications ?? g.lastNotifications ?? []).map((n: any) => `${n.receiver ?? n.channel}: ${n.status ?? n.state} ${n.at ? ago(n.at) : ''}`).join('; ') || '–' },
        ]} />
      </Section>
      <Section title="Recent notifications per channel" wide>
        {(data.notifications?.channels ?? []).length === 0 && <p class="empty">No notification channels: add a notification exporter (webhook, email, github, sentry, alertmanager) to the pipeline that receives from the alerts connector.</p>}
        {(data.notifications?.channels ?? []).map((c: any) => (
          <Table key={c.channel} caption={`Channel ${c.channel}`} rows={c.deliveries ?? []} empty="no notifications delivered since the start" columns={[
            { label: 'time', value: (d: any) => time(d.lastAttempt) },
            { label: 'alert', value: (d: any) => d.alertname || d.groupKey },
            { label: 'receiver', value: (d: any) => d.receiver },
            { label: 'notification', value: (d: any) => `${d.status}${d.escalationStep !== undefined ? ` (step ${d.escalationStep})` : ''}` },
            { label: 'delivery', value: (d: any) => <Status value={d.state} /> },
            { label: 'attempts', value: (d: any) => String(d.attempts), num: true },
            { label: 'error', value: (d: any) => d.error ?? '' },
          ]} />
        ))}
      </Section>
      <Section title="Silences">
        {canWrite && <SilenceForm onDone={setMsg} />}
        <Table caption="Silences" rows={Array.isArray(data.silences) ? data.silences : []} empty="no silences" columns={[
          { label: 'id', value: (s: any) => <code>{s.id}</code> },
          { label: 'state', value: (s: any) => <Status value={s.status?.state ?? ''} /> },
          { label: 'matchers', value: (s: any) => <code>{(s.matchers ?? []).map((m: any) => `${m.name}${m.isEqual === false ? '!' : '='}${m.isRegex ? '~' : ''}"${m.value}"`).join(', ')}</code> },
          { label: 'ends', value: (s: any) => time(s.endsAt) },
          { label: 'by', value: (s: any) => s.createdBy },
          { label: 'comment', value: (s: any) => s.comment },
          { label: '', value: (s: any) => (s.status?.state !== 'expired' && canWrite ? <button type="button" onClick={() => void expire(s.id)}>Expire</button> : '') },
        ]} />
      </Section>
    </div>
  );
}
