/**
 * Read side of the SQLite store, for the query API and tests: opens the file read-only (WAL lets
 * it read while the exporter writes), checks the schema version, and turns rows back into values
 * close to the data model.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../../src/storage/sqlite';
import { AnyValue, KvList, Attributes } from '../../src/model';
import { ROLLUP_BUCKET_NANOS, SCHEMA_VERSION, TABLES, traceKey } from './schema';

export { ROLLUP_BUCKET_NANOS, SCHEMA_VERSION, TABLES, traceKey };

export interface StoreReader {
  db: Database.Database;
  schemaVersion: number;
  close(): void;
}

/**
 * Open a store read-only. Statements prepared on `db` return INTEGER columns as bigint (times
 * need all 64 bits); call `.safeIntegers(false)` on a statement where numbers are wanted.
 */
export function openStore(path: string): StoreReader {
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  db.pragma('busy_timeout = 2000');
  const row = db.prepare(`SELECT value FROM ${TABLES.meta} WHERE key = 'schema_version'`).get() as { value: string } | undefined;
  const schemaVersion = Number(row?.value ?? 0);
  if (schemaVersion !== SCHEMA_VERSION) {
    db.close();
    throw new Error(`${path}: schema version ${schemaVersion || 'missing'}, expected ${SCHEMA_VERSION}`);
  }
  return { db, schemaVersion, close: () => db.close() };
}

/** The JSON attribute text of a row as a plain object. */
export function parseAttributes(json: string | null): Record<string, unknown> {
  return json ? (JSON.parse(json) as Record<string, unknown>) : {};
}

/**
 * A log body back from its (body_type, body) columns. Scalars come back exactly; bytes as a
 * Uint8Array; arrays and maps as their JSON form (nested ints vs doubles are not distinguished).
 */
export function decodeBody(type: string, body: string | null): AnyValue {
  switch (type) {
    case 'string': return body ?? '';
    case 'empty': return null;
    case 'bool': return body === 'true';
    case 'int': {
      const n = BigInt(body!);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    case 'double': return Number(body);
    case 'bytes': return new Uint8Array(Buffer.from(body ?? '', 'base64'));
    case 'kvlist': return new KvList(JSON.parse(body!) as Attributes);
    default: return JSON.parse(body!) as AnyValue;
  }
}

/** The spans of a trace, through the spans_trace_key index (the key narrows, the text decides). */
export function spansOfTrace(db: Database.Database, traceId: string): Record<string, unknown>[] {
  const id = traceId.toLowerCase();
  return db.prepare(`SELECT s.*, r.attributes AS resource_attributes, sc.name AS scope_name, sc.version AS scope_version
    FROM spans s JOIN resources r ON r.resource_id = s.resource_id JOIN scopes sc ON sc.scope_id = s.scope_id
    WHERE s.trace_key = ? AND s.trace_id = ? ORDER BY s.start_time_unix_nano`).all(traceKey(id), id) as Record<string, unknown>[];
}
