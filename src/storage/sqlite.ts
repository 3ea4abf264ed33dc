/**
 * The one way Vigil opens a SQLite file (the store, component state, persistent queues, health probes).
 * Keeping it in one place means engine-wide choices, such as encryption at rest, change here and nowhere else.
 */
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement;
export type SqliteOptions = Database.Options;

export function openSqlite(path: string, options?: SqliteOptions): SqliteDatabase {
  return new Database(path, options);
}
