/**
 * Durability benchmarks that need real time (not tests):
 *
 *   npm run bench -- outage [--minutes 10] [--rate 500]
 *     The edge profile (examples/edge.yaml: otlp → detection → otlphttp with a persistent queue)
 *     gets a steady load of `rate` spans/s while its downstream is down for `minutes`; Vigil itself
 *     is restarted (SIGTERM, start) at one third and two thirds of the outage. Then the downstream
 *     comes back, and every acknowledged span id is looked for there. Reports acknowledged, lost,
 *     duplicates, the time to drain, the queue's bytes on disk and the process's RSS over the outage
 *     (RSS should stay flat while the queue grows on disk).
 *
 *   npm run bench -- queue-ratio [--seconds 10]
 *     otlp → otlphttp → a downstream that accepts everything, with the in-memory sending queue and
 *     with a persistent one (file_storage), alternating in one run, best of two each: acknowledged
 *     spans/s and the ratio persistent / in-memory.
 */
import { readFileSync, readdirSync, statSync, writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/paths';
import { acknowledgedRate, body, downstream, startVigil } from './crash';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (m: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

function envFor(work: string, central: string): Record<string, string> {
  return {
    VIGIL_DB: join(work, 'vigil.db'), VIGIL_DATA_DIR: join(work, 'data'), VIGIL_QUEUE_DIR: join(work, 'queue'), VIGIL_CENTRAL: central,
    VIGIL_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', VIGIL_OTLP_GRPC_ENDPOINT: '127.0.0.1:0', VIGIL_API_ENDPOINT: '127.0.0.1:0',
    VIGIL_HEALTH_ENDPOINT: '127.0.0.1:0', VIGIL_METRICS_ENDPOINT: '127.0.0.1:0', VIGIL_PROMETHEUS_ENDPOINT: '127.0.0.1:0',
  };
}

function rssMiB(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function dirBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

/** Paced senders: `rate` spans/s in requests of 100, recording acknowledged ids. */
async function paced(target: { http: string }, rate: number, nextId: { n: number }, acked: number[], stop: { v: boolean }): Promise<void> {
  const perRequest = 100;
  const intervalMs = (1000 * perRequest) / rate;
  let due = Date.now();
  const inFlight = new Set<Promise<void>>();
  while (!stop.v) {
    due += intervalMs;
    const ids = Array.from({ length: perRequest }, () => nextId.n++);
    const p = (async () => {
      try {
        const res = await fetch(`http://${target.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(ids) });
        await res.arrayBuffer();
        if (res.status === 200) acked.push(...ids);
      } catch { /* Vigil restarting: not acknowledged, the sender would keep it */ }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size > 16) await Promise.race(inFlight);
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(inFlight);
}

async function outage(argv: string[]): Promise<number> {
  const arg = (n: string, d: string): string => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
  const minutes = Number(arg('--minutes', '10'));
  const rate = Number(arg('--rate', '500'));
  const root = projectRoot();
  const work = mkdtempSync(join(tmpdir(), 'vigil-outage-'));
  const sink = await downstream();
  sink.down.v = true;
  const env = envFor(work, `http://127.0.0.1:${sink.port}`);
  mkdirSync(env.VIGIL_DATA_DIR, { recursive: true });
  const config = join(root, 'examples', 'edge.yaml');
  const acked: number[] = [];
  const nextId = { n: 1 };
  const samples: Array<{ s: number; rss: number; queueMiB: number }> = [];
  const load0 = loadavg()[0];
  try {
    const target = await startVigil(root, config, work, env);
    const holder = { http: target.http };
    let vigil = target;
    const stop = { v: false };
    const gen = paced(holder, rate, nextId, acked, stop);
    const t0 = Date.now();
    const end = t0 + minutes * 60_000;
    const restarts = [t0 + (minutes * 60_000) / 3, t0 + (2 * minutes * 60_000) / 3];
    log(`outage: downstream down for ${minutes} min, ${rate} spans/s offered, edge restarted at ${minutes / 3} and ${(2 * minutes) / 3} min`);
    while (Date.now() < end) {
      await sleep(5000);
      samples.push({ s: Math.round((Date.now() - t0) / 1000), rss: rssMiB(vigil.child.pid), queueMiB: dirBytes(env.VIGIL_QUEUE_DIR) / 1048576 });
      if (restarts.length && Date.now() >= restarts[0]) {
        restarts.shift();
        vigil.child.kill('SIGTERM');
        await vigil.exited;
        vigil = await startVigil(root, config, work, env);
        holder.http = vigil.http;
        log(`outage: edge restarted; ${acked.length} spans acknowledged so far`);
      }
      const last = samples[samples.length - 1];
      if (samples.length % 6 === 0) log(`outage: ${last.s}s acknowledged ${acked.length}, queue ${last.queueMiB.toFixed(1)} MiB, RSS ${last.rss.toFixed(0)} MiB`);
    }
    stop.v = true;
    await gen;
    sink.down.v = false;
    const back = Date.now();
    log(`outage: downstream back; ${acked.length} acknowledged, draining`);
    const has = (id: number) => sink.counts.has(id.toString(16).padStart(16, '0'));
    const drainEnd = back + Math.max(10, minutes * 2) * 60_000;
    while (Date.now() < drainEnd && !acked.every(has)) await sleep(1000);
    const drainSeconds = (Date.now() - back) / 1000;
    vigil.child.kill('SIGTERM');
    await vigil.exited;
    let lost = 0;
    let duplicates = 0;
    for (const id of acked) {
      const n = sink.counts.get(id.toString(16).padStart(16, '0')) ?? 0;
      if (n === 0) lost++;
      else duplicates += n - 1;
    }
    const after1 = samples.filter((x) => x.s >= 60);
    const rss = (after1.length ? after1 : samples).map((x) => x.rss).filter((x) => x > 0);
    process.stdout.write(`outage of ${minutes} min at ${rate} spans/s offered, 2 restarts of the edge (load average at start ${load0.toFixed(1)}, at end ${loadavg()[0].toFixed(1)}):\n`);
    process.stdout.write(`  acknowledged ${acked.length}, delivered after recovery ${acked.length - lost}, lost ${lost}, duplicates ${duplicates}, drained in ${drainSeconds.toFixed(0)} s\n`);
    process.stdout.write(`  queue on disk at the end of the outage ${Math.max(...samples.map((x) => x.queueMiB)).toFixed(1)} MiB; RSS after the first minute min ${Math.min(...rss).toFixed(0)} / max ${Math.max(...rss).toFixed(0)} MiB\n`);
    process.stdout.write(`  samples (s, RSS MiB, queue MiB): ${samples.filter((_, i) => i % 6 === 5).map((x) => `${x.s}:${x.rss.toFixed(0)}/${x.queueMiB.toFixed(1)}`).join(' ')}\n`);
    return lost > 0 ? 1 : 0;
  } finally {
    sink.server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function queueRatio(argv: string[]): Promise<number> {
  const arg = (n: string, d: string): string => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
  const seconds = Number(arg('--seconds', '10'));
  const root = projectRoot();
  const sink = await downstream();
  const best: Record<string, number> = {};
  const load0 = loadavg()[0];
  try {
    for (const mode of ['memory', 'persistent', 'memory', 'persistent']) {
      const work = mkdtempSync(join(tmpdir(), 'vigil-qratio-'));
      try {
        const env = envFor(work, `http://127.0.0.1:${sink.port}`);
        mkdirSync(env.VIGIL_DATA_DIR, { recursive: true });
        const config = join(work, 'queue.yaml');
        let yaml = readFileSync(join(root, 'bench', 'crash', 'queue.yaml'), 'utf8').replaceAll('${CENTRAL}', env.VIGIL_CENTRAL);
        if (mode === 'memory') yaml = yaml.replace('sending_queue: { storage: file_storage, max_size_mib: 256 }', 'sending_queue: { queue_size: 1000 }');
        writeFileSync(config, yaml);
        const v = await startVigil(root, config, work, env);
        const rate = await acknowledgedRate(v, seconds);
        log(`queue-ratio ${mode}: ${Math.round(rate)} spans/s`);
        best[mode] = Math.max(best[mode] ?? 0, rate);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  } finally {
    sink.server.close();
  }
  process.stdout.write(`queue-ratio (acknowledged spans/s, best of 2 runs of ${seconds}s, 4 senders x 100 spans, OTLP/JSON, load average at start ${load0.toFixed(1)}): ` +
    `in-memory ${Math.round(best.memory)}, persistent ${Math.round(best.persistent)}, ratio ${(best.persistent / best.memory).toFixed(2)}\n`);
  return 0;
}

export async function runDurability(argv: string[]): Promise<number> {
  if (argv[0] === 'outage') return outage(argv.slice(1));
  if (argv[0] === 'queue-ratio') return queueRatio(argv.slice(1));
  process.stderr.write('usage: outage [--minutes N] [--rate N] | queue-ratio [--seconds N]\n');
  return 2;
}

if (require.main === module) void runDurability(process.argv.slice(2)).then((code) => process.exit(code));
