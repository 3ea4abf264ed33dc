/**
 * Validation of a loaded config against the registered factories, in the Collector's model:
 * component ids `type[/name]`, each component's config checked with ajv against the schema its
 * factory declares (defaults applied, unknown keys refused), and the service section checked for
 * dangling references, empty pipelines, signals a component cannot handle, and connector cycles.
 * Every problem is reported at once, each with its file, line and column.
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { batchBeforeDurableWarnings } from '../exporterhelper/lint';
import type { ComponentKind, Factory, JsonSchema } from '../component';
import { ConfigError, ConfigIssue } from '../errors';
import { SIGNALS, Signal } from '../model';
import { parseDuration, durationSchema } from '../util/duration';
import { TlsServerConfig, tlsServerSchema } from '../tls/config';
import { ConfigPath, LoadedConfig, isPlainObject, issueAt } from './load';

export interface ComponentConfig {
  id: string;
  type: string;
  name: string;
  kind: ComponentKind;
  factory: Factory;
  config: Record<string, unknown>;
}

export interface PipelineConfig {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface ServiceConfig {
  extensions: string[];
  pipelines: PipelineConfig[];
  dataDir: string;
  shutdownTimeoutMs: number;
  telemetry: { logs: { level: string }; metrics: { address: string | null; tls?: TlsServerConfig } };
}

export interface ValidatedConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  connectors: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  service: ServiceConfig;
  warnings: ConfigIssue[];
  files: string[];
}

const SECTIONS: Array<[string, ComponentKind]> = [
  ['receivers', 'receiver'],
  ['processors', 'processor'],
  ['exporters', 'exporter'],
  ['connectors', 'connector'],
  ['extensions', 'extension'],
];
const TOP_KEYS = new Set([...SECTIONS.map(([s]) => s), 'service']);
const ID = /^([A-Za-z][A-Za-z0-9_]*)(?:\/(.+))?$/;

export const serviceSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    extensions: { type: 'array', items: { type: 'string' }, default: [] },
    pipelines: { type: 'object', additionalProperties: { type: 'object' }, default: {} },
    data_dir: { type: 'string', default: './data', description: 'Where components keep their files and persistent state.' },
    shutdown_timeout: durationSchema('30s', 'How long a graceful shutdown may take before the process gives up.'),
    telemetry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        logs: {
          type: 'object', additionalProperties: false, default: {},
          properties: { level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' } },
        },
        metrics: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            address: {
              type: ['string', 'null'], default: '127.0.0.1:8888',
              description: "Where Vigil serves its own Prometheus metrics; null or '' turns it off.",
            },
            tls: tlsServerSchema,
          },
        },
      },
    },
  },
};

const pipelineSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['receivers', 'exporters'],
  properties: {
    receivers: { type: 'array', items: { type: 'string' }, minItems: 1 },
    processors: { type: 'array', items: { type: 'string' }, default: [] },
    exporters: { type: 'array', items: { type: 'string' }, minItems: 1 },
  },
};

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true, verbose: true });
const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(closeObjects(schema));
    compiled.set(schema, v);
  }
  return v;
}

/**
 * Unknown keys are errors everywhere, as in the Collector: any object schema that lists its
 * properties and says nothing about others gets `additionalProperties: false`.
 */
function closeObjects(schema: unknown): any {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!isPlainObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === 'properties' || k === 'patternProperties' || k === 'definitions' || k === '$defs'
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([pk, pv]) => [pk, closeObjects(pv)]))
      : k === 'default' || k === 'examples' || k === 'enum' || k === 'const' ? v : closeObjects(v);
  }
  if (out.properties && out.additionalProperties === undefined && out.patternProperties === undefined) out.additionalProperties = false;
  return out;
}

/**
 * `http:` with nothing after it is YAML null; the Collector reads it as "present, all defaults".
 * Turn nulls into {} wherever the schema expects an object, so defaults can fill them.
 */
export function nullsToObjects(schema: unknown, data: unknown): unknown {
  if (!isPlainObject(schema)) return data;
  const expectsObject = schema.type === 'object' || (schema.properties !== undefined && schema.type === undefined);
  if (data === null && expectsObject) data = {};
  if (isPlainObject(data) && isPlainObject(schema.properties)) {
    for (const [k, sub] of Object.entries(schema.properties)) {
      if (k in data) data[k] = nullsToObjects(sub, data[k]);
    }
  }
  return data;
}

