/**
 * The health report as a document: sections of headings, paragraphs, tables and charts, rendered
 * to markdown or to one self-contained HTML file (charts as inline SVG, no scripts, no external
 * resources). Every cell is escaped: span names, IPs and evidence come from telemetry.
 */

export type Block =
  | { kind: 'h'; level: 1 | 2 | 3; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'table'; head: string[]; rows: string[][]; align?: Array<'l' | 'r'> }
  | { kind: 'chart'; title: string; t: number[]; series: Array<{ label: string; values: number[] }>; unit?: string };

/** Escapes text for a markdown table cell or paragraph, so no telemetry becomes markup or HTML. */
export function mdEscape(s: string): string {
  return String(s)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/([*`[\]#])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

export function htmlEscape(s: string): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.kind === 'h') out.push(`${'#'.repeat(b.level)} ${mdEscape(b.text)}`, '');
    else if (b.kind === 'p') out.push(mdEscape(b.text), '');
    else if (b.kind === 'table') {
      if (!b.rows.length) {
        out.push('_none_', '');
        continue;
      }
      out.push(`| ${b.head.map(mdEscape).join(' | ')} |`);
      out.push(`|${b.head.map((_, i) => (b.align?.[i] === 'r' ? '---:' : '---')).join('|')}|`);
      for (const r of b.rows) out.push(`| ${r.map(mdEscape).join(' | ')} |`);
      out.push('');
    } else if (b.kind === 'chart') {
      // Markdown has no charts: a compact table of the series' totals and peaks instead.
      out.push(`${mdEscape(b.title)}:`, '');
      out.push('| series | total | peak | latest |', '|---|---:|---:|---:|');
      for (const s of b.series) {
        const vals = s.values.filter((v) => Number.isFinite(v));
        out.push(`| ${mdEscape(s.label)} | ${b.unit ? '–' : fmt(vals.reduce((a, v) => a + v, 0))} | ${fmt(Math.max(0, ...vals))}${b.unit ?? ''} | ${fmt(vals.at(-1) ?? 0)}${b.unit ?? ''} |`);
      }
      out.push('');
    }
  }
  return out.join('\n');
}

export const fmt = (v: number, digits = 2): string => (Number.isInteger(v) ? String(v) : v.toFixed(digits));

// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9'];

export function svgChart(c: Extract<Block, { kind: 'chart' }>, width = 720, height = 200): string {
  const pad = { l: 50, r: 10, t: 10, b: 40 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const t0 = c.t[0] ?? 0;
  const t1 = c.t.at(-1) ?? 1;
  const max = Math.max(1e-9, ...c.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const x = (t: number) => pad.l + (t1 > t0 ? ((t - t0) / (t1 - t0)) * w : 0);
  const y = (v: number) => pad.t + h - (v / max) * h;
  const lines = c.series.map((s, i) => {
    const pts = s.values.map((v, j) => `${x(c.t[j]).toFixed(1)},${y(Number.isFinite(v) ? v : 0).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2" points="${pts}"><title>${htmlEscape(s.label)}</title></polyline>`;
  });
  const ticks = [0, 0.5, 1].map((f) => `<text x="${pad.l - 6}" y="${y(max * f) + 4}" text-anchor="end">${htmlEscape(fmt(max * f))}${htmlEscape(c.unit ?? '')}</text><line x1="${pad.l}" x2="${pad.l + w}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#ccc"/>`);
  const time = (t: number) => new Date(t).toISOString().slice(5, 16).replace('T', ' ');
  const legend = c.series.map((s, i) => `<tspan fill="${PALETTE[i % PALETTE.length]}">■</tspan> ${htmlEscape(s.label)}`).join('  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${htmlEscape(c.title)}" font-family="sans-serif" font-size="11">
${ticks.join('\n')}
${lines.join('\n')}
<text x="${pad.l}" y="${height - 22}">${htmlEscape(time(t0))} UTC</text><text x="${pad.l + w}" y="${height - 22}" text-anchor="end">${htmlEscape(time(t1))} UTC</text>
<text x="${pad.l}" y="${height - 6}">${legend}</text>
</svg>`;
}

export function toHtml(blocks: Block[], title: string): string {
  const body: string[] = [];
  for (const b of blocks) {
    if (b.kind === 'h') body.push(`<h${b.level}>${htmlEscape(b.text)}</h${b.level}>`);
    else if (b.kind === 'p') body.push(`<p>${htmlEscape(b.text)}</p>`);
    else if (b.kind === 'table') {
      if (!b.rows.length) {
        body.push('<p class="none">none</p>');
        continue;
      }
      const cls = (i: number) => (b.align?.[i] === 'r' ? ' class="r"' : '');
      body.push(`<table><thead><tr>${b.head.map((c, i) => `<th${cls(i)}>${htmlEscape(c)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${htmlEscape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    } else body.push(`<figure><figcaption>${htmlEscape(b.title)}</figcaption>${svgChart(b)}</figure>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${htmlEscape(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#1d1f23;background:#fff}
@media (prefers-color-scheme: dark){body{color:#e8eaee;background:#121418}th,td{border-color:#343943!important}svg text{fill:#e8eaee}}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}th,td{border-bottom:1px solid #dde0e5;padding:4px 8px;text-align:left;vertical-align:top}
.r{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1rem 0}figcaption{font-weight:600;color:#5b6270}svg{max-width:100%;height:auto}.none{color:#5b6270}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}
