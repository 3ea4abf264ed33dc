/**
 * The audit log: who did what, when, from where, with which outcome. One SQLite file
 * (`<data_dir>/audit.db`), append-only (triggers refuse UPDATE and DELETE), and hash-chained: each
 * record's hash covers its fields and the previous record's hash, so changing or removing a record
 * in the middle breaks every later link, which `verify()` (and `vigil audit verify`) reports.
 * Removing records from the end leaves a shorter valid chain; compare the head hash that verify
 * prints with one kept elsewhere to catch that.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSqlite, SqliteDatabase, SqliteStatement } from './sqlite';

export interface AuditEntry {
  /** Principal name, or null for an anonymous caller. */
  principal: string | null;
  role: string | null;
  /** Where from: the peer address ("127.0.0.1:53422") or "cli". */
  remote: string;
  /** What: "POST /api/silences", "erase", "rekey". */
  action: string;
  /** Route pattern or target ("/api/silences/:id", "user:42"). */
  target: string;
  /** "ok", "refused" (401/403/415) or "failed" (the action itself failed). */
  outcome: 'ok' | 'refused' | 'failed';
  status: number;
  /** Short JSON-able details (route params, counts); never request bodies or credentials. */
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  time: string;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

export function auditPath(dataDir: string): string {
  return join(dataDir, 'audit.db');
}

function recordHash(prev: string, seq: number, timeMs: number, e: AuditEntry): string {
  const fields = [seq, timeMs, e.principal, e.role, e.remote, e.action, e.target, e.outcome, e.status, e.detail ?? null];
  return createHash('sha256').update(prev).update('\n').update(JSON.stringify(fields)).digest('hex');
}

interface Row {
  seq: number;
  time_ms: number;
  principal: string | null;
  role: string | null;
  remote: string;
  action: string;
  target: string;
  outcome: AuditEntry['outcome'];
  status: number;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export class AuditLog {
  readonly db: SqliteDatabase;
  private readonly last: SqliteStatement;
  private readonly insert: SqliteStatement;

  /** `key`: open with this database key instead of the configured one (null: plain). */
  constructor(readonly path: string, key?: string | null) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = openSqlite(path, { timeout: 5000, ...(key !== undefined ? { key } : {}) });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
        seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, principal TEXT, role TEXT, remote TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`);
    this.last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.insert = this.db.prepare(`INSERT INTO audit_log (seq, time_ms, principal, role, remote, action, target, outcome, status, detail, prev_hash, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  static open(dataDir: string): AuditLog {
    return new AuditLog(dataDir === ':memory:' ? ':memory:' : auditPath(dataDir));
  }

  /** Append one record; the read of the chain's head and the insert are one write transaction. */
  append(e: AuditEntry, now = Date.now()): AuditRecord {
    const tx = this.db.transaction((): AuditRecord => {
      const head = this.last.get() as { seq: number; hash: string } | undefined;
      const seq = (head?.seq ?? 0) + 1;
      const prev = head?.hash ?? GENESIS;
      const hash = recordHash(prev, seq, now, e);
      this.insert.run(seq, now, e.principal, e.role, e.remote, e.action, e.target, e.outcome, e.status, e.detail ? JSON.stringify(e.detail) : null, prev, hash);
      return { ...e, seq, time: new Date(now).toISOString(), prev_hash: prev, hash };
    });
    return tx.immediate();
  }

  /** Newest first; `before` pages back by sequence number. */
  list(opts: { limit?: number; before?: number } = {}): AuditRecord[] {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const rows = this.db
      .prepare('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?')
      .all(opts.before ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map(toRecord);
  }

  /** Walk the whole chain; the first broken link, or the head when every link holds. */
  verify(): { ok: true; records: number; head: string } | { ok: false; records: number; seq: number; problem: string } {
    let prev = GENESIS;
    let expected = 1;
    let n = 0;
    for (const r of this.db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<Row>) {
      n++;
      if (r.seq !== expected) return { ok: false, records: n, seq: r.seq, problem: `record ${expected} is missing (found ${r.seq} next)` };
      if (r.prev_hash !== prev) return { ok: false, records: n, seq: r.seq, problem: 'prev_hash does not match the previous record' };
      let detail: Record<string, unknown> | undefined;
      try {
        detail = r.detail === null ? undefined : JSON.parse(r.detail);
      } catch {
        return { ok: false, records: n, seq: r.seq, problem: 'detail is not valid JSON' };
      }
      const h = recordHash(prev, r.seq, r.time_ms, { principal: r.principal, role: r.role, remote: r.remote, action: r.action, target: r.target, outcome: r.outcome, status: r.status, detail });
      if (h !== r.hash) return { ok: false, records: n, seq: r.seq, problem: 'record content does not match its hash (changed after it was written)' };
      prev = r.hash;
      expected++;
    }
    return { ok: true, records: n, head: prev };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toRecord(r: Row): AuditRecord {
  return {
    seq: r.seq, time: new Date(r.time_ms).toISOString(), principal: r.principal, role: r.role, remote: r.remote,
    action: r.action, target: r.target, outcome: r.outcome, status: r.status,
    ...(r.detail ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}), prev_hash: r.prev_hash, hash: r.hash,
  };
}
