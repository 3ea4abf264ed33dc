/**
 * What tracking pipeline runs costs: the `steady` load (10,000 spans/s) plus 1,000 concurrent runs
 * of 20 phases each (half done when measuring starts; each run then ends a phase every 20 s and
 * reports pipeline.progress every 5 s: 50 phase spans and 200 points per second), against Vigil with the pipeline_runs connector (bench/runs.yaml) and without it
 * (bench/runs-baseline.yaml). Both get exactly the same load; the difference in server CPU is the
 * connector's cost.
 *
 *   npm run build && node dist/bench/runs.js [--rounds 2] [--duration 20s]
 *
 * Each round starts a server per config (alternating, pinned to core 1 as `steady` is), starts the
 * 1,000 runs, then runs `bench steady --target` against it while the runs keep reporting.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { decodeMetrics, decodeTraces, encodeMetrics, encodeTraces } from '../src/otlp';
import { silentLogger } from '../src/logger';
import { startCollector } from '../src/service';
import type { PipelineRunsConnector } from '../connectors/pipeline_runs';
import { buildPayloads } from './payloads';
import { Metrics, Span, Traces, millisToNanos } from '../src/model';
import { prepareConfig, startServer } from './server';

const RUNS = 1000;
const PHASES = 20;
/** Phases each run has done before measuring starts. */
const SETUP_PHASES = 10;
const PHASE_EVERY_S = 20;
const PROGRESS_EVERY_S = 5;

function post(url: string, path: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

const resource = { attributes: { 'service.name': 'trainer' }, droppedAttributesCount: 0 };
const scope = { name: 'bench', version: '', attributes: {}, droppedAttributesCount: 0 };
const runAttrs = (run: number) => ({ 'cicd.pipeline.name': `pipeline-${run % 10}`, 'cicd.pipeline.run.id': `run-${run}` });

/** The span of phase `phase` of each run in `runs`, ending now. */
function phaseSpans(runs: number[], phase: number, nowMs: number): Uint8Array {
  const spans: Span[] = runs.map((run) => ({
    traceId: hex(run + 1, 32), spanId: hex(run * 100 + phase + 1, 16), traceState: '', parentSpanId: hex(run + 1, 16), flags: 1, name: `phase-${phase}`, kind: 1,
    startTimeUnixNano: millisToNanos(nowMs - 900), endTimeUnixNano: millisToNanos(nowMs),
    attributes: { ...runAttrs(run), 'cicd.pipeline.task.name': `phase-${phase}`, 'cicd.pipeline.task.run.id': `run-${run}-${phase}`, 'cicd.pipeline.task.type': 'build' },
    droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 1, message: '' },
  }));
  const traces: Traces = { resourceSpans: [{ resource, schemaUrl: '', scopeSpans: [{ scope, schemaUrl: '', spans }] }] };
  return encodeTraces(traces);
}

/** A pipeline.progress point for each run in `runs`. */
function progressPoints(runs: number[], progress: (run: number) => number, nowMs: number): Uint8Array {
  const dataPoints = runs.map((run) => ({ attributes: runAttrs(run), startTimeUnixNano: 0n, timeUnixNano: millisToNanos(nowMs), exemplars: [], flags: 0, value: progress(run), isInt: false }));
  const metrics: Metrics = { resourceMetrics: [{ resource, schemaUrl: '', scopeMetrics: [{ scope, schemaUrl: '', metrics: [{ name: 'pipeline.progress', description: '', unit: '1', metadata: {}, data: { type: 'gauge', dataPoints } }] }] }] };
  return encodeMetrics(metrics);
}

/**
 * The runs' own telemetry while measuring: each run ends a phase every PHASE_EVERY_S seconds and
 * reports its progress every PROGRESS_EVERY_S seconds (sent every 100 ms, spread over the runs).
 */
function runLoad(url: string): { stop: () => Promise<{ spans: number; points: number; refused: number }> } {
  const done = new Array<number>(RUNS).fill(SETUP_PHASES);
  const progress = new Array<number>(RUNS).fill(0);
  let spanCursor = 0;
  let pointCursor = 0;
  let stopped = false;
  const out = { spans: 0, points: 0, refused: 0 };
  const spansPerTick = RUNS / PHASE_EVERY_S / 10;
  const pointsPerTick = RUNS / PROGRESS_EVERY_S / 10;
  const loop = (async () => {
    let due = Date.now();
    while (!stopped) {
      const now = Date.now();
      const spanRuns = Array.from({ length: spansPerTick }, () => spanCursor++ % RUNS);
      const byPhase = new Map<number, number[]>();
      for (const run of spanRuns) {
        const phase = done[run]++ % PHASES;
        const list = byPhase.get(phase) ?? [];
        list.push(run);
        byPhase.set(phase, list);
      }
      const pointRuns = Array.from({ length: pointsPerTick }, () => pointCursor++ % RUNS);
      const requests = [...byPhase].map(([phase, runs]) => post(url, '/v1/traces', phaseSpans(runs, phase, now)));
      requests.push(post(url, '/v1/metrics', progressPoints(pointRuns, (run) => (progress[run] = (progress[run] + 0.001) % 1), now)));
      for (const status of await Promise.all(requests)) if (status !== 200) out.refused++;
      out.spans += spanRuns.length;
      out.points += pointRuns.length;
      due += 100;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return { stop: async () => { stopped = true; await loop; return out; } };
}

function steady(root: string, target: string, pid: number, duration: string): Promise<{ cpuPercent: number; accepted: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(root, 'bin', 'bench.js'), 'steady', '--target', target, '--pid', String(pid), '--duration', duration], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return reject(err ?? new Error(`no result from bench steady:\n${stdout}`));
      const r = JSON.parse(line) as { phases: Array<{ name: string; itemsPerSecond: number; server?: { cpuPercent: number } }> };
      const measured = r.phases.find((p) => p.name === 'measured')!;
      resolve({ cpuPercent: measured.server?.cpuPercent ?? NaN, accepted: measured.itemsPerSecond });
    });
  });
}

