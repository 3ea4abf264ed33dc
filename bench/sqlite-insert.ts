/**
 * Micro benchmark of the sqlite exporter alone (no receiver, no decoding): spans built in the
 * data model are consumed as fast as the exporter accepts them, and the clock stops when shutdown
 * has committed them all. Reports sustained spans/s, the main thread's share (mapping + posting)
 * and checks that every span is in the file.
 *
 *   npm run build && node dist/bench/sqlite-insert.js [spans=500000] [batch=500] [dir=/tmp]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../src/logger';
import type { Span, Traces } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { RetryableError } from '../src/errors';
import { SqliteConfig, sqliteExporterFactory } from '../exporters/sqlite';
import { tracesToRows } from '../exporters/sqlite/rows';

function makeBatch(n: number, seq: number, t0: bigint): Traces {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const k = seq * n + i;
    const traceId = ((BigInt(k >> 3) * 0x9e3779b97f4a7c15n) & ((1n << 128n) - 1n)).toString(16).padStart(32, '0');
    spans.push({
      traceId, spanId: (k + 1).toString(16).padStart(16, '0'), traceState: '', parentSpanId: k % 8 ? (k).toString(16).padStart(16, '0') : '', flags: 1,
      name: `GET /api/items/{id}`, kind: 2, startTimeUnixNano: t0 + BigInt(k) * 10_000n, endTimeUnixNano: t0 + BigInt(k) * 10_000n + 1_234_567n,
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/items/{id}', 'http.response.status_code': 200, 'url.path': `/api/items/${k % 1000}`, 'server.address': 'api.internal', 'network.peer.port': 443 },
      droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: k % 50 === 0 ? 2 : 0, message: '' },
    });
  }
  return { resourceSpans: [{ resource: { attributes: { 'service.name': `svc-${seq % 5}`, 'service.version': '1.4.2', 'host.name': 'node-1', 'telemetry.sdk.language': 'nodejs' }, droppedAttributesCount: 0 }, schemaUrl: '',
    scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans }] }] };
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 500_000);
  const per = Number(process.argv[3] ?? 500);
  const dir = mkdtempSync(join(process.argv[4] ?? tmpdir(), 'vigil-sqlite-bench-'));
  const path = join(dir, 'bench.db');
  const config: SqliteConfig = {
    path, flush_interval: '1s', batch_size: 10000, max_in_flight_rows: 100000,
    retention: { max_age: 0, max_size_mib: 0, check_interval: '5m' },
    timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
  };
  const ex = sqliteExporterFactory.create({ id: 'sqlite', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir }, ['traces']);
  await ex.start!({ getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] });
  const batches = Math.ceil(total / per);
  // Pre-build the data: the benchmark measures the exporter, not the generator.
  const data = Array.from({ length: Math.min(batches, 64) }, (_, i) => makeBatch(per, i, 1_763_000_000_000_000_000n));
  // The main thread's share: mapping the model to rows (posting is measured in the run below).
  const m0 = process.hrtime.bigint();
  for (const d of data) tracesToRows(d);
  const mapUsPerSpan = Number(process.hrtime.bigint() - m0) / 1e3 / (data.length * per);
  let refused = 0;
  let mainMs = 0;
  const started = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    const d = b < data.length ? data[b] : makeBatch(per, b, 1_763_000_000_000_000_000n);
    for (;;) {
      const t0 = process.hrtime.bigint();
      try {
        const p = ex.traces!.consume(d);
        // the synchronous part of consume: mapping and posting (waiting for room is not CPU)
        mainMs += Number(process.hrtime.bigint() - t0) / 1e6;
        await p;
        break;
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        refused++;
      }
    }
  }
  const accepted = process.hrtime.bigint();
  await ex.shutdown!();
  const done = process.hrtime.bigint();
  const secs = Number(done - started) / 1e9;
  const db = new Database(path, { readonly: true });
  const stored = db.prepare('SELECT count(*) FROM spans').pluck().get() as number;
  db.close();
  const out = {
    spans: batches * per, stored, lost: batches * per - stored, seconds: +secs.toFixed(2), spansPerSec: Math.round(stored / secs),
    acceptSeconds: +(Number(accepted - started) / 1e9).toFixed(2), drainSeconds: +(Number(done - accepted) / 1e9).toFixed(2),
    mapUsPerSpan: +mapUsPerSpan.toFixed(2), consumeSyncUsPerSpan: +((mainMs * 1000) / (batches * per)).toFixed(2), refusedRetries: refused, fileMB: +(statSync(path).size / 1e6).toFixed(1),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  rmSync(dir, { recursive: true, force: true });
}

void main();
