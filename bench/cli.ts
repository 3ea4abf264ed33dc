/**
 * `npm run bench -- <scenario> [options]`: starts Vigil with the scenario's config (or targets any
 * OTLP endpoint), drives load at it, samples the server from /proc and prints the result.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, appendFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../src/paths';
import { parseDuration } from '../src/util/duration';
import { Generator, type PhaseOptions, type PhaseStats } from './load';
import { buildPayloads, type BenchSignal, type Encoding } from './payloads';
import { ProcSampler, type ProcSample } from './proc';
import { formatTop, topFunctions } from './profile-summary';
import { formatTable, jsonLine, machineDescription, type BenchResult, type PhaseResult, type ServerFigures } from './report';
import { SCENARIOS, findScenario, type Scenario } from './scenarios';
import { prepareConfig, startServer, type PreparedConfig, type RunningServer } from './server';
import { createTransport } from './transport';

const USAGE = `usage: npm run bench -- <scenario> [options]
       npm run bench -- profile FILE.cpuprofile [N]   (top N functions by self time)
       npm run bench -- crash [--cycles N] [--configs default,queue,edge] [--throughput SECONDS]   (kill -9 harness, bench/crash)
       npm run bench -- outage [--minutes N] [--rate N] | queue-ratio [--seconds N]   (bench/durability.ts)

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(15)} ${s.summary}`).join('\n')}

options (each overrides the scenario's default):
  --duration D          measured time, e.g. 15s
  --warmup D            unmeasured load before it, e.g. 3s
  --rate N              items per second to offer (0 = max rate)
  --concurrency N       requests in flight
  --items N             items per request
  --distinct N          distinct pre-encoded requests to cycle through (default 8)
  --encoding E          protobuf | json
  --gzip / --no-gzip    compress request bodies
  --transport T         http | grpc
  --signal S            traces | metrics | logs
  --config FILE         collector config instead of bench/<scenario>.yaml
  --target URL          load an already running collector (http://host:port; host:port for gRPC);
                        "sink" starts the harness's own do-nothing receiver (the generator's ceiling)
  --pid N               with --target: sample this process's CPU and RSS
  --pin / --no-pin      server on --server-cores, generator on --generator-cores (default: per scenario)
  --server-cores C      default 1
  --generator-cores C   default 0
  --cpu-prof [DIR]      write a V8 CPU profile of the server (default dir bench/results/profiles)
  --timeout D           per-request timeout (default 30s)
  --out FILE            also append the JSON line to FILE
  --keep                keep the scratch directory (config, SQLite file)
`;

interface Options {
  scenario: Scenario;
  distinct: number;
  configFile?: string;
  target?: string;
  pid?: number;
  serverCores: string;
  generatorCores: string;
  cpuProfDir?: string;
  timeoutMs: number;
  out?: string;
  keep: boolean;
}

function parseArgs(argv: string[], root: string): Options | string {
  const name = argv[0];
  if (!name || name === '--help' || name === '-h' || name === 'list') return USAGE;
  const found = findScenario(name);
  if (!found) return `unknown scenario "${name}"\n\n${USAGE}`;
  const s: Scenario = { ...found, overload: found.overload && { ...found.overload } };
  const o: Options = { scenario: s, distinct: 8, serverCores: '1', generatorCores: '0', timeoutMs: 30_000, keep: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a non-negative number`);
      return v;
    };
    switch (a) {
      case '--duration': s.durationMs = parseDuration(value()); break;
      case '--warmup': s.warmupMs = parseDuration(value()); break;
      case '--rate': s.rate = int(); break;
      case '--concurrency': s.concurrency = Math.max(1, int()); break;
      case '--items': s.itemsPerRequest = Math.max(1, int()); break;
      case '--distinct': o.distinct = Math.max(1, int()); break;
      case '--encoding': s.encoding = oneOf(value(), ['protobuf', 'json']) as Encoding; break;
      case '--gzip': s.gzip = true; break;
      case '--no-gzip': s.gzip = false; break;
      case '--transport': s.transport = oneOf(value(), ['http', 'grpc']) as 'http' | 'grpc'; break;
      case '--signal': s.signal = oneOf(value(), ['traces', 'metrics', 'logs']) as BenchSignal; break;
      case '--config': o.configFile = resolve(value()); break;
      case '--target': o.target = value(); break;
      case '--pid': o.pid = int(); break;
      case '--pin': s.pin = true; break;
      case '--no-pin': s.pin = false; break;
      case '--server-cores': o.serverCores = value(); break;
      case '--generator-cores': o.generatorCores = value(); break;
      case '--cpu-prof':
        o.cpuProfDir = argv[i + 1] && !argv[i + 1].startsWith('--') ? resolve(argv[++i]) : join(root, 'bench', 'results', 'profiles');
        break;
      case '--timeout': o.timeoutMs = parseDuration(value()); break;
      case '--out': o.out = resolve(value()); break;
      case '--keep': o.keep = true; break;
      default: throw new Error(`unknown option ${a}\n\n${USAGE}`);
    }
  }
  return o;
}

function oneOf(v: string, allowed: string[]): string {
  if (!allowed.includes(v)) throw new Error(`expected one of ${allowed.join(', ')}, got "${v}"`);
  return v;
}

const unitOf = (signal: BenchSignal) => (signal === 'traces' ? 'spans' : signal === 'metrics' ? 'points' : 'records');

/** A one-line progress report, redrawn in place; only when stderr is a terminal. */
function progressPrinter(phase: string, totalMs: number, signal: BenchSignal, sampler?: ProcSampler) {
  if (!process.stderr.isTTY) return undefined;
  let last: { at: number; items: number; cpu?: ProcSample } = { at: 0, items: 0 };
  return (p: PhaseStats) => {
    const cpu = sampler?.samples[sampler.samples.length - 1];
    const rate = ((p.itemsAccepted - last.items) / Math.max(1, p.elapsedMs - last.at)) * 1000;
    const cpuPct = cpu && last.cpu && cpu !== last.cpu ? ProcSampler.cpuPercent(last.cpu, cpu) : undefined;
    const width = 20;
    const done = Math.min(width, Math.round((p.elapsedMs / Math.max(1, totalMs)) * width));
    const bar = '#'.repeat(done) + '.'.repeat(width - done);
    const parts = [`[${bar}] ${phase} ${(p.elapsedMs / 1000).toFixed(0)}/${(totalMs / 1000).toFixed(0)} s`, `${Math.round(rate).toLocaleString('en-US')} ${unitOf(signal)}/s`];
    if (cpuPct !== undefined) parts.push(`cpu ${cpuPct.toFixed(0)}%`);
    if (cpu) parts.push(`rss ${(cpu.rssBytes / 2 ** 20).toFixed(0)} MiB`);
    const errors = p.requests - Object.entries(p.byStatus).filter(([k]) => /^2|OK$/.test(k)).reduce((a, [, v]) => a + v, 0);
    if (errors > 0) parts.push(`errors ${errors}`);
    process.stderr.write(`\r${parts.join('  ')}\x1b[K`);
    last = { at: p.elapsedMs, items: p.itemsAccepted, cpu };
  };
}

