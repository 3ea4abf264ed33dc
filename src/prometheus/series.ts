/**
 * The Prometheus-side data model shared by the pull exporter, remote write and the text parser:
 * metric families of series, each series a sorted label set and its current cumulative value.
 */

/** Label pairs sorted by name; never contains `__name__`. */
export type Labels = [string, string][];

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'info';

export interface PromExemplar {
  labels: Labels;
  value: number;
  /** Unix milliseconds, 0 when unknown. */
  timeMs: number;
}

export interface NumberValue {
  kind: 'number';
  value: number;
  exemplar?: PromExemplar;
}

/** A histogram with explicit bounds; `counts` are per bucket (not cumulative), one more than bounds. */
export interface ClassicHistogramValue {
  kind: 'histogram';
  bounds: number[];
  counts: number[];
  count: number;
  sum?: number;
  exemplars: PromExemplar[];
}

export interface ExpBucketRun {
  offset: number;
  counts: number[];
}

/** An OpenTelemetry exponential histogram kept in its native form (rendered as classic buckets). */
export interface ExpHistogramValue {
  kind: 'exp';
  scale: number;
  zeroThreshold: number;
  zeroCount: number;
  positive: ExpBucketRun;
  negative: ExpBucketRun;
  count: number;
  sum?: number;
  exemplars: PromExemplar[];
}

export interface SummaryValue {
  kind: 'summary';
  quantiles: [number, number][];
  count: number;
  sum: number;
}

export type SeriesValue = NumberValue | ClassicHistogramValue | ExpHistogramValue | SummaryValue;

export interface Series {
  labels: Labels;
  /** The rendered label pairs (`a="x",b="y"`), also the series' identity within its family. */
  key: string;
  value: SeriesValue;
  /** Start of the cumulative interval (unix ms), 0 when unknown. */
  startMs: number;
  /** Time of the latest point (unix ms). */
  timeMs: number;
  /** Wall-clock time of the latest update, for expiry. */
  updatedAt: number;
  /** Rendering caches, cleared on every update. */
  text?: string;
  om?: string;
}

export interface Family {
  /** The Prometheus name; counters include `_total` when suffixes are on. */
  name: string;
  type: FamilyType;
  help: string;
  /** Unit word ("seconds"), "" when none. */
  unit: string;
  series: Map<string, Series>;
  /** Rendering caches of the whole family, cleared when any of its series changes. */
  text?: string;
  om?: string;
}

/** One translated OpenTelemetry data point. */
export interface PointUpdate {
  family: string;
  type: FamilyType;
  help: string;
  unit: string;
  labels: Labels;
  key: string;
  /** The point is a delta to add to the running total rather than a new total. */
  delta: boolean;
  startMs: number;
  timeMs: number;
  /** The producer marked the series gone (OTLP "no recorded value" flag). */
  stale: boolean;
  value: SeriesValue;
}

const escapeLabelValue = (v: string): string =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;

/** `a="x",b="y"` for sorted labels. */
export function renderLabels(labels: Labels): string {
  let s = '';
  for (let i = 0; i < labels.length; i++) {
    if (i) s += ',';
    s += labels[i][0] + '="' + escapeLabelValue(labels[i][1]) + '"';
  }
  return s;
}

/** Sorts by name in place and returns the array. */
export function sortLabels(labels: Labels): Labels {
  return labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