/**
 * Schema fields marked `secret: true` (tokens, passwords, header values) are never echoed, whatever
 * the value's type: a numeric `${env:HOOKSECRET}` must not appear in "expected string, got number ...".
 * Inside a shown mapping, secret members are replaced too.
 */
const HIDDEN = '(value hidden: secret field)';

function isSecretSchema(schema: unknown): boolean {
  return isPlainObject(schema) && schema.secret === true;
}

function shown(value: unknown, schema: unknown): string {
  if (isSecretSchema(schema)) return HIDDEN;
  return JSON.stringify(hideSecrets(value, schema));
}

function hideSecrets(value: unknown, schema: unknown): unknown {
  if (!isPlainObject(schema)) return value;
  if (isSecretSchema(schema)) return '***';
  if (Array.isArray(value)) return value.map((v) => hideSecrets(v, schema.items));
  if (!isPlainObject(value)) return value;
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideSecrets(v, k in props ? props[k] : schema.additionalProperties)]));
}

function describeError(e: ErrorObject): { path: (string | number)[]; message: string } {
  const secret = isSecretSchema(e.parentSchema);
  const path: (string | number)[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const p = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as any)?.properties ?? {});
      return { path: [...path, p.additionalProperty], message: `unknown key "${p.additionalProperty}"${allowed.length ? `; expected one of: ${allowed.join(', ')}` : ''}` };
    }
    case 'required':
      return { path, message: `missing required key "${p.missingProperty}"` };
    case 'type':
      return { path, message: `expected ${p.type}, got ${secret ? `${typeof e.data === 'object' ? typeName(e.data) : typeof e.data} ${HIDDEN}` : typeName(e.data)}` };
    case 'enum':
      return { path, message: `expected one of ${p.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}, got ${shown(e.data, e.parentSchema)}` };
    case 'anyOf':
    case 'oneOf': {
      const s = e.parentSchema as Record<string, any>;
      const isDuration = Array.isArray(s?.anyOf) && s.anyOf.some((b: any) => typeof b.pattern === 'string' && b.pattern.includes('ms|s|m|h'));
      return { path, message: isDuration ? `expected a duration such as "500ms", "5s" or "1h30m" (or milliseconds as a number), got ${shown(e.data, s)}` : `expected ${s?.description ?? 'a value of one of the allowed forms'}, got ${shown(e.data, s)}` };
    }
    default:
      return { path, message: `${secret && e.keyword === 'pattern' ? 'does not have the expected form' : (e.message ?? 'is invalid')}${e.data !== undefined && typeof e.data !== 'object' ? `, got ${shown(e.data, e.parentSchema)}` : ''}` };
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Validate `data` against `schema` (defaults applied in place); issues are located under `base`. */
export function validateAgainst(schema: JsonSchema, data: unknown, cfg: LoadedConfig, base: ConfigPath, issues: ConfigIssue[]): unknown {
  data = nullsToObjects(schema, data);
  const validate = compile(schema);
  if (!validate(data)) {
    // anyOf reports every branch's failure too; keep only the anyOf summary for a path.
    const errs = validate.errors ?? [];
    const anyOfPaths = new Set(errs.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
    const seen = new Set<string>();
    for (const e of errs) {
      if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && [...anyOfPaths].some((p) => e.instancePath === p || e.instancePath.startsWith(p + '/'))) continue;
      const d = describeError(e);
      const k = d.path.join('/') + d.message;
      if (seen.has(k)) continue;
      seen.add(k);
      issues.push(issueAt(cfg, [...base, ...d.path], d.message));
    }
  }
  return data;
}

