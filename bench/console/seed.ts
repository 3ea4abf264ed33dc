/**
 * Seeds a store file for the console benchmark directly with SQL (the exporter's schema, written in
 * one transaction per table: minutes instead of the hour the exporter's path would take for this
 * volume). The data ends now, so the console's "last 1h / 24h / 7d" ranges hit it:
 *
 * - spans: N spans over the last 24 h, 20 services × 10 operations, 2 % errors, durations spread
 *   over three orders of magnitude, with their per-minute rollup (span_rollup_1m);
 * - metric points: S series × P points 1 s apart (a gauge), with the 1-minute rollup;
 * - log records: L over the last 24 h, 2 % of them security events and 0.2 % anomaly events.
 */
import Database from 'better-sqlite3';
import { DDL, SCHEMA_VERSION, traceKey } from '../../exporters/sqlite/schema';
import { backfillSpanRollup } from '../../exporters/sqlite/span-rollup';

export interface SeedOptions {
  spans: number;
  series: number;
  points: number;
  logs: number;
  nowMs?: number;
}

const ns = (ms: number) => BigInt(Math.floor(ms)) * 1_000_000n;
const hex = (n: number, len: number) => (BigInt(n + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(len, '0').slice(-len);

export function seedStore(path: string, o: SeedOptions): void {
  const now = o.nowMs ?? Date.now();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(DDL);
  db.prepare(`INSERT OR REPLACE INTO vigil_meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
  const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
  db.transaction(() => {
    services.forEach((s, i) => db.prepare(`INSERT INTO resources (resource_id, hash, service_name, attributes, dropped_attributes_count, schema_url) VALUES (?, ?, ?, ?, 0, '')`).run(i + 1, `r${i}`, s, JSON.stringify({ 'service.name': s })));
    db.prepare(`INSERT INTO scopes (scope_id, hash, name, version, attributes, dropped_attributes_count, schema_url) VALUES (1, 's', 'bench', '1', '{}', 0, '')`).run();
  })();

  const span = db.prepare(`INSERT INTO spans (trace_id, trace_key, span_id, parent_span_id, trace_state, flags, name, kind, start_time_unix_nano, end_time_unix_nano,
    status_code, status_message, service_name, resource_id, scope_id, attributes, dropped_attributes_count, events, dropped_events_count, links, dropped_links_count)
    VALUES (?, ?, ?, '', '', 0, ?, 2, ?, ?, ?, '', ?, ?, 1, ?, 0, NULL, 0, NULL, 0)`);
  const dayMs = 86_400_000;
  db.transaction(() => {
    for (let k = 0; k < o.spans; k++) {
      const t = now - dayMs + (k / o.spans) * dayMs;
      const si = k % 20;
      const traceId = hex(k, 32);
      const dur = 0.5 + Math.exp(((k * 7919) % 1000) / 1000 * 7) / 10; // 0.6 ms .. ~110 ms, skewed
      span.run(traceId, traceKey(traceId), hex(k, 16), `op-${(k >> 5) % 10}`, ns(t), ns(t + dur), k % 50 === 0 ? 2 : 0, services[si], si + 1, JSON.stringify({ 'http.route': `/r/${k % 10}` }));
    }
  })();
  // The per-minute span rollup, as the exporter's writer keeps it.
  db.transaction(() => backfillSpanRollup(db))();

  const series = db.prepare(`INSERT INTO metric_series (series_id, hash, metric_name, metric_type, description, unit, aggregation_temporality, is_monotonic, attributes, metadata, service_name, resource_id, scope_id)
    VALUES (?, ?, 'bench.gauge', 'gauge', '', '1', 0, 0, ?, '{}', ?, ?, 1)`);
  const point = db.prepare(`INSERT INTO metric_number_points (series_id, time_unix_nano, start_time_unix_nano, value, flags, exemplars) VALUES (?, ?, 0, ?, 0, NULL)`);
  db.transaction(() => {
    for (let s = 0; s < o.series; s++) {
      series.run(s + 1, `m${s}`, JSON.stringify({ instance: `i-${s}`, zone: `z-${s % 4}` }), services[s % 20], (s % 20) + 1);
      for (let p = 0; p < o.points; p++) point.run(s + 1, ns(now - (o.points - p) * 1000), 50 + 40 * Math.sin((p + s) / 300));
    }
  })();
  db.exec(`INSERT INTO metric_number_rollup_1m (series_id, bucket_unix_nano, count, sum, min, max, first_time_unix_nano, first_value, last_time_unix_nano, last_value)
    SELECT series_id, (time_unix_nano / 60000000000) * 60000000000 AS b, count(*), sum(value), min(value), max(value), min(time_unix_nano), 0, max(time_unix_nano), 0
    FROM metric_number_points GROUP BY series_id, b`);

  const log = db.prepare(`INSERT INTO logs (ts_unix_nano, time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body_type, body, attributes, dropped_attributes_count, flags, trace_id, span_id, event_name, service_name, resource_id, scope_id)
    VALUES (?, ?, ?, ?, ?, 'string', ?, ?, 0, 0, ?, '', ?, ?, ?, 1)`);
  const types = ['sql_injection', 'xss', 'brute_force', 'rate_limit'];
  const sev = ['low', 'medium', 'high', 'critical'];
  db.transaction(() => {
    for (let k = 0; k < o.logs; k++) {
      const t = ns(now - dayMs + (k / o.logs) * dayMs);
      const si = k % 20;
      if (k % 50 === 7) {
        const ty = types[k % 4];
        log.run(t, t, t, 13, 'WARN', `${ty} detected`, JSON.stringify({ 'event.name': 'security.threat', 'security.threat.type': ty, 'security.threat.severity': sev[(k >> 2) % 4], 'security.threat.score': 0.5 + ((k >> 2) % 4) / 8, 'security.threat.source_ip': `203.0.113.${k % 200}`, 'security.threat.user': `user-${k % 50}`, 'security.threat.evidence': `evidence ${k}` }), hex(k, 32), 'security.threat', services[si], si + 1);
      } else if (k % 500 === 11) {
        log.run(t, t, t, 13, 'WARN', 'anomaly', JSON.stringify({ 'event.name': 'anomaly', 'anomaly.kind': 'metric', 'anomaly.name': 'bench.gauge', 'anomaly.series': `bench.gauge|i-${k % 200}`, 'anomaly.value': 500, 'anomaly.expected.min': 10, 'anomaly.expected.max': 90, 'anomaly.score': 0.9 }), '', 'anomaly', services[si], si + 1);
      } else {
        log.run(t, t, t, 9, 'INFO', `request ${k} served`, '{}', hex(k, 32), '', services[si], si + 1);
      }
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
