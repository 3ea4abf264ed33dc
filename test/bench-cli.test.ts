import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../bench/cli';
import { ProcSampler, sampleProcess } from '../bench/proc';
import { prepareConfig } from '../bench/server';
import { startSink } from '../bench/sink';

t.test('prepareConfig moves listeners to free ports and the database into a scratch dir', async (t) => {
  const p = await prepareConfig(join(__dirname, '..', 'bench', 'overload.yaml'));
  t.teardown(() => rmSync(p.workDir, { recursive: true, force: true }));
  const doc = parse(readFileSync(p.configPath, 'utf8'));
  const http = doc.receivers.otlp.protocols.http.endpoint as string;
  const grpc = doc.receivers.otlp.protocols.grpc.endpoint as string;
  t.match(http, /^127\.0\.0\.1:\d+$/);
  t.not(http, '127.0.0.1:4318');
  t.not(http, grpc);
  t.equal(p.httpUrl, `http://${http}`);
  t.equal(p.grpcAddress, grpc);
  t.equal(doc.exporters.sqlite.path, p.sqlitePath);
  t.ok(p.sqlitePath!.startsWith(p.workDir));
  t.equal(p.memoryLimitMiB, 400);
  t.match(doc.service.telemetry.metrics.address, /^127\.0\.0\.1:\d+$/);
  t.same(doc.service.pipelines.traces.processors, ['memory_limiter', 'batch'], 'the rest is kept');
});

t.test('process sampling reads CPU time and RSS from /proc', async (t) => {
  const a = sampleProcess(process.pid)!;
  t.ok(a.rssBytes > 10 * 2 ** 20, 'RSS in bytes');
  const until = Date.now() + 150;
  let x = 0;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  const b = sampleProcess(process.pid)!;
  t.ok(b.cpuSeconds - a.cpuSeconds >= 0.05, `busy loop shows as CPU time (${(b.cpuSeconds - a.cpuSeconds).toFixed(2)} s)`);
  const pct = ProcSampler.cpuPercent(a, b);
  t.ok(pct > 30 && pct < 250, `cpu percent ${pct.toFixed(0)}`);
  t.equal(sampleProcess(2 ** 22 + 12345), undefined, 'no such process');
});

t.test('bench main against a running endpoint prints a table and a JSON line that agree with the sink', async (t) => {
  const sink = await startSink();
  t.teardown(() => sink.close());
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  let code: number;
  let unknownCode: number;
  try {
    unknownCode = await main(['no-such-scenario']);
    out = '';
    code = await main(['logs', '--target', sink.httpUrl, '--duration', '400ms', '--warmup', '0', '--no-pin', '--items', '30', '--distinct', '2', '--signal', 'logs']);
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
  t.equal(code, 0);
  const lines = out.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]);
  t.equal(result.scenario, 'logs');
  t.equal(result.phases.length, 1);
  t.equal(result.phases[0].stats.itemsAccepted, sink.counts.items);
  t.equal(result.phases[0].stats.byStatus['200'], sink.counts.requests);
  t.match(out, /records\/s accepted/);
  t.equal(result.phases[0].server, undefined, 'no pid given, so no server figures');
  t.equal(unknownCode, 2, 'unknown scenario is a usage error');
});
