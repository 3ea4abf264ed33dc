/**
 * Encryption at rest: with VIGIL_DB_KEY set, the store (written by its worker thread), state.db and
 * audit.db are SQLCipher files: an attack payload sent by the SDK is not in the bytes, plain SQLite
 * and a wrong key cannot read them, the key can; `vigil rekey` changes the key and decrypts.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ApiExtension } from '../extensions/api';
import type { OtlpReceiver } from '../receivers/otlp';
import { main } from '../src/cli';
import { openSqlite } from '../src/storage/sqlite';
import { exportAsync, traceExporter } from './helpers/sdk';
import { raw, startDefault } from './helpers/secplat';

const PAYLOAD = "1' UNION SELECT card_number FROM secretcards--";

async function quiet(args: string[]): Promise<{ status: number; out: string }> {
  let out = '';
  const w = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((c: string) => ((out += c), true)) as typeof w;
  process.stderr.write = ((c: string) => ((out += c), true)) as typeof e;
  try {
    return { status: await main(args), out };
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
}

t.test('store, state and audit files are encrypted; rekey changes and removes the key', async (t) => {
  const before = { key: process.env.VIGIL_DB_KEY, file: process.env.VIGIL_DB_KEY_FILE };
  process.env.VIGIL_DB_KEY = 'first key: correct horse battery';
  delete process.env.VIGIL_DB_KEY_FILE;
  t.teardown(() => {
    if (before.key === undefined) delete process.env.VIGIL_DB_KEY;
    else process.env.VIGIL_DB_KEY = before.key;
    if (before.file !== undefined) process.env.VIGIL_DB_KEY_FILE = before.file;
  });

  const d = await startDefault();
  t.teardown(() => d.stop());
  const http = d.vigil.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints.http!;
  const api = d.vigil.collector.getExtension<ApiExtension>('api')!.address!;
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'shop' }), spanProcessors: [new SimpleSpanProcessor(mem)] });
  provider.getTracer('shop').startSpan('GET /search', { kind: SpanKind.SERVER, attributes: { 'url.path': '/search', 'url.query': `q=${PAYLOAD}`, 'client.address': '203.0.113.9' } }).end();
  t.equal((await exportAsync(traceExporter('http/protobuf', { http, grpc: '' }), mem.getFinishedSpans())).code, 0);
  let found = 0;
  for (let i = 0; i < 100 && !found; i++) {
    found = (await raw(api, 'GET', '/api/spans?service=shop')).json().items?.length ?? 0;
    if (!found) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(found, 'the store answers queries through the key');
  t.equal((await raw(api, 'POST', '/api/silences', { 'content-type': 'application/json' }, '{}')).status, 400, 'an audited call');
  await d.vigil.shutdown();

  const files = ['vigil.db', 'state.db', 'audit.db'].map((f) => join(d.dir, f));
  for (const f of files) {
    t.notOk(readFileSync(f).includes('SQLite format 3'), `${f}: no SQLite header`);
    t.throws(() => new Database(f, { readonly: true }).prepare('SELECT * FROM sqlite_master').all(), /not a database/, `${f}: plain SQLite cannot read it`);
    t.throws(() => openSqlite(f, { key: 'wrong key' }), /cannot open with the configured database key/, `${f}: a wrong key cannot`);
  }
  t.notOk(readFileSync(files[0]).includes('secretcards'), 'the payload is not in the bytes');
  const store = openSqlite(files[0], { readonly: true });
  t.ok(JSON.stringify(store.prepare('SELECT * FROM spans').all()).includes('secretcards'), 'the key reads it');
  store.close();

  // Change the key (new one from a file), then decrypt.
  const keyFile = join(d.dir, 'new.key');
  writeFileSync(keyFile, 'second key\n', { mode: 0o600 });
  const r1 = await quiet(['rekey', '--data-dir', d.dir, '--new-key-file', keyFile]);
  t.equal(r1.status, 0, r1.out);
  t.notMatch(r1.out, /second key|correct horse/, 'keys are not printed');
  t.throws(() => openSqlite(files[0], { key: 'first key: correct horse battery' }), /cannot open with the configured database key/, 'old key no longer opens it');
  const reopened = openSqlite(files[0], { key: 'second key', readonly: true });
  t.ok((reopened.prepare('SELECT count(*) n FROM spans').get() as { n: number }).n >= 1);
  reopened.close();

  process.env.VIGIL_DB_KEY_FILE = keyFile;
  delete process.env.VIGIL_DB_KEY;
  const verify = await quiet(['audit', 'verify', '--data-dir', d.dir]);
  t.equal(verify.status, 0, verify.out);
  t.match(verify.out, /audit log intact/);
  const r2 = await quiet(['rekey', '--data-dir', d.dir, '--decrypt']);
  t.equal(r2.status, 0, r2.out);
  delete process.env.VIGIL_DB_KEY_FILE;
  const plain = new Database(files[0], { readonly: true });
  t.ok((plain.prepare('SELECT count(*) n FROM spans').get() as { n: number }).n >= 1, 'decrypted: plain SQLite reads it');
  plain.close();
  const audit = new Database(files[2], { readonly: true });
  t.ok(audit.prepare("SELECT * FROM audit_log WHERE action = 'rekey'").all().length === 2, 'both rekeys are in the audit log');
  audit.close();
});
