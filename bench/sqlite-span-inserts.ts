/**
 * The span-shaped insert workload shared by the SQLite encryption benches: the store's settings
 * (WAL, synchronous=NORMAL, one index) on an open database, `rows` rows in transactions of
 * `txRows`, then a checkpoint. Returns rows per second, checkpoint included.
 */
import type Database from 'better-sqlite3';

export function insertSpanRows(db: Database.Database, rows: number, txRows: number, pageSize: number): number {
  db.pragma(`page_size = ${pageSize}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE spans (trace_id TEXT, span_id TEXT, name TEXT, start_ns INTEGER, end_ns INTEGER, attributes TEXT, service TEXT)');
  db.exec('CREATE INDEX spans_start ON spans (service, start_ns)');
  const ins = db.prepare('INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?)');
  const attrs = JSON.stringify({ 'http.request.method': 'GET', 'http.route': '/api/items/{id}', 'http.response.status_code': 200, 'url.path': '/api/items/42', 'server.address': 'api.internal' });
  const tx = db.transaction((from: number) => {
    for (let i = from; i < Math.min(rows, from + txRows); i++) ins.run(i.toString(16).padStart(32, '0'), i.toString(16).padStart(16, '0'), 'GET /api/items/{id}', i * 1000, i * 1000 + 1234567, attrs, `svc-${i % 20}`);
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rows; i += txRows) tx(i);
  db.pragma('wal_checkpoint(TRUNCATE)');
  return rows / (Number(process.hrtime.bigint() - t0) / 1e9);
}
