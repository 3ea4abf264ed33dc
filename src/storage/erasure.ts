/**
 * Erasure of a data subject (GDPR art. 17) from the SQLite store: every span and log record whose
 * attributes (or whose resource's attributes) name the subject under one of the subject keys, and
 * every metric data point of a series that does, is deleted. Series and resource rows that named
 * the subject are kept only as anonymised shells (the key's value replaced, the identity hash
 * randomised), because the running writer caches their ids; nothing identifying stays.
 *
 * It runs on its own connection next to the writer (WAL: readers and the writer go on; each chunk
 * of deletions is a short write transaction), so `vigil erase` works with Vigil running or stopped.
 * Not covered here: span events' and links' own attributes. Component state (detector windows,
 * profiles, block lists, anomaly series) is erased by erasure-state.ts.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openSqlite, SqliteDatabase } from './sqlite';

/** Attribute keys that identify a person in OpenTelemetry's semantic conventions (and common variants). */
export const DEFAULT_SUBJECT_KEYS = ['enduser.id', 'user.id', 'user.name', 'user.email', 'enduser.pseudo.id'];

export const ERASED = '[erased]';

export interface ErasureReport {
  store: string;
  spans: number;
  logs: number;
  metric_points: number;
  metric_series: number;
  resources: number;
}

const CHUNK = 5000;
const POINT_TABLES = ['metric_number_points', 'metric_histogram_points', 'metric_exp_histogram_points', 'metric_summary_points', 'metric_number_rollup_1m'];

/** `EXISTS(...)` matching a row whose `column` JSON object has one of `keys` equal to the subject. */
function names(column: string, keys: string[]): string {
  return `EXISTS (SELECT 1 FROM json_each(${column}) j WHERE j.key IN (${keys.map(() => '?').join(', ')}) AND CAST(j.value AS TEXT) = ?)`;
}

function tableExists(db: SqliteDatabase, table: string): boolean {
  return !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
}

/** Delete the rows with these rowids, CHUNK per transaction so the writer is never held up long. */
function deleteRowids(db: SqliteDatabase, table: string, rowids: number[]): number {
  let n = 0;
  for (let i = 0; i < rowids.length; i += CHUNK) {
    const part = rowids.slice(i, i + CHUNK);
    n += db.prepare(`DELETE FROM ${table} WHERE rowid IN (${part.map(() => '?').join(',')})`).run(...part).changes;
  }
  return n;
}

/** Replace the subject's value under each key and give the row a random identity hash. */
function anonymise(db: SqliteDatabase, table: string, idColumn: string, ids: number[], keys: string[]): number {
  let expr = 'attributes';
  for (const k of keys) expr = `json_replace(${expr}, '$."${k.replace(/"/g, '""').replace(/'/g, "''")}"', '${ERASED}')`;
  const st = db.prepare(`UPDATE ${table} SET attributes = ${expr}, hash = 'erased:' || lower(hex(randomblob(16))) WHERE ${idColumn} = ?`);
  let n = 0;
  db.transaction(() => { for (const id of ids) n += st.run(id).changes; })();
  return n;
}

/** Erase `subject` from the store file at `path`. */
export function eraseSubjectFromStore(path: string, subject: string, keys: string[] = DEFAULT_SUBJECT_KEYS): ErasureReport {
  if (!subject) throw new Error('the subject id is empty');
  if (!keys.length) throw new Error('no subject keys to match');
  const db = openSqlite(path, { fileMustExist: true, timeout: 10_000 });
  try {
    db.pragma('secure_delete = ON');
    const args = [...keys, subject];
    const report: ErasureReport = { store: path, spans: 0, logs: 0, metric_points: 0, metric_series: 0, resources: 0 };
    const resources = tableExists(db, 'resources') ? db.prepare(`SELECT resource_id FROM resources WHERE ${names('attributes', keys)}`).pluck().all(...args) as number[] : [];
    const ofResource = resources.length ? ` OR resource_id IN (${resources.join(',')})` : '';
    for (const [table, field] of [['spans', 'spans'], ['logs', 'logs']] as const) {
      if (!tableExists(db, table)) continue;
      const rowids = db.prepare(`SELECT rowid FROM ${table} WHERE ${names(`${table}.attributes`, keys)}${ofResource}`).pluck().all(...args) as number[];
      report[field] = deleteRowids(db, table, rowids);
    }
    if (tableExists(db, 'metric_series')) {
      const series = db.prepare(`SELECT series_id FROM metric_series WHERE ${names('attributes', keys)}${ofResource}`).pluck().all(...args) as number[];
      for (const table of POINT_TABLES.filter((t) => tableExists(db, t))) {
        const del = db.prepare(`DELETE FROM ${table} WHERE series_id = ?`);
        const counted = table !== 'metric_number_rollup_1m';
        db.transaction(() => { for (const sid of series) { const c = del.run(sid).changes; if (counted) report.metric_points += c; } })();
      }
      report.metric_series = anonymise(db, 'metric_series', 'series_id', series, keys);
    }
    report.resources = resources.length ? anonymise(db, 'resources', 'resource_id', resources, keys) : 0;
    // Deleted pages may still hold the old bytes: overwrite them (secure_delete) and fold the WAL in.
    db.pragma('wal_checkpoint(TRUNCATE)');
    return report;
  } finally {
    db.close();
  }
}

/** Stores that `DELETE /api/subjects/:id` erases from: each sqlite exporter registers its file. */
const stores = new Map<string, string[]>();

export function registerErasableStore(path: string, keys: string[] = DEFAULT_SUBJECT_KEYS): () => void {
  stores.set(path, keys);
  return () => stores.delete(path);
}

/**
 * The same erasure on a worker thread, so the scans do not stall the receivers and the API on the
 * main thread. As with the store's writer, a .ts entry (tests) is required from a one-line script.
 */
export function eraseSubjectInWorker(path: string, subject: string, keys: string[]): Promise<ErasureReport> {
  const file = join(__dirname, 'erasure-worker' + extname(__filename));
  const options = { workerData: { path, subject, keys }, execArgv: process.execArgv };
  const worker = file.endsWith('.ts') ? new Worker(`require(${JSON.stringify(file)})`, { ...options, eval: true }) : new Worker(file, options);
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { report?: ErasureReport; error?: string }) => (m.report ? resolve(m.report) : reject(new Error(`${path}: ${m.error}`))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${path}: the erasure worker exited with code ${code}`)));
  });
}

/** The subject keys of every registered store (the defaults when none is): what the state erasers match series on. */
export function subjectKeysInUse(): string[] {
  const keys = new Set<string>();
  for (const k of stores.values()) for (const key of k) keys.add(key);
  return keys.size ? [...keys] : DEFAULT_SUBJECT_KEYS;
}

/** Erase from every registered store, one after the other. */
export async function eraseSubjectEverywhere(subject: string): Promise<ErasureReport[]> {
  const out: ErasureReport[] = [];
  for (const [path, keys] of stores) out.push(await eraseSubjectInWorker(path, subject, keys));
  return out;
}
