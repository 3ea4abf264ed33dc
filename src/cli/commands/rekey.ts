/**
 * `vigil rekey`: encrypt Vigil's SQLite files, change their key, or decrypt them. Run it with Vigil
 * stopped. The current key is the configured one (VIGIL_DB_KEY / VIGIL_DB_KEY_FILE, none = plain);
 * the new one comes from a file or an environment variable, never from the command line (which
 * other users can read in the process list). Every file is re-opened with the new key before the
 * command reports success; the change is recorded in the audit log.
 */
import { existsSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import CipherDatabase from 'better-sqlite3-multiple-ciphers';
import type { Command } from '../command';
import { parseFlags } from '../index';
import { AuditLog } from '../../storage/audit';
import { ENCRYPTED_PAGE_SIZE, databaseKey, openSqlite, rawKeyLiteral, selectCipher, SqliteDatabase } from '../../storage/sqlite';
import { dataDirOf } from './audit';

/** The SQLite files Vigil keeps under a data directory (store, state, audit, queues), plus extra ones. */
export function vigilDatabases(dataDir: string, extra: string[] = []): string[] {
  const found = existsSync(dataDir) ? readdirSync(dataDir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.(db|sqlite3?)$/.test(d.name))
    .map((d) => join((d as unknown as { parentPath?: string; path: string }).parentPath ?? d.path, d.name)) : [];
  return [...new Set([...found, ...extra])].sort();
}

/** Change one file's key (undefined = plain). */
export function rekeyFile(path: string, oldKey: string | undefined, newKey: string | undefined): void {
  const db = (oldKey ? openSqlite(path, { key: oldKey }) : (new CipherDatabase(path) as unknown as SqliteDatabase));
  try {
    if (!oldKey) db.prepare('SELECT count(*) FROM sqlite_master').get(); // a plain file must read without a key
    // SQLite3MC cannot rekey in WAL mode: fold the WAL into the file first, restore the mode after.
    const mode = String(db.pragma('journal_mode', { simple: true }));
    if (mode === 'wal') db.pragma('journal_mode = DELETE');
    if (!oldKey) {
      // The cipher's page size is fixed (ENCRYPTED_PAGE_SIZE): convert a plain file's pages first.
      if (db.pragma('page_size', { simple: true }) !== ENCRYPTED_PAGE_SIZE) {
        db.pragma(`page_size = ${ENCRYPTED_PAGE_SIZE}`);
        db.exec('VACUUM');
      }
      selectCipher(db);
    }
    db.pragma(`rekey=${newKey ? rawKeyLiteral(newKey) : "''"}`);
    if (mode === 'wal') db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
  const check = openSqlite(path, { key: newKey ?? null, fileMustExist: true });
  check.prepare('SELECT count(*) FROM sqlite_master').get();
  check.close();
}

export function osUser(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
}

export const rekeyCommand: Command = {
  name: 'rekey',
  summary: "Encrypt Vigil's SQLite files, change their key, or decrypt them (Vigil stopped)",
  usage: 'vigil rekey (--new-key-file FILE | --new-key-env NAME | --decrypt) [--data-dir DIR] [--db FILE]...\n' +
    '  current key: VIGIL_DB_KEY or VIGIL_DB_KEY_FILE (none: the files are plain)',
  async run(args) {
    const { flags } = parseFlags(args, ['db'], ['decrypt', 'help']);
    let newKey: string | undefined;
    try {
      if (flags.decrypt === true) newKey = undefined;
      else if (typeof flags['new-key-file'] === 'string') newKey = databaseKey({ VIGIL_DB_KEY_FILE: flags['new-key-file'] });
      else if (typeof flags['new-key-env'] === 'string') {
        newKey = process.env[flags['new-key-env']];
        if (!newKey) throw new Error(`environment variable ${flags['new-key-env']} is empty or unset`);
      } else {
        process.stderr.write(`usage: ${rekeyCommand.usage}\n`);
        return 2;
      }
      const oldKey = databaseKey();
      const dataDir = dataDirOf(flags);
      const files = vigilDatabases(dataDir, (flags.db as string[] | undefined) ?? []);
      if (!files.length) throw new Error(`no SQLite files under ${dataDir} (see --data-dir, --db)`);
      for (const f of files) {
        try {
          rekeyFile(f, oldKey, newKey);
        } catch (e) {
          const busy = /SQLITE_BUSY|locked/i.test(String((e as { code?: string }).code ?? (e as Error).message));
          throw new Error(`${f}: ${busy ? 'in use; stop Vigil first' : (e as Error).message}`);
        }
        process.stdout.write(`${newKey ? 'encrypted with the new key' : 'decrypted'}: ${f}\n`);
      }
      // The audit file itself now has the new key: open it so.
      const audit = new AuditLog(join(dataDir, 'audit.db'), newKey ?? null);
      audit.append({ principal: osUser(), role: null, remote: 'cli', action: 'rekey', target: dataDir, outcome: 'ok', status: 0, detail: { files: files.length, encrypted: newKey !== undefined } });
      audit.close();
      return 0;
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
