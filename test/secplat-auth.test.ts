/**
 * Authenticator extensions on the OTLP receiver, with the OpenTelemetry SDK's own exporters:
 * bearertokenauth (tokens from a file, rotated by rewriting it) over HTTP and gRPC, basicauth
 * (htpasswd with bcrypt) over HTTP; 401 + WWW-Authenticate, UNAUTHENTICATED, nothing accepted
 * without credentials, and credentials never in the logs.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { Metadata } from '@grpc/grpc-js';
import { OTLPTraceExporter as HttpProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { startCollector } from '../src/service';
import type { OtlpReceiver } from '../receivers/otlp';
import { captureExporter } from './helpers/collector';
import { exportAsync, makeSpans } from './helpers/sdk';

const OLD = 'old-token-abcdefghijklmnop';
const NEW = 'new-token-qrstuvwxyz012345';

t.test('bearertokenauth and basicauth on OTLP/HTTP and gRPC, with the SDK exporters', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-secplat-auth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, `# rotated by CI\n${OLD}\n`);
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret-pass', 4)}\n`);
  let logs = '';
  const logger = pino({ level: 'debug' }, new Writable({ write(c, _e, cb) { logs += c; cb(); } }));
  const { factory, capture } = captureExporter();
  const vigil = await startCollector({ logger, factories: [factory], yaml: [`
extensions:
  bearertokenauth:
    filename: ${tokens}
  basicauth:
    htpasswd:
      file: ${htpasswd}
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0, auth: { authenticator: bearertokenauth } }
      grpc: { endpoint: 127.0.0.1:0, auth: { authenticator: bearertokenauth } }
  otlp/basic:
    protocols:
      http: { endpoint: 127.0.0.1:0, auth: { authenticator: basicauth } }
exporters:
  capture:
service:
  extensions: [bearertokenauth, basicauth]
  data_dir: ${dir}
  telemetry: { metrics: { address: null } }
  pipelines:
    traces:
      receivers: [otlp, otlp/basic]
      exporters: [capture]
`] });
  t.teardown(() => vigil.shutdown());
  const ep = vigil.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints;
  const basicEp = vigil.collector.component<OtlpReceiver>('receiver', 'otlp/basic')!.endpoints.http!;
  const spans = await makeSpans('auth');
  const grpcWith = (token?: string) => {
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return new GrpcTraces({ url: `http://${ep.grpc}`, metadata });
  };
  const httpWith = (auth?: string, url = `http://${ep.http}/v1/traces`) => new HttpProtoTraces({ url, headers: auth ? { Authorization: auth } : {} });
  const sent = () => capture.traces.length;

  t.equal((await exportAsync(httpWith(), spans)).code, 1, 'HTTP without a token is refused');
  t.equal((await exportAsync(httpWith(`Bearer ${NEW}`), spans)).code, 1, 'HTTP with an unknown token is refused');
  t.equal((await exportAsync(grpcWith(), spans)).code, 1, 'gRPC without a token is refused');
  const grpcErr = (await exportAsync(grpcWith('wrong-token-000000000000'), spans)).error as Error & { code?: number };
  t.match(String(grpcErr?.message), /UNAUTHENTICATED|16/, 'gRPC: UNAUTHENTICATED');
  t.equal(sent(), 0, 'nothing was accepted');
  const res = await fetch(`http://${ep.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(res.status, 401);
  t.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);

  t.equal((await exportAsync(httpWith(`Bearer ${OLD}`), spans)).code, 0, 'HTTP with the token');
  t.equal((await exportAsync(grpcWith(OLD), spans)).code, 0, 'gRPC with the token');
  t.equal(sent(), 2);

  // Rotation: the file now holds only the new token; no restart.
  writeFileSync(tokens, `${NEW}\n`);
  const deadline = Date.now() + 30_000;
  while ((await exportAsync(httpWith(`Bearer ${NEW}`), spans)).code !== 0) {
    if (Date.now() > deadline) throw new Error('the new token was never accepted');
    await new Promise((r) => setTimeout(r, 200));
  }
  t.pass('the new token is accepted after the file changed');
  t.equal((await exportAsync(httpWith(`Bearer ${OLD}`), spans)).code, 1, 'the old token is refused');
  t.equal((await exportAsync(grpcWith(OLD), spans)).code, 1, 'also over gRPC');

  const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
  const basicUrl = `http://${basicEp}/v1/traces`;
  t.equal((await exportAsync(httpWith(basic('alice', 'wrong'), basicUrl), spans)).code, 1, 'basic: wrong password');
  t.equal((await exportAsync(httpWith(basic('mallory', 's3cret-pass'), basicUrl), spans)).code, 1, 'basic: unknown user');
  const b401 = await fetch(basicUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(b401.status, 401);
  t.match(b401.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  const before = sent();
  t.equal((await exportAsync(httpWith(basic('alice', 's3cret-pass'), basicUrl), spans)).code, 0, 'basic: right password');
  t.equal(sent(), before + 1);

  for (const secret of [OLD, NEW, 's3cret-pass']) t.notOk(logs.includes(secret), 'credentials are not logged');
});
