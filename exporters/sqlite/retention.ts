/**
 * Retention by age, per signal and per log event name: `retention.max_age` is the default, and
 * `retention.traces|logs|metrics.max_age` and `retention.logs.by_event_name` override it (longer or
 * shorter, 0 keeping forever), e.g. security findings for 90 days while debug logs go after 7. The
 * size limit (`max_size_mib`) still deletes the oldest rows of every kind when the store is full.
 */
import { durationSchema, parseDuration } from '../../src/util/duration';

export interface RetentionBySignal {
  traces?: { max_age?: string | number };
  logs?: { max_age?: string | number; by_event_name?: Record<string, string | number> };
  metrics?: { max_age?: string | number };
}

/** Milliseconds kept per kind of row; 0 keeps forever. Passed to the writer thread as plain data. */
export interface AgePolicy {
  spansMs: number;
  logsMs: number;
  metricsMs: number;
  /** Log event names with their own age (`logs` rows with another event_name follow logsMs). */
  logEventsMs: Array<[string, number]>;
}

/** Cutoffs in unix nanoseconds: rows strictly older go; undefined keeps them. */
export interface AgeCutoffs {
  spans?: bigint;
  logs?: bigint;
  metrics?: bigint;
  logEvents: Array<[string, bigint | undefined]>;
}

/** A duration without a default: absent means "as retention.max_age". */
function optionalAge(description: string): Record<string, unknown> {
  const { default: _unused, ...schema } = durationSchema('0', description);
  return schema;
}

export const retentionBySignalSchema = {
  traces: { type: 'object', additionalProperties: false, properties: { max_age: optionalAge('Age after which spans are deleted; overrides retention.max_age.') } },
  logs: {
    type: 'object', additionalProperties: false,
    properties: {
      max_age: optionalAge('Age after which log records are deleted; overrides retention.max_age.'),
      by_event_name: { type: 'object', additionalProperties: optionalAge('Age for log records with this event name.'), description: 'Ages for log records with these event names (e.g. security findings kept longer than other logs).' },
    },
  },
  metrics: { type: 'object', additionalProperties: false, properties: { max_age: optionalAge('Age after which metric points are deleted; overrides retention.max_age.') } },
};

export function agePolicy(defaultMaxAge: string | number, r: RetentionBySignal = {}): AgePolicy {
  const base = parseDuration(defaultMaxAge);
  const or = (v: string | number | undefined) => (v === undefined ? base : parseDuration(v));
  return {
    spansMs: or(r.traces?.max_age),
    logsMs: or(r.logs?.max_age),
    metricsMs: or(r.metrics?.max_age),
    logEventsMs: Object.entries(r.logs?.by_event_name ?? {}).map(([name, age]) => [name, parseDuration(age)]),
  };
}

export function hasAgeLimit(p: AgePolicy): boolean {
  return p.spansMs > 0 || p.logsMs > 0 || p.metricsMs > 0 || p.logEventsMs.some(([, ms]) => ms > 0);
}

export function ageCutoffs(p: AgePolicy, nowMs: number): AgeCutoffs {
  const cut = (ms: number) => (ms > 0 ? BigInt(nowMs - ms) * 1_000_000n : undefined);
  return { spans: cut(p.spansMs), logs: cut(p.logsMs), metrics: cut(p.metricsMs), logEvents: p.logEventsMs.map(([n, ms]) => [n, cut(ms)]) };
}

/** The same cutoff for every kind of row (the size limit's oldest-first deletion). */
export function uniformCutoffs(cutoff: bigint): AgeCutoffs {
  return { spans: cutoff, logs: cutoff, metrics: cutoff, logEvents: [] };
}

/**
 * The log deletions of a cutoff set, as [sql, params] with the cutoff last: rows of the listed
 * event names by their own cutoff, every other row by the logs cutoff. Each statement deletes at
 * most `limit` rows (the writer repeats it until fewer go).
 */
export function logDeletions(c: AgeCutoffs, limit: number): Array<[string, unknown[]]> {
  const out: Array<[string, unknown[]]> = [];
  const names = c.logEvents.map(([n]) => n);
  if (c.logs !== undefined) {
    const except = names.length ? ` AND event_name NOT IN (${names.map(() => '?').join(', ')})` : '';
    out.push([`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE ts_unix_nano < ?${except} LIMIT ${limit})`, [c.logs, ...names]]);
  }
  for (const [name, cutoff] of c.logEvents) {
    if (cutoff !== undefined) out.push([`DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE ts_unix_nano < ? AND event_name = ? LIMIT ${limit})`, [cutoff, name]]);
  }
  return out;
}
