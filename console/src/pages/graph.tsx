// The pipeline graph: one row per pipeline, receivers → processors → exporters, with the live rate
// on each edge. Connectors appear as an exporter of one pipeline and a receiver of another (dashed).
import { num } from '../format';

const W = 150, H = 26, GAP_X = 60, GAP_Y = 10, ROW_PAD = 18;

export function PipelineGraph({ pipelines, edges, connectors, components }: { pipelines: any[]; edges: any[]; connectors: string[]; components: any[] }) {
  if (!pipelines.length) return <p class="empty">No pipelines.</p>;
  const status = new Map(components.map((c) => [c.id.split('@')[0], c.status]));
  const maxProc = Math.max(0, ...pipelines.map((p) => p.processors.length));
  const cols = maxProc + 2;
  const width = cols * W + (cols - 1) * GAP_X + 20;
  let y = 10;
  const rows = pipelines.map((p) => {
    const n = Math.max(p.receivers.length, p.exporters.length, 1);
    const h = n * H + (n - 1) * GAP_Y;
    const top = y + ROW_PAD;
    y = top + h + 16;
    const place = (ids: string[], col: number) => ids.map((id, i) => ({ id, x: 10 + col * (W + GAP_X), y: top + (h - (ids.length * H + (ids.length - 1) * GAP_Y)) / 2 + i * (H + GAP_Y) }));
    const nodes = [...place(p.receivers, 0), ...p.processors.map((id: string, i: number) => place([id], i + 1)[0]), ...place(p.exporters, cols - 1)];
    return { p, top, nodes };
  });
  return (
    <div class="graph-wrap">
      <svg viewBox={`0 0 ${width} ${y}`} width={width} height={y} role="img" aria-label={`Pipeline graph: ${pipelines.length} pipelines`} class="graph">
        <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow" /></marker></defs>
        {rows.map(({ p, top, nodes }) => {
          const at = (id: string) => nodes.find((n: any) => n.id === id);
          return (
            <g>
              <text x={10} y={top - 5} class="row-label">{p.id} ({p.signal})</text>
              {edges.filter((e) => e.pipeline === p.id).map((e) => {
                const a = at(e.from), b = at(e.to);
                if (!a || !b) return null;
                const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
                return (
                  <g class="edge">
                    <title>{`${e.from} → ${e.to}: ${num(e.rate)} items/s`}</title>
                    <path d={`M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`} marker-end="url(#arrow)" class={e.rate > 0 ? 'flow' : ''} />
                    <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} text-anchor="middle" class="rate">{num(e.rate)}/s</text>
                  </g>
                );
              })}
              {nodes.map((n: any) => {
                const st = status.get(n.id) ?? 'ok';
                return (
                  <g class={`node ${connectors.includes(n.id) ? 'connector' : ''} ${/error/.test(st) ? 'bad' : ''}`}>
                    <title>{`${n.id}: ${st}`}</title>
                    <rect x={n.x} y={n.y} width={W} height={H} rx={5} />
                    <text x={n.x + W / 2} y={n.y + H / 2 + 4} text-anchor="middle">{n.id.length > 20 ? n.id.slice(0, 19) + '…' : n.id}</text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
