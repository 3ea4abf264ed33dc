/**
 * A strict parser of the Prometheus text format and OpenMetrics, for checking what the exporter
 * serves (tests, benchmarks) without an external tool. It rejects what Prometheus would reject:
 * bad names, bad escapes, unparsable values, duplicate series, and a second TYPE for one family.
 */
import { isValidLabelName, isValidMetricName } from './naming';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
  exemplar?: { labels: Record<string, string>; value: number; timestamp?: number };
}

export interface ParsedFamily {
  type?: string;
  help?: string;
  unit?: string;
}

export interface ParsedExposition {
  families: Map<string, ParsedFamily>;
  samples: ParsedSample[];
  /** OpenMetrics only: whether the `# EOF` terminator was present. */
  eof: boolean;
}

export class ExpositionParseError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseNumber(s: string, line: number): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new ExpositionParseError(line, `invalid number "${s}"`);
  return Number(s);
}

/** Parses `{a="x",b="y"}` starting at `pos` (at the `{`); returns labels and the index after `}`. */
function parseLabels(text: string, pos: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = Object.create(null);
  let i = pos + 1;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    const nameStart = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i])) i++;
    const name = text.slice(nameStart, i);
    if (!isValidLabelName(name)) throw new ExpositionParseError(line, `invalid label name "${name}"`);
    while (text[i] === ' ') i++;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new ExpositionParseError(line, `expected ="..." after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new ExpositionParseError(line, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const n = text[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new ExpositionParseError(line, `invalid escape \\${n ?? ''} in label value`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    i++;
    if (name in labels) throw new ExpositionParseError(line, `duplicate label ${name}`);
    labels[name] = value;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new ExpositionParseError(line, 'expected , or } in label set');
  }
}

function seriesId(name: string, labels: Record<string, string>): string {
  return name + '{' + Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',') + '}';
}

export function parseExposition(body: string, openMetrics = false): ParsedExposition {
  const families = new Map<string, ParsedFamily>();
  const samples: ParsedSample[] = [];
  const seen = new Set<string>();
  let eof = false;
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let ln = 0; ln < lines.length; ln++) {
    const text = lines[ln];
    const lineNo = ln + 1;
    if (eof) throw new ExpositionParseError(lineNo, 'content after # EOF');
    if (text === '') {
      if (openMetrics) throw new ExpositionParseError(lineNo, 'empty line');
      continue;
    }
    if (text.startsWith('#')) {
      if (text === '# EOF') {
        eof = true;
        continue;
      }
      const m = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(text);
      if (!m) {
        if (openMetrics) throw new ExpositionParseError(lineNo, 'unknown comment');
        continue;
      }
      const [, kind, name, rest = ''] = m;
      if (!isValidMetricName(name)) throw new ExpositionParseError(lineNo, `invalid metric name "${name}"`);
      const fam = families.get(name) ?? {};
      families.set(name, fam);
      if (kind === 'TYPE') {
        if (fam.type) throw new ExpositionParseError(lineNo, `second TYPE for ${name}`);
        const allowed = openMetrics
          ? ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']
          : ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
        if (!allowed.includes(rest)) throw new ExpositionParseError(lineNo, `invalid type "${rest}"`);
        fam.type = rest;
      } else if (kind === 'HELP') {
        fam.help = rest.replace(/\\(\\|n|")/g, (_, c: string) => (c === 'n' ? '\n' : c));
      } else {
        fam.unit = rest;
      }
      continue;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
    if (!nm) throw new ExpositionParseError(lineNo, 'expected a metric name');
    const name = nm[0];
    let pos = name.length;
    let labels: Record<string, string> = Object.create(null);
    if (text[pos] === '{') ({ labels, end: pos } = parseLabels(text, pos, lineNo));
    const rest = text.slice(pos);
    const [valuePart, exemplarPart] = rest.split(' # ');
    if (exemplarPart !== undefined && !openMetrics) throw new ExpositionParseError(lineNo, 'exemplars are OpenMetrics only');
    const fields = valuePart.trim().split(/ +/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw new ExpositionParseError(lineNo, 'expected value [timestamp]');
    const sample: ParsedSample = { name, labels, value: parseNumber(fields[0], lineNo) };
    if (fields[1] !== undefined) sample.timestamp = parseNumber(fields[1], lineNo);
    if (exemplarPart !== undefined) {
      if (!exemplarPart.startsWith('{')) throw new ExpositionParseError(lineNo, 'exemplar must start with a label set');
      const ex = parseLabels(exemplarPart, 0, lineNo);
      const exFields = exemplarPart.slice(ex.end).trim().split(/ +/);
      const len = Object.entries(ex.labels).reduce((n, [k, v]) => n + k.length + v.length, 0);
      if (len > 128) throw new ExpositionParseError(lineNo, 'exemplar labels longer than 128 characters');
      sample.exemplar = { labels: ex.labels, value: parseNumber(exFields[0], lineNo) };
      if (exFields[1] !== undefined) sample.exemplar.timestamp = parseNumber(exFields[1], lineNo);
    }
    const id = seriesId(name, labels);
    if (seen.has(id)) throw new ExpositionParseError(lineNo, `duplicate series ${id}`);
    seen.add(id);
    samples.push(sample);
  }
  if (openMetrics && !eof) throw new ExpositionParseError(lines.length, 'missing # EOF');
  return { families, samples, eof };
}

/** The value of the one sample with this name whose labels include `match`. */
export function findSample(p: ParsedExposition, name: string, match: Record<string, string> = {}): ParsedSample | undefined {
  return p.samples.find((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
