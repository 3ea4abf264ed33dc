/**
 * Capacity hints for the Performance page: the ingest rate now against what bench/ measured for the
 * same store path. The figures are quoted from bench/README.md with the command that measured them;
 * they are this project's 2-core measurements, not a guarantee for another machine.
 */
export interface CapacityFigure {
  path: string;
  spans_per_s: number;
  source: string;
}

/** `sqlite` exporter (otlp → batch → sqlite), sustained zero-loss rate at a fixed offered load. */
export const SQLITE_SPANS_PER_S: CapacityFigure = {
  path: 'otlp → batch → sqlite',
  spans_per_s: 80_000,
  source: 'bench/README.md, `npm run bench -- sqlite --rate 80000` (2 cores, 2026-11-24): 78.3k–80.0k spans/s accepted with zero loss; '
    + 'measured before the per-minute span rollup was added to the writer (not measured again since)',
};

/** Without a store: the receiver → batch → exporter path. */
export const PASSTHROUGH_SPANS_PER_S: CapacityFigure = {
  path: 'otlp → batch → exporter without a store',
  spans_per_s: 228_504,
  source: 'bench/README.md, `npm run bench -- passthrough` (2 cores, load average 11–16): 228,504 spans/s accepted, one run',
};

export function capacityHint(spansPerS: number, hasStore: boolean) {
  const figure = hasStore ? SQLITE_SPANS_PER_S : PASSTHROUGH_SPANS_PER_S;
  const ratio = spansPerS / figure.spans_per_s;
  const level = ratio >= 0.8 ? 'near capacity' : ratio >= 0.5 ? 'over half of capacity' : 'well within capacity';
  return { spans_per_s: spansPerS, measured: figure, ratio, level };
}
