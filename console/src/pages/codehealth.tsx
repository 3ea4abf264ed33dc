import { ago, num, pct, time } from '../format';
import { Bar, NotConfigured, Section, Table } from '../ui';

export function CodeHealth({ data }: { data: any }) {
  if (!data.configured) return <NotConfigured hint={data.hint} />;
  const repos: any[] = data.repositories ?? [];
  if (!repos.length) return <p class="empty">No repository scanned yet.</p>;
  return (
    <div class="grid">
      {repos.map((r) => (
        <Section title={`${r.name}: score ${num(r.score)}`}>
          <p class="note">{r.path}, scanned {ago(r.scanned_at)}</p>
          <Table caption={`Components of ${r.name}`} rows={r.components ?? []} columns={[
            { label: 'component', value: (c: any) => c.name },
            { label: 'score', value: (c: any) => num(c.score), num: true },
            { label: 'functions', value: (c: any) => num(c.functions), num: true },
            { label: 'implemented', value: (c: any) => num(c.implemented), num: true },
            { label: 'stubs', value: (c: any) => num(c.stubs), num: true },
            { label: 'lines', value: (c: any) => num(c.loc), num: true },
            { label: 'test files', value: (c: any) => num(c.test_files), num: true },
          ]} />
          {r.sprint && (
            <>
              <h3>Sprint {r.sprint.name} ({time(r.sprint.start)} – {time(r.sprint.end)})</h3>
              <Bar value={r.sprint.completion} max={1} label={`sprint ${r.sprint.name} completion`} /> <span>{pct(r.sprint.completion)}</span>
              <Table caption="Sprint goals" rows={r.sprint.goals ?? []} columns={[
                { label: 'goal', value: (g: any) => g.description },
                { label: 'weight', value: (g: any) => num(g.weight), num: true },
                { label: 'completion', value: (g: any) => pct(g.completion), num: true },
                { label: 'met', value: (g: any) => (g.met_at ? time(g.met_at) : '–') },
              ]} />
            </>
          )}
          <Table caption="Stubs" rows={(r.stubs ?? []).slice(0, 100)} empty="no stubs" columns={[
            { label: 'file', value: (s: any) => <StubLocation root={r.path} file={s.file} line={s.line} /> },
            { label: 'function', value: (s: any) => s.function },
            { label: 'kind', value: (s: any) => s.kind },
            { label: 'component', value: (s: any) => s.component },
          ]} />
        </Section>
      ))}
    </div>
  );
}

/**
 * file:line, linked for an editor when the repository path is absolute (vscode:// opens the file
 * at the line in VS Code and editors that register the same scheme; a browser will not open file://
 * from an http page).
 */
function StubLocation({ root, file, line }: { root: string; file: string; line: number }) {
  const text = `${file}:${line}`;
  if (typeof root !== 'string' || !root.startsWith('/')) return <>{text}</>;
  return <a href={`vscode://file${encodeURI(`${root.replace(/\/+$/, '')}/${file}`)}:${line}`}>{text}</a>;
}
