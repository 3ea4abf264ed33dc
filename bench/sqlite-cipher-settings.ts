/**
 * Which SQLCipher-compatible settings make encrypted inserts cheaper? The same span-shaped insert as
 * sqlite-encryption.ts, through better-sqlite3-multiple-ciphers, for: plain; SQLCipher 4 defaults
 * (HMAC-SHA512); HMAC-SHA256; HMAC-SHA1 (SQLCipher 3's). Each variant can be opened by the sqlcipher
 * tool with the matching `PRAGMA cipher_hmac_algorithm`. The key is raw (no KDF at open), as Vigil's.
 * Runs alternate so load hits all alike; best of `rounds`.
 *
 *   npm run build && node dist/bench/sqlite-cipher-settings.js [rows=100000] [rounds=3] [page_size=32768] [rows_per_transaction=500]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import CipherDatabase from 'better-sqlite3-multiple-ciphers';
import { insertSpanRows } from './sqlite-span-inserts';

const rows = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const pageSize = Number(process.argv[4] ?? 32768);
const txRows = Number(process.argv[5] ?? 500);
const RAW_KEY = `"x'${'ab'.repeat(32)}'"`;

type Variant = { name: string; hmac?: 0 | 1 | 2 };
const VARIANTS: Variant[] = [{ name: 'plain' }, { name: 'sqlcipher4 HMAC-SHA512', hmac: 2 }, { name: 'HMAC-SHA256', hmac: 1 }, { name: 'HMAC-SHA1', hmac: 0 }];

function open(path: string, v: Variant): Database.Database {
  if (v.hmac === undefined) return new Database(path);
  const db = new CipherDatabase(path) as unknown as Database.Database;
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`legacy_page_size=${pageSize}`);
  db.pragma(`hmac_algorithm=${v.hmac}`);
  db.pragma(`key=${RAW_KEY}`);
  return db;
}

function run(dir: string, v: Variant): number {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.db`);
  const db = open(path, v);
  const rate = insertSpanRows(db, rows, txRows, pageSize);
  db.close();
  // Reopen with the same settings: proves the variant reads back.
  const rd = open(path, v);
  const n = (rd.prepare('SELECT count(*) n FROM spans').get() as { n: number }).n;
  rd.close();
  if (n !== rows) throw new Error(`${v.name}: expected ${rows} rows, read ${n}`);
  return rate;
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-cipher-'));
try {
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) for (const v of VARIANTS) best.set(v.name, Math.max(best.get(v.name) ?? 0, run(dir, v)));
  const plain = best.get('plain')!;
  process.stdout.write(`rows=${rows} rounds=${rounds} page_size=${pageSize} rows/transaction=${txRows} (best of each)\n`);
  for (const v of VARIANTS) process.stdout.write(`${v.name.padEnd(24)} ${Math.round(best.get(v.name)!).toLocaleString('en').padStart(9)} rows/s  ${(best.get(v.name)! / plain * 100).toFixed(0)}% of plain\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
