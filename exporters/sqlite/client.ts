/**
 * Main-thread handle on the writer thread: posts row batches, keeps the number of rows posted but
 * not yet committed bounded (backpressure), and flushes/closes on shutdown.
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
  private spaceWaiters: Array<() => void> = [];
  private closed?: Promise<void>;

  constructor(
    private readonly opts: WorkerOptions,
    private readonly maxInFlightRows: number,
    private readonly logger: Logger,
    private readonly onFailed: (r: FailedReport) => void,
    /** Told once when the writer thread is gone for good (the health check shows it). */
    private readonly onDead: (e: Error) => void = () => undefined,
  ) {}

  /** Rows posted to the writer and not yet committed. */
  get inFlightRows(): number {
    return this.inFlight;
  }

  start(): Promise<void> {
    // Under tap the sources run as TypeScript through a loader; the product runs compiled JS from
    // dist/. Load the sibling with our own extension and inherit the loader flags.
    const file = join(__dirname, 'worker' + extname(__filename));
    const worker = (this.worker = new Worker(file, { workerData: this.opts, execArgv: process.execArgv }));
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
          case 'committed':
            this.release(m.rows as number);
            break;
          case 'failed':
            this.release(m.rows as number);
            this.logger.error({ rows: m.rows, err: m.message }, 'sqlite: a write transaction failed; its rows are lost');
            this.onFailed(m as unknown as FailedReport);
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
  }

  /**
   * Post a batch. Waits while the writer is more than maxInFlightRows behind, until `signal`
   * aborts (the helper's timeout), then refuses with a retryable error so the data stays upstream.
   */
  async write(batch: RowBatch, signal?: AbortSignal): Promise<void> {
    if (batch.rows === 0) return;
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
    this.worker!.postMessage({ op: 'write', batch });
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
