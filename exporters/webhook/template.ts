/**
 * Notification templates: a small, safe subset of the Go templates Alertmanager users know.
 *
 *   {{ .Status }}  {{ .Receiver }}  {{ .GroupKey }}  {{ .ExternalURL }}
 *   {{ .GroupLabels.alertname }}  {{ .CommonLabels.severity }}  {{ .CommonAnnotations.summary }}
 *   {{ index .CommonLabels "service.name" }}   any label name, dots included
 *   {{ len .Alerts }}  {{ .NumFiring }}  {{ .NumResolved }}  {{ .EscalationStep }}
 *   {{ json . }}  {{ .CommonLabels | json }}   JSON text of any value (the whole payload with `.`)
 *   {{ upper .Status }}  {{ lower .X }}  {{ default "none" .CommonAnnotations.runbook_url }}
 *
 * There are no loops, conditionals or user-defined functions: templates only look values up, so a
 * template from config can neither run code nor loop forever. A missing value renders as "".
 * Exporters pass an escaper (HTML for e-mail bodies) that is applied to every action's output,
 * except to values they built themselves as trusted markup (`Trusted`).
 */
import type { Notification } from '../../src/alerting/notification';

/** Markup built by the exporter itself (already escaped), exempt from the context escaper. */
export class Trusted {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
}

type Value = unknown;
type Expr = (data: Value) => Value;

const FUNCS: Record<string, { arity: number; fn: (...args: Value[]) => Value }> = {
  json: { arity: 1, fn: (v) => JSON.stringify(v instanceof Trusted ? v.text : v ?? null) },
  upper: { arity: 1, fn: (v) => toText(v).toUpperCase() },
  lower: { arity: 1, fn: (v) => toText(v).toLowerCase() },
  len: { arity: 1, fn: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : isRecord(v) ? Object.keys(v).length : 0) },
  index: { arity: 2, fn: (m, k) => lookup(m, toText(k)) },
  default: { arity: 2, fn: (d, v) => (v === undefined || v === null || v === '' ? d : v) },
};

function isRecord(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Trusted);
}

function lookup(v: Value, key: string): Value {
  if (Array.isArray(v) && /^\d+$/.test(key)) return v[Number(key)];
  return isRecord(v) && Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
}

function toText(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (v instanceof Trusted) return v.text;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const TOKEN = /\s*(?:(\|)|"((?:[^"\\]|\\.)*)"|(\.[A-Za-z0-9_.]*)|([A-Za-z_][A-Za-z0-9_]*)|(\S))/y;

type Token = { kind: 'pipe' } | { kind: 'str'; value: string } | { kind: 'path'; value: string } | { kind: 'ident'; value: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN.lastIndex < src.length && (m = TOKEN.exec(src))) {
    if (m[1]) out.push({ kind: 'pipe' });
    else if (m[2] !== undefined) out.push({ kind: 'str', value: JSON.parse(`"${m[2]}"`) as string });
    else if (m[3]) out.push({ kind: 'path', value: m[3] });
    else if (m[4]) out.push({ kind: 'ident', value: m[4] });
    else if (m[5]) throw new Error(`unexpected "${m[5]}"`);
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
  }
  return out;
}

function pathExpr(p: string): Expr {
  if (p === '.') return (d) => d;
  const parts = p.slice(1).split('.');
  if (parts.some((x) => x === '')) throw new Error(`invalid path "${p}"`);
  return (d) => parts.reduce<Value>((v, k) => lookup(v, k), d);
}

function operand(t: Token): Expr {
  if (t.kind === 'path') return pathExpr(t.value);
  if (t.kind === 'str') { const s = t.value; return () => s; }
  throw new Error(t.kind === 'ident' ? `"${t.value}" cannot be used as a value` : 'unexpected "|"');
}

/** `func arg...` or `arg`; `piped` is the value flowing in from the left of a pipe. */
function command(tokens: Token[], piped?: Expr): Expr {
  if (tokens.length === 0) throw new Error('empty command');
  const [head, ...rest] = tokens;
  if (head.kind !== 'ident') {
    if (rest.length || piped) throw new Error('a value cannot take arguments');
    return operand(head);
  }
  const f = FUNCS[head.value];
  if (!f) throw new Error(`unknown function "${head.value}" (known: ${Object.keys(FUNCS).join(', ')})`);
  const args = rest.map(operand);
  if (piped) args.push(piped);
  if (args.length !== f.arity) throw new Error(`${head.value} takes ${f.arity} argument(s)`);
  return (d) => f.fn(...args.map((a) => a(d)));
}

function compileAction(src: string): Expr {
  const tokens = tokenize(src);
  let expr: Expr | undefined;
  let cmd: Token[] = [];
  for (const t of [...tokens, { kind: 'pipe' } as Token]) {
    if (t.kind !== 'pipe') { cmd.push(t); continue; }
    expr = command(cmd, expr);
    cmd = [];
  }
  return expr!;
}

const ACTION = /\{\{-?\s*([^}]*?)\s*-?\}\}/g;

export class NotifyTemplate {
  private constructor(private readonly parts: Array<string | Expr>) {}

  /** Throws with the offending action when the template is not valid. */
  static compile(source: string): NotifyTemplate {
    const parts: Array<string | Expr> = [];
    let last = 0;
    for (const m of source.matchAll(ACTION)) {
      if (m.index! > last) parts.push(source.slice(last, m.index));
      try {
        parts.push(compileAction(m[1]));
      } catch (e) {
        throw new Error(`template action {{ ${m[1]} }}: ${(e as Error).message}`);
      }
      last = m.index! + m[0].length;
    }
    const rest = source.slice(last);
    if (rest.includes('{{')) throw new Error('unterminated template action "{{"');
    if (rest) parts.push(rest);
    return new NotifyTemplate(parts);
  }

  render(data: Value, escape: (s: string) => string = (s) => s): string {
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') { out += p; continue; }
      const v = p(data);
      out += v instanceof Trusted ? v.text : escape(toText(v));
    }
    return out;
  }
}

/** A config-time check: the error message, or undefined when the template compiles. */
export function templateError(source: string | undefined): string | undefined {
  if (!source) return undefined;
  try {
    NotifyTemplate.compile(source);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What templates see: the payload fields under Alertmanager's template names, plus counts. */
export function templateData(n: Notification, extra: Record<string, Value> = {}): Record<string, Value> {
  const p = n.payload;
  const firing = p.alerts.filter((a) => a.status === 'firing').length;
  return {
    Receiver: p.receiver,
    Status: p.status,
    GroupKey: p.groupKey,
    GroupLabels: p.groupLabels,
    CommonLabels: p.commonLabels,
    CommonAnnotations: p.commonAnnotations,
    ExternalURL: p.externalURL,
    TruncatedAlerts: p.truncatedAlerts,
    Alerts: p.alerts.map((a) => ({
      Status: a.status, Labels: a.labels, Annotations: a.annotations, StartsAt: a.startsAt, EndsAt: a.endsAt,
      GeneratorURL: a.generatorURL, Fingerprint: a.fingerprint,
    })),
    NumFiring: firing,
    NumResolved: p.alerts.length - firing,
    EscalationStep: n.escalationStep ?? '',
    EscalationPolicy: n.escalationPolicy ?? '',
    ...extra,
  };
}