export function validateConfig(cfg: LoadedConfig, factories: readonly Factory[]): ValidatedConfig {
  const issues: ConfigIssue[] = [];
  const root = cfg.value;
  for (const k of Object.keys(root)) {
    if (!TOP_KEYS.has(k)) issues.push(issueAt(cfg, [k], `unknown top-level key "${k}"; expected one of: ${[...TOP_KEYS].join(', ')}`));
  }

  const sections = {} as Record<ComponentKind, Map<string, ComponentConfig>>;
  const componentWarnings: ConfigIssue[] = [];
  for (const [section, kind] of SECTIONS) {
    const map = new Map<string, ComponentConfig>();
    sections[kind] = map;
    const raw = root[section];
    if (raw === undefined || raw === null) continue;
    if (!isPlainObject(raw)) {
      issues.push(issueAt(cfg, [section], `expected a mapping of component ids to their config, got ${typeName(raw)}`));
      continue;
    }
    for (const [id, body] of Object.entries(raw)) {
      const m = ID.exec(id);
      if (!m) {
        issues.push(issueAt(cfg, [section, id], `invalid component id "${id}": expected "type" or "type/name"`));
        continue;
      }
      const [, type, name = ''] = m;
      const factory = factories.find((f) => f.kind === kind && f.type === type);
      if (!factory) {
        const known = factories.filter((f) => f.kind === kind).map((f) => f.type).sort();
        issues.push(issueAt(cfg, [section, id], `unknown ${kind} type "${type}"; known ${section}: ${known.join(', ') || '(none)'}`));
        continue;
      }
      const before = issues.length;
      const config = validateAgainst(factory.configSchema, body ?? {}, cfg, [section, id], issues);
      if (issues.length === before && factory.validate) {
        for (const p of factory.validate(config as never)) issues.push(issueAt(cfg, [section, id, ...p.path], p.message));
      }
      if (issues.length === before && factory.warnings) {
        for (const p of factory.warnings(config as never)) componentWarnings.push(issueAt(cfg, [section, id, ...p.path], p.message));
      }
      map.set(id, { id, type, name, kind, factory, config: (config ?? {}) as Record<string, unknown> });
    }
  }

  const serviceRaw = root.service;
  if (serviceRaw === undefined) issues.push({ file: cfg.files[cfg.files.length - 1], path: 'service', message: 'missing the "service" section; expected service.pipelines' });
  const svc = validateAgainst(serviceSchema, serviceRaw ?? {}, cfg, ['service'], issues) as Record<string, any>;

  const pipelines: PipelineConfig[] = [];
  const pipelinesRaw = isPlainObject(svc?.pipelines) ? (svc.pipelines as Record<string, unknown>) : {};
  if (serviceRaw !== undefined && Object.keys(pipelinesRaw).length === 0) {
    issues.push(issueAt(cfg, ['service', 'pipelines'], 'no pipelines: expected at least one of traces, metrics, logs (optionally "/name")'));
  }
  for (const [pid, body] of Object.entries(pipelinesRaw)) {
    const base = ['service', 'pipelines', pid];
    const m = /^(traces|metrics|logs)(?:\/(.+))?$/.exec(pid);
    if (!m) {
      issues.push(issueAt(cfg, base, `invalid pipeline id "${pid}": expected traces, metrics or logs, optionally followed by "/name"`));
      continue;
    }
    const signal = m[1] as Signal;
    const p = validateAgainst(pipelineSchema, body, cfg, base, issues) as Record<string, string[]> | undefined;
    if (!isPlainObject(p)) continue;
    const pl: PipelineConfig = { id: pid, signal, receivers: p.receivers ?? [], processors: p.processors ?? [], exporters: p.exporters ?? [] };
    checkRefs(pl, cfg, sections, issues);
    pipelines.push(pl);
  }

  for (const [i, ext] of ((svc?.extensions as string[]) ?? []).entries()) {
    if (!sections.extension.has(ext)) issues.push(issueAt(cfg, ['service', 'extensions', i], `extension "${ext}" is not defined under extensions`));
  }

  checkConnectors(pipelines, cfg, sections, issues);

  if (issues.length) throw new ConfigError(issues);
  let shutdownTimeoutMs = 30_000;
  try {
    shutdownTimeoutMs = parseDuration(svc.shutdown_timeout);
  } catch { /* schema already checked the form */ }
  return {
    receivers: sections.receiver,
    processors: sections.processor,
    exporters: sections.exporter,
    connectors: sections.connector,
    extensions: sections.extension,
    service: {
      extensions: svc.extensions,
      pipelines,
      dataDir: svc.data_dir,
      shutdownTimeoutMs,
      telemetry: { logs: { level: svc.telemetry.logs.level }, metrics: { address: svc.telemetry.metrics.address || null, ...(svc.telemetry.metrics.tls ? { tls: svc.telemetry.metrics.tls } : {}) } },
    },
    warnings: [
      ...cfg.warnings,
      ...componentWarnings,
      ...batchBeforeDurableWarnings(pipelines, sections.processor, sections.exporter, sections.connector).map((w) => issueAt(cfg, w.path, w.message)),
    ],
    files: cfg.files,
  };
}

