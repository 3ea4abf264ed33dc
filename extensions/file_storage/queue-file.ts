/**
 * One persistent queue on disk: a SQLite file in WAL mode with one row per queued request.
 *
 * Why SQLite and not a hand-written segment log: its WAL already is an append-only log with a
 * checksum per frame, so a record half-written when the process was killed (a torn tail) is
 * detected and ignored when the file is opened, and the last complete commit is what we find.
 * Appends are one small transaction each; removal is a DELETE by key once the downstream accepted.
 * All files are opened through src/storage/sqlite.ts (engine-wide choices such as encryption live there).
 */
import { openSqlite, SqliteDatabase, SqliteStatement } from '../../src/storage/sqlite';

export interface QueuedRecord {
  seq: number;
  signal: string;
  items: number;
  bytes: number;
  createdMs: number;
  data: Buffer;
}

export interface QueueStats {
  count: number;
  bytes: number;
  /** Creation time of the oldest record, or undefined when empty. */
  oldestMs?: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  signal TEXT NOT NULL,
  items INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

export class QueueFile {
  private readonly db: SqliteDatabase;
  private readonly st: Record<'append' | 'next' | 'remove' | 'oldest' | 'stats' | 'first', SqliteStatement>;
  private count = 0;
  private bytes = 0;

  constructor(readonly path: string, readonly owner: string, opts: { fsync: boolean; maxFileBytes: number }) {
    const db = (this.db = openSqlite(path));
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL: a commit survives the process being killed (it is in the OS once written); FULL
      // adds an fsync per commit so that it survives a power loss too.
      db.pragma(opts.fsync ? 'synchronous = FULL' : 'synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      if (opts.maxFileBytes > 0) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(16, Math.floor(opts.maxFileBytes / pageSize))}`);
      }
      db.exec(SCHEMA);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('owner', ?) ON CONFLICT (key) DO NOTHING`).run(owner);
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
    } catch (e) {
      db.close();
      throw e;
    }
    this.st = {
      append: db.prepare('INSERT INTO queue (signal, items, bytes, created_ms, data) VALUES (?, ?, ?, ?, ?)'),
      next: db.prepare('SELECT seq, signal, items, bytes, created_ms AS createdMs, data FROM queue WHERE seq > ? ORDER BY seq LIMIT 1'),
      remove: db.prepare('DELETE FROM queue WHERE seq = ? RETURNING bytes'),
      oldest: db.prepare('SELECT seq, signal, items, bytes FROM queue ORDER BY seq LIMIT ?'),
      first: db.prepare('SELECT created_ms FROM queue ORDER BY seq LIMIT 1').pluck(),
      stats: db.prepare('SELECT count(*) AS count, coalesce(sum(bytes), 0) AS bytes FROM queue'),
    };
    const s = this.st.stats.get() as { count: number; bytes: number };
    this.count = s.count;
    this.bytes = s.bytes;
  }

  /** The owner recorded in a queue file, without opening it for writing (for orphan reports). */
  static describe(path: string): { owner: string; count: number; bytes: number } | undefined {
    try {
      const db = openSqlite(path, { readonly: true, fileMustExist: true });
      try {
        const owner = db.prepare(`SELECT value FROM meta WHERE key = 'owner'`).pluck().get() as string | undefined;
        const s = db.prepare('SELECT count(*) AS count, coalesce(sum(bytes), 0) AS bytes FROM queue').get() as { count: number; bytes: number };
        return { owner: owner ?? '', ...s };
      } finally {
        db.close();
      }
    } catch {
      return undefined;
    }
  }

  /** Durable when it returns (committed). Throws SQLite's error (e.g. SQLITE_FULL) otherwise. */
  append(signal: string, items: number, data: Uint8Array): number {
    const r = this.st.append.run(signal, items, data.byteLength, Date.now(), data);
    this.count++;
    this.bytes += data.byteLength;
    return Number(r.lastInsertRowid);
  }

  /** The first record after `seq` (records are taken in order). */
  next(afterSeq: number): QueuedRecord | undefined {
    return this.st.next.get(afterSeq) as QueuedRecord | undefined;
  }

  remove(seq: number): boolean {
    const r = this.st.remove.get(seq) as { bytes: number } | undefined;
    if (!r) return false;
    this.count--;
    this.bytes -= r.bytes;
    return true;
  }

  /** The oldest record not in `except` (records being sent), for drop_oldest. */
  oldest(except: ReadonlySet<number> = new Set()): { seq: number; signal: string; items: number; bytes: number } | undefined {
    const rows = this.st.oldest.all(except.size + 1) as Array<{ seq: number; signal: string; items: number; bytes: number }>;
    return rows.find((r) => !except.has(r.seq));
  }

  stats(): QueueStats {
    const first = this.count > 0 ? (this.st.first.get() as number | undefined) : undefined;
    return { count: this.count, bytes: this.bytes, oldestMs: first };
  }

  close(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // the next open checkpoints
    }
    this.db.close();
  }
}
