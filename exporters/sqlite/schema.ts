/**
 * The SQLite schema of the store, shared by the writer (worker.ts) and the read side (store.ts).
 * Documented for users in README.md; bump SCHEMA_VERSION on any incompatible change.
 *
 * Conventions: times are INTEGER unix nanoseconds (read them with `safeIntegers` to keep all 64
 * bits), trace and span ids lowercase hex TEXT ('' when unset), attributes JSON objects in TEXT
 * (query them with json_extract(attributes, '$."http.route"')).
 */
export const SCHEMA_VERSION = 2;
import { SPAN_ROLLUP_DDL, SPAN_ROLLUP_TABLE } from './span-rollup';

/**
 * `spans.trace_key`: the last 13 hex digits of the trace id as an integer (52 bits, a safe JS
 * number). Trace lookups go through an index on it (`WHERE trace_key = ? AND trace_id = ?`)
 * rather than on the 32-character text: an 8-byte key makes the index ~2.5× smaller, and since trace
 * ids are random every commit rewrites most of that index's pages. The right end of the id is used
 * because W3C Trace Context (level 2) makes its right-most 7 bytes the random part; some
 * generators put a timestamp on the left. An empty or non-hex id gets 0.
 */
export function traceKey(traceId: string): number {
  return Number.parseInt(traceId.slice(-13), 16) || 0;
}

/**
 * Version 1 → 2: spans gained `trace_key` and its index replaced `spans_trace_id`. Runs before
 * the DDL, in one transaction, with `vigil_trace_key()` registered as traceKey on the connection.
 */
export const MIGRATE_1_TO_2 = `
ALTER TABLE spans ADD COLUMN trace_key INTEGER NOT NULL DEFAULT 0;
UPDATE spans SET trace_key = vigil_trace_key(trace_id);
DROP INDEX IF EXISTS spans_trace_id;
UPDATE vigil_meta SET value = '2' WHERE key = 'schema_version';
`;

/**
 * Reset-aware rollup (added without a version bump: additive, nullable columns). `increase` is the
 * counter increase between consecutive points inside the bucket, where a drop or a new start time
 * is a reset; the start times of the first and last points let a reader tell a reset across two
 * buckets. Rows written before these columns existed have NULLs and are read the old way.
 */
export const ROLLUP_RESET_COLUMNS: Array<[string, string]> = [
  ['increase', 'REAL'], ['first_start_time_unix_nano', 'INTEGER'], ['last_start_time_unix_nano', 'INTEGER'],
];

export const TABLES = {
  meta: 'vigil_meta',
  resources: 'resources',
  scopes: 'scopes',
  spans: 'spans',
  logs: 'logs',
  series: 'metric_series',
  numberPoints: 'metric_number_points',
  numberRollup: 'metric_number_rollup_1m',
  histogramPoints: 'metric_histogram_points',
  expHistogramPoints: 'metric_exp_histogram_points',
  summaryPoints: 'metric_summary_points',
  spanRollup: SPAN_ROLLUP_TABLE,
} as const;

/** Width of a rollup bucket of metric_number_rollup_1m. */
export const ROLLUP_BUCKET_NANOS = 60_000_000_000n;

/**
 * The threat fields of security events (`event_name` `security.threat`) the Security page shows.
 * A partial covering index holds them already extracted from the attributes JSON, so the page's
 * query (src/query/summary.ts, which must use these exact expressions) reads the index alone and
 * runs no json_extract per event on every live update: 2,000 events over 24 h took ~10 ms of CPU
 * through logs_event_ts, 3.5 ms through this index. Only security events are in it, so inserts of
 * other records pay nothing; a store made before it gets it built once at open.
 */
export const THREAT_FIELDS = ['type', 'severity', 'score', 'source_ip', 'user', 'attribute'] as const;
export const THREAT_EXPRESSIONS = [
  ...THREAT_FIELDS.map((f) => `json_extract(attributes, '$."security.threat.${f}"')`),
  `substr(json_extract(attributes, '$."security.threat.evidence"'), 1, 500)`,
];
export const THREAT_EVENT_CONDITION = `event_name = 'security.threat'`;
const THREAT_INDEX_DDL = `CREATE INDEX IF NOT EXISTS logs_threat_fields ON logs (ts_unix_nano, ${THREAT_EXPRESSIONS.join(', ')}, trace_id, span_id, service_name)
  WHERE ${THREAT_EVENT_CONDITION};`;

export const META_DDL = `CREATE TABLE IF NOT EXISTS vigil_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`;

