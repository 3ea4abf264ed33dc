/**
 * Parsing is CPU-bound and each file is independent, so a large scan spreads it over worker
 * threads, one per available core (capped). Workers are started for one scan and ended after it:
 * each holds its own copy of the TypeScript compiler and the tree-sitter heap (tens of MiB), which
 * an idle collector should not keep between scans.
 */
import { availableParallelism, loadavg } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SummaryOutcome } from './summary';
import type { BatchReply, BatchRequest } from './worker';

/** Below this many files to parse, starting workers (each loads the parsers) costs more than it saves. */
export const MIN_FILES_FOR_WORKERS = 300;
export const MAX_WORKERS = 8;
export const MIN_IDLE_CORES = 4;

/**
 * One worker per idle core. Each worker loads its own parsers (about a second of CPU for the
 * TypeScript compiler), which pays off only when the cores are free: on a machine whose load
 * average already fills its cores, extra threads add that CPU and gain no wall time, so the scan
 * stays in one thread (0). Measured in bench/codehealth/scan.ts; see the README, "Speed".
 */
export function defaultWorkerCount(cores = availableParallelism(), load = loadavg()[0]): number {
  const idle = Math.floor(cores - load + 0.5);
  // On 2 cores at load 1.6, two workers made a 5,000-file scan slower (9.2 s against 4.0 s in one
  // thread): their start-up and the messaging outweigh one extra core. Hence 4 idle cores at least.
  return idle >= MIN_IDLE_CORES ? Math.min(MAX_WORKERS, idle) : 0;
}

interface Pending {
  resolve(o: SummaryOutcome[]): void;
  reject(e: Error): void;
}

export class AnalysisPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ req: BatchRequest; pending: Pending }> = [];
  private readonly inFlight = new Map<Worker, { req: BatchRequest; pending: Pending }>();
  private nextId = 0;
  private failed?: Error;

  constructor(size: number) {
    // The product runs compiled JS from dist/; under the tests the sources are TypeScript loaded
    // through tsx, whose require hook (inherited with execArgv) compiles worker.ts, but a worker's
    // entry file bypasses it, so a .ts entry is required from a one-line script.
    const file = join(__dirname, 'worker' + extname(__filename));
    for (let i = 0; i < size; i++) {
      const w = file.endsWith('.ts')
        ? new Worker(`require(${JSON.stringify(file)})`, { eval: true, execArgv: process.execArgv })
        : new Worker(file, { execArgv: process.execArgv });
      w.on('message', (m: BatchReply) => this.done(w, m));
      w.on('error', (e) => this.lost(w, e));
      w.on('exit', (code) => { if (code !== 0) this.lost(w, new Error(`analysis worker exited with code ${code}`)); });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Summaries of these files, in order. Rejects if a worker dies (the caller falls back to in-thread). */
  analyze(files: BatchRequest['files']): Promise<SummaryOutcome[]> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, files }, pending: { resolve, reject } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.inFlight.set(w, job);
      w.postMessage(job.req);
    }
  }

  private done(w: Worker, m: BatchReply): void {
    const job = this.inFlight.get(w);
    if (!job || job.req.id !== m.id) return;
    this.inFlight.delete(w);
    this.idle.push(w);
    job.pending.resolve(m.outcomes);
    this.pump();
  }

  private lost(w: Worker, e: Error): void {
    this.failed ??= e;
    const job = this.inFlight.get(w);
    this.inFlight.delete(w);
    job?.pending.reject(e);
    for (const q of this.queue.splice(0)) q.pending.reject(e);
  }

  async close(): Promise<void> {
    this.failed ??= new Error('analysis pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
