/**
 * The one way Vigil opens a SQLite file (the store, component state, the audit log, persistent
 * queues, health probes). Keeping it in one place means engine-wide choices change here only.
 *
 * Encryption at rest: when a key is configured, every file is opened through
 * better-sqlite3-multiple-ciphers in SQLCipher 4 format (AES-256-CBC, HMAC-SHA512 per page, PBKDF2
 * key derivation), so the file is unreadable without the key, also by the `sqlcipher` tool. The key
 * comes from the environment, which worker threads and child processes inherit:
 *   VIGIL_DB_KEY       the key (passphrase) itself
 *   VIGIL_DB_KEY_FILE  a file holding it (first line; keep it mode 0600)
 * Without a key, files are plain SQLite as before. `vigil rekey` encrypts, changes or removes the key.
 *
 * The passphrase is stretched once per process with scrypt into a 256-bit raw SQLCipher key, instead
 * of SQLCipher's own PBKDF2 (256,000 rounds) on every open: Vigil opens files often (queries, health
 * probes), and each PBKDF2 open cost ~0.5 s on a loaded machine. To open a file with the `sqlcipher`
 * tool: PRAGMA cipher_compatibility = 4; PRAGMA cipher_page_size = 32768; PRAGMA key = "x'<hex of scrypt(passphrase, 'vigil-sqlcipher-v1', 32, N=32768, r=8, p=1)>'".
 */
import { scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import CipherDatabase from 'better-sqlite3-multiple-ciphers';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement;
export type SqliteOptions = Database.Options & {
  /** Override the configured key: a string key, or null to open as plain SQLite (rekey uses this). */
  key?: string | null;
};

export class DatabaseKeyError extends Error {}

/** The configured database key, or undefined when encryption at rest is off. */
export function databaseKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.VIGIL_DB_KEY) return env.VIGIL_DB_KEY;
  const file = env.VIGIL_DB_KEY_FILE;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DatabaseKeyError(`VIGIL_DB_KEY_FILE ${file}: cannot read the database key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const key = text.split(/\r?\n/)[0].trim();
  if (!key) throw new DatabaseKeyError(`VIGIL_DB_KEY_FILE ${file}: the file is empty`);
  return key;
}

const derived = new Map<string, string>();

/** The raw SQLCipher key of a passphrase, as the SQL literal x'<hex>' (memoised: scrypt is slow on purpose). */
export function rawKeyLiteral(passphrase: string): string {
  let hex = derived.get(passphrase);
  if (!hex) {
    hex = scryptSync(passphrase, 'vigil-sqlcipher-v1', 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('hex');
    derived.set(passphrase, hex);
  }
  return `"x'${hex}'"`;
}

/**
 * Every encrypted file uses 32 KiB pages: SQLCipher encrypts the header too, so the page size cannot
 * be read from the file and must be the same at every open. 32 KiB is what the store chooses anyway.
 */
export const ENCRYPTED_PAGE_SIZE = 32768;

/** Select SQLCipher 4 format; must run before the key pragma. */
export function selectCipher(db: SqliteDatabase): void {
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`legacy_page_size=${ENCRYPTED_PAGE_SIZE}`);
}

/** Select SQLCipher 4 format and apply the key; must run before anything reads the file. */
export function applyKey(db: SqliteDatabase, key: string): void {
  selectCipher(db);
  db.pragma(`key=${rawKeyLiteral(key)}`);
}

export function openSqlite(path: string, options: SqliteOptions = {}): SqliteDatabase {
  const { key: override, ...opts } = options;
  const key = override === undefined ? databaseKey() : override ?? undefined;
  if (!key || path === ':memory:' || path === '') return new Database(path, opts);
  const db = new CipherDatabase(path, opts) as unknown as SqliteDatabase;
  try {
    applyKey(db, key);
    // The key is only checked when a page is read: read one now, so a wrong key fails here, clearly.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_NOTADB') {
      throw new DatabaseKeyError(`${path}: cannot open with the configured database key (VIGIL_DB_KEY / VIGIL_DB_KEY_FILE): wrong key, or a plain database that "vigil rekey" has not encrypted yet`);
    }
    throw e;
  }
  return db;
}
