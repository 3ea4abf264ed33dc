/**
 * OpenTelemetry → Prometheus names, after the OpenTelemetry "Prometheus and OpenMetrics
 * compatibility" specification: names are split into tokens on every character Prometheus does not
 * allow (which also collapses runs of underscores), the UCUM unit becomes a suffix unless the name
 * already carries it, monotonic counters end in `_total` and dimensionless gauges in `_ratio`.
 */

/** UCUM units with a conventional Prometheus spelling; others pass through sanitised. */
const UNIT_WORDS: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams',
  Cel: 'celsius', Hz: 'hertz', '1': '', '%': 'percent',
};

/** The denominator of a "x/y" unit is singular: By/s → bytes_per_second. */
const PER_UNIT_WORDS: Record<string, string> = {
  s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year',
};

export type PromKind = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface NamingOptions {
  /** Prefix joined with `_` (the exporter's `namespace`). */
  namespace?: string;
  /** Add unit, `_total` and `_ratio` suffixes (the spec's default). */
  addSuffixes?: boolean;
}

const isNameChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 58; // a-z A-Z 0-9 :

/** Splits on every character outside [a-zA-Z0-9:], dropping empty tokens (so `_` runs vanish too). */
function tokens(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const ok = i < s.length && isNameChar(s.charCodeAt(i));
    if (ok && start < 0) start = i;
    else if (!ok && start >= 0) {
      out.push(s.slice(start, i));
      start = -1;
    }
  }
  return out;
}

function unitTokens(unit: string): { main: string[]; per: string[] } {
  const slash = unit.indexOf('/');
  const mainRaw = (slash >= 0 ? unit.slice(0, slash) : unit).trim();
  const perRaw = slash >= 0 ? unit.slice(slash + 1).trim() : '';
  // Curly-brace annotations ({requests}, {packets}/s) are comments in UCUM, never suffixes.
  const main = mainRaw && !/[{}]/.test(mainRaw) ? tokens(UNIT_WORDS[mainRaw] ?? mainRaw) : [];
  const perWord = perRaw && !/[{}]/.test(perRaw) ? tokens(PER_UNIT_WORDS[perRaw] ?? perRaw) : [];
  return { main, per: perWord.length ? ['per', ...perWord] : [] };
}

/** Whether `seq` occurs as consecutive tokens in `list`. */
function containsSeq(list: string[], seq: string[]): boolean {
  if (seq.length === 0) return true;
  outer: for (let i = 0; i + seq.length <= list.length; i++) {
    for (let j = 0; j < seq.length; j++) if (list[i + j] !== seq[j]) continue outer;
    return true;
  }
  return false;
}

/** The Prometheus unit word for a UCUM unit ("s" → "seconds", "By/s" → "bytes_per_second", "1" → ""). */
export function promUnit(unit: string): string {
  const { main, per } = unitTokens(unit);
  return [...main, ...per].join('_');
}

/**
 * The Prometheus name of an OpenTelemetry metric. `kind` is the Prometheus type it becomes;
 * `monotonic` marks counters (which get `_total`).
 */
export function metricName(name: string, unit: string, kind: PromKind, monotonic: boolean, opts: NamingOptions = {}): string {
  let toks = tokens(name);
  if (opts.addSuffixes !== false) {
    const { main, per } = unitTokens(unit);
    if (!containsSeq(toks, main)) toks.push(...main);
    if (!containsSeq(toks, per)) toks.push(...per);
    if (kind === 'counter' && monotonic) toks = [...toks.filter((t) => t !== 'total'), 'total'];
    if (unit === '1' && kind === 'gauge') toks = [...toks.filter((t) => t !== 'ratio'), 'ratio'];
  }
  const ns = opts.namespace ? tokens(opts.namespace) : [];
  let out = [...ns, ...toks].join('_');
  if (out && out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = '_' + out;
  return out;
}

/**
 * A Prometheus label name for an attribute key: invalid characters become `_`, runs of `_`
 * collapse, a leading digit gets `key_`. Returns "" when nothing usable remains (the attribute is
 * then dropped). Names starting with `__` are reserved by Prometheus and get `key` prepended.
 */
export function labelName(key: string): string {
  let out = '';
  let lastUnderscore = false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    if (ok) {
      out += key[i];
      lastUnderscore = false;
    } else if (!lastUnderscore) {
      out += '_';
      lastUnderscore = true;
    }
  }
  if (/^_*$/.test(out)) return '';
  const c0 = out.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) out = 'key_' + out;
  else if (out.startsWith('__')) out = 'key' + out;
  return out;
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const isValidMetricName = (s: string): boolean => METRIC_NAME_RE.test(s);
export const isValidLabelName = (s: string): boolean => LABEL_NAME_RE.test(s);
