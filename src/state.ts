/**
 * Persistent component state (detector windows, anomaly series, alert groups ...) in one SQLite
 * file under the data directory, so that a restart resumes where it left off. Each component keeps
 * its own namespace of keys with JSON values. Components with heavier needs open their own tables
 * on `db` (prefix table names with the component type).
 */
import type Database from 'better-sqlite3';
import { openSqlite } from './storage/sqlite';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const stores = new Map<string, StateStore>();

export class StateStore {
  readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly delStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private refs = 0;

  private constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = openSqlite(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS component_state (
      component TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_ms INTEGER NOT NULL,
      PRIMARY KEY (component, key)) WITHOUT ROWID`);
    this.getStmt = this.db.prepare('SELECT value FROM component_state WHERE component = ? AND key = ?');
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO component_state (component, key, value, updated_ms) VALUES (?, ?, ?, ?)');
    this.delStmt = this.db.prepare('DELETE FROM component_state WHERE component = ? AND key = ?');
    this.listStmt = this.db.prepare('SELECT key, value FROM component_state WHERE component = ? AND key >= ? AND key < ?');
  }

  /** The shared store of a data directory (reference counted; call `release` when done). */
  static open(dataDir: string): StateStore {
    const path = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'state.db');
    let s = stores.get(path);
    if (!s || !s.db.open) {
      s = new StateStore(path);
      stores.set(path, s);
    }
    s.refs++;
    return s;
  }

  get<T>(component: string, key: string): T | undefined {
    const row = this.getStmt.get(component, key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  put(component: string, key: string, value: unknown): void {
    this.putStmt.run(component, key, JSON.stringify(value), Date.now());
  }

  delete(component: string, key: string): void {
    this.delStmt.run(component, key);
  }

  /** All keys of a component starting with `prefix`. */
  list<T>(component: string, prefix = ''): Array<{ key: string; value: T }> {
    const rows = this.listStmt.all(component, prefix, prefix + '\uffff') as Array<{ key: string; value: string }>;
    return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as T }));
  }

  /** Several writes in one transaction. */
  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  /**
   * Runs `fn` (deletions and rewrites) so that what it removes leaves no bytes behind: deleted
   * content is overwritten (secure_delete), older row versions in free pages go with a VACUUM, and
   * the WAL is folded in. For erasure; costly on a large file, so not for routine writes.
   */
  scrubbing(fn: () => void): void {
    this.db.pragma('secure_delete = ON');
    try {
      fn();
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
  }

  release(): void {
    if (--this.refs <= 0 && this.db.open) {
      this.db.close();
      stores.delete(this.path);
    }
  }
}
