/**
 * The writer thread: owns the database, inserts the rows the main thread posts, commits them and
 * runs retention. Nothing here logs row contents: failures are reported to the main thread as counts
 * and SQLite's error message.
 *
 * Commit policy: `acknowledged` commits as soon as the posted writes are inserted (group commit:
 * every write that arrived while the previous commit ran goes into the next one), and tells the
 * main thread which writes committed so that it can answer the senders; `buffered` commits every
 * `batch_size` rows or `flush_interval`.
 *
 * Isolation: each write runs inside a SAVEPOINT. When a row cannot be inserted (a value SQLite
 * cannot bind, a constraint), the write is rolled back to its savepoint and inserted again row by
 * row, skipping only the rows that fail: one bad row never costs the other rows of the transaction.
 * When the store itself fails (disk full, I/O error, file deleted or corrupted), the writes of the
 * open transaction are reported failed (the main thread refuses them retryably) and the health
 * message says why.
 *
 * Protocol (main → worker): {op:'write', id, batch} | {op:'flush', id} | {op:'close', id}
 *           (worker → main): {op:'ready'} | {op:'fatal', message}
 *                            | {op:'committed', rows, ids, rejected, rejectedMessage}
 *                            | {op:'failed', rows, spans, logs, points, ids, message}
 *                            | {op:'health', ok, message} | {op:'flushed', id}
 *                            | {op:'retention', deleted, ms} | {op:'closed', id}
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../../src/storage/sqlite';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import {
  EXP_HISTOGRAM_COLS, HISTOGRAM_COLS, LOG_COLS, METRIC_COLS, NUMBER_COLS, RESOURCE_COLS, SCOPE_COLS, SPAN_COLS, SUMMARY_COLS,
} from './columns';
import type { RowBatch } from './rows';
import { AgeCutoffs, AgePolicy, ageCutoffs, hasAgeLimit, logDeletions, uniformCutoffs } from './retention';
import { backfillSpanRollup, registerRollupFunctions, SpanRollupBatch, SPAN_ROLLUP_HOUR_TABLE, SPAN_ROLLUP_HOUR_UPSERT, SPAN_ROLLUP_UPSERT } from './span-rollup';
import { DDL, META_DDL, MIGRATE_1_TO_2, ROLLUP_BUCKET_NANOS, ROLLUP_RESET_COLUMNS, SCHEMA_VERSION, TABLES, traceKey } from './schema';

export interface WorkerOptions {
  path: string;
  batchSize: number;
  flushIntervalMs: number;
  maxAgeMs: number;
  maxSizeBytes: number;
  checkIntervalMs: number;
  /** Ages per signal and log event name (retention.ts); without it maxAgeMs applies to all rows. */
  agePolicy?: AgePolicy;
  /** Default buffered (the commit policy of older callers). */
  durability?: 'acknowledged' | 'buffered';
  /** Hard limit of the file in bytes (PRAGMA max_page_count); 0 or absent: none. */
  maxFileBytes?: number;
  /** synchronous=FULL: commits also survive a power loss, at an fsync per commit. */
  fsync?: boolean;
}

type Msg = { op: 'write'; id: number; batch: RowBatch } | { op: 'flush'; id: number } | { op: 'close'; id: number };

const port = parentPort!;
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
/** Caches map full identity keys to ids; bounded, and simply cleared when full. */
const CACHE_MAX = 50_000;
const PAGE_SIZE = 32768;
const WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** How often the writer checks that its file is still the one it opened. */
const FILE_CHECK_MS = 1000;

/** Errors of the store itself (as opposed to one row SQLite cannot take): the write must be refused. */
const STORE_ERRORS = /^SQLITE_(FULL|IOERR|CORRUPT|NOTADB|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL|PERM|AUTH)/;
const BROKEN_ERRORS = /^SQLITE_(CORRUPT|NOTADB)/;
function isStoreError(e: unknown): boolean {
  return STORE_ERRORS.test(String((e as { code?: unknown }).code ?? ''));
}

/** Thrown inside a write when the transaction itself is gone (SQLite rolled it back). */
class TransactionLost extends Error {}