export const DDL = `${META_DDL}

CREATE TABLE IF NOT EXISTS resources (
  resource_id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  service_name TEXT NOT NULL,
  attributes TEXT NOT NULL,
  dropped_attributes_count INTEGER NOT NULL,
  schema_url TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS scopes (
  scope_id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  attributes TEXT NOT NULL,
  dropped_attributes_count INTEGER NOT NULL,
  schema_url TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL,
  trace_key INTEGER NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  trace_state TEXT NOT NULL,
  flags INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_time_unix_nano INTEGER NOT NULL,
  end_time_unix_nano INTEGER NOT NULL,
  duration_nano INTEGER GENERATED ALWAYS AS (end_time_unix_nano - start_time_unix_nano) VIRTUAL,
  status_code INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  service_name TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  scope_id INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  dropped_attributes_count INTEGER NOT NULL,
  events TEXT,
  dropped_events_count INTEGER NOT NULL,
  links TEXT,
  dropped_links_count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS spans_trace_key ON spans (trace_key);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_time_unix_nano);
CREATE INDEX IF NOT EXISTS spans_service_start ON spans (service_name, start_time_unix_nano);

CREATE TABLE IF NOT EXISTS logs (
  ts_unix_nano INTEGER NOT NULL,
  time_unix_nano INTEGER NOT NULL,
  observed_time_unix_nano INTEGER NOT NULL,
  severity_number INTEGER NOT NULL,
  severity_text TEXT NOT NULL,
  body_type TEXT NOT NULL,
  body TEXT,
  attributes TEXT NOT NULL,
  dropped_attributes_count INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  service_name TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  scope_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_ts ON logs (ts_unix_nano);
CREATE INDEX IF NOT EXISTS logs_service_ts ON logs (service_name, ts_unix_nano);
CREATE INDEX IF NOT EXISTS logs_trace_id ON logs (trace_id) WHERE trace_id <> '';
-- Events (security threats, anomalies) by name and time; records without an event name stay out.
CREATE INDEX IF NOT EXISTS logs_event_ts ON logs (event_name, ts_unix_nano) WHERE event_name <> '';
-- Security events with their threat fields extracted (see THREAT_EXPRESSIONS).
${THREAT_INDEX_DDL}

CREATE TABLE IF NOT EXISTS metric_series (
  series_id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  metric_name TEXT NOT NULL,
  metric_type TEXT NOT NULL,
  description TEXT NOT NULL,
  unit TEXT NOT NULL,
  aggregation_temporality INTEGER NOT NULL,
  is_monotonic INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  metadata TEXT NOT NULL,
  service_name TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  scope_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_series_name ON metric_series (metric_name);

CREATE TABLE IF NOT EXISTS metric_number_points (
  series_id INTEGER NOT NULL,
  time_unix_nano INTEGER NOT NULL,
  start_time_unix_nano INTEGER NOT NULL,
  value,
  flags INTEGER NOT NULL,
  exemplars TEXT,
  PRIMARY KEY (series_id, time_unix_nano)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS metric_number_rollup_1m (
  series_id INTEGER NOT NULL,
  bucket_unix_nano INTEGER NOT NULL,
  count INTEGER NOT NULL,
  sum REAL NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  first_time_unix_nano INTEGER NOT NULL,
  first_value REAL NOT NULL,
  last_time_unix_nano INTEGER NOT NULL,
  last_value REAL NOT NULL,
  increase REAL,
  first_start_time_unix_nano INTEGER,
  last_start_time_unix_nano INTEGER,
  PRIMARY KEY (series_id, bucket_unix_nano)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS metric_histogram_points (
  series_id INTEGER NOT NULL,
  time_unix_nano INTEGER NOT NULL,
  start_time_unix_nano INTEGER NOT NULL,
  count INTEGER NOT NULL,
  sum REAL,
  min REAL,
  max REAL,
  bucket_counts TEXT NOT NULL,
  explicit_bounds TEXT NOT NULL,
  flags INTEGER NOT NULL,
  exemplars TEXT,
  PRIMARY KEY (series_id, time_unix_nano)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS metric_exp_histogram_points (
  series_id INTEGER NOT NULL,
  time_unix_nano INTEGER NOT NULL,
  start_time_unix_nano INTEGER NOT NULL,
  count INTEGER NOT NULL,
  sum REAL,
  min REAL,
  max REAL,
  scale INTEGER NOT NULL,
  zero_count INTEGER NOT NULL,
  zero_threshold REAL NOT NULL,
  positive_offset INTEGER NOT NULL,
  positive_bucket_counts TEXT NOT NULL,
  negative_offset INTEGER NOT NULL,
  negative_bucket_counts TEXT NOT NULL,
  flags INTEGER NOT NULL,
  exemplars TEXT,
  PRIMARY KEY (series_id, time_unix_nano)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS metric_summary_points (
  series_id INTEGER NOT NULL,
  time_unix_nano INTEGER NOT NULL,
  start_time_unix_nano INTEGER NOT NULL,
  count INTEGER NOT NULL,
  sum REAL NOT NULL,
  quantile_values TEXT NOT NULL,
  flags INTEGER NOT NULL,
  PRIMARY KEY (series_id, time_unix_nano)
) WITHOUT ROWID;
${SPAN_ROLLUP_DDL}
`;

/** Tables of metric points, with the columns the writer fills (in order). */
export const POINT_TABLES = [TABLES.numberPoints, TABLES.histogramPoints, TABLES.expHistogramPoints, TABLES.summaryPoints] as const;
