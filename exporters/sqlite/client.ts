/**
 * Main-thread handle on the writer thread: posts row batches, keeps the number of rows posted but
 * not yet committed bounded (backpressure), and flushes/closes on shutdown.
 *
 * With `acknowledged` durability, write() resolves only once the writer has committed the batch,
 * and rejects with a RetryableError when it could not (the sender keeps the data). With `buffered`,
 * write() resolves when the batch is posted, except while the store is failing: then it waits for
 * the commit too, so that nothing is acknowledged that the store is known to be dropping.
 */
import type { Logger } from 'pino';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RetryableError } from '../../src/errors';
import type { RowBatch } from './rows';
import type { WorkerOptions } from './worker';

export interface FailedReport {
  spans: number;
  logs: number;
  points: number;
  message: string;
}

export class WriterClient {
  private worker?: Worker;
  private inFlight = 0;
  private dead?: Error;
  private nextId = 1;
  private readonly replies = new Map<number, () => void>();
  /** Writes waiting for their commit, by id. */
  private readonly waiting = new Map<number, { resolve: (rejectedRows: number) => void; reject: (e: Error) => void }>();
  /** Why the store cannot commit right now (from the writer), or undefined while it can. */
  private failing?: string;
  private spaceWaiters: Array<() => void> = [];
  private closed?: Promise<void>;

  constructor(
    private readonly opts: WorkerOptions,
    private readonly maxInFlightRows: number,
    private readonly logger: Logger,
    private readonly onFailed: (r: FailedReport) => void,
    /** Told once when the writer thread is gone for good (the health check shows it). */
    private readonly onDead: (e: Error) => void = () => undefined,
    /** Told when the store stops (message) or starts again (undefined) being able to commit. */
    private readonly onHealth: (problem: string | undefined) => void = () => undefined,
  ) {}

  /** Why the store cannot commit now, or undefined. */
  get problem(): string | undefined {
    return this.dead?.message ?? this.failing;
  }

  /** Rows posted to the writer and not yet committed. */
  get inFlightRows(): number {
    return this.inFlight;
  }

  start(): Promise<void> {
    // The product runs compiled JS from dist/. Under tap the sources run as TypeScript through a
    // loader whose require hook (inherited with execArgv) compiles the sibling worker.ts; a worker's
    // entry file itself bypasses that hook, so a .ts entry is required from a one-line script.
    const file = join(__dirname, 'worker' + extname(__filename));
    const options = { workerData: this.opts, execArgv: process.execArgv };
    const worker = (this.worker = file.endsWith('.ts')
      ? new Worker(`require(${JSON.stringify(file)})`, { ...options, eval: true })
      : new Worker(file, options));
    return new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { op: string; [k: string]: unknown }) => {
        switch (m.op) {
          case 'ready':
            worker.off('error', reject);
            worker.on('error', (e) => this.die(e));
            resolve();
            break;
          case 'fatal':
            // Marked dead now, so that a shutdown right after does not wait on a terminated thread.
            this.dead = new Error(`cannot open the SQLite store at ${this.opts.path}: ${m.message}`);
            reject(this.dead);
            void worker.terminate();
            break;
          case 'committed': {
            this.release(m.rows as number);
            const ids = m.ids as number[];
            const rejected = m.rejected as number[];
            let refused = 0;
            ids.forEach((id, i) => {
              refused += rejected[i];
              this.settle(id)?.resolve(rejected[i]);
            });
            if (refused > 0) {
              this.logger.warn({ rows: refused, err: m.rejectedMessage }, 'sqlite: rows SQLite cannot store were skipped; the rest of their batches is stored');
              this.onFailed({ ...(m.rejectedBySignal as { spans: number; logs: number; points: number }), message: m.rejectedMessage as string });
            }
            break;
          }
          case 'failed': {
            this.release(m.rows as number);
            let lost = false;
            for (const id of m.ids as number[]) {
              const w = this.settle(id);
              if (w) w.reject(new RetryableError(`the sqlite store could not commit: ${m.message as string}`, 5000));
              else lost = true;
            }
            if (lost) {
              // Only buffered writes have nobody waiting: they were acknowledged already.
              this.logger.error({ rows: m.rows, err: m.message }, 'sqlite: a buffered write transaction failed; its rows are lost');
              this.onFailed(m as unknown as FailedReport);
            }
            break;
          }
          case 'health':
            this.failing = m.ok ? undefined : (m.message as string);
            if (m.ok) this.logger.info('sqlite: the store commits again');
            else this.logger.error({ err: m.message }, 'sqlite: the store cannot commit; new data is refused with a retryable error');
            this.onHealth(this.failing);
            break;
          case 'retention':
            if (m.error) this.logger.error({ err: m.error }, 'sqlite: retention failed');
            else if ((m.deleted as number) > 0) this.logger.info({ deletedRows: m.deleted, ms: m.ms }, 'sqlite: retention deleted old rows');
            break;
          case 'flushed':
          case 'closed': {
            const r = this.replies.get(m.id as number);
            this.replies.delete(m.id as number);
            r?.();
            break;
          }
        }
      });
      worker.on('exit', (code) => {
        if (!this.closed || this.replies.size > 0) this.die(new Error(`sqlite writer thread exited (code ${code})`));
      });
    });
  }

  private release(rows: number): void {
    this.inFlight -= rows;
    if (this.inFlight <= this.maxInFlightRows) for (const w of this.spaceWaiters.splice(0)) w();
  }

  private die(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    this.logger.error({ err: e.message, lostRows: this.inFlight }, 'sqlite: writer thread failed');
    this.onDead(e);
    for (const w of this.spaceWaiters.splice(0)) w();
    for (const r of this.replies.values()) r();
    this.replies.clear();
    for (const w of this.waiting.values()) w.reject(new RetryableError(`sqlite store unavailable: ${e.message}`, 5000));
    this.waiting.clear();
  }

  private settle(id: number) {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    return w;
  }

  /**
   * Post a batch. Waits while the writer is more than maxInFlightRows behind, until `signal`
   * aborts (the helper's timeout), then refuses with a retryable error so the data stays upstream.
   * With `waitForCommit`, resolves once the rows are committed, with the number of rows SQLite
   * refused (skipped, the others stored).
   */
  async write(batch: RowBatch, signal?: AbortSignal, waitForCommit = false): Promise<number> {
    if (batch.rows === 0) return 0;
    while (!this.dead && this.inFlight > 0 && this.inFlight + batch.rows > this.maxInFlightRows) {
      if (signal?.aborted) throw new RetryableError('sqlite writer is behind', 1000);
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.spaceWaiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (this.dead || !this.worker) throw new RetryableError(`sqlite store unavailable${this.dead ? `: ${this.dead.message}` : ' (not started)'}`, 5000);
    if (this.closed) throw new RetryableError('sqlite store is closing', 1000);
    this.inFlight += batch.rows;
    const id = this.nextId++;
    const wait = waitForCommit || this.failing !== undefined;
    const committed = wait
      ? new Promise<number>((resolve, reject) => this.waiting.set(id, { resolve, reject }))
      : undefined;
    this.worker!.postMessage({ op: 'write', id, batch });
    return committed ?? 0;
  }

  private request(op: 'flush' | 'close'): Promise<void> {
    if (this.dead || !this.worker) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.replies.set(id, resolve);
      this.worker!.postMessage({ op, id });
    });
  }

  /** Commit everything posted so far. */
  flush(): Promise<void> {
    return this.request('flush');
  }

  /** Commit everything posted so far and close the database. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.request('close');
      await this.worker?.terminate();
    })();
    return this.closed;
  }
}
