/**
 * Webhook delivery latency on loopback: from the moment a notification is handed to the webhook
 * exporter (its logs consume() call) until a local HTTP receiver has read the whole request.
 * Target: within 50 ms.
 *
 *   npx ts-node-transpile-only bench/webhook-latency.ts [--count 2000] [--warmup 200] [--gap-ms 2] [--secret s] [--json]
 *   (or, after `npm run build`: node dist/bench/webhook-latency.js ...)
 *
 * Notifications are sent one at a time with a small gap (how the alert router releases them),
 * through the full exporter path: notification parsing, the sending queue, HMAC signing, a
 * keep-alive HTTP connection.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookExporterFactory, WebhookConfig } from '../exporters/webhook';
import { buildPayload, notificationLogs, toNotificationRecord } from '../src/alerting/notification';
import { fingerprint } from '../src/alerting/labels';
import { silentLogger } from '../src/logger';
import { Telemetry } from '../src/telemetry';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const count = Number(arg('count', '2000'));
  const warmup = Number(arg('warmup', '200'));
  const gapMs = Number(arg('gap-ms', '2'));
  const secret = arg('secret', 'bench-secret');
  const handedAt = new Map<string, bigint>();
  const latencies: number[] = [];
  let received = 0;
  let done: () => void = () => undefined;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrived = process.hrtime.bigint();
      const key = JSON.parse(Buffer.concat(chunks).toString()).groupKey as string;
      const t0 = handedAt.get(key);
      if (t0 !== undefined && received >= warmup) latencies.push(Number(arrived - t0) / 1e6);
      received++;
      res.writeHead(200).end();
      if (received === warmup + count) done();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const config = {
    url, headers: {}, secret, signature_header: 'X-Vigil-Signature', body_template: '', content_type: 'application/json', tls: {}, receivers: [],
    timeout: '10s', sending_queue: { enabled: true, num_consumers: 10, queue_size: 1000 }, retry_on_failure: { enabled: true },
  } as unknown as WebhookConfig;
  const ex = webhookExporterFactory.create({ id: 'webhook/bench', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: '.' }, ['logs']);
  const finished = new Promise<void>((r) => { done = r; });

  for (let i = 0; i < warmup + count; i++) {
    const labels = { alertname: 'BenchAlert', severity: 'warning', instance: `host-${i}` };
    const groupKey = `{}:{alertname="BenchAlert", instance="host-${i}"}`;
    const payload = buildPayload({
      receiver: 'bench', groupKey, groupLabels: { alertname: 'BenchAlert', instance: `host-${i}` }, externalURL: 'http://127.0.0.1:8686',
      alerts: [{ status: 'firing', labels, annotations: { summary: `bench alert ${i}` }, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: fingerprint(labels) }],
    });
    const logs = notificationLogs([toNotificationRecord({ receiver: 'bench', groupKey, status: 'firing', payload })]);
    handedAt.set(groupKey, process.hrtime.bigint());
    await ex.logs!.consume(logs);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await finished;
  await ex.shutdown!();
  server.close();

  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((s, x) => s + x, 0) / latencies.length;
  const result = {
    notifications: latencies.length, warmup, gapMs,
    meanMs: +mean.toFixed(3), p50Ms: +pct(latencies, 50).toFixed(3), p95Ms: +pct(latencies, 95).toFixed(3),
    p99Ms: +pct(latencies, 99).toFixed(3), maxMs: +latencies[latencies.length - 1].toFixed(3),
    within50ms: +(latencies.filter((x) => x <= 50).length / latencies.length * 100).toFixed(2),
  };
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(`webhook delivery latency over loopback, ${result.notifications} notifications (after ${warmup} warm-up, ${gapMs} ms apart)\n`);
    process.stdout.write(`  mean ${result.meanMs} ms  p50 ${result.p50Ms} ms  p95 ${result.p95Ms} ms  p99 ${result.p99Ms} ms  max ${result.maxMs} ms\n`);
    process.stdout.write(`  ${result.within50ms}% within 50 ms (target: all)\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
