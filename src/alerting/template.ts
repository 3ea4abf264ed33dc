/**
 * Label and annotation templates, in the subset of Prometheus's template language that alert
 * annotations use in practice:
 *
 *   {{ $value }}              the rule's value for this alert
 *   {{ $labels.name }}        a label of the alert (names may contain dots: `$labels.service.name`)
 *   {{ index $labels "n" }}   same, for any label name
 *   {{ $externalURL }}        the connector's external_url
 *   {{ humanize $value }}     value with an SI prefix (1.2k, 3.4M)
 *   {{ humanizePercentage $value }}  value × 100 with a % sign
 *   {{ printf "%.2f" $value }}       fixed decimals (only %.Nf and %d)
 *
 * Anything else inside {{ }} is a validation error. Templates are expanded without any evaluation
 * of user code.
 */
import { Labels, labelValue } from './labels';

export interface TemplateData {
  value: number;
  labels: Labels;
  externalURL: string;
}

type Part = string | ((d: TemplateData) => string);

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/gs;

function valueRef(arg: string): ((d: TemplateData) => number) | undefined {
  if (arg === '$value' || arg === '.Value') return (d) => d.value;
  return undefined;
}

function stringRef(expr: string): ((d: TemplateData) => string) | undefined {
  if (expr === '$value' || expr === '.Value') return (d) => formatNumber(d.value);
  if (expr === '$externalURL' || expr === '.ExternalURL') return (d) => d.externalURL;
  let m = /^(?:\$labels|\.Labels)\.([^\s{}]+)$/.exec(expr);
  if (m) { const name = m[1]; return (d) => labelValue(d.labels, name); }
  m = /^index\s+(?:\$labels|\.Labels)\s+"((?:[^"\\]|\\.)*)"$/.exec(expr);
  if (m) { const name = JSON.parse(`"${m[1]}"`) as string; return (d) => labelValue(d.labels, name); }
  m = /^humanize\s+(\S+)$/.exec(expr);
  if (m) { const v = valueRef(m[1]); if (v) return (d) => humanize(v(d)); }
  m = /^humanizePercentage\s+(\S+)$/.exec(expr);
  if (m) { const v = valueRef(m[1]); if (v) return (d) => `${formatNumber(v(d) * 100)}%`; }
  m = /^printf\s+"%(?:\.(\d+))?([fd])"\s+(\S+)$/.exec(expr);
  if (m) {
    const v = valueRef(m[3]);
    const digits = m[2] === 'd' ? 0 : Math.min(Number(m[1] ?? 6), 20);
    if (v) return (d) => v(d).toFixed(digits);
  }
  return undefined;
}

/** Go's %g-like rendering of a float, as Prometheus prints $value. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(Number(v.toPrecision(15)));
}

function humanize(v: number): string {
  const abs = Math.abs(v);
  if (abs === 0 || !Number.isFinite(v)) return formatNumber(v);
  const big = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  const small = ['', 'm', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
  if (abs >= 1) {
    let i = 0; let x = v;
    while (Math.abs(x) >= 1000 && i < big.length - 1) { x /= 1000; i++; }
    return `${Number(x.toFixed(4))}${big[i]}`;
  }
  let i = 0; let x = v;
  while (Math.abs(x) < 1 && i < small.length - 1) { x *= 1000; i++; }
  return `${Number(x.toFixed(4))}${small[i]}`;
}

export class Template {
  private constructor(private readonly parts: Part[], readonly source: string) {}

  /** Throws with a message naming the unsupported action. */
  static compile(source: string): Template {
    const parts: Part[] = [];
    let last = 0;
    for (const m of source.matchAll(ACTION)) {
      if (m.index! > last) parts.push(source.slice(last, m.index));
      const ref = stringRef(m[1]);
      if (!ref) throw new Error(`unsupported template action {{ ${m[1]} }}: expected $value, $labels.<name>, index $labels "<name>", $externalURL, humanize, humanizePercentage or printf "%.Nf"`);
      parts.push(ref);
      last = m.index! + m[0].length;
    }
    const rest = source.slice(last);
    if (rest.includes('{{')) throw new Error('unterminated template action "{{"');
    if (rest) parts.push(rest);
    return new Template(parts, source);
  }

  get isStatic(): boolean {
    return this.parts.every((p) => typeof p === 'string');
  }

  expand(d: TemplateData): string {
    let out = '';
    for (const p of this.parts) out += typeof p === 'string' ? p : p(d);
    return out;
  }
}