async function round(root: string, config: string, duration: string): Promise<{ cpuPercent: number; accepted: number; runSpans: { spans: number; points: number; refused: number } }> {
  const prepared = await prepareConfig(join(root, 'bench', config));
  const doc = parse(readFileSync(prepared.configPath, 'utf8')) as { service: Record<string, unknown> };
  doc.service.data_dir = prepared.workDir;
  writeFileSync(prepared.configPath, stringify(doc));
  const server = await startServer({ root, configPath: prepared.configPath, cores: '1' });
  try {
    const url = prepared.httpUrl!;
    // 1,000 runs in progress, each with SETUP_PHASES of its 20 phases done.
    const all = Array.from({ length: RUNS }, (_, i) => i);
    for (let phase = 0; phase < SETUP_PHASES; phase++) {
      for (let i = 0; i < RUNS; i += 100) await post(url, '/v1/traces', phaseSpans(all.slice(i, i + 100), phase, Date.now()));
    }
    const load = runLoad(url);
    const r = await steady(root, url, server.pid, duration);
    const runSpans = await load.stop();
    return { ...r, runSpans };
  } finally {
    await server.stop();
    rmSync(prepared.workDir, { recursive: true, force: true });
  }
}

/**
 * The connector's own CPU for `seconds` of the same load, measured in-process (process.cpuUsage,
 * so other work on the machine does not count): the steady spans (the harness's SDK-made
 * payloads, decoded), the runs' phase spans and progress points, and the connector's periodic work
 * (stall check every 5 s, persistence every 60 s, metrics every 15 s) on the same simulated
 * schedule. Compared with the server CPU of the steady load, this is the overhead without the noise
 * of a shared machine.
 */
