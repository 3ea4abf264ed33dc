/**
 * Cost of encryption at rest: insert throughput of span-shaped rows into a SQLite file opened by
 * `openSqlite`, plain versus with a key (SQLCipher 4 via better-sqlite3-multiple-ciphers), with the
 * store's settings (32 KiB pages, WAL, synchronous=NORMAL, 500-row transactions, one index), then a
 * full read back. Runs alternate plain/encrypted so machine load hits both alike; reports the best
 * of each and the ratio.
 *
 *   npm run build && node dist/bench/sqlite-encryption.js [rows=200000] [rounds=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../src/storage/sqlite';
import { insertSpanRows } from './sqlite-span-inserts';

const rows = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);

function run(dir: string, key: string | null): { insert: number; scan: number } {
  const path = join(dir, `${key ? 'enc' : 'plain'}-${Math.random().toString(36).slice(2)}.db`);
  const db = openSqlite(path, { key });
  const insert = insertSpanRows(db, rows, 500, 32768);
  db.close();
  const rd = openSqlite(path, { key, readonly: true });
  const t2 = process.hrtime.bigint();
  const n = (rd.prepare('SELECT count(*) n, sum(length(attributes)) s FROM spans').get() as { n: number }).n;
  const t3 = process.hrtime.bigint();
  rd.close();
  if (n !== rows) throw new Error(`expected ${rows} rows, read ${n}`);
  return { insert, scan: rows / (Number(t3 - t2) / 1e9) };
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-enc-'));
try {
  const best = { plain: { insert: 0, scan: 0 }, enc: { insert: 0, scan: 0 } };
  for (let r = 0; r < rounds; r++) {
    for (const [name, key] of [['plain', null], ['enc', 'bench passphrase']] as const) {
      const m = run(dir, key);
      best[name].insert = Math.max(best[name].insert, m.insert);
      best[name].scan = Math.max(best[name].scan, m.scan);
    }
  }
  const f = (x: number) => Math.round(x).toLocaleString('en');
  process.stdout.write(`rows=${rows} rounds=${rounds} (best of each)\n`);
  process.stdout.write(`insert  plain ${f(best.plain.insert)} rows/s  encrypted ${f(best.enc.insert)} rows/s  ratio ${(best.enc.insert / best.plain.insert * 100).toFixed(0)}%\n`);
  process.stdout.write(`scan    plain ${f(best.plain.scan)} rows/s  encrypted ${f(best.enc.scan)} rows/s  ratio ${(best.enc.scan / best.plain.scan * 100).toFixed(0)}%\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
