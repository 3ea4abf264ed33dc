// A time-series chart (uPlot on a canvas) with a text label for screen readers, the colour-blind-safe
// palette and the theme's colours. data-* attributes expose what is drawn (used by the browser tests).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { PALETTE, num } from './format';

export interface Series {
  label: string;
  values: Array<number | null>;
  colour?: string;
  /** Draw as bars (counts) instead of a line. */
  bars?: boolean;
  dash?: boolean;
}

interface Props {
  title: string;
  /** x in ms since the epoch */
  t: number[];
  series: Series[];
  unit?: string;
  height?: number;
  /** Fixed x range in ms (the page's time range), so charts on one page line up. */
  range?: { startMs: number; endMs: number };
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function Chart({ title, t, series, unit = '', height = 180, range }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();
  const shape = series.map((s) => `${s.label}|${s.bars ? 1 : 0}`).join(',');
  useEffect(() => {
    const el = box.current!;
    const fg = cssVar('--fg', '#222');
    const grid = cssVar('--grid', '#ddd');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth || 600),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, ...(range ? { range: [range.startMs / 1000, range.endMs / 1000] as [number, number] } : {}) } },
      axes: [axis, { ...axis, size: 60, values: (_u, ticks) => ticks.map((v) => `${num(v)}${unit}`) }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        stroke: s.colour ?? PALETTE[i % PALETTE.length],
        width: 2,
        ...(s.dash ? { dash: [6, 4] } : {}),
        ...(s.bars ? { paths: uPlot.paths.bars!({ size: [0.8, 40] }), fill: (s.colour ?? PALETTE[i % PALETTE.length]) + '99' } : {}),
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${num(v)}${unit}`),
      }))],
    };
    plot.current = new uPlot(opts, [t.map((x) => x / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [shape, height, unit, range?.startMs, range?.endMs]);
  useEffect(() => {
    plot.current?.setData([t.map((x) => x / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData, !range);
    if (range) plot.current?.setScale('x', { min: range.startMs / 1000, max: range.endMs / 1000 });
  });
  const last = series.map((s) => `${s.label} ${num([...s.values].reverse().find((v) => v !== null && v !== undefined) ?? undefined)}${unit}`).join(', ');
  const total = series.reduce((a, s) => a + s.values.reduce<number>((x, v) => x + (v ?? 0), 0), 0);
  return (
    <figure class="chart" role="img" aria-label={`${title}. Latest: ${last || 'no data'}.`}
      data-points={String(t.length)} data-total={String(total)} data-xmin={String(t[0] ?? '')} data-xmax={String(t[t.length - 1] ?? '')}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
