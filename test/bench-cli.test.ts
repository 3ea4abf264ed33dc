import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../bench/cli';
import { ProcSampler, sampleProcess } from '../bench/proc';
import { SCENARIOS } from '../bench/scenarios';
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
  t.equal(p.memoryLimitMiB, 800);
  t.match(doc.service.telemetry.metrics.address, /^127\.0\.0\.1:\d+$/);
  t.same(doc.service.pipelines.traces.processors, ['memory_limiter', 'batch'], 'the rest is kept');
});

t.test("every scenario's config has a pipeline for its signal fed by an otlp receiver on its transport", async (t) => {
  for (const s of SCENARIOS) {
    const doc = parse(readFileSync(join(__dirname, '..', 'bench', `${s.config}.yaml`), 'utf8'));
    const pipeline = doc.service.pipelines[s.signal];
    t.ok(pipeline, `${s.name}: ${s.config}.yaml has a ${s.signal} pipeline`);
    t.ok(pipeline?.receivers.includes('otlp'), `${s.name}: fed by otlp`);
    t.ok(doc.receivers.otlp.protocols[s.transport] !== undefined, `${s.name}: otlp serves ${s.transport}`);
    if (s.verifyTables) t.ok(pipeline?.exporters.includes('sqlite'), `${s.name}: exports to sqlite`);
    t.ok(s.warmupMs + s.durationMs + (s.overload ? s.overload.capacityMs + s.overload.settleMs + s.overload.recoveryMs : 0) < 50_000, `${s.name}: default run well under a minute`);
  }
});

t.test('process sampling reads CPU time and RSS from /proc', async (t) => {
  const a = sampleProcess(process.pid)!;
  t.ok(a.rssBytes > 10 * 2 ** 20, 'RSS in bytes');
  // Burn 200 ms of CPU as Node itself counts it, however busy the machine is, then compare.
  const c0 = process.cpuUsage();
  const wallStart = Date.now();
  let x = 0;
  const used = () => {
    const u = process.cpuUsage(c0);
    return u.user + u.system;
  };
  while (used() < 200_000 && Date.now() - wallStart < 10_000) for (let i = 0; i < 100_000; i++) x += Math.sqrt(x + i);
  const c1 = process.cpuUsage(c0);
  const b = sampleProcess(process.pid)!;
  const nodeSeconds = (c1.user + c1.system) / 1e6;
  const procSeconds = b.cpuSeconds - a.cpuSeconds;
  // The two clocks are read at slightly different moments, and the process's other threads (GC,
  // compilation, the loader) run in between: agreement within a factor of 2 is what this can
  // promise on a busy machine, and it still catches a wrong unit (ticks, ms) by a factor of 10 or more.
  t.ok(procSeconds >= nodeSeconds / 2 && procSeconds <= nodeSeconds * 2, `/proc says ${procSeconds.toFixed(2)} s, Node says ${nodeSeconds.toFixed(2)} s`);
  t.ok(ProcSampler.cpuPercent(a, b) > 0);
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
