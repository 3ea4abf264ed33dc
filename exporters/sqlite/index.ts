/**
 * `sqlite` exporter: Vigil's default store. Spans, metric points and log records go into one
 * SQLite file (schema in README.md and schema.ts), written by a worker thread so that the event
 * loop never waits on the disk.
 *
 * `durability: acknowledged` (the default): a request is answered only once its rows are committed
 * (group commit keeps the throughput), so a success answer survives kill -9. `buffered`: answered
 * when handed to the writer; a crash loses up to `flush_interval` of answered data.
 * A store that cannot commit (disk full, file deleted or corrupt) refuses data retryably and its
 * status, shown by the health check, says why.
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
import { RetentionBySignal, agePolicy, retentionBySignalSchema } from './retention';
import { DEFAULT_SUBJECT_KEYS, registerErasableStore } from '../../src/storage/erasure';

export interface SqliteConfig extends ExporterHelperConfig {
  path: string;
  /** Defaults (schema): acknowledged, false, 0. */
  durability?: 'acknowledged' | 'buffered';
  fsync?: boolean;
  max_file_size_mib?: number;
  flush_interval: string | number;
  batch_size: number;
  max_in_flight_rows: number;
  retention: { max_age: string | number; max_size_mib: number; check_interval: string | number } & RetentionBySignal;
  subject_keys?: string[];
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
      durability: {
        type: 'string', enum: ['acknowledged', 'buffered'], default: 'acknowledged',
        description: 'acknowledged: a request is answered after its rows are committed (survives kill -9). buffered: answered when handed to the writer; a crash loses up to flush_interval of answered data.',
      },
      fsync: { type: 'boolean', default: false, description: 'Sync every commit to disk (SQLite synchronous=FULL): committed rows then also survive a power loss or OS crash, at the cost of an fsync per commit.' },
      max_file_size_mib: { type: 'number', minimum: 0, default: 0, description: 'Hard limit of the database file; when reached, new data is refused with a retryable error (retention frees space). 0: no limit.' },
      flush_interval: durationSchema('1s', 'With durability buffered: rows are committed at least this often.'),
      batch_size: { type: 'integer', minimum: 1, default: 50000, description: 'Rows per write transaction (a full buffer is committed at once). Large transactions write each touched index page once per commit.' },
      max_in_flight_rows: {
        type: 'integer', minimum: 1, default: 100000,
        description: 'Rows accepted but not yet committed; beyond this, new data waits up to `timeout`, then is refused with a retryable error.',
      },
      subject_keys: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: DEFAULT_SUBJECT_KEYS, description: 'Attributes that identify a data subject: `vigil erase` and DELETE /api/subjects/:id remove records where one of them equals the subject id.' },
      retention: {
        type: 'object',
        default: {},
        properties: {
          max_age: durationSchema('168h', 'Rows older than this are deleted; 0 keeps them forever.'),
          max_size_mib: { type: 'number', minimum: 0, default: 1024, description: 'Above this much data, the oldest rows are deleted; 0 means no limit.' },
          check_interval: durationSchema('5m', 'How often retention runs.'),
          ...retentionBySignalSchema,
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
    const durability = c.durability ?? 'acknowledged';
    const client = new WriterClient(
      {
        path,
        batchSize: c.batch_size ?? 50000,
        flushIntervalMs: parseDuration(c.flush_interval ?? '1s'),
        maxAgeMs: parseDuration(c.retention?.max_age ?? '168h'),
        maxSizeBytes: Math.round((c.retention?.max_size_mib ?? 1024) * 1024 * 1024),
        checkIntervalMs: parseDuration(c.retention?.check_interval ?? '5m'),
        agePolicy: agePolicy(c.retention?.max_age ?? '168h', c.retention),
        durability,
        fsync: c.fsync ?? false,
        maxFileBytes: Math.round((c.max_file_size_mib ?? 0) * 1024 * 1024),
      },
      c.max_in_flight_rows ?? 100000,
      settings.logger,
      (r) => {
        metrics.bySignal.traces.sendFailed.inc(r.spans);
        metrics.bySignal.logs.sendFailed.inc(r.logs);
        metrics.bySignal.metrics.sendFailed.inc(r.points);
      },
      (e) => host?.reportStatus(settings.id, 'permanent_error', e),
      (problem) => host?.reportStatus(settings.id, problem ? 'recoverable_error' : 'ok', problem ? new Error(problem) : undefined),
    );
    // Query API hook (src/query): when the `api` extension runs, this store answers
    // /api/traces, /api/spans, /api/logs, /api/metrics... It reads the file on its own read-only
    // connection, so it needs nothing from the writer.
    const query = new QueryService(path, settings.logger);
    let unregisterErasure = (): void => {};
    const exporter = createExporter(settings, signals, {
      start: async (h) => {
        host = h;
        await client.start();
        const api = h.getExtension<ApiServer>(API_EXTENSION);
        if (api && path !== ':memory:') query.register(api);
        if (path !== ':memory:') unregisterErasure = registerErasableStore(path, c.subject_keys);
      },
      send: (signal, data, ctx) => {
        const batch = signal === 'traces' ? tracesToRows(data as Traces) : signal === 'logs' ? logsToRows(data as Logs) : metricsToRows(data as Metrics);
        // Rows SQLite refuses are skipped, counted and logged by the client; the rest is stored.
        return client.write(batch, ctx.signal, durability === 'acknowledged').then(() => undefined);
      },
      shutdown: () => {
        unregisterErasure();
        query.close();
        return client.close();
      },
    });
    return Object.assign(exporter, { flush: () => client.flush(), inFlightRows: () => client.inFlightRows, problem: () => client.problem });
  },
};
