/**
 * The running state behind a Prometheus endpoint or a remote-write stream: the latest cumulative
 * value of every series. Prometheus only understands cumulative data, so delta points are added to
 * the running total here; cumulative points replace it. Series no longer updated for `expirationMs`
 * are dropped (Prometheus then marks them stale), and the number of series is capped so that a
 * cardinality explosion upstream cannot exhaust memory.
 */
import { mergeExp } from './exphist';
import type { Family, PointUpdate, Series, SeriesValue } from './series';

export interface StoreOptions {
  expirationMs: number;
  maxSeries: number;
  now?: () => number;
}

export type ApplyResult = 'added' | 'updated' | 'removed' | 'out_of_order' | 'over_limit';

export class SeriesStore {
  readonly families = new Map<string, Family>();
  private seriesCount = 0;
  /** Bumped on every change, so a reader can tell whether anything moved since it last looked. */
  version = 0;
  private readonly now: () => number;

  constructor(private readonly opts: StoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.seriesCount;
  }

  /** Applies one point; returns what happened and, for added/updated, the series. */
  apply(u: PointUpdate): { result: ApplyResult; series?: Series; family?: Family } {
    let fam = this.families.get(u.family);
    if (fam && fam.type !== u.type) {
      // Two OpenTelemetry metrics mapped to one Prometheus name with different types: the latest wins,
      // since exposing both would be an invalid exposition.
      this.seriesCount -= fam.series.size;
      this.version++;
      fam = undefined;
    }
    if (!fam) {
      if (u.stale) return { result: 'removed' };
      fam = { name: u.family, type: u.type, help: u.help, unit: u.unit, series: new Map() };
      this.families.set(u.family, fam);
    } else if (u.help && fam.help !== u.help) {
      fam.help = u.help;
      fam.text = fam.om = undefined;
      this.version++;
    }
    const existing = fam.series.get(u.key);
    if (u.stale) {
      if (existing) this.deleteSeries(fam, u.key);
      return { result: 'removed' };
    }
    const now = this.now();
    if (!existing) {
      if (this.seriesCount >= this.opts.maxSeries) {
        if (fam.series.size === 0) this.families.delete(fam.name);
        return { result: 'over_limit' };
      }
      const s: Series = { labels: u.labels, key: u.key, value: u.value, startMs: u.startMs, timeMs: u.timeMs, updatedAt: now };
      fam.series.set(u.key, s);
      fam.text = fam.om = undefined;
      this.seriesCount++;
      this.version++;
      return { result: 'added', series: s, family: fam };
    }
    if (u.timeMs < existing.timeMs) return { result: 'out_of_order' };
    if (u.delta) {
      existing.value = addValues(existing.value, u.value);
      if (!existing.startMs) existing.startMs = u.startMs;
    } else {
      existing.value = u.value;
      existing.startMs = u.startMs;
    }
    existing.timeMs = u.timeMs;
    existing.updatedAt = now;
    existing.text = existing.om = undefined;
    fam.text = fam.om = undefined;
    this.version++;
    return { result: 'updated', series: existing, family: fam };
  }

  /** Drops series not updated within the expiration; returns how many went. */
  expire(): number {
    if (!(this.opts.expirationMs > 0)) return 0;
    const cutoff = this.now() - this.opts.expirationMs;
    let n = 0;
    for (const fam of this.families.values()) {
      for (const [key, s] of fam.series) {
        if (s.updatedAt < cutoff) {
          this.deleteSeries(fam, key);
          n++;
        }
      }
    }
    return n;
  }

  private deleteSeries(fam: Family, key: string): void {
    fam.series.delete(key);
    fam.text = fam.om = undefined;
    this.seriesCount--;
    this.version++;
    if (fam.series.size === 0) this.families.delete(fam.name);
  }
}

/** Running total + delta. Incompatible shapes (bucket layout changed) start over from the delta. */
function addValues(cur: SeriesValue, d: SeriesValue): SeriesValue {
  if (cur.kind === 'number' && d.kind === 'number') {
    return { kind: 'number', value: cur.value + d.value, exemplar: d.exemplar ?? cur.exemplar };
  }
  if (cur.kind === 'histogram' && d.kind === 'histogram' && sameBounds(cur.bounds, d.bounds)) {
    return {
      kind: 'histogram',
      bounds: cur.bounds,
      counts: cur.counts.map((c, i) => c + (d.counts[i] ?? 0)),
      count: cur.count + d.count,
      sum: cur.sum !== undefined && d.sum !== undefined ? cur.sum + d.sum : undefined,
      exemplars: d.exemplars.length ? d.exemplars : cur.exemplars,
    };
  }
  if (cur.kind === 'exp' && d.kind === 'exp') return mergeExp(cur, d);
  return d;
}

function sameBounds(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
