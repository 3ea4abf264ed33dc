/** Config shared by the `anomaly` processor and the `anomaly_events` connector. */
import type { JsonSchema } from '../../src/component';
import { AnyValue, Attributes, stringValue } from '../../src/model';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { AnomalyParams, DEFAULT_PARAMS, NOMINAL_INTERVAL } from './algorithm';

export interface MatchConfig {
  /** Glob patterns ("http.server.*") matched against the metric name (or "service/span" for spans). */
  names?: string[];
  /** Attribute values that must all match (resource or point attributes). */
  attributes?: Record<string, string>;
}

export interface AlgorithmConfig {
  warmup: number;
  level_memory: number;
  step_memory: number;
  surprise_memory: number;
  score_decades: number;
  short_memory: number;
  rest_period: string | number;
  /** Deprecated alias of rest_period: a number is points (read at NOMINAL_INTERVAL each), a string a duration. */
  refractory?: string | number;
}

export interface CommonConfig {
  threshold: number;
  include?: MatchConfig;
  exclude?: MatchConfig;
  max_series: number;
  series_idle_timeout: string | number;
  persist: boolean;
  persist_interval: string | number;
  algorithm: AlgorithmConfig;
}

const matchSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    names: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 1000 },
    attributes: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

export const commonProperties: Record<string, JsonSchema> = {
  threshold: { type: 'number', minimum: 0, maximum: 1, default: DEFAULT_PARAMS.alarmLevel, description: 'Score from which a point or aggregate is an anomaly (an event is emitted).' },
  include: { ...matchSchema, description: 'Only score series matching this (all when absent).' },
  exclude: { ...matchSchema, description: 'Never score series matching this.' },
  max_series: { type: 'integer', minimum: 1, default: 10000, description: 'Cap on tracked series; the least recently seen is evicted beyond it.' },
  series_idle_timeout: durationSchema('1h', 'Series not seen for this long are forgotten.'),
  persist: { type: 'boolean', default: true, description: 'Keep series state in the data directory across restarts.' },
  persist_interval: durationSchema('30s', 'How often changed series state is written.'),
  algorithm: {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      warmup: { type: 'integer', minimum: 1, default: DEFAULT_PARAMS.warmup, description: 'Points a series needs before it may alarm.' },
      level_memory: { type: 'integer', minimum: 2, default: DEFAULT_PARAMS.levelMemory },
      step_memory: { type: 'integer', minimum: 2, default: DEFAULT_PARAMS.stepMemory },
      surprise_memory: { type: 'integer', minimum: 2, default: DEFAULT_PARAMS.surpriseMemory },
      score_decades: { type: 'number', exclusiveMinimum: 0, default: DEFAULT_PARAMS.scoreDecades },
      short_memory: { type: 'integer', minimum: 1, default: DEFAULT_PARAMS.shortMemory, description: 'Points averaged by the second likelihood stage (sustained surprise).' },
      rest_period: durationSchema('6h', 'Time after an anomaly during which the series is not reported again (ends early once its scores are quiet); "0" reports every point.'),
      refractory: {
        anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^(0|(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h|d))+)$' }],
        description: 'Deprecated: use rest_period. A number is points, read as 5 minutes each (150 → 12.5h); a string is a duration.',
      },
    },
  },
};

export function toParams(c: CommonConfig): AnomalyParams {
  const a = { ...c.algorithm } as Partial<AlgorithmConfig>;
  return {
    warmup: a.warmup ?? DEFAULT_PARAMS.warmup,
    levelMemory: a.level_memory ?? DEFAULT_PARAMS.levelMemory,
    stepMemory: a.step_memory ?? DEFAULT_PARAMS.stepMemory,
    surpriseMemory: a.surprise_memory ?? DEFAULT_PARAMS.surpriseMemory,
    scoreDecades: a.score_decades ?? DEFAULT_PARAMS.scoreDecades,
    shortMemory: a.short_memory ?? DEFAULT_PARAMS.shortMemory,
    alarmLevel: c.threshold,
    restPeriod: a.refractory !== undefined ? refractorySeconds(a.refractory)
      : a.rest_period === undefined ? DEFAULT_PARAMS.restPeriod : parseDuration(a.rest_period) / 1000,
  };
}

