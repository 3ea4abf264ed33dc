/**
 * Runs the collector under test: rewrites a scenario's config onto free local ports and a scratch
 * directory, starts `vigil run`, optionally pinned to some cores, and waits until it says it is ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PreparedConfig {
  configPath: string;
  workDir: string;
  httpUrl?: string;
  grpcAddress?: string;
  /** The SQLite exporter's database file, when the pipeline has one. */
  sqlitePath?: string;
  /** memory_limiter's limit_mib, when set. */
  memoryLimitMiB?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Component ids are "type" or "type/name". */
const typeOf = (id: string) => id.split('/')[0];

export async function prepareConfig(scenarioConfig: string): Promise<PreparedConfig> {
  const doc = parse(readFileSync(scenarioConfig, 'utf8')) as Obj;
  const workDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const out: PreparedConfig = { configPath: join(workDir, 'config.yaml'), workDir };
  for (const [id, cfg] of Object.entries(isObj(doc.receivers) ? doc.receivers : {})) {
    if (typeOf(id) !== 'otlp' || !isObj(cfg) || !isObj(cfg.protocols)) continue;
    const protocols = cfg.protocols;
    if ('http' in protocols) {
      const port = await freePort();
      protocols.http = { ...(isObj(protocols.http) ? protocols.http : {}), endpoint: `127.0.0.1:${port}` };
      out.httpUrl ??= `http://127.0.0.1:${port}`;
    }
    if ('grpc' in protocols) {
      const port = await freePort();
      protocols.grpc = { ...(isObj(protocols.grpc) ? protocols.grpc : {}), endpoint: `127.0.0.1:${port}` };
      out.grpcAddress ??= `127.0.0.1:${port}`;
    }
  }
  for (const [id, cfg] of Object.entries(isObj(doc.exporters) ? doc.exporters : {})) {
    if (typeOf(id) !== 'sqlite') continue;
    const path = join(workDir, `${id.replace(/\W/g, '_')}.db`);
    (doc.exporters as Obj)[id] = { ...(isObj(cfg) ? cfg : {}), path };
    out.sqlitePath ??= path;
  }
  for (const [id, cfg] of Object.entries(isObj(doc.processors) ? doc.processors : {})) {
    if (typeOf(id) === 'memory_limiter' && isObj(cfg) && typeof cfg.limit_mib === 'number') out.memoryLimitMiB = cfg.limit_mib;
  }
  // Self metrics default to a fixed port (8888); move them to a free one so runs can overlap.
  const service = isObj(doc.service) ? doc.service : (doc.service = {});
  const telemetry = isObj(service.telemetry) ? service.telemetry : (service.telemetry = {});
  const metrics = isObj(telemetry.metrics) ? telemetry.metrics : (telemetry.metrics = {});
  if (metrics.address === undefined) metrics.address = `127.0.0.1:${await freePort()}`;
  writeFileSync(out.configPath, stringify(doc));
  return out;
}

export interface ServerOptions {
  root: string;
  /** The script and its arguments; default `bin/vigil.js run --config <configPath>`. */
  argv?: string[];
  configPath?: string;
  /** Cores for `taskset -c`, e.g. "1"; undefined = not pinned. */
  cores?: string;
  /** Directory for V8 CPU profiles (node --cpu-prof). */
  cpuProfDir?: string;
  readyTimeoutMs?: number;
}

export interface RunningServer {
  pid: number;
  /** Resolves when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** The log line that said the server is ready. */
  readyLine: string;
  /** The server's last stderr lines (its own logs), for diagnosing a failed start or crash. */
  recentLog(): string[];
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const nodeArgs: string[] = [];
  if (o.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  nodeArgs.push(...(o.argv ?? [join(o.root, 'bin', 'vigil.js'), 'run', '--config', o.configPath ?? 'missing-config']));
  const [cmd, args] = o.cores !== undefined ? ['taskset', ['-c', o.cores, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  // taskset execs node in place, so the pid is the server's own.
  const child: ChildProcess = spawn(cmd, args, { cwd: o.root, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  let onLine: ((line: string) => void) | undefined;
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      log.push(line);
      if (log.length > 50) log.shift();
      onLine?.(line);
    }
  });

  const readyLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server not ready after ${o.readyTimeoutMs ?? 30_000} ms:\n${log.join('\n')}`));
    }, o.readyTimeoutMs ?? 30_000);
    onLine = (line) => {
      // The Collector's words: "Everything is ready. Begin running and processing data."
      if (line.includes('"msg":"Everything is ready')) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before it was ready (code ${code}, signal ${signal}):\n${log.join('\n')}`));
    });
  });
  onLine = undefined;

  return {
    pid: child.pid!,
    readyLine,
    exited,
    alive: () => running,
    recentLog: () => log.slice(),
    async stop(timeoutMs = 30_000) {
      if (running) child.kill('SIGTERM');
      const killer = setTimeout(() => running && child.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(killer);
      return r;
    },
  };
}
