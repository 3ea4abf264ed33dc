/** Helpers for Vigil's own security tests (secplat-*): raw HTTP requests with any headers, the default pipeline on free ports. */
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger } from '../../src/logger';
import { RunningCollector, startCollector } from '../../src/service';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/** An HTTP request with exactly these headers (fetch would add its own and refuses to set Host). */
export function raw(address: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolveP, reject) => {
    const req = request({ host: host.replace(/^\[|\]$/g, ''), port, method, path, headers: { host: address, ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      // A live stream (Server-Sent Events) never ends: its status and headers are the answer.
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        resolveP({ status: res.statusCode ?? 0, headers: res.headers, text: '', json: () => ({}) });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolveP({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The alerts connector added to the default pipeline, so its routes (ack, silences) are registered too. */
export const WITH_ALERTS = `connectors:
  alerts:
exporters:
  nop:
service:
  pipelines:
    logs/alerting:
      receivers: [otlp]
      exporters: [alerts]
    logs/notify:
      receivers: [alerts]
      exporters: [nop]
`;

/** The shipped pipelines.yaml (plus the alerts connector) on free ports in a temp dir, plus `extra` YAML merged over it. */
export async function startDefault(extra = '', env: Record<string, string> = {}): Promise<{ vigil: RunningCollector; dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-secplat-'));
  const allEnv = {
    ...process.env,
    VIGIL_API_ENDPOINT: '127.0.0.1:0', VIGIL_HEALTH_ENDPOINT: '127.0.0.1:0', VIGIL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
    VIGIL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', VIGIL_PROMETHEUS_ENDPOINT: '127.0.0.1:0', VIGIL_METRICS_ENDPOINT: '127.0.0.1:0',
    VIGIL_DB: join(dir, 'vigil.db'), VIGIL_DATA_DIR: dir, ...env,
  };
  const base = readFileSync(resolve(__dirname, '..', '..', 'pipelines.yaml'), 'utf8');
  const vigil = await startCollector({ yaml: extra ? [base, WITH_ALERTS, extra] : [base, WITH_ALERTS], env: allEnv, logger: silentLogger() });
  let stopped = false;
  return {
    vigil,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await vigil.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
