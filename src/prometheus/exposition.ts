/**
 * Writes a SeriesStore in the Prometheus text format (0.0.4) or OpenMetrics 1.0.0. Each series'
 * lines are cached until it next changes, so a scrape of an unchanged store is string joins only.
 */
import { expToClassic } from './exphist';
import type { Family, PromExemplar, Series } from './series';
import { renderLabels } from './series';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'text' | 'openmetrics';

export interface RenderOptions {
  sendTimestamps?: boolean;
  /** Buckets an exponential histogram may show after conversion to classic buckets. */
  maxExpBuckets?: number;
}

/** Prometheus float syntax: integers plainly, NaN and ±Inf spelled as Prometheus does. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const escapeHelpText = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeHelpOm = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * Picks whether the client asked for OpenMetrics: Prometheus sends
 * `Accept: application/openmetrics-text;version=1.0.0,...;q=0.5,text/plain;version=0.0.4;q=0.4`.
 * The highest-q acceptable type wins; ties keep the text format.
 */
export function negotiateFormat(accept: string | undefined, openMetricsEnabled: boolean): ExpositionFormat {
  if (!openMetricsEnabled || !accept) return 'text';
  let best: ExpositionFormat = 'text';
  let bestQ = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';').map((x) => x.trim());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    const fmt: ExpositionFormat | undefined =
      type === 'application/openmetrics-text' ? 'openmetrics' : type === 'text/plain' || type === '*/*' ? 'text' : undefined;
    if (fmt && (q > bestQ || (q === bestQ && fmt === 'text'))) {
      best = fmt;
      bestQ = q;
    }
  }
  return best;
}

function exemplarSuffix(e: PromExemplar | undefined): string {
  if (!e) return '';
  let s = ' # {' + renderLabels(e.labels) + '} ' + formatValue(e.value);
  if (e.timeMs) s += ' ' + (e.timeMs / 1000).toFixed(3);
  return s;
}

function withLabels(key: string, extra: string): string {
  if (!key) return extra ? '{' + extra + '}' : '';
  return extra ? '{' + key + ',' + extra + '}' : '{' + key + '}';
}

/** The exemplar to show on each bucket: the latest whose value falls in (previous le, le]. */
function bucketExemplars(bounds: number[], exemplars: PromExemplar[]): (PromExemplar | undefined)[] {
  const out: (PromExemplar | undefined)[] = new Array(bounds.length + 1);
  for (const e of exemplars) {
    let i = 0;
    while (i < bounds.length && e.value > bounds[i]) i++;
    const cur = out[i];
    if (!cur || e.timeMs >= cur.timeMs) out[i] = e;
  }
  return out;
}

export class Renderer {
  constructor(private readonly opts: RenderOptions = {}) {}

  render(families: Iterable<Family>, format: ExpositionFormat): string {
    const chunks: string[] = [];
    const om = format === 'openmetrics';
    for (const fam of families) {
      if (fam.series.size === 0) continue;
      if (om) chunks.push(fam.om ?? (fam.om = this.renderFamily(fam, true)));
      else chunks.push(fam.text ?? (fam.text = this.renderFamily(fam, false)));
    }
    if (om) chunks.push('# EOF\n');
    return chunks.join('');
  }

  private renderFamily(fam: Family, om: boolean): string {
    const chunks: string[] = [om ? this.omHeader(fam) : this.textHeader(fam)];
    for (const s of fam.series.values()) {
      if (om) chunks.push(s.om ?? (s.om = this.seriesLines(fam, s, true)));
      else chunks.push(s.text ?? (s.text = this.seriesLines(fam, s, false)));
    }
    return chunks.join('');
  }

  private textHeader(fam: Family): string {
    const type = fam.type === 'info' ? 'gauge' : fam.type;
    const help = fam.help ? '# HELP ' + fam.name + ' ' + escapeHelpText(fam.help) + '\n' : '';
    return help + '# TYPE ' + fam.name + ' ' + type + '\n';
  }

  /** OpenMetrics names the family without the `_total` / `_info` sample suffix. */
  private omFamilyName(fam: Family): string {
    if (fam.type === 'counter' && fam.name.endsWith('_total')) return fam.name.slice(0, -6);
    if (fam.type === 'info' && fam.name.endsWith('_info')) return fam.name.slice(0, -5);
    return fam.name;
  }

  private omHeader(fam: Family): string {
    const name = this.omFamilyName(fam);
    let s = '# TYPE ' + name + ' ' + fam.type + '\n';
    // OpenMetrics requires a family with a UNIT to carry the unit as its name's suffix.
    if (fam.unit && name.endsWith('_' + fam.unit)) s += '# UNIT ' + name + ' ' + fam.unit + '\n';
    if (fam.help) s += '# HELP ' + name + ' ' + escapeHelpOm(fam.help) + '\n';
    return s;
  }

  private seriesLines(fam: Family, s: Series, om: boolean): string {
    const ts = this.opts.sendTimestamps && s.timeMs ? ' ' + (om ? String(s.timeMs / 1000) : String(s.timeMs)) : '';
    const v = s.value;
    const labels = withLabels(s.key, '');
    switch (v.kind) {
      case 'number': {
        if (om && fam.type === 'counter') {
          return this.omFamilyName(fam) + '_total' + labels + ' ' + formatValue(v.value) + ts + exemplarSuffix(v.exemplar) + '\n';
        }
        if (om && fam.type === 'info') return this.omFamilyName(fam) + '_info' + labels + ' 1' + ts + '\n';
        return fam.name + labels + ' ' + formatValue(v.value) + ts + '\n';
      }
      case 'histogram':
      case 'exp': {
        let bounds: number[];
        let cumulative: number[];
        if (v.kind === 'histogram') {
          bounds = v.bounds;
          cumulative = [];
          let c = 0;
          for (let i = 0; i < bounds.length; i++) cumulative.push((c += v.counts[i] ?? 0));
        } else {
          ({ bounds, cumulative } = expToClassic(v, this.opts.maxExpBuckets ?? 160));
        }
        const ex = om ? bucketExemplars(bounds, v.exemplars) : [];
        let out = '';
        for (let i = 0; i < bounds.length; i++) {
          out += fam.name + '_bucket' + withLabels(s.key, 'le="' + formatValue(bounds[i]) + '"') + ' ' + cumulative[i] + ts + (om ? exemplarSuffix(ex[i]) : '') + '\n';
        }
        out += fam.name + '_bucket' + withLabels(s.key, 'le="+Inf"') + ' ' + v.count + ts + (om ? exemplarSuffix(ex[bounds.length]) : '') + '\n';
        if (v.sum !== undefined) out += fam.name + '_sum' + labels + ' ' + formatValue(v.sum) + ts + '\n';
        out += fam.name + '_count' + labels + ' ' + v.count + ts + '\n';
        return out;
      }
      case 'summary': {
        let out = '';
        for (const [q, val] of v.quantiles) {
          out += fam.name + withLabels(s.key, 'quantile="' + formatValue(q) + '"') + ' ' + formatValue(val) + ts + '\n';
        }
        out += fam.name + '_sum' + labels + ' ' + formatValue(v.sum) + ts + '\n';
        out += fam.name + '_count' + labels + ' ' + v.count + ts + '\n';
        return out;
      }
    }
  }
}