function supports(c: ComponentConfig, signal: Signal): boolean {
  const f = c.factory as { signals?: readonly Signal[] };
  return f.signals ? f.signals.includes(signal) : true;
}

function checkRefs(p: PipelineConfig, cfg: LoadedConfig, s: Record<ComponentKind, Map<string, ComponentConfig>>, issues: ConfigIssue[]): void {
  const base = ['service', 'pipelines', p.id];
  const check = (list: string[], field: string, kinds: ComponentKind[]) => {
    const seen = new Set<string>();
    list.forEach((id, i) => {
      const at = [...base, field, i];
      if (seen.has(id)) issues.push(issueAt(cfg, at, `"${id}" is listed twice`));
      seen.add(id);
      const c = kinds.map((k) => s[k].get(id)).find(Boolean);
      if (!c) {
        const what = kinds.length > 1 ? `${kinds[0]} or connector` : kinds[0];
        issues.push(issueAt(cfg, at, `${what} "${id}" is not defined under ${kinds.map((k) => k + 's').join(' or ')}`));
      } else if (c.kind !== 'connector' && !supports(c, p.signal)) {
        const sigs = (c.factory as { signals: readonly Signal[] }).signals;
        issues.push(issueAt(cfg, at, `${c.kind} "${id}" does not support ${p.signal}; it handles ${sigs.join(', ')}`));
      }
    });
  };
  check(p.receivers, 'receivers', ['receiver', 'connector']);
  check(p.processors, 'processors', ['processor']);
  check(p.exporters, 'exporters', ['exporter', 'connector']);
}

function checkConnectors(pipelines: PipelineConfig[], cfg: LoadedConfig, s: Record<ComponentKind, Map<string, ComponentConfig>>, issues: ConfigIssue[]): void {
  for (const [id, c] of s.connector) {
    const asExporter = pipelines.filter((p) => p.exporters.includes(id));
    const asReceiver = pipelines.filter((p) => p.receivers.includes(id));
    if (asExporter.length === 0 && asReceiver.length === 0) continue; // defined but unused: ignored, as in the Collector
    const pairs = (c.factory as { pairs: readonly (readonly [Signal, Signal])[] }).pairs;
    if (asExporter.length === 0 || asReceiver.length === 0) {
      issues.push(issueAt(cfg, ['connectors', id], `connector "${id}" must be used both as an exporter in one pipeline and as a receiver in another; it is used only as ${asExporter.length ? 'an exporter' : 'a receiver'}`));
      continue;
    }
    for (const pe of asExporter) {
      if (!asReceiver.some((pr) => pairs.some(([a, b]) => a === pe.signal && b === pr.signal))) {
        issues.push(issueAt(cfg, ['service', 'pipelines', pe.id, 'exporters', pe.exporters.indexOf(id)], `connector "${id}" cannot take ${pe.signal} into any pipeline it feeds (${asReceiver.map((p) => p.id).join(', ')}); it supports ${pairs.map(([a, b]) => `${a}→${b}`).join(', ')}`));
      }
    }
    for (const pr of asReceiver) {
      if (!asExporter.some((pe) => pairs.some(([a, b]) => a === pe.signal && b === pr.signal))) {
        issues.push(issueAt(cfg, ['service', 'pipelines', pr.id, 'receivers', pr.receivers.indexOf(id)], `connector "${id}" cannot produce ${pr.signal} from what it is given (${asExporter.map((p) => p.id).join(', ')}); it supports ${pairs.map(([a, b]) => `${a}→${b}`).join(', ')}`));
      }
    }
  }
  // Cycles: pipeline A exports to connector C which feeds pipeline B which ... feeds A again.
  const edges = new Map<string, string[]>();
  for (const p of pipelines) {
    edges.set(p.id, pipelines.filter((q) => p.exporters.some((e) => s.connector.has(e) && q.receivers.includes(e))).map((q) => q.id));
  }
  const state = new Map<string, 1 | 2>();
  const visit = (id: string, stack: string[]): void => {
    if (state.get(id) === 2) return;
    if (state.get(id) === 1) {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      issues.push(issueAt(cfg, ['service', 'pipelines', id], `connectors form a cycle: ${cycle.join(' → ')}`));
      return;
    }
    state.set(id, 1);
    for (const n of edges.get(id) ?? []) visit(n, [...stack, id]);
    state.set(id, 2);
  };
  for (const p of pipelines) visit(p.id, []);
}

export { SIGNALS };