class StoreWriter {
  private readonly db: Database.Database;
  /** Rows inserted in the open transaction, by signal; a rollback loses (and reports) them all. */
  private open = { rows: 0, spans: 0, logs: 0, points: 0 };
  /** Ids of the writes in the open transaction, and rows of each refused as invalid. */
  private openIds: number[] = [];
  private openRejected: number[] = [];
  private rejectedMessage = '';
  private rejectedBySignal = { spans: 0, logs: 0, points: 0 };
  /** Row-by-row mode of a write being retried after a bad row: counts instead of throwing. */
  private isolating = false;
  private isolatedRejects = 0;
  /** Set when the file is gone, replaced or corrupt: every write is refused until a restart. */
  private broken?: string;
  /** Last health sent to the main thread. */
  private healthy = true;
  private fileIdentity?: { dev: number; ino: number };
  private fileTimer?: NodeJS.Timeout;
  private commitScheduled = false;
  private timer?: NodeJS.Timeout;
  private retentionTimer?: NodeJS.Timeout;
  private readonly resourceIds = new Map<string, number>();
  private readonly scopeIds = new Map<string, number>();
  private readonly seriesIds = new Map<string, number>();
  private readonly st;
  private readonly begin: Database.Statement;
  private readonly commitSt: Database.Statement;
  private readonly rollbackSt: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackTo: Database.Statement;

