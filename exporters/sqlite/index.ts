/**
 * `sqlite` exporter: Vigil's default store. Spans, metric points and log records go into one
 * SQLite file (schema in README.md and schema.ts), written by a worker thread so that ingest never
 * waits on the disk.
 */
import type { CreateSettings, ExporterFactory, Host } from '../../src/component';
import { ExporterHelperConfig, createExporter, exporterHelperProperties } from '../../src/exporterhelper';
import { exporterMetrics } from '../../src/exporterhelper/metrics';
import type { Logs, Metrics, Signal, Traces } from '../../src/model';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { isAbsolute, resolve } from 'node:path';
import { WriterClient } from './client';
import { logsToRows, metricsToRows, tracesToRows } from './rows';
import { API_EXTENSION, ApiServer } from '../../src/api';
import { QueryService } from '../../src/query';

export interface SqliteConfig extends ExporterHelperConfig {
  path: string;
  flush_interval: string | number;
  batch_size: number;
  max_in_flight_rows: number;
  retention: { max_age: string | number; max_size_mib: number; check_interval: string | number };
}

export const sqliteExporterFactory: ExporterFactory<SqliteConfig> = {
  kind: 'exporter',
  type: 'sqlite',
  description: 'Stores spans, metric points and log records in a SQLite file (the default store, read by the query API).',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, default: './data/vigil.db', description: 'Database file, relative to the working directory.' },
      flush_interval: durationSchema('1s', 'Buffered rows are committed at least this often.'),
      batch_size: { type: 'integer', minimum: 1, default: 50000, description: 'Rows per write transaction (a full buffer is committed at once). Large transactions write each touched index page once per commit.' },
      max_in_flight_rows: {
        type: 'integer', minimum: 1, default: 100000,
        description: 'Rows accepted but not yet committed; beyond this, new data waits up to `timeout`, then is refused with a retryable error.',
      },
      retention: {
        type: 'object',
        default: {},
        properties: {
          max_age: durationSchema('168h', 'Rows older than this are deleted; 0 keeps them forever.'),
          max_size_mib: { type: 'number', minimum: 0, default: 1024, description: 'Above this much data, the oldest rows are deleted; 0 means no limit.' },
          check_interval: durationSchema('5m', 'How often retention runs.'),
        },
      },
      // The worker thread already decouples ingest from the disk and bounds what it holds, so an
      // extra in-memory queue and retries would only hide backpressure from the senders.
      ...exporterHelperProperties({ sending_queue: { enabled: false }, retry_on_failure: { enabled: false } }),
    },
  },
  create(settings: CreateSettings<SqliteConfig>, signals: readonly Signal[]) {
    const c = settings.config;
    const path = c.path === ':memory:' || isAbsolute(c.path) ? c.path : resolve(process.cwd(), c.path);
    const metrics = exporterMetrics(settings.telemetry, settings.id);
    let host: Host | undefined;
    const client = new WriterClient(
      {
        path,
        batchSize: c.batch_size ?? 50000,
        flushIntervalMs: parseDuration(c.flush_interval ?? '1s'),
        maxAgeMs: parseDuration(c.retention?.max_age ?? '168h'),
        maxSizeBytes: Math.round((c.retention?.max_size_mib ?? 1024) * 1024 * 1024),
        checkIntervalMs: parseDuration(c.retention?.check_interval ?? '5m'),
      },
      c.max_in_flight_rows ?? 100000,
      settings.logger,
      (r) => {
        metrics.bySignal.traces.sendFailed.inc(r.spans);
        metrics.bySignal.logs.sendFailed.inc(r.logs);
        metrics.bySignal.metrics.sendFailed.inc(r.points);
      },
      (e) => host?.reportStatus(settings.id, 'permanent_error', e),
    );
    // Query API hook (src/query): when the `api` extension runs, this store answers
    // /api/traces, /api/spans, /api/logs, /api/metrics... It reads the file on its own read-only
    // connection, so it needs nothing from the writer.
    const query = new QueryService(path, settings.logger);
    const exporter = createExporter(settings, signals, {
      start: async (host) => {
        await client.start();
        const api = host.getExtension<ApiServer>(API_EXTENSION);
        if (api && path !== ':memory:') query.register(api);
      },
      send: (signal, data, ctx) => {
        const batch = signal === 'traces' ? tracesToRows(data as Traces) : signal === 'logs' ? logsToRows(data as Logs) : metricsToRows(data as Metrics);
        return client.write(batch, ctx.signal);
      },
      shutdown: () => {
        query.close();
        return client.close();
      },
    });
    return Object.assign(exporter, { flush: () => client.flush(), inFlightRows: () => client.inFlightRows });
  },
};
