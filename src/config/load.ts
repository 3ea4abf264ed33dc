/**
 * Reading pipelines.yaml: YAML with positions kept for every key, `${env:VAR}` substitution as the
 * Collector does it, and several files merged (later files win, maps merge deeply, lists replace).
 */
import { readFileSync } from 'node:fs';
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, Node, parseDocument, parse as parseYaml, Scalar } from 'yaml';
import { ConfigError, ConfigIssue } from '../errors';

export type ConfigPath = ReadonlyArray<string | number>;

export interface Position {
  file: string;
  line: number;
  col: number;
}

export interface LoadedConfig {
  /** The merged config as plain data. */
  value: Record<string, unknown>;
  files: string[];
  /** Non-fatal findings (e.g. an unset environment variable). */
  warnings: ConfigIssue[];
  /** Where a path was set (the nearest enclosing key that has a position). */
  locate(path: ConfigPath): Position | undefined;
}

export interface ConfigSource {
  /** Shown in messages; a path or a label like "<inline>". */
  name: string;
  text: string;
}

const key = (path: ConfigPath) => path.join('\u0000');

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

export function loadConfigFiles(files: string[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const sources: ConfigSource[] = [];
  const issues: ConfigIssue[] = [];
  for (const f of files) {
    try {
      sources.push({ name: f, text: readFileSync(f, 'utf8') });
    } catch (e) {
      issues.push({ file: f, path: '', message: `cannot read the config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return loadConfigSources(sources, env);
}

export function loadConfigSources(sources: ConfigSource[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const positions = new Map<string, Position>();
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  let merged: Record<string, unknown> = {};
  for (const src of sources) {
    const lineCounter = new LineCounter();
    const doc = parseDocument(src.text, { lineCounter, uniqueKeys: true });
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      issues.push({ file: src.name, line: pos?.line, col: pos?.col, path: '', message: `YAML syntax: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    if (doc.errors.length) continue;
    const walker = new Walker(src.name, lineCounter, positions, warnings, env, doc);
    const value = walker.walk(doc.contents as Node | null, []);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ file: src.name, line: 1, col: 1, path: '', message: 'expected a mapping at the top level' });
      continue;
    }
    merged = deepMerge(merged, value as Record<string, unknown>);
  }
  if (issues.length) throw new ConfigError(issues);
  return {
    value: merged,
    files: sources.map((s) => s.name),
    warnings,
    locate(path) {
      for (let n = path.length; n >= 0; n--) {
        const p = positions.get(key(path.slice(0, n)));
        if (p) return p;
      }
      return undefined;
    },
  };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ${env:NAME}, ${env:NAME:-default}, ${NAME} (the Collector's older form), and $$ for a literal $.
const REF = /\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REF = /^\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

class Walker {
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly positions: Map<string, Position>,
    private readonly warnings: ConfigIssue[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly doc: Document,
  ) {}

  private pos(node: Node | null | undefined): Position | undefined {
    if (!node?.range) return undefined;
    const { line, col } = this.lines.linePos(node.range[0]);
    return { file: this.file, line, col };
  }

  walk(node: Node | null, path: (string | number)[]): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.walk(node.resolve(this.doc) as Node, path);
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const childPath = [...path, k];
        const p = this.pos(pair.key as Node);
        if (p) this.positions.set(key(childPath), p);
        const v = this.walk(pair.value as Node | null, childPath);
        if (k === '<<' && isPlainObject(v)) Object.assign(out, v);
        else if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const childPath = [...path, i];
        const p = this.pos(item as Node);
        if (p) this.positions.set(key(childPath), p);
        return this.walk(item as Node | null, childPath);
      });
    }
    if (isScalar(node)) return this.scalar(node, path);
    return null;
  }

  private scalar(node: Scalar, path: (string | number)[]): unknown {
    const v = node.value;
    if (typeof v !== 'string' || !v.includes('$')) return v;
    const whole = WHOLE_REF.exec(v);
    if (whole && node.type === Scalar.PLAIN) {
      // A plain scalar that is exactly one reference takes the variable's YAML type, as in the
      // Collector, so `port: ${env:PORT}` is a number.
      const text = this.lookup(whole[1], whole[2], path, node);
      try {
        const typed = parseYaml(text);
        return typeof typed === 'object' && typed !== null ? text : typed;
      } catch {
        return text;
      }
    }
    return v.replace(REF, (m, name: string | undefined, def: string | undefined) => (m === '$$' ? '$' : this.lookup(name!, def, path, node)));
  }

  private lookup(name: string, def: string | undefined, path: (string | number)[], node: Node): string {
    const val = this.env[name];
    if (val !== undefined && val !== '') return val;
    if (def !== undefined) return def;
    const p = this.pos(node);
    this.warnings.push({ file: this.file, line: p?.line, col: p?.col, path: formatPath(path), message: `environment variable ${name} is not set; using an empty value` });
    return '';
  }
}

export function issueAt(cfg: LoadedConfig, path: ConfigPath, message: string): ConfigIssue {
  const p = cfg.locate(path);
  return { file: p?.file ?? cfg.files[cfg.files.length - 1], line: p?.line, col: p?.col, path: formatPath(path), message };
}
