/**
 * The query API over the SQLite store, registered on the `api` extension by the sqlite exporter
 * (see exporters/sqlite/README.md, "Query API"). Routes:
 *
 *   GET /api/traces/:traceId   GET /api/spans   GET /api/logs   GET /api/security/events
 *   GET /api/metrics           GET /api/metrics/names           GET /api/services
 *
 * The store is opened read-only on first use (WAL lets it read while the exporter writes), so a
 * query never blocks ingest and a store file that does not exist yet is not an error at start.
 */
import type { Logger } from 'pino';
import { ApiError, ApiServer } from '../api';
import { nowNanos } from '../model';
import { openStore, StoreReader } from '../../exporters/sqlite/store';
import { queryMetrics, metricNames } from './metrics';
import { searchLogs, searchSecurityEvents, searchSpans } from './search';
import { getTrace } from './traces';

export { queryMetrics, metricNames } from './metrics';
export { searchLogs, searchSpans, searchSecurityEvents } from './search';
export { getTrace } from './traces';
export { histogramQuantile } from './quantile';

export class QueryService {
  private reader?: StoreReader;
  private closed = false;

  constructor(readonly path: string, private readonly logger?: Logger) {}

  private db(): StoreReader['db'] {
    if (this.closed) throw new ApiError(503, 'the store is shut down');
    if (!this.reader) {
      try {
        this.reader = openStore(this.path);
      } catch (e) {
        // The path is the user's own config; SQLite's message names what is wrong.
        this.logger?.warn({ err: (e as Error).message }, 'query API cannot open the store');
        throw new ApiError(503, 'the store cannot be opened yet (see the Vigil log)');
      }
    }
    return this.reader.db;
  }

  /** Routes on the API server; replaces any earlier registration of the same routes. */
  register(api: ApiServer): void {
    const now = (): bigint => nowNanos();
    api.route('GET', '/api/traces/:traceId', (req) => getTrace(this.db(), req.params.traceId));
    api.route('GET', '/api/spans', (req) => searchSpans(this.db(), req.query, now()));
    api.route('GET', '/api/logs', (req) => searchLogs(this.db(), req.query, now()));
    api.route('GET', '/api/security/events', (req) => searchSecurityEvents(this.db(), req.query, now()));
    api.route('GET', '/api/metrics', (req) => queryMetrics(this.db(), req.query, now()));
    api.route('GET', '/api/metrics/names', (req) => metricNames(this.db(), req.query));
    api.route('GET', '/api/services', () => ({
      services: (this.db().prepare(`SELECT DISTINCT service_name FROM resources WHERE service_name <> '' ORDER BY service_name LIMIT 10000`).pluck().all() as string[]),
    }));
  }

  close(): void {
    this.closed = true;
    this.reader?.close();
    this.reader = undefined;
  }
}
