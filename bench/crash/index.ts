/**
 * `npm run bench -- crash [--cycles N] [--configs default,queue,edge] [--throughput SECONDS]`
 *
 * Crash harness: a generator sends spans with unique ids over OTLP/HTTP (4 senders, 100 spans per
 * request) and remembers which ones were answered 200; Vigil is killed with SIGKILL at a random
 * moment (0.5–3 s into each cycle) and started again, N times. Then Vigil runs once more until its
 * persistent queue (if any) has drained, stops cleanly, and every acknowledged id is looked up in
 * the SQLite store or the downstream. Lost = acknowledged but absent; duplicates = delivered more
 * than once (at-least-once delivery allows them).
 *
 * Configurations: `default` (the shipped pipelines.yaml: acknowledged sqlite), `queue` (otlp →
 * otlphttp with a persistent queue → a downstream that is down a third of the time), `edge`
 * (examples/edge.yaml forwarding to the same downstream).
 *
 * `--throughput S`: also measures the default pipeline for S seconds with durability acknowledged
 * and with buffered, in the same run, and prints the ratio.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openSqlite } from '../../src/storage/sqlite';
import { decode } from '../../src/otlp';
import { projectRoot } from '../../src/paths';

export interface Vigil {
  child: ChildProcess;
  http: string;
  exited: Promise<number | null>;
}

const SPANS_PER_REQUEST = 100;
const SENDERS = 4;

export function startVigil(root: string, config: string, cwd: string, env: Record<string, string>): Promise<Vigil> {
  const child = spawn(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'run', '--config', config], {
    cwd, env: { ...process.env, VIGIL_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      if (err.length < 200_000) err += d;
      const m = /"http":"([^"]+)"/.exec(err);
      if (m && err.includes('Everything is ready')) resolve({ child, http: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`vigil exited (${code}) before it was ready:\n${err.slice(-2000)}`)));
  });
}

export function body(ids: number[]): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({ resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'crash' } }] },
    scopeSpans: [{ scope: { name: 'crash' }, spans: ids.map((id) => ({
      traceId: id.toString(16).padStart(32, '0'), spanId: id.toString(16).padStart(16, '0'), name: 'op', kind: 2,
      startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1000n),
    })) }],
  }] });
}

/** Senders that run until stopped, recording acknowledged ids. */
export async function generate(http: string, nextId: { n: number }, acked: number[], stop: { v: boolean }): Promise<void> {
  const one = async (): Promise<void> => {
    while (!stop.v) {
      const ids = Array.from({ length: SPANS_PER_REQUEST }, () => nextId.n++);
      try {
        const res = await fetch(`http://${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(ids) });
        await res.arrayBuffer();
        if (res.status === 200) acked.push(...ids);
        else await new Promise((r) => setTimeout(r, 50));
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, one));
}

/** The downstream: an OTLP/HTTP server counting deliveries per span id; down while `down` says so. */
export function downstream(): Promise<{ server: Server; port: number; counts: Map<string, number>; down: { v: boolean } }> {
  const counts = new Map<string, number>();
  const down = { v: false };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (down.v || !req.url?.endsWith('/v1/traces')) {
        res.writeHead(down.v ? 503 : 200, { 'Retry-After': '1' }).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const data = decode('traces', req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
      for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) counts.set(s.spanId, (counts.get(s.spanId) ?? 0) + 1);
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, counts, down })));
}

function storeCounts(path: string): Map<string, number> {
  const db = openSqlite(path);
  try {
    const rows = db.prepare('SELECT span_id AS id, count(*) AS n FROM spans GROUP BY span_id').all() as Array<{ id: string; n: number }>;
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    db.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Acknowledged spans per second from the generator over `seconds`, after a 1 s warm-up; then stops
 * the generator and the Vigil (SIGTERM) and waits for both.
 */
export async function acknowledgedRate(v: Vigil, seconds: number): Promise<number> {
  const acked: number[] = [];
  const stop = { v: false };
  const gen = generate(v.http, { n: 1 }, acked, stop);
  await sleep(1000);
  const before = acked.length;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const rate = ((acked.length - before) * 1000) / (Date.now() - t0);
  stop.v = true;
  await gen;
  v.child.kill('SIGTERM');
  await v.exited;
  return rate;
}

interface CrashResult { config: string; cycles: number; acknowledged: number; lost: number; duplicates: number }

async function crashRun(root: string, name: string, cycles: number, log: (m: string) => void): Promise<CrashResult> {
  const work = mkdtempSync(join(tmpdir(), `vigil-crash-${name}-`));
  const db = join(work, 'vigil.db');
  const env: Record<string, string> = {
    VIGIL_DB: db, VIGIL_DATA_DIR: join(work, 'data'), VIGIL_QUEUE_DIR: join(work, 'queue'),
    VIGIL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', VIGIL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0', VIGIL_API_ENDPOINT: '127.0.0.1:0',
    VIGIL_HEALTH_ENDPOINT: '127.0.0.1:0', VIGIL_METRICS_ENDPOINT: '127.0.0.1:0', VIGIL_PROMETHEUS_ENDPOINT: '127.0.0.1:0',
  };
  let sink: Awaited<ReturnType<typeof downstream>> | undefined;
  let config = join(root, 'pipelines.yaml');
  if (name !== 'default') {
    sink = await downstream();
    env.VIGIL_CENTRAL = `http://127.0.0.1:${sink.port}`;
    config = name === 'edge' ? join(root, 'examples', 'edge.yaml') : join(work, 'queue.yaml');
    if (name === 'queue') {
      writeFileSync(config, readFileSync(join(root, 'bench', 'crash', 'queue.yaml'), 'utf8').replaceAll('${CENTRAL}', env.VIGIL_CENTRAL));
    }
  }
  mkdirSync(env.VIGIL_DATA_DIR, { recursive: true });
  const acked: number[] = [];
  const nextId = { n: 1 };
  let flapper: NodeJS.Timeout | undefined;
  if (sink) flapper = setInterval(() => { sink!.down.v = Math.random() < 1 / 3; }, 700);
  try {
    for (let c = 1; c <= cycles; c++) {
      const v = await startVigil(root, config, work, env);
      const stop = { v: false };
      const gen = generate(v.http, nextId, acked, stop);
      await sleep(500 + Math.random() * 2500);
      v.child.kill('SIGKILL');
      await v.exited;
      stop.v = true;
      await gen;
      log(`${name}: cycle ${c}/${cycles}: ${acked.length} spans acknowledged so far`);
    }
    if (flapper) clearInterval(flapper);
    if (sink) sink.down.v = false;
    // A last run delivers what the queue kept; then a clean stop.
    const v = await startVigil(root, config, work, env);
    if (sink) {
      const end = Date.now() + 120_000;
      let last = -1;
      while (Date.now() < end) {
        const have = acked.filter((id) => sink!.counts.has(id.toString(16).padStart(16, '0'))).length;
        if (have === acked.length) break;
        if (have === last) await sleep(2000);
        last = have;
        await sleep(500);
      }
    }
    v.child.kill('SIGTERM');
    await v.exited;
    const counts = sink ? sink.counts : storeCounts(db);
    let lost = 0;
    let duplicates = 0;
    for (const id of acked) {
      const n = counts.get(id.toString(16).padStart(16, '0')) ?? 0;
      if (n === 0) lost++;
      else duplicates += n - 1;
    }
    return { config: name, cycles, acknowledged: acked.length, lost, duplicates };
  } finally {
    if (flapper) clearInterval(flapper);
    sink?.server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Acknowledged spans per second into the default pipeline, acknowledged vs buffered, same run. */
async function throughput(root: string, seconds: number, log: (m: string) => void): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const mode of ['buffered', 'acknowledged', 'buffered', 'acknowledged']) {
    const work = mkdtempSync(join(tmpdir(), 'vigil-tput-'));
    const config = join(work, 'mode.yaml');
    writeFileSync(config, `exporters:\n  sqlite:\n    durability: ${mode}\n`);
    const env = {
      VIGIL_DB: join(work, 'vigil.db'), VIGIL_DATA_DIR: join(work, 'data'), VIGIL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', VIGIL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
      VIGIL_API_ENDPOINT: '127.0.0.1:0', VIGIL_HEALTH_ENDPOINT: '127.0.0.1:0', VIGIL_METRICS_ENDPOINT: '127.0.0.1:0', VIGIL_PROMETHEUS_ENDPOINT: '127.0.0.1:0',
    };
    try {
      // pipelines.yaml merged with a one-line override of the durability.
      const v = await new Promise<Vigil>((resolve, reject) => {
        const child = spawn(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'run', '--config', join(root, 'pipelines.yaml'), '--config', config], {
          cwd: work, env: { ...process.env, VIGIL_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
        });
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        let err = '';
        child.stderr!.on('data', (d) => {
          err += d;
          const m = /"http":"([^"]+)"/.exec(err);
          if (m && err.includes('Everything is ready')) resolve({ child, http: m[1], exited });
        });
        void exited.then(() => reject(new Error(err.slice(-2000))));
      });
      const rate = await acknowledgedRate(v, seconds);
      log(`throughput ${mode}: ${Math.round(rate)} spans/s`);
      out[mode] = Math.max(out[mode] ?? 0, rate);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return out;
}

export async function runCrash(argv: string[]): Promise<number> {
  const root = projectRoot();
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cycles = Number(arg('--cycles') ?? 20);
  const configs = (arg('--configs') ?? 'default,queue,edge').split(',');
  const tput = Number(arg('--throughput') ?? 0);
  const log = (m: string): void => void process.stderr.write(`crash: ${m}\n`);
  const results: CrashResult[] = [];
  for (const name of configs) {
    if (!['default', 'queue', 'edge'].includes(name)) {
      process.stderr.write(`unknown configuration "${name}"; expected default, queue, edge\n`);
      return 2;
    }
  }
  process.stdout.write('| config | kill -9 cycles | spans acknowledged | lost | duplicates |\n|---|---|---|---|---|\n');
  for (const name of configs) {
    const r = await crashRun(root, name, cycles, log);
    results.push(r);
    process.stdout.write(`| ${r.config} | ${r.cycles} | ${r.acknowledged} | ${r.lost} | ${r.duplicates} |\n`);
  }
  if (tput > 0) {
    const t = await throughput(root, tput, log);
    process.stdout.write(`\nthroughput (acknowledged spans/s, best of 2 runs of ${tput}s, 4 senders x ${SPANS_PER_REQUEST} spans, OTLP/JSON): ` +
      `acknowledged ${Math.round(t.acknowledged)}, buffered ${Math.round(t.buffered)}, ratio ${(t.acknowledged / t.buffered).toFixed(2)}\n`);
  }
  return results.some((r) => r.lost > 0) ? 1 : 0;
}
