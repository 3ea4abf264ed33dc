// Runs (pipelines that run to an end: training, builds, ...): progress per phase with ETA, a Gantt
// timeline, loss curves and a comparison with earlier runs. Fed by /api/runs (another feature).
import { useJson } from '../api';
import { Chart } from '../chart';
import { ago, ms, num, pct, time } from '../format';
import { navigate } from '../state';
import { Bar, ErrorBox, NotConfigured, Section, Status, Table } from '../ui';

function Gantt({ run }: { run: any }) {
  const phases: any[] = run.phases ?? [];
  const t0 = run.started_at;
  const end = Math.max(run.ended_at ?? Date.now(), ...phases.map((p) => p.ended_at ?? (p.started_at ? Date.now() : 0)));
  const total = Math.max(1, end - t0);
  return (
    <ol class="gantt" aria-label={`Timeline of run ${run.id}`}>
      {phases.map((p) => {
        const s = p.started_at ? p.started_at - t0 : 0;
        const d = p.duration_ms ?? (p.started_at ? (p.ended_at ?? Date.now()) - p.started_at : 0);
        return (
          <li class={`${p.status} ${p.slow ? 'slow' : ''}`}>
            <span class="g-name">{p.name}</span>
            <span class="g-track">
              {p.started_at && <span class={`g-bar ${p.status}`} style={{ left: `${(s / total) * 100}%`, width: `${Math.max(0.5, (d / total) * 100)}%` }} />}
              {p.usual_duration_ms && p.started_at && <span class="g-usual" title="usual duration" style={{ left: `${(s / total) * 100}%`, width: `${Math.min(100, (p.usual_duration_ms / total) * 100)}%` }} />}
            </span>
            <span class="g-dur">{p.started_at ? ms(d) : p.status}{p.slow ? ' (slow)' : ''}{p.usual_duration_ms ? `, usually ${ms(p.usual_duration_ms)}` : ''}</span>
          </li>
        );
      })}
    </ol>
  );
}

function RunDetail({ id, version }: { id: string; version: number }) {
  const r = useJson(`/api/runs/${encodeURIComponent(id)}?v=${version}`);
  if (r.error) return <ErrorBox error={`run ${id}: ${r.error.message}`} />;
  const run = r.data?.run;
  if (!run) return <p class="empty">Loading run {id}…</p>;
  const metrics = Object.entries(run.metrics ?? {}) as Array<[string, Array<[number, number]>]>;
  const prev: any[] = run.previous ?? [];
  const names: string[] = (run.phases ?? []).map((p: any) => p.name);
  return (
    <Section title={`Run ${run.id}`}>
      <p><Status value={run.status} /> {run.pipeline}, started {time(run.started_at)}{run.ended_at ? `, ended ${time(run.ended_at)}` : ''}{run.error_type ? `, error: ${run.error_type}` : ''}{run.result ? `, result: ${run.result}` : ''}</p>
      {run.trace_id && <p><a href={`?page=explore&tab=traces&trace=${run.trace_id}`} data-nav>Open the run's trace</a></p>}
      <h3>Timeline</h3>
      <Gantt run={run} />
      {metrics.map(([name, pts]) => (
        <Chart title={name} t={pts.map((p) => p[0])} series={[{ label: name, values: pts.map((p) => p[1]) }]} />
      ))}
      <Table caption="Phase durations against earlier runs" rows={names} empty="no phases" columns={[
        { label: 'phase', value: (n: string) => n },
        { label: run.id, value: (n: string) => ms(run.phases.find((p: any) => p.name === n)?.duration_ms), num: true },
        ...prev.slice(0, 5).map((pr) => ({ label: pr.id, value: (n: string) => ms(pr.phases.find((p: any) => p.name === n)?.duration_ms), num: true })),
      ]} />
    </Section>
  );
}

export function Runs({ data, q }: { data: any; q: URLSearchParams }) {
  if (!data.configured) return <NotConfigured hint={data.hint} />;
  const runs: any[] = data.runs ?? [];
  const sel = q.get('run');
  const selRun = runs.find((r) => r.id === sel);
  return (
    <div class="grid">
      <Section title="Runs">
        <Table caption="Runs, newest first" rows={runs} empty="no runs yet" columns={[
          { label: 'run', value: (r: any) => <a href={`?${new URLSearchParams({ ...Object.fromEntries(q), run: r.id })}`} data-nav onClick={() => navigate({ run: r.id })}>{r.id}</a> },
          { label: 'pipeline', value: (r: any) => r.pipeline },
          { label: 'status', value: (r: any) => <Status value={r.status} /> },
          { label: 'phase', value: (r: any) => (r.current_phase ? `${r.current_phase} (${r.phase_index ?? '?'}/${r.phase_count ?? r.phases?.length ?? '?'})` : '–') },
          { label: 'progress', value: (r: any) => (r.progress !== undefined ? <span class="progress-cell"><Bar value={r.progress} max={1} label={`run ${r.id} progress`} /> {pct(r.progress)}</span> : '–') },
          { label: 'ETA', value: (r: any) => (r.status === 'running' && r.eta_ms !== undefined ? ms(r.eta_ms) : '–'), num: true },
          { label: 'started', value: (r: any) => ago(r.started_at) },
          { label: 'updated', value: (r: any) => ago(r.updated_at) },
        ]} />
      </Section>
      {runs.filter((r) => r.status === 'running').map((r) => (
        <Section title={`In progress: ${r.id}`}>
          {(r.phases ?? []).map((p: any) => (
            <div class="phase">
              <span>{p.name} <Status value={p.status} />{p.slow ? ' slow' : ''}</span>
              <Bar value={p.status === 'succeeded' ? 1 : p.status === 'running' && p.usual_duration_ms && p.started_at ? Math.min(0.99, (Date.now() - p.started_at) / p.usual_duration_ms) : 0} max={1} label={`phase ${p.name}`} />
            </div>
          ))}
          <p class="note">ETA {r.eta_ms !== undefined ? ms(r.eta_ms) : 'unknown'}; overall {pct(r.progress)}</p>
        </Section>
      ))}
      {sel && <RunDetail id={sel} version={selRun?.updated_at ?? 0} />}
    </div>
  );
}