function serverFigures(sampler: ProcSampler, from: ProcSample | undefined, to: ProcSample | undefined, accepted: number, alive: boolean): ServerFigures | undefined {
  if (!from || !to) return undefined;
  const cpuSeconds = to.cpuSeconds - from.cpuSeconds;
  const rss = sampler.rss(from.at, to.at);
  return {
    pid: sampler.pid,
    cpuPercent: ProcSampler.cpuPercent(from, to),
    itemsPerCpuSecond: cpuSeconds > 0 ? accepted / cpuSeconds : 0,
    rssPeakMiB: rss.peak / 2 ** 20,
    rssSteadyMiB: rss.steady / 2 ** 20,
    alive,
  };
}

function countRows(dbPath: string, table: string): number {
  if (!/^\w+$/.test(table)) throw new Error(`bad table name ${table}`);
  // Loaded here so the harness works where better-sqlite3 is not built.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const root = projectRoot();
  // The crash harness (bench/crash) has options of its own.
  if (argv[0] === 'crash') return (await import('./crash')).runCrash(argv.slice(1));
  if (argv[0] === 'outage' || argv[0] === 'queue-ratio') return (await import('./durability')).runDurability(argv);
  let opts: Options | string;
  try {
    opts = parseArgs(argv, root);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (argv[0] === 'profile') {
    if (!argv[1]) {
      process.stderr.write('usage: npm run bench -- profile FILE.cpuprofile [N]\n');
      return 2;
    }
    process.stdout.write(`${formatTop(topFunctions(resolve(argv[1]), root, Number(argv[2]) || 30))}\n`);
    return 0;
  }
  if (typeof opts === 'string') {
    process.stdout.write(opts);
    return argv[0] && argv[0] !== 'list' && argv[0] !== '--help' && argv[0] !== '-h' ? 2 : 0;
  }
  const o = opts;
  const s = o.scenario;
  const notes: string[] = [];
  const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

  log(`encoding ${o.distinct} ${s.signal} requests of ${s.itemsPerRequest} items (${s.encoding}${s.gzip ? ', gzip' : ''})`);
  const set = await buildPayloads({ signal: s.signal, encoding: s.encoding, gzip: s.gzip, itemsPerRequest: s.itemsPerRequest, distinct: o.distinct });
  // Trace requests get fresh ids, metric requests fresh point times, so a store that keys on them
  // sees no duplicates; gzip bodies would need recompressing per request, so those repeat.
  const freshIds = s.signal !== 'logs' && !s.gzip;
  if (s.gzip && s.verifyTables) notes.push('gzip bodies repeat their ids; a store keyed on ids may count fewer rows');

  let prepared: PreparedConfig | undefined;
  let server: RunningServer | undefined;
  let target = o.target;
  let pid = o.pid;
  if (target === 'sink') {
    // The harness's own do-nothing receiver: shows the generator's ceiling on this machine.
    server = await startServer({ root, argv: [join(__dirname, 'sink-main.js')], cores: s.pin ? o.serverCores : undefined, cpuProfDir: o.cpuProfDir });
    const where = JSON.parse(server.readyLine) as { http: string; grpc: string };
    target = s.transport === 'grpc' ? where.grpc : where.http;
    pid = server.pid;
  } else if (!target) {
    const config = o.configFile ?? join(root, 'bench', `${s.config}.yaml`);
    if (!existsSync(join(root, 'bin', 'vigil.js'))) throw new Error('bin/vigil.js not found: the harness starts Vigil from the project root');
    prepared = await prepareConfig(config);
    target = s.transport === 'grpc' ? prepared.grpcAddress : prepared.httpUrl;
    if (!target) throw new Error(`${config} has no otlp receiver with a ${s.transport} protocol`);
    if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
    log(`starting vigil with ${config}${s.pin ? ` on core ${o.serverCores}` : ''}`);
    try {
      server = await startServer({ root, configPath: prepared.configPath, cores: s.pin ? o.serverCores : undefined, cpuProfDir: o.cpuProfDir });
    } catch (e) {
      if (!o.keep) rmSync(prepared.workDir, { recursive: true, force: true });
      throw e;
    }
    pid = server.pid;
  }
  if (s.pin) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', o.generatorCores, String(process.pid)], { stdio: 'ignore' });
    } catch {
      notes.push('could not pin the generator with taskset');
    }
  }

  const transport = createTransport({
    kind: s.transport, target, signal: s.signal, contentType: set.contentType, contentEncoding: set.contentEncoding,
    concurrency: Math.max(s.concurrency, s.overload?.concurrency ?? 0), timeoutMs: o.timeoutMs,
  });
  const gen = new Generator(transport, set);
  const sampler = pid !== undefined ? new ProcSampler(pid) : undefined;
  sampler?.start();
  const alive = () => (server ? server.alive() : pid !== undefined ? sampler!.sampleNow() !== undefined : true);

  let exitCode = 0;
  const phases: PhaseResult[] = [];
  const runPhase = async (name: string, p: Omit<PhaseOptions, 'onTick' | 'freshIds'>, keep = true): Promise<PhaseResult> => {
    const from = sampler?.sampleNow();
    const stats = await gen.runPhase({ ...p, freshIds, onTick: progressPrinter(name, p.durationMs, s.signal, sampler) });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const to = sampler?.sampleNow();
    const result: PhaseResult = {
      name,
      offeredRate: p.rate,
      itemsPerSecond: stats.elapsedMs > 0 ? (stats.itemsAccepted / stats.elapsedMs) * 1000 : 0,
      stats,
      server: sampler ? serverFigures(sampler, from, to, stats.itemsAccepted, alive()) : undefined,
    };
    if (keep) phases.push(result);
    // Refusing everything is a fair answer to overload, but not to normal load.
    if (keep && name !== 'overload' && stats.requests > 0 && stats.itemsAccepted === 0) {
      notes.push(`nothing was accepted in the ${name} phase (${Object.keys(stats.byStatus).join(', ')})`);
      exitCode = 1;
    }
    log(`${name}: ${Math.round(result.itemsPerSecond).toLocaleString('en-US')} ${unitOf(s.signal)}/s accepted`);
    return result;
  };

  const result: BenchResult = {
    scenario: s.name, date: new Date().toISOString(), machine: machineDescription(), target: o.target ?? `vigil (${o.configFile ?? `bench/${s.config}.yaml`})`,
    transport: s.transport, signal: s.signal, encoding: s.encoding, gzip: s.gzip, itemsPerRequest: s.itemsPerRequest,
    concurrency: s.concurrency, pinned: s.pin, phases, notes,
  };
  try {
    if (s.warmupMs > 0) await runPhase('warm-up', { rate: s.rate, concurrency: s.concurrency, durationMs: s.warmupMs }, false);
    if (s.overload) {
      const ov = s.overload;
      const capacity = await runPhase('capacity', { rate: 0, concurrency: s.concurrency, durationMs: ov.capacityMs });
      const offered = Math.max(1, Math.round(capacity.itemsPerSecond * ov.factor));
      const over = await runPhase('overload', { rate: offered, concurrency: ov.concurrency, durationMs: s.durationMs });
      // Let the pipeline drain what it queued before judging recovery.
      await new Promise((r) => setTimeout(r, ov.settleMs));
      const recovery = await runPhase('recovery', { rate: 0, concurrency: s.concurrency, durationMs: ov.recoveryMs });
      const refusals = Object.entries(over.stats.byStatus).filter(([k]) => /^(429|503)$|^grpc:(UNAVAILABLE|RESOURCE_EXHAUSTED)$/.test(k)).reduce((a, [, v]) => a + v, 0);
      result.overload = {
        capacity: capacity.itemsPerSecond,
        offered,
        refusals,
        refusalsWithRetryAfter: over.stats.retryAfter,
        memoryLimitMiB: prepared?.memoryLimitMiB,
        rssPeakMiB: over.server?.rssPeakMiB,
        survived: alive(),
        recoveryRatio: capacity.itemsPerSecond > 0 ? recovery.itemsPerSecond / capacity.itemsPerSecond : 0,
      };
      if (!result.overload.survived) exitCode = 1;
    } else {
      await runPhase('measured', { rate: s.rate, concurrency: s.concurrency, durationMs: s.durationMs });
    }
  } finally {
    sampler?.stop();
    transport.close();
    if (server) {
      const wasAlive = server.alive();
      const end = await server.stop();
      if (!wasAlive) {
        notes.push(`the server died during the run (code ${end.code}, signal ${end.signal}); its last log lines:\n${server.recentLog().slice(-8).join('\n')}`);
        exitCode = 1;
      } else if (end.signal === 'SIGKILL') notes.push('the server did not stop within 30 s of SIGTERM and was killed');
      if (o.cpuProfDir) {
        const mine = readdirSync(o.cpuProfDir).filter((f) => f.includes(`.${server.pid}.`) && f.endsWith('.cpuprofile'));
        if (mine.length > 0) {
          // One profile per thread: the main thread's first, then each worker's (e.g. the SQLite writer).
          for (const f of mine.sort()) {
            const file = join(o.cpuProfDir, f);
            notes.push(`CPU profile: ${file} (open in Chrome DevTools or speedscope)`);
            process.stderr.write(`${f}\n${formatTop(topFunctions(file, root, 20))}\n`);
          }
        } else notes.push(`no CPU profile was written to ${o.cpuProfDir} (the server must exit normally on SIGTERM)`);
      }
    }
  }

  if (s.verifyTables && prepared?.sqlitePath) {
    // Everything acknowledged, warm-up included, must be in the database.
    const acked = gen.totalAccepted;
    const table = s.verifyTables.join('+');
    try {
      const rows = s.verifyTables.reduce((a, t) => a + countRows(prepared!.sqlitePath!, t), 0);
      result.sqlite = { table, rows, accepted: acked, missing: Math.max(0, acked - rows) };
      if (rows < acked) exitCode = 1;
    } catch (e) {
      result.sqlite = { table, rows: 0, accepted: acked, missing: acked, error: (e as Error).message };
      exitCode = 1;
    }
  }
  if (prepared && !o.keep) rmSync(prepared.workDir, { recursive: true, force: true });
  else if (prepared) notes.push(`scratch directory kept: ${prepared.workDir}`);

  process.stdout.write(`${formatTable(result)}\n${jsonLine(result)}\n`);
  if (o.out) appendFileSync(o.out, `${jsonLine(result)}\n`);
  return exitCode;
}