/** The old `refractory` key in seconds: it counted points, which are read at the nominal 5-minute interval. */
function refractorySeconds(v: string | number): number {
  return typeof v === 'number' ? v * NOMINAL_INTERVAL : parseDuration(v) / 1000;
}

type ConfigNote = { path: Array<string | number>; message: string };
const DEFAULT_REST = commonProperties.algorithm.properties as Record<string, { default?: unknown }>;

/** Errors a schema cannot express: the deprecated `refractory` next to a non-default `rest_period`. */
export function algorithmProblems(c: CommonConfig): ConfigNote[] {
  const a = c.algorithm ?? ({} as AlgorithmConfig);
  if (a.refractory !== undefined && a.rest_period !== undefined && a.rest_period !== DEFAULT_REST.rest_period.default) {
    return [{ path: ['algorithm', 'refractory'], message: 'refractory is the old name of rest_period; set only rest_period' }];
  }
  return [];
}

/** Warnings that do not stop the config: `refractory` still works, as rest_period, but is deprecated. */
export function algorithmWarnings(c: CommonConfig): ConfigNote[] {
  const r = c.algorithm?.refractory;
  if (r === undefined) return [];
  const seconds = refractorySeconds(r);
  const as = seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
  const read = typeof r === 'number' ? `${r} points, read as ${as} (5 minutes a point)` : as;
  return [{ path: ['algorithm', 'refractory'], message: `refractory is deprecated, use rest_period: ${read}; set rest_period: ${as} instead` }];
}

/** Glob → anchored regex; only `*` and `?` are special, so no pattern can backtrack badly. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

export class Matcher {
  private readonly names?: RegExp[];
  private readonly attrs?: Array<[string, string]>;

  constructor(m: MatchConfig | undefined) {
    if (m?.names?.length) this.names = m.names.map(globToRegExp);
    if (m?.attributes && Object.keys(m.attributes).length) this.attrs = Object.entries(m.attributes);
  }

  get empty(): boolean {
    return !this.names && !this.attrs;
  }

  matches(name: string, resource: Attributes, attrs: Attributes): boolean {
    if (this.names && !this.names.some((r) => r.test(name))) return false;
    if (this.attrs) {
      for (const [k, v] of this.attrs) {
        const got: AnyValue | undefined = Object.prototype.hasOwnProperty.call(attrs, k) ? attrs[k] : Object.prototype.hasOwnProperty.call(resource, k) ? resource[k] : undefined;
        if (stringValue(got) !== v) return false;
      }
    }
    return true;
  }
}

export class Selector {
  private readonly inc: Matcher;
  private readonly exc: Matcher;
  constructor(c: Pick<CommonConfig, 'include' | 'exclude'>) {
    this.inc = new Matcher(c.include);
    this.exc = new Matcher(c.exclude);
  }
  selected(name: string, resource: Attributes, attrs: Attributes): boolean {
    if (!this.inc.empty && !this.inc.matches(name, resource, attrs)) return false;
    if (!this.exc.empty && this.exc.matches(name, resource, attrs)) return false;
    return true;
  }
}

/** A stable key for a series: name plus sorted resource and point attributes. */
export function seriesKey(name: string, resource: Attributes, attrs: Attributes): string {
  return `${name}|${canon(resource)}|${canon(attrs)}`;
}

function canon(a: Attributes): string {
  const keys = Object.keys(a);
  if (keys.length === 0) return '';
  keys.sort();
  return keys.map((k) => `${JSON.stringify(k)}=${JSON.stringify(stringValue(a[k]))}`).join(',');
}