async function direct(seconds: number, withRuns = true): Promise<{ cpuMsPerSecond: number; runs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-runs-bench-'));
  const running = await startCollector({
    logger: silentLogger(),
    yaml: [`receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\nconnectors:\n  pipeline_runs:\n    metrics_interval: 0\n    persist_interval: 0\nexporters:\n  nop:\nservice:\n  data_dir: ${dir}\n  telemetry:\n    metrics:\n      address: null\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [pipeline_runs]\n    metrics:\n      receivers: [otlp]\n      exporters: [pipeline_runs]\n    logs/runs:\n      receivers: [pipeline_runs]\n      exporters: [nop]\n    metrics/runs:\n      receivers: [pipeline_runs]\n      exporters: [nop]\n`],
  });
  try {
    const c = running.collector.component<PipelineRunsConnector>('connector', 'pipeline_runs')!;
    const set = await buildPayloads({ signal: 'traces', encoding: 'protobuf', gzip: false, itemsPerRequest: 100, distinct: 8 });
    const steadyBatches = set.payloads.map((p) => decodeTraces(p.body));
    const all = Array.from({ length: RUNS }, (_, i) => i);
    for (let phase = 0; withRuns && phase < SETUP_PHASES; phase++) for (let i = 0; i < RUNS; i += 100) c.consumeTraces(decodeTraces(phaseSpans(all.slice(i, i + 100), phase, Date.now())));
    c.tracker.persist(true);
    const done = new Array<number>(RUNS).fill(SETUP_PHASES);
    const progress = new Array<number>(RUNS).fill(0);
    // Requests as the receiver would hand them over, decoded before measuring.
    const runTraffic: Array<{ traces: ReturnType<typeof decodeTraces>[]; metrics: ReturnType<typeof decodeMetrics> }> = [];
    let spanCursor = 0;
    let pointCursor = 0;
    for (let tick = 0; tick < seconds * 10; tick++) {
      const byPhase = new Map<number, number[]>();
      for (let k = 0; k < RUNS / PHASE_EVERY_S / 10; k++) {
        const run = spanCursor++ % RUNS;
        const phase = done[run]++ % PHASES;
        byPhase.set(phase, [...(byPhase.get(phase) ?? []), run]);
      }
      const pointRuns = Array.from({ length: RUNS / PROGRESS_EVERY_S / 10 }, () => pointCursor++ % RUNS);
      runTraffic.push({
        traces: [...byPhase].map(([phase, runs]) => decodeTraces(phaseSpans(runs, phase, Date.now()))),
        metrics: decodeMetrics(progressPoints(pointRuns, (run) => (progress[run] = (progress[run] + 0.001) % 1), Date.now())),
      });
    }
    const parts = { steady: 0, runs: 0, periodic: 0, persist: 0 };
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const start = cpu();
    for (let sec = 0; sec < seconds; sec++) {
      for (let tick = 0; tick < 10; tick++) {
        let t0 = cpu();
        for (let b = 0; b < 10; b++) c.consumeTraces(steadyBatches[(tick * 10 + b) % steadyBatches.length]);
        parts.steady += cpu() - t0;
        if (!withRuns) continue;
        t0 = cpu();
        const r = runTraffic[sec * 10 + tick];
        for (const t of r.traces) c.consumeTraces(t);
        c.consumeMetrics(r.metrics);
        parts.runs += cpu() - t0;
      }
      const t0 = cpu();
      const now = Date.now();
      if (sec % 5 === 4) c.tracker.tick(now);
      if (sec % 15 === 14) c.runMetrics.collect(c.tracker.all(), now);
      const t1 = cpu();
      if (sec % 60 === 59) c.tracker.persist((sec + 1) % 240 === 0);
      parts.persist += cpu() - t1;
      parts.periodic += cpu() - t0;
    }
    const used = cpu() - start;
    process.stdout.write(`  CPU ms per second: steady spans ${(parts.steady / seconds).toFixed(2)}, run telemetry ${(parts.runs / seconds).toFixed(2)}, periodic work ${(parts.periodic / seconds).toFixed(2)} (of which persistence ${(parts.persist / seconds).toFixed(2)})\n`);
    return { cpuMsPerSecond: used / seconds, runs: c.tracker.size };
  } finally {
    await running.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  let rounds = 2;
  let duration = '20s';
  let directSeconds = 120;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--rounds') rounds = Number(argv[i + 1]);
    else if (argv[i] === '--duration') duration = argv[i + 1];
    else if (argv[i] === '--direct-seconds') directSeconds = Number(argv[i + 1]);
    else { process.stderr.write(`unknown option ${argv[i]}\n`); return 2; }
  }
  const idle = await direct(directSeconds, false);
  process.stdout.write(`in-process, no runs: the connector used ${idle.cpuMsPerSecond.toFixed(2)} ms of CPU per second of the steady load\n`);
  const d = await direct(directSeconds);
  process.stdout.write(`in-process: the connector used ${d.cpuMsPerSecond.toFixed(2)} ms of CPU per second of load (${directSeconds} s simulated, ${d.runs} runs tracked)\n`);
  if (rounds === 0) return 0;
  const root = join(__dirname, '..', '..');
  const results: Record<string, number[]> = { baseline: [], runs: [] };
  for (let i = 0; i < rounds; i++) {
    for (const [name, config] of [['baseline', 'runs-baseline.yaml'], ['runs', 'runs.yaml']] as const) {
      const r = await round(root, config, duration);
      results[name].push(r.cpuPercent);
      process.stdout.write(`${name} round ${i + 1}: server CPU ${r.cpuPercent.toFixed(1)} % of one core, ${Math.round(r.accepted)} steady spans/s accepted, run telemetry sent: ${r.runSpans.spans} phase spans, ${r.runSpans.points} progress points (${r.runSpans.refused} requests refused)\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const base = median(results.baseline);
  const withRuns = median(results.runs);
  const overhead = ((withRuns - base) / base) * 100;
  // The connector's CPU per second against the server's CPU per second without it (10 ms per % of a core).
  const directOverhead = (d.cpuMsPerSecond / (base * 10)) * 100;
  const idleOverhead = (idle.cpuMsPerSecond / (base * 10)) * 100;
  process.stdout.write(`${JSON.stringify({ scenario: 'runs', date: new Date().toISOString(), rounds, duration, baselineCpuPercent: results.baseline, runsCpuPercent: results.runs, endToEndOverheadPercent: Number(overhead.toFixed(1)), connectorCpuMsPerSecond: Number(d.cpuMsPerSecond.toFixed(2)), directOverheadPercent: Number(directOverhead.toFixed(1)), idleConnectorCpuMsPerSecond: Number(idle.cpuMsPerSecond.toFixed(2)), idleOverheadPercent: Number(idleOverhead.toFixed(1)) })}\n`);
  process.stdout.write(`median server CPU: ${base.toFixed(1)} % without, ${withRuns.toFixed(1)} % with pipeline_runs (1,000 runs × 20 phases): ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} % end to end (noisy on a shared machine)\n`);
  process.stdout.write(`the connector's own CPU, ${d.cpuMsPerSecond.toFixed(2)} ms/s, is ${directOverhead.toFixed(1)} % of the server's ${(base * 10).toFixed(0)} ms/s without it; with no runs, ${idle.cpuMsPerSecond.toFixed(2)} ms/s (${idleOverhead.toFixed(1)} %)\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
}
