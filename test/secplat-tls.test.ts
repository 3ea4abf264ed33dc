/**
 * The shared `tls` block on every listener and client, with certificates made by openssl at test
 * time: the OpenTelemetry SDK's exporters send over TLS to the OTLP receiver (HTTP and gRPC), TLS 1.2
 * is refused where min_version is 1.3, a wrong CA and an expired certificate fail the handshake,
 * mutual TLS refuses a client without a certificate, a rotated certificate is served without a
 * restart, and unusable certificate files stop the start with the file named.
 */
import t from 'tap';
import { copyFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { connect, TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as HttpProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { startCollector } from '../src/service';
import { silentLogger } from '../src/logger';
import type { OtlpReceiver } from '../receivers/otlp';
import type { ApiExtension } from '../extensions/api';
import type { HealthCheckExtension } from '../extensions/health_check';
import type { PrometheusExporter } from '../exporters/prometheus';
import { HttpClient } from '../exporters/webhook/http';
import { OtlpHttpClient } from '../exporters/otlphttp/client';
import { OtlpGrpcClient } from '../exporters/otlp/client';
import { createListenerServer } from '../src/tls';
import { encode } from '../src/otlp';
import { captureExporter } from './helpers/collector';
import { exportAsync, makeSpans } from './helpers/sdk';
import { CertFactory } from './helpers/certs';

const certs = new CertFactory();
t.teardown(() => certs.cleanup());
const ca = certs.ca('vigil-test-ca');
const otherCa = certs.ca('other-ca');
const server = certs.issue(ca, 'server');
const renewed = certs.issue(ca, 'server-renewed');
const client = certs.issue(ca, 'client', { client: true });
const strangerClient = certs.issue(otherCa, 'stranger', { client: true });
const expired = certs.issue(ca, 'expired', { days: -1 });
const caPem = certs.read(ca).cert;

/** Handshake only: resolves with the server certificate's serial, rejects with the TLS error. */
function handshake(address: string, o: { ca?: Buffer; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; cert?: Buffer; key?: Buffer; get?: string } = {}): Promise<string> {
  const { host, port } = split(address);
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host, port, servername: 'localhost', ca: o.ca ?? caPem, maxVersion: o.maxVersion, cert: o.cert, key: o.key }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      if (!o.get) { s.end(); return resolve(serial); }
      // With TLS 1.3 the server's verdict on a client certificate arrives after the handshake: ask for a page.
      s.write(`GET ${o.get} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      let text = '';
      s.on('data', (d) => (text += d));
      s.on('end', () => (/^HTTP\/1\.1 \d+/.test(text) ? resolve(text.slice(9, 12)) : reject(new Error('connection closed without an answer'))));
    });
    s.on('error', reject);
  });
}

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

function httpsGet(url: string, o: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca: o.ca ?? caPem, cert: o.cert, key: o.key, headers: { host: '127.0.0.1' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
}

t.test('every listener speaks TLS; SDK exporters send over it; 1.2, wrong CA, no client certificate refused; rotation without restart', async (t) => {
  // The receiver's files are copies, so the rotation below can overwrite them.
  const live = { cert: `${certs.dir}/live.pem`, key: `${certs.dir}/live-key.pem` };
  copyFileSync(server.cert, live.cert);
  copyFileSync(server.key, live.key);
  const { factory, capture } = captureExporter();
  const tlsBlock = (extra = '') => `{ cert_file: ${server.cert}, key_file: ${server.key}${extra} }`;
  const vigil = await startCollector({ logger: silentLogger(), factories: [factory], yaml: [`
extensions:
  api:
    endpoint: 127.0.0.1:0
    audit: { enabled: false }
    tls: ${tlsBlock(`, client_ca_file: ${ca.cert}`)}
  health_check:
    endpoint: 127.0.0.1:0
    tls: ${tlsBlock()}
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0, tls: { cert_file: ${live.cert}, key_file: ${live.key}, reload_interval: 100ms } }
      grpc: { endpoint: 127.0.0.1:0, tls: { cert_file: ${live.cert}, key_file: ${live.key}, reload_interval: 100ms } }
  otlp/mtls:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, tls: ${tlsBlock(`, client_ca_file: ${ca.cert}`)} }
exporters:
  capture:
  prometheus:
    endpoint: 127.0.0.1:0
    tls: ${tlsBlock(', min_version: "1.2"')}
service:
  extensions: [api, health_check]
  telemetry: { metrics: { address: 127.0.0.1:0, tls: ${tlsBlock()} } }
  pipelines:
    traces:
      receivers: [otlp, otlp/mtls]
      exporters: [capture]
    metrics:
      receivers: [otlp]
      exporters: [prometheus]
`] });
  t.teardown(() => vigil.shutdown());
  const ep = vigil.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints as { http: string; grpc: string };
  const api = vigil.collector.component<ApiExtension>('extension', 'api')!.address!;
  const health = vigil.collector.component<HealthCheckExtension>('extension', 'health_check')!.address!;
  const prom = vigil.collector.component<PrometheusExporter>('exporter', 'prometheus')!.address!;
  const promAddr = `${prom.host}:${prom.port}`;
  const spans = await makeSpans('tls');

  // The real SDK exporters, trusting the test CA.
  const viaHttp = new HttpProtoTraces({ url: `https://localhost:${split(ep.http).port}/v1/traces`, httpAgentOptions: { ca: caPem } });
  t.equal((await exportAsync(viaHttp, spans)).code, 0, 'SDK OTLP/HTTP exporter over TLS');
  const viaGrpc = new GrpcTraces({ url: `https://localhost:${split(ep.grpc).port}`, credentials: grpc.credentials.createSsl(caPem) });
  t.equal((await exportAsync(viaGrpc, spans)).code, 0, 'SDK OTLP/gRPC exporter over TLS');
  await viaGrpc.shutdown();
  t.equal(capture.traces.length, 2, 'both batches arrived');
  const untrusting = new HttpProtoTraces({ url: `https://localhost:${split(ep.http).port}/v1/traces`, httpAgentOptions: { ca: certs.read(otherCa).cert } });
  t.equal((await exportAsync(untrusting, spans)).code, 1, 'an exporter that trusts another CA fails');
  t.equal(capture.traces.length, 2);

  // Plain HTTP to a TLS listener gets nothing useful; TLS 1.2 is refused where 1.3 is the minimum.
  await t.rejects(fetch(`http://${ep.http}/v1/traces`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 'plain HTTP fails');
  for (const [what, addr] of [['otlp http', ep.http], ['otlp grpc', ep.grpc], ['health', health], ['metrics', vigil.metricsAddress!]] as const) {
    await t.rejects(handshake(addr, { maxVersion: 'TLSv1.2' }), /protocol version|alert/i, `${what}: TLS 1.2 refused (min 1.3)`);
    t.ok(await handshake(addr), `${what}: TLS 1.3 accepted`);
    await t.rejects(handshake(addr, { ca: certs.read(otherCa).cert }), /self.signed|unable to (get|verify)/i, `${what}: a client trusting another CA fails`);
  }
  t.ok(await handshake(promAddr, { maxVersion: 'TLSv1.2' }), 'prometheus with min_version "1.2" accepts TLS 1.2');
  t.equal(await httpsGet(`https://localhost:${prom.port}/metrics`), 200, 'prometheus scrape over TLS');
  t.equal(await httpsGet(`https://localhost:${split(health).port}/`), 200, 'health over TLS');
  t.equal(await httpsGet(`https://localhost:${split(vigil.metricsAddress!).port}/metrics`), 200, 'self metrics over TLS');

  // Mutual TLS on the API: no certificate, or one from another CA, is refused; the CA's client gets through.
  await t.rejects(handshake(api, { get: '/api/session' }), /certificate|alert|closed|ECONNRESET/i, 'API: no client certificate, refused');
  await t.rejects(handshake(api, { get: '/api/session', ...certs.read(strangerClient) }), /certificate|alert|closed|ECONNRESET/i, 'API: client certificate of another CA, refused');
  t.equal(await handshake(api, { get: '/api/session', ...certs.read(client) }), '200', 'API: the client certificate gets an answer');
  // Mutual TLS on OTLP/gRPC, with the SDK exporter: refused without a client certificate.
  const mtlsGrpc = vigil.collector.component<OtlpReceiver>('receiver', 'otlp/mtls')!.endpoints.grpc!;
  const clientPem = certs.read(client);
  const sdkNoCert = new GrpcTraces({ url: `https://localhost:${split(mtlsGrpc).port}`, credentials: grpc.credentials.createSsl(caPem) });
  t.equal((await exportAsync(sdkNoCert, spans)).code, 1, 'gRPC mTLS: the SDK exporter without a client certificate is refused');
  await sdkNoCert.shutdown();
  const sdkWithCert = new GrpcTraces({ url: `https://localhost:${split(mtlsGrpc).port}`, credentials: grpc.credentials.createSsl(caPem, clientPem.key, clientPem.cert) });
  t.equal((await exportAsync(sdkWithCert, spans)).code, 0, 'gRPC mTLS: with the client certificate it is accepted');
  await sdkWithCert.shutdown();
  t.equal(capture.traces.length, 3);

  // Vigil's own client (webhook/alertmanager HttpClient) with cert_file/key_file.
  const mtlsClient = new HttpClient(`https://localhost:${split(api).port}/api/session`, { ca_file: ca.cert, cert_file: client.cert, key_file: client.key });
  t.teardown(() => mtlsClient.close());
  const r = await mtlsClient.post('{}', { 'content-type': 'application/json', host: '127.0.0.1' });
  t.not(r.status, 0, 'HttpClient with a client certificate is answered by the mTLS API');
  const noCertClient = new HttpClient(`https://localhost:${split(api).port}/api/session`, { ca_file: ca.cert });
  t.teardown(() => noCertClient.close());
  await t.rejects(noCertClient.post('{}', { 'content-type': 'application/json' }), 'HttpClient without a client certificate is refused');

  // Vigil's exporters' clients against the TLS receiver.
  const body = Buffer.from(encode('traces', capture.traces[0] as never));
  const otlphttp = new OtlpHttpClient({ ca_file: ca.cert });
  t.teardown(() => otlphttp.close());
  t.equal((await otlphttp.post(new URL(`https://localhost:${split(ep.http).port}/v1/traces`), body, { 'content-type': 'application/x-protobuf' })).status, 200, 'otlphttp client with ca_file');
  const wrongCa = new OtlpHttpClient({ ca_file: otherCa.cert });
  t.teardown(() => wrongCa.close());
  await t.rejects(wrongCa.post(new URL(`https://localhost:${split(ep.http).port}/v1/traces`), body, { 'content-type': 'application/x-protobuf' }), /SELF_SIGNED|UNABLE_TO|CERT/, 'otlphttp client with the wrong CA fails');
  const named = new OtlpHttpClient({ ca_file: ca.cert, server_name_override: 'localhost' });
  t.teardown(() => named.close());
  t.equal((await named.post(new URL(`https://127.0.0.1:${split(ep.http).port}/v1/traces`), body, { 'content-type': 'application/x-protobuf' })).status, 200, 'server_name_override: verified against "localhost" while connecting to 127.0.0.1');
  const otlpGrpc = new OtlpGrpcClient({ target: `localhost:${split(ep.grpc).port}`, secure: true, tls: { insecure: false, ca_file: ca.cert }, compression: 'gzip', headers: {}, timeoutMs: 10_000 });
  t.teardown(() => otlpGrpc.close());
  await otlpGrpc.export('traces', capture.traces[0] as never, new AbortController().signal);
  t.equal(capture.traces.length, 6, 'otlp (gRPC) exporter client with ca_file delivered');

  // Rotation: overwrite the receiver's files with a renewed certificate; new handshakes get it, no restart.
  const before = await handshake(ep.http);
  const renewedSerial = new X509Certificate(certs.read(renewed).cert).serialNumber;
  t.not(before, renewedSerial);
  copyFileSync(renewed.key, live.key);
  copyFileSync(renewed.cert, live.cert);
  for (const addr of [ep.http, ep.grpc]) {
    const deadline = Date.now() + 30_000;
    while ((await handshake(addr)) !== renewedSerial) {
      if (Date.now() > deadline) throw new Error(`${addr} never served the renewed certificate`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  t.pass('HTTP and gRPC serve the renewed certificate without a restart');
  t.equal((await exportAsync(viaHttp, spans)).code, 0, 'the SDK exporter keeps working after the rotation');
});

t.test('a client refuses an expired server certificate', async (t) => {
  const srv = createHttpsServer({ ...certs.read(expired) }, (_q, s) => s.end('ok'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const c = new HttpClient(`https://localhost:${(srv.address() as AddressInfo).port}/`, { ca_file: ca.cert });
  t.teardown(() => c.close());
  await t.rejects(c.post('x', {}), /CERT_HAS_EXPIRED/, 'webhook client: expired certificate refused');
});

t.test('unusable certificate files stop the start, naming the file', async (t) => {
  const logger = silentLogger();
  const h = () => {};
  t.throws(() => createListenerServer({ cert_file: expired.cert, key_file: expired.key }, 'receivers.otlp.protocols.http.tls', logger, h), new RegExp(`expired.*${expired.cert.replace(/[.]/g, '\\.')}|${expired.cert.replace(/[.]/g, '\\.')}.*expired`), 'expired certificate');
  t.throws(() => createListenerServer({ cert_file: server.cert, key_file: client.key }, 'extensions.api.tls', logger, h), /does not match/, 'key of another certificate');
  t.throws(() => createListenerServer({ cert_file: `${certs.dir}/missing.pem`, key_file: server.key }, 'extensions.api.tls', logger, h), /extensions\.api\.tls\.cert_file: cannot read .*missing\.pem: ENOENT/, 'missing file');
  t.throws(() => createListenerServer({ cert_file: server.key, key_file: server.key }, 'x.tls', logger, h), /no readable PEM certificate/, 'a key where the certificate should be');
  await t.rejects(startCollector({ logger, yaml: [`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, tls: { cert_file: ${expired.cert}, key_file: ${expired.key} } }
exporters:
  nop:
service:
  telemetry: { metrics: { address: null } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
`] }), /expired/, 'a collector with an expired gRPC certificate does not start');
});