  constructor(private readonly o: WorkerOptions) {
    if (o.path !== ':memory:') mkdirSync(dirname(o.path), { recursive: true });
    const db = (this.db = openSqlite(o.path));
    // Only takes effect for a new file. Measured on span rows with their three indexes: 32 KiB
    // pages cost ~25% less CPU per row than 4 KiB ones, and the gap grows with the table (fewer,
    // shallower B-tree pages to rewrite per commit).
    db.pragma(`page_size = ${PAGE_SIZE}`);
    // Must precede the first table for a new file: lets retention give space back to the OS.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // WAL: commits need no fsync; a crash may lose the last transactions but never corrupts.
    db.pragma(o.fsync ? 'synchronous = FULL' : 'synchronous = NORMAL');
    db.pragma('cache_size = -65536');
    // Checkpoint every ~64 MiB of WAL rather than SQLite's 1,000 pages: hot index pages are then
    // copied back once per checkpoint, not once per commit. In pages, and files keep their page size.
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.max(1000, Math.round(WAL_CHECKPOINT_BYTES / pageSize))}`);
    // After a checkpoint the WAL file is cut back to this size instead of keeping its peak size.
    db.pragma('journal_size_limit = 67108864');
    db.pragma('busy_timeout = 5000');
    db.exec(META_DDL);
    let version = db.prepare(`SELECT value FROM ${TABLES.meta} WHERE key = 'schema_version'`).pluck().get() as string | undefined;
    if (version === '1') {
      db.function('vigil_trace_key', { deterministic: true }, (id: unknown) => traceKey(String(id)));
      db.transaction(() => db.exec(MIGRATE_1_TO_2))();
      version = '2';
    }
    if (version !== undefined && Number(version) !== SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is not the supported version ${SCHEMA_VERSION}`);
    }
    // Added without a version bump (an additive table): a store written before it gets its rollup built once here.
    const hadSpanRollup = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(SPAN_ROLLUP_HOUR_TABLE) !== undefined;
    db.exec(DDL);
    registerRollupFunctions(db);
    if (!hadSpanRollup) db.transaction(() => backfillSpanRollup(db))();
    const rollupCols = new Set((db.prepare(`PRAGMA table_info(${TABLES.numberRollup})`).all() as Array<{ name: string }>).map((c) => c.name));
    for (const [col, type] of ROLLUP_RESET_COLUMNS) if (!rollupCols.has(col)) db.exec(`ALTER TABLE ${TABLES.numberRollup} ADD COLUMN ${col} ${type}`);
    if (version === undefined) db.prepare(`INSERT INTO ${TABLES.meta} (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));

    this.st = {
      resource: db.prepare(`INSERT INTO resources (hash, service_name, attributes, dropped_attributes_count, schema_url) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING resource_id`).pluck(),
      scope: db.prepare(`INSERT INTO scopes (hash, name, version, attributes, dropped_attributes_count, schema_url) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING scope_id`).pluck(),
      series: db.prepare(`INSERT INTO metric_series (hash, metric_name, metric_type, description, unit, aggregation_temporality, is_monotonic, attributes, metadata, service_name, resource_id, scope_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING series_id`).pluck(),
      span: db.prepare(`INSERT INTO spans (trace_id, trace_key, span_id, parent_span_id, trace_state, flags, name, kind, start_time_unix_nano, end_time_unix_nano,
        status_code, status_message, attributes, dropped_attributes_count, events, dropped_events_count, links, dropped_links_count, service_name, resource_id, scope_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      // Most spans have no trace state, status message, events, links or dropped counts: those
      // are constants here, so a third fewer values are bound per row.
      plainSpan: db.prepare(`INSERT INTO spans (trace_id, trace_key, span_id, parent_span_id, flags, name, kind, start_time_unix_nano, end_time_unix_nano,
        status_code, attributes, service_name, resource_id, scope_id, trace_state, status_message, dropped_attributes_count, events, dropped_events_count, links, dropped_links_count)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 0, NULL, 0, NULL, 0)`),
      spanRollup: db.prepare(SPAN_ROLLUP_UPSERT),
      spanRollupHour: db.prepare(SPAN_ROLLUP_HOUR_UPSERT),
      log: db.prepare(`INSERT INTO logs (ts_unix_nano, time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body_type, body,
        attributes, dropped_attributes_count, flags, trace_id, span_id, event_name, service_name, resource_id, scope_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      number: db.prepare(`INSERT OR IGNORE INTO metric_number_points (series_id, start_time_unix_nano, time_unix_nano, value, flags, exemplars) VALUES (?, ?, ?, ?, ?, ?)`),
      histogram: db.prepare(`INSERT OR IGNORE INTO metric_histogram_points (series_id, start_time_unix_nano, time_unix_nano, count, sum, min, max, bucket_counts, explicit_bounds, flags, exemplars)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      expHistogram: db.prepare(`INSERT OR IGNORE INTO metric_exp_histogram_points (series_id, start_time_unix_nano, time_unix_nano, count, sum, min, max, scale, zero_count, zero_threshold,
        positive_offset, positive_bucket_counts, negative_offset, negative_bucket_counts, flags, exemplars) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      summary: db.prepare(`INSERT OR IGNORE INTO metric_summary_points (series_id, start_time_unix_nano, time_unix_nano, count, sum, quantile_values, flags) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      // Merging a batch's part of a bucket into the stored row adds the increase across the seam
      // (stored last → batch first, or batch last → stored first), reset-aware like the reader.
      rollup: db.prepare(`INSERT INTO metric_number_rollup_1m (series_id, bucket_unix_nano, count, sum, min, max, first_time_unix_nano, first_value, last_time_unix_nano, last_value,
          increase, first_start_time_unix_nano, last_start_time_unix_nano)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, bucket_unix_nano) DO UPDATE SET
          count = count + excluded.count, sum = sum + excluded.sum, min = min(min, excluded.min), max = max(max, excluded.max),
          increase = increase + excluded.increase + CASE
            WHEN excluded.first_time_unix_nano > last_time_unix_nano THEN
              CASE WHEN excluded.first_value < last_value OR excluded.first_start_time_unix_nano IS NOT last_start_time_unix_nano THEN excluded.first_value ELSE excluded.first_value - last_value END
            WHEN excluded.last_time_unix_nano < first_time_unix_nano THEN
              CASE WHEN first_value < excluded.last_value OR first_start_time_unix_nano IS NOT excluded.last_start_time_unix_nano THEN first_value ELSE first_value - excluded.last_value END
            ELSE 0 END,
          first_value = CASE WHEN excluded.first_time_unix_nano < first_time_unix_nano THEN excluded.first_value ELSE first_value END,
          first_start_time_unix_nano = CASE WHEN excluded.first_time_unix_nano < first_time_unix_nano THEN excluded.first_start_time_unix_nano ELSE first_start_time_unix_nano END,
          first_time_unix_nano = min(first_time_unix_nano, excluded.first_time_unix_nano),
          last_value = CASE WHEN excluded.last_time_unix_nano >= last_time_unix_nano THEN excluded.last_value ELSE last_value END,
          last_start_time_unix_nano = CASE WHEN excluded.last_time_unix_nano >= last_time_unix_nano THEN excluded.last_start_time_unix_nano ELSE last_start_time_unix_nano END,
          last_time_unix_nano = max(last_time_unix_nano, excluded.last_time_unix_nano)`),
    };
    if ((o.maxFileBytes ?? 0) > 0) db.pragma(`max_page_count = ${Math.max(1, Math.floor(o.maxFileBytes! / pageSize))}`);
    this.savepoint = db.prepare('SAVEPOINT w');
    this.release = db.prepare('RELEASE w');
    this.rollbackTo = db.prepare('ROLLBACK TO w');
    if (o.path !== ':memory:') {
      const st = statSync(o.path);
      this.fileIdentity = { dev: st.dev, ino: st.ino };
      this.fileTimer = setInterval(() => this.checkFile(), FILE_CHECK_MS);
    }
    this.begin = db.prepare('BEGIN');
    this.commitSt = db.prepare('COMMIT');
    this.rollbackSt = db.prepare('ROLLBACK');
    if (o.checkIntervalMs > 0 && (o.maxAgeMs > 0 || o.maxSizeBytes > 0 || (o.agePolicy && hasAgeLimit(o.agePolicy)))) {
      this.retentionTimer = setInterval(() => this.retention(), o.checkIntervalMs);
      setImmediate(() => this.retention());
    }
  }

  onMessage(m: Msg): void {
    switch (m.op) {
      case 'write':
        this.write(m.id, m.batch);
        if (this.o.durability === 'acknowledged') {
          // Group commit: writes already waiting in the port are inserted first, then one commit.
          if (this.open.rows >= this.o.batchSize) this.commit();
          else if (!this.commitScheduled && this.open.rows > 0) {
            this.commitScheduled = true;
            setImmediate(() => {
              this.commitScheduled = false;
              this.commit();
            });
          }
        } else if (this.open.rows >= this.o.batchSize) this.commit();
        else if (!this.timer && this.open.rows > 0) this.timer = setTimeout(() => this.commit(), this.o.flushIntervalMs);
        break;
      case 'flush':
        this.commit();
        port.postMessage({ op: 'flushed', id: m.id });
        break;
      case 'close':
        this.commit();
        if (this.retentionTimer) clearInterval(this.retentionTimer);
        if (this.fileTimer) clearInterval(this.fileTimer);
        try {
          this.db.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          // a reader holding the WAL is fine: the next open checkpoints
        }
        this.db.close();
        port.postMessage({ op: 'closed', id: m.id });
        break;
    }
  }

  /**
   * Rows go into the open transaction as they arrive rather than being kept until the commit: the
   * posted arrays then die young (cheap to collect) and the writer holds no second copy of them.
   */
  private write(id: number, b: RowBatch): void {
    if (this.broken) {
      this.report([id], b, this.broken);
      return;
    }
    try {
      if (!this.db.inTransaction) this.begin.run();
      this.savepoint.run();
    } catch (e) {
      this.storeFailed(e);
      this.report([id], b, (e as Error).message);
      return;
    }
    let rejected = 0;
    try {
      this.insert(b);
      this.release.run();
    } catch (e) {
      try {
        rejected = this.retryIsolated(b, e);
      } catch (e2) {
        // The store itself failed: this write is refused; if SQLite dropped the transaction, the
        // other writes in it are refused too (none of them has been acknowledged yet).
        this.storeFailed(e2);
        if (!this.db.inTransaction || e2 instanceof TransactionLost) this.failOpen((e2 as Error).message);
        this.report([id], b, (e2 as Error).message);
        return;
      }
    }
    this.open.rows += b.rows;
    if (b.spans) this.open.spans += b.rows;
    else if (b.logs) this.open.logs += b.rows;
    else this.open.points += b.rows;
    this.openIds.push(id);
    this.openRejected.push(rejected);
    if (rejected > 0) {
      if (b.spans) this.rejectedBySignal.spans += rejected;
      else if (b.logs) this.rejectedBySignal.logs += rejected;
      else this.rejectedBySignal.points += rejected;
    }
  }

  /** After an error inside a write: undo it, then insert it row by row, skipping the bad rows. */
  private retryIsolated(b: RowBatch, first: unknown): number {
    if (!this.db.inTransaction) throw new TransactionLost((first as Error).message);
    this.rollbackTo.run();
    // Ids cached by the undone part may name rows that no longer exist.
    this.clearCaches();
    if (isStoreError(first)) {
      this.release.run();
      throw first;
    }
    this.isolating = true;
    this.isolatedRejects = 0;
    try {
      this.insert(b);
    } catch (e) {
      // A resource or scope SQLite cannot take: the whole write is refused, nothing else.
      if (isStoreError(e) || !this.db.inTransaction) throw e;
      this.rollbackTo.run();
      this.clearCaches();
      this.isolatedRejects = b.rows;
    } finally {
      this.isolating = false;
    }
    if (!this.db.inTransaction) throw new TransactionLost('the transaction was rolled back');
    this.release.run();
    this.rejectedMessage = (first as Error).message;
    return this.isolatedRejects;
  }

  /** One row's statement; while isolating, a row SQLite refuses is counted and skipped. */
  private run(stmt: Database.Statement, params: unknown[]): Database.RunResult | undefined {
    if (!this.isolating) return stmt.run(params);
    try {
      return stmt.run(params);
    } catch (e) {
      if (isStoreError(e)) throw e;
      this.isolatedRejects++;
      return undefined;
    }
  }

  private report(ids: number[], b: Pick<RowBatch, 'rows' | 'spans' | 'logs'>, message: string): void {
    port.postMessage({
      op: 'failed', ids, rows: b.rows, message,
      spans: b.spans ? b.rows : 0, logs: b.logs ? b.rows : 0, points: !b.spans && !b.logs ? b.rows : 0,
    });
  }

  /** Every write of the open transaction is refused (the transaction is gone or could not commit). */
  private failOpen(message: string): void {
    const open = this.open;
    const ids = this.openIds;
    this.open = { rows: 0, spans: 0, logs: 0, points: 0 };
    this.openIds = [];
    this.openRejected = [];
    this.rejectedBySignal = { spans: 0, logs: 0, points: 0 };
    try {
      if (this.db.inTransaction) this.rollbackSt.run();
    } catch {
      // SQLite may already have rolled back on its own (e.g. disk full)
    }
    this.clearCaches();
    if (ids.length > 0) port.postMessage({ op: 'failed', ids, rows: open.rows, spans: open.spans, logs: open.logs, points: open.points, message });
  }

  /** Ids cached during an undone transaction (or part of one) may not exist any more. */
  private clearCaches(): void {
    this.resourceIds.clear();
    this.scopeIds.clear();
    this.seriesIds.clear();
  }

  private storeFailed(e: unknown): void {
    const message = (e as Error).message;
    const code = String((e as { code?: unknown }).code ?? '');
    if (BROKEN_ERRORS.test(code)) this.broken = `the database file is corrupt (${message}); restore or move it away and restart`;
    this.setHealth(false, this.broken ?? `the store cannot commit: ${message}`);
  }

  private setHealth(ok: boolean, message: string): void {
    if (ok === this.healthy && ok) return;
    this.healthy = ok;
    port.postMessage({ op: 'health', ok, message });
  }

  /** The file we write must still be the file at `path` (deleted or replaced: every later write would vanish). */
  private checkFile(): void {
    if (this.broken || !this.fileIdentity) return;
    let problem: string | undefined;
    try {
      const st = statSync(this.o.path);
      if (st.dev !== this.fileIdentity.dev || st.ino !== this.fileIdentity.ino) problem = 'was replaced by another file';
      else if (!hasSqliteHeader(this.o.path)) problem = 'is corrupt (its header was overwritten)';
    } catch (e) {
      problem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'was deleted' : `cannot be checked (${(e as Error).message})`;
    }
    if (!problem) return;
    this.broken = `the database file ${this.o.path} ${problem} while Vigil was running; new data is refused until it is restored and Vigil restarted`;
    this.failOpen(this.broken);
    this.setHealth(false, this.broken);
  }

  private commit(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const open = this.open;
    if (open.rows === 0 && this.openIds.length === 0) return;
    if (this.broken) {
      this.failOpen(this.broken);
      return;
    }
    try {
      this.commitSt.run();
    } catch (e) {
      this.storeFailed(e);
      this.failOpen((e as Error).message);
      return;
    }
    const ids = this.openIds;
    const rejected = this.openRejected;
    const rejectedMessage = this.rejectedMessage;
    this.open = { rows: 0, spans: 0, logs: 0, points: 0 };
    this.openIds = [];
    this.openRejected = [];
    const bySignal = this.rejectedBySignal;
    this.rejectedMessage = '';
    this.rejectedBySignal = { spans: 0, logs: 0, points: 0 };
    port.postMessage({ op: 'committed', rows: open.rows, ids, rejected, rejectedMessage, rejectedBySignal: bySignal });
    this.setHealth(true, 'ok');
  }

  private cached(map: Map<string, number>, key: string, make: () => number): number {
    let id = map.get(key);
    if (id === undefined) {
      id = make();
      if (map.size >= CACHE_MAX) map.clear();
      map.set(key, id);
    }
    return id;
  }

  private insert(b: RowBatch): void {
    const res: number[] = [];
    const svc: string[] = [];
    const r = b.resources;
    for (let i = 0; i < r.length; i += RESOURCE_COLS) {
      const key = `${r[i]}\u0000${r[i + 1]}\u0000${r[i + 2]}`;
      res.push(this.cached(this.resourceIds, key, () => this.st.resource.get(sha1(key), r[i + 3], r[i], r[i + 1], r[i + 2]) as number));
      svc.push(r[i + 3] as string);
    }
    const scopes: number[] = [];
    const s = b.scopes;
    for (let i = 0; i < s.length; i += SCOPE_COLS) {
      const key = `${s[i]}\u0000${s[i + 1]}\u0000${s[i + 2]}\u0000${s[i + 3]}\u0000${s[i + 4]}`;
      scopes.push(this.cached(this.scopeIds, key, () => this.st.scope.get(sha1(key), s[i], s[i + 1], s[i + 2], s[i + 3], s[i + 4]) as number));
    }
    if (b.spans) this.insertSpans(b.spans, res, svc, scopes);
    if (b.logs) this.insertLogs(b.logs, res, svc, scopes);
    if (b.metrics) this.insertMetrics(b, res, svc, scopes);
  }

  private insertSpans(rows: unknown[], res: number[], svc: string[], scopes: number[]): void {
    const full = new Array<unknown>(21);
    const plain = new Array<unknown>(14);
    const { span, plainSpan } = this.st;
    // The span rollup gets the spans actually inserted (a row skipped while isolating stays out).
    const rollup = new SpanRollupBatch();
    // Row layout: columns.ts SPAN_COLS.
    for (let i = 0; i < rows.length; i += SPAN_COLS) {
      let inserted: Database.RunResult | undefined;
      const ri = rows[i] as number;
      const traceId = rows[i + 2] as string;
      if (rows[i + 5] === '' && rows[i + 12] === '' && rows[i + 14] === 0 && rows[i + 15] === null
        && rows[i + 16] === 0 && rows[i + 17] === null && rows[i + 18] === 0) {
        plain[0] = traceId;
        plain[1] = traceKey(traceId);
        plain[2] = rows[i + 3];
        plain[3] = rows[i + 4];
        plain[4] = rows[i + 6];
        plain[5] = rows[i + 7];
        plain[6] = rows[i + 8];
        plain[7] = rows[i + 9];
        plain[8] = rows[i + 10];
        plain[9] = rows[i + 11];
        plain[10] = rows[i + 13];
        plain[11] = svc[ri];
        plain[12] = res[ri];
        plain[13] = scopes[rows[i + 1] as number];
        inserted = this.run(plainSpan, plain);
      } else {
        full[0] = traceId;
        full[1] = traceKey(traceId);
        for (let c = 3; c < SPAN_COLS; c++) full[c - 1] = rows[i + c];
        full[18] = svc[ri];
        full[19] = res[ri];
        full[20] = scopes[rows[i + 1] as number];
        inserted = this.run(span, full);
      }
      if (inserted) rollup.add(svc[ri], rows[i + 7] as string, rows[i + 8] as number, rows[i + 11] as number, rows[i + 9] as bigint, rows[i + 10] as bigint, traceId, rows[i + 3] as string);
    }
    rollup.flush(this.st.spanRollup, this.st.spanRollupHour);
  }

  private insertLogs(rows: unknown[], res: number[], svc: string[], scopes: number[]): void {
    const p = new Array<unknown>(16);
    for (let i = 0; i < rows.length; i += LOG_COLS) {
      for (let c = 2; c < LOG_COLS; c++) p[c - 2] = rows[i + c];
      const ri = rows[i] as number;
      p[13] = svc[ri];
      p[14] = res[ri];
      p[15] = scopes[rows[i + 1] as number];
      this.run(this.st.log, p);
    }
  }

  private insertMetrics(b: RowBatch, res: number[], svc: string[], scopes: number[]): void {
    const m = b.metrics!;
    const prefixes: string[] = [];
    for (let i = 0; i < m.length; i += METRIC_COLS) {
      // identity: name, type, unit, temporality, monotonic, resource, scope (+ point attributes)
      prefixes.push(`${m[i + 2]}\u0000${m[i + 5]}\u0000${m[i + 4]}\u0000${m[i + 6]}\u0000${m[i + 7]}\u0000${res[m[i] as number]}\u0000${scopes[m[i + 1] as number]}\u0000`);
    }
    const seriesId = (mi: number, attrs: string): number => {
      const key = prefixes[mi] + attrs;
      return this.cached(this.seriesIds, key, () => {
        const o = mi * METRIC_COLS;
        return this.st.series.get(sha1(key), m[o + 2], m[o + 5], m[o + 3], m[o + 4], m[o + 6], m[o + 7], attrs, m[o + 8], svc[m[o] as number], res[m[o] as number], scopes[m[o + 1] as number]) as number;
      });
    };
    const pts = (rows: unknown[] | undefined, cols: number, stmt: Database.Statement, each?: (sid: number, i: number) => void): void => {
      if (!rows) return;
      const p = new Array<unknown>(cols - 1);
      for (let i = 0; i < rows.length; i += cols) {
        let sid: number;
        if (!this.isolating) sid = seriesId(rows[i] as number, rows[i + 1] as string);
        else {
          try {
            sid = seriesId(rows[i] as number, rows[i + 1] as string);
          } catch (e) {
            if (isStoreError(e)) throw e;
            this.isolatedRejects++;
            continue;
          }
        }
        p[0] = sid;
        for (let c = 2; c < cols; c++) p[c - 1] = rows[i + c];
        // A point sent again (same series and time) is ignored, and so stays out of the rollup too.
        if ((this.run(stmt, p)?.changes ?? 0) > 0) each?.(sid, i);
      }
    };
    // [series, bucket, count, sum, min, max, first t, first v, last t, last v, increase, first start, last start]
    const rollups = new Map<string, [number, bigint, number, number, number, number, bigint, number, bigint, number, number, bigint, bigint]>();
    pts(b.numberPoints, NUMBER_COLS, this.st.number, (sid, i) => {
      const rows = b.numberPoints!;
      if ((Number(rows[i + 5]) & 1) !== 0) return; // no recorded value: readers skip it, so does the rollup
      const st = rows[i + 2] as bigint;
      const t = rows[i + 3] as bigint;
      const v = Number(rows[i + 4]);
      const bucket = t - (t % ROLLUP_BUCKET_NANOS);
      const key = `${sid}:${bucket}`;
      const a = rollups.get(key);
      if (!a) rollups.set(key, [sid, bucket, 1, v, v, v, t, v, t, v, 0, st, st]);
      else {
        a[2]++;
        a[3] += v;
        if (v < a[4]) a[4] = v;
        if (v > a[5]) a[5] = v;
        // Increases between neighbours in time (exporters send a series in time order; a point
        // landing between two others of the same batch is counted in count/sum/min/max only).
        if (t < a[6]) { a[10] += counterStep(v, st, a[7], a[11]); a[6] = t; a[7] = v; a[11] = st; }
        if (t >= a[8]) { a[10] += counterStep(a[9], a[12], v, st); a[8] = t; a[9] = v; a[12] = st; }
      }
    });
    for (const a of rollups.values()) this.st.rollup.run(a);
    pts(b.histogramPoints, HISTOGRAM_COLS, this.st.histogram);
    pts(b.expHistogramPoints, EXP_HISTOGRAM_COLS, this.st.expHistogram);
    pts(b.summaryPoints, SUMMARY_COLS, this.st.summary);
  }

  /** Delete by age, then oldest-first until the used size is under the limit. */
  private retention(): void {
    // Deletions run in transactions of their own.
    this.commit();
    if (this.broken) return;
    const t0 = Date.now();
    let deleted = 0;
    try {
      if (this.o.agePolicy) deleted += this.deleteOlderThan(ageCutoffs(this.o.agePolicy, Date.now()));
      else if (this.o.maxAgeMs > 0) deleted += this.deleteOlderThan(BigInt(Date.now() - this.o.maxAgeMs) * 1_000_000n);
      if (this.o.maxSizeBytes > 0) {
        for (let round = 0; round < 50 && this.usedBytes() > this.o.maxSizeBytes; round++) {
          const oldest = this.oldestTime();
          if (oldest === undefined) break;
          const now = BigInt(Date.now()) * 1_000_000n;
          // Take a tenth of the stored time range each round (at least a minute, and at least past the oldest row).
          let step = (now - oldest) / 10n;
          if (step < 60_000_000_000n) step = 60_000_000_000n;
          const n = this.deleteOlderThan(oldest + step);
          deleted += n;
          if (n === 0 && oldest + step > now) break;
        }
      }
      if (deleted > 0) this.db.pragma('incremental_vacuum');
    } catch (e) {
      port.postMessage({ op: 'retention', deleted, ms: Date.now() - t0, error: (e as Error).message });
      return;
    }
    port.postMessage({ op: 'retention', deleted, ms: Date.now() - t0 });
  }

  private usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }

  private seriesIdsAll(): number[] {
    return this.db.prepare('SELECT series_id FROM metric_series').pluck().all() as number[];
  }

  private oldestTime(): bigint | undefined {
    let oldest: bigint | undefined;
    const consider = (v: unknown): void => {
      if (typeof v === 'bigint' && (oldest === undefined || v < oldest)) oldest = v;
    };
    consider(this.db.prepare('SELECT min(start_time_unix_nano) FROM spans').pluck().safeIntegers().get());
    consider(this.db.prepare('SELECT min(ts_unix_nano) FROM logs').pluck().safeIntegers().get());
    // Points have no time index (their key is series, time): look at each series' first point.
    for (const table of [TABLES.numberPoints, TABLES.histogramPoints, TABLES.expHistogramPoints, TABLES.summaryPoints]) {
      const first = this.db.prepare(`SELECT time_unix_nano FROM ${table} WHERE series_id = ? ORDER BY time_unix_nano LIMIT 1`).pluck().safeIntegers();
      for (const sid of this.seriesIdsAll()) consider(first.get(sid));
    }
    return oldest;
  }

  private deleteOlderThan(cutoffs: bigint | AgeCutoffs): number {
    const c = typeof cutoffs === 'bigint' ? uniformCutoffs(cutoffs) : cutoffs;
    let n = 0;
    const chunked = (sql: string, params: unknown[]): void => {
      const stmt = this.db.prepare(sql);
      // Chunks keep each write transaction short, so a reader's snapshot is never held up long.
      for (;;) {
        const changed = stmt.run(...params).changes;
        n += changed;
        if (changed < 5000) break;
      }
    };
    if (c.spans !== undefined) {
      chunked('DELETE FROM spans WHERE rowid IN (SELECT rowid FROM spans WHERE start_time_unix_nano < ? LIMIT 5000)', [c.spans]);
      // A rollup minute (hour) goes once all of it is older than the cut-off (its spans are then all gone).
      chunked(`DELETE FROM ${TABLES.spanRollup} WHERE (bucket_unix_nano, service_name, name, kind, status_code) IN
        (SELECT bucket_unix_nano, service_name, name, kind, status_code FROM ${TABLES.spanRollup} WHERE bucket_unix_nano <= ? - ${ROLLUP_BUCKET_NANOS} LIMIT 5000)`, [c.spans]);
      chunked(`DELETE FROM ${SPAN_ROLLUP_HOUR_TABLE} WHERE (bucket_unix_nano, service_name, name, kind, status_code) IN
        (SELECT bucket_unix_nano, service_name, name, kind, status_code FROM ${SPAN_ROLLUP_HOUR_TABLE} WHERE bucket_unix_nano <= ? - ${60n * ROLLUP_BUCKET_NANOS} LIMIT 5000)`, [c.spans]);
    }
    for (const [sql, params] of logDeletions(c, 5000)) chunked(sql, params);
    if (c.metrics === undefined) return n;
    const cutoff = c.metrics;
    const series = this.seriesIdsAll();
    const perSeries = [TABLES.numberPoints, TABLES.histogramPoints, TABLES.expHistogramPoints, TABLES.summaryPoints]
      .map((table) => this.db.prepare(`DELETE FROM ${table} WHERE series_id = ? AND time_unix_nano < ?`));
    const rollup = this.db.prepare(`DELETE FROM ${TABLES.numberRollup} WHERE series_id = ? AND bucket_unix_nano <= ?`);
    this.db.transaction(() => {
      for (const sid of series) {
        for (const st of perSeries) n += st.run(sid, cutoff).changes;
        rollup.run(sid, cutoff - ROLLUP_BUCKET_NANOS);
      }
      const gone = this.db.prepare(`DELETE FROM metric_series WHERE
        NOT EXISTS (SELECT 1 FROM ${TABLES.numberPoints} p WHERE p.series_id = metric_series.series_id) AND
        NOT EXISTS (SELECT 1 FROM ${TABLES.histogramPoints} p WHERE p.series_id = metric_series.series_id) AND
        NOT EXISTS (SELECT 1 FROM ${TABLES.expHistogramPoints} p WHERE p.series_id = metric_series.series_id) AND
        NOT EXISTS (SELECT 1 FROM ${TABLES.summaryPoints} p WHERE p.series_id = metric_series.series_id) AND
        NOT EXISTS (SELECT 1 FROM ${TABLES.numberRollup} p WHERE p.series_id = metric_series.series_id)`).run().changes;
      if (gone > 0) this.seriesIds.clear();
    })();
    return n;
  }
}

function hasSqliteHeader(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    // An empty file is a database not written yet; anything else must start with the magic string.
    return n === 0 || head.toString('latin1') === 'SQLite format 3\u0000';
  } finally {
    closeSync(fd);
  }
}

let writer: StoreWriter;
try {
  writer = new StoreWriter(workerData as WorkerOptions);
  port.postMessage({ op: 'ready' });
  port.on('message', (m: Msg) => writer.onMessage(m));
} catch (e) {
  port.postMessage({ op: 'fatal', message: (e as Error).message });
}

/** A cumulative counter's increase from one point to the next: a drop or a new start time is a reset. */
function counterStep(prev: number, prevStart: bigint, v: number, start: bigint): number {
  return v < prev || start !== prevStart ? v : v - prev;
}
