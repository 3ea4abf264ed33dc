/**
 * The exporterhelper: wraps an exporter's `send(signal, data)` with a sending queue, retries with
 * backoff, a per-attempt timeout and the Collector's exporter metrics, and presents the result as
 * the `Component & SignalConsumers` an ExporterFactory returns.
 *
 * Order, as in the Collector: consume → queue → retry → timeout → send.
 * - Queue on: consume() resolves once the request is queued, and rejects with a RetryableError
 *   when the queue is full (receivers answer 503 / UNAVAILABLE and the client keeps the data).
 *   Failures past that point are logged, counted as send_failed and dropped.
 * - Queue off: consume() waits for the send (and its retries) and rejects with its error.
 * - Persistent queue (`sending_queue.storage`): consume() resolves once the request is written to
 *   the storage's queue file (durable). A request leaves the file only once the destination
 *   accepted it (or refused it permanently); retryable failures are retried, with backoff, for as
 *   long as it takes. On shutdown nothing is dropped: what is left stays on disk and is sent, in
 *   order, after the next start. Delivery is at least once (a request sent just before a crash may
 *   be sent again).
 */
import type { Logger } from 'pino';
import type { Component, Consumer, CreateSettings, Host, SignalConsumers } from '../component';
import { PermanentError, RetryableError, isPermanent } from '../errors';
import { AnySignalData, Signal, SignalData, countItems } from '../model';
import { decode, encode } from '../otlp';
import { mergeBatches } from '../../processors/batch/split';
import type { FileStorage } from '../../extensions/file_storage';
import type { QueueFile } from '../../extensions/file_storage/queue-file';
import { registerQueue, unregisterQueue } from './queue-registry';
import { Backoff } from './backoff';
import { ExporterHelperConfig, ResolvedHelperConfig, resolveHelperConfig } from './config';
import { ExporterMetrics, exporterMetrics } from './metrics';

export interface SendContext {
  /** Aborted when the attempt timed out or shutdown gave up waiting: stop work, don't commit. */
  signal: AbortSignal;
}

export interface Sender {
  /** Deliver one request. Reject with PermanentError for data that can never be accepted. */
  send(signal: Signal, data: AnySignalData, ctx: SendContext): Promise<void>;
  start?(host: Host): Promise<void>;
  /** Told when a request is given up for good (refused permanently, retries exhausted, dropped at
   *  shutdown), so a sender can record the outcome (the notification exporters' delivery status). */
  dropped?(signal: Signal, data: AnySignalData, err: Error): void;
  /** Called once the queue has drained (or the drain gave up): flush and release resources. */
  shutdown?(): Promise<void>;
}

export interface ExporterOptions {
  /** Longest wait for the queue to drain on shutdown before the rest is dropped. Default 20s. */
  drainTimeoutMs?: number;
  /** For tests: the jitter source. */
  random?: () => number;
}

export type HelperExporter = Component & SignalConsumers & {
  /** Requests queued or being sent right now. */
  pending(): number;
};

interface Request {
  signal: Signal;
  data: AnySignalData;
  items: number;
}

class StoppedError extends RetryableError {}

export class QueuedExporter {
  private readonly cfg: ResolvedHelperConfig;
  private readonly metrics: ExporterMetrics;
  private readonly logger: Logger;
  private readonly queue: Array<Request | undefined> = [];
  private head = 0;
  private active = 0;
  private accepting = true;
  private forced = false;
  private stopping?: Promise<void>;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly controllers = new Set<AbortController>();
  private readonly sleepers = new Set<() => void>();
  /** The persistent queue, when `sending_queue.storage` is set (opened at start). */
  private disk?: { file: QueueFile; storage: FileStorage & { release?(q: QueueFile): void }; cursor: number; timer: NodeJS.Timeout };
  /** Persistent queue: consumers take no new request (shutdown). */
  private stopTaking = false;
  /** Persistent queue: records being sent right now. */
  private readonly sendingSeqs = new Set<number>();
  /** sending_queue.batch: consumers waiting for more data to fill a batch, woken by new data. */
  private readonly appendWaiters = new Set<() => void>();
  /** sending_queue.batch: consumers gathering a batch; no other consumer starts meanwhile. */
  private gathering = 0;

  constructor(private readonly settings: CreateSettings<ExporterHelperConfig>, private readonly sender: Sender, private readonly opts: ExporterOptions = {}) {
    this.cfg = resolveHelperConfig(settings.config);
    this.logger = settings.logger;
    this.metrics = exporterMetrics(settings.telemetry, settings.id);
    this.metrics.queueCapacity.set(this.cfg.queue.enabled ? this.cfg.queue.queue_size : 0);
    this.metrics.queueSize.set(0);
  }

  consumers(signals: readonly Signal[]): SignalConsumers {
    const out: SignalConsumers = {};
    for (const s of signals) {
      (out as Record<Signal, Consumer>)[s] = { consume: (data: SignalData[Signal]) => this.consume(s, data) };
    }
    return out;
  }

  pending(): number {
    return this.queue.length - this.head + this.active + (this.disk?.file.stats().count ?? 0);
  }

  async start(host: Host): Promise<void> {
    await this.sender.start?.(host);
    const storageId = this.cfg.queue.enabled ? this.cfg.queue.storage : undefined;
    if (!storageId) return;
    const storage = host.getExtension<FileStorage & { release?(q: QueueFile): void }>(storageId);
    if (!storage || typeof storage.openQueue !== 'function') {
      throw new Error(`sending_queue.storage: "${storageId}" is not a running file_storage extension (declare it under extensions: and list it in service.extensions)`);
    }
    const file = storage.openQueue('exporter', this.settings.id);
    const timer = setInterval(() => this.updateDiskGauges(), 1000);
    timer.unref();
    this.disk = { file, storage, cursor: 0, timer };
    this.metrics.queueCapacity.set(Math.round(this.cfg.queue.max_size_mib * 1024 * 1024));
    registerQueue(this, () => {
      const st = file.stats();
      return {
        exporter: this.settings.id, storage: storageId, requests: st.count, bytes: st.bytes, max_bytes: Math.round(this.cfg.queue.max_size_mib * 1024 * 1024),
        oldest_age_seconds: st.oldestMs === undefined ? 0 : Math.max(0, (Date.now() - st.oldestMs) / 1000), full_policy: this.cfg.queue.full_policy,
      };
    });
    this.updateDiskGauges();
    const st = file.stats();
    if (st.count > 0) this.logger.info({ requests: st.count, bytes: st.bytes, file: file.path }, 'persistent queue: sending what was kept on disk');
    this.kickDisk();
  }

  private updateDiskGauges(): void {
    if (!this.disk) return;
    const st = this.disk.file.stats();
    this.metrics.queueSize.set(st.count);
    this.metrics.queueBytes.set(st.bytes);
    this.metrics.queueOldestAge.set(st.oldestMs === undefined ? 0 : Math.max(0, (Date.now() - st.oldestMs) / 1000));
  }

  /** Persistent queue: write the request to disk (durable when this returns), bounded in bytes. */
  private enqueueOnDisk(signal: Signal, data: AnySignalData, items: number): void {
    const d = this.disk!;
    const c = this.metrics.bySignal[signal];
    const bytes = encode(signal, data as never);
    const max = this.cfg.queue.max_size_mib * 1024 * 1024;
    if (bytes.byteLength > max) {
      c.enqueueFailed.inc(items);
      throw new PermanentError(`request of ${bytes.byteLength} bytes is larger than the whole persistent queue (${max} bytes)`, items);
    }
    while (d.file.stats().bytes + bytes.byteLength > max) {
      // A request being sent is not dropped: it may be delivered in a moment, and would then count twice.
      const oldest = this.cfg.queue.full_policy === 'drop_oldest' ? d.file.oldest(this.sendingSeqs) : undefined;
      if (!oldest) {
        c.enqueueFailed.inc(items);
        throw new RetryableError(`persistent sending queue of ${this.settings.id} is full (${d.file.stats().bytes} of ${max} bytes)`, 5000);
      }
      d.file.remove(oldest.seq);
      this.metrics.bySignal[oldest.signal as Signal]?.queueDropped.inc(oldest.items);
      this.logger.warn({ items: oldest.items, bytes: oldest.bytes }, 'persistent sending queue is full: dropped its oldest request (full_policy drop_oldest)');
    }
    try {
      d.file.append(signal, items, bytes);
    } catch (e) {
      c.enqueueFailed.inc(items);
      this.logger.error({ err: (e as Error).message, file: d.file.path }, 'persistent sending queue cannot write; refusing data');
      throw new RetryableError(`persistent sending queue of ${this.settings.id} cannot write: ${(e as Error).message}`, 5000);
    }
    this.updateDiskGauges();
    this.wakeGatherers();
    this.kickDisk();
  }

  private kickDisk(): void {
    // While a consumer gathers a batch, new data is for it: no other consumer starts.
    while (!this.stopTaking && this.gathering === 0 && this.active < this.cfg.queue.num_consumers && this.disk && this.disk.file.stats().count > this.active) {
      void this.runDiskConsumer();
    }
  }

  /** Take requests off the disk in order; each is removed only once delivered (or refused permanently). */
  private async runDiskConsumer(): Promise<void> {
    const d = this.disk!;
    this.active++;
    try {
      while (!this.stopTaking) {
        const first = d.file.next(d.cursor);
        if (!first) break;
        d.cursor = first.seq;
        const recs = [first];
        if (this.cfg.batch) {
          await this.gather(recs, () => {
            const next = d.file.next(d.cursor);
            if (next) d.cursor = next.seq;
            return next;
          }, (next) => next.signal === first.signal);
          this.kickDisk(); // the rest is for the other consumers
        }
        const signal = first.signal as Signal;
        const parts: AnySignalData[] = [];
        const seqs: number[] = [];
        let items = 0;
        for (const rec of recs) {
          try {
            parts.push(decode(rec.signal as Signal, rec.data));
          } catch (e) {
            this.logger.error({ err: (e as Error).message, seq: rec.seq }, 'persistent queue: a request on disk cannot be decoded; dropping it');
            this.metrics.bySignal[rec.signal as Signal]?.sendFailed.inc(rec.items);
            d.file.remove(rec.seq);
            continue;
          }
          seqs.push(rec.seq);
          items += rec.items;
        }
        if (!parts.length) continue;
        for (const seq of seqs) this.sendingSeqs.add(seq);
        let done: boolean;
        try {
          done = await this.sendUntilDone({ signal, data: parts.length === 1 ? parts[0] : mergeBatches(signal, parts as never), items });
        } finally {
          for (const seq of seqs) this.sendingSeqs.delete(seq);
        }
        if (!done) break; // stopping: the requests stay on disk for the next start
        for (const seq of seqs) d.file.remove(seq);
        this.updateDiskGauges();
      }
    } finally {
      this.active--;
      this.checkIdle();
    }
  }

  /**
   * sending_queue.batch: add queued requests to `batch` (which holds the first) until it has
   * min_size items, waiting at most flush_timeout for more to arrive. `peek` says whether the next
   * request can join (same signal; max_size is checked here); `take` removes and returns it.
   */
  private async gather<T extends { items: number }>(batch: T[], take: () => T | undefined, canJoin: (next: T) => boolean, peek?: () => T | undefined): Promise<void> {
    const b = this.cfg.batch!;
    let items = batch[0].items;
    const deadline = Date.now() + b.flushTimeoutMs;
    this.gathering++;
    try {
      while (items < b.minSize) {
        const next = peek ? peek() : this.peekDisk();
        if (next) {
          if (!canJoin(next as T) || items + next.items > b.maxSize) return;
          const taken = take()!;
          batch.push(taken);
          items += taken.items;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0 || this.stopTaking || !this.accepting) return;
        await this.waitForData(left);
      }
    } finally {
      this.gathering--;
    }
  }

  private peekDisk() {
    return this.disk!.file.next(this.disk!.cursor);
  }

  /** Resolves when new data is queued, after `ms`, or at shutdown. */
  private waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.appendWaiters.delete(done);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.appendWaiters.add(done);
      this.sleepers.add(done);
    });
  }

  private wakeGatherers(): void {
    for (const w of [...this.appendWaiters]) w();
  }

  /** Retry until delivered or refused permanently (true), or until shutdown (false). */
  private async sendUntilDone(req: Request): Promise<boolean> {
    const c = this.metrics.bySignal[req.signal];
    const backoff = new Backoff(this.cfg.retry.enabled ? this.cfg.retry : { ...this.cfg.retry, initialMs: 1000, maxIntervalMs: 30_000 }, this.opts.random);
    for (;;) {
      if (this.forced) return false;
      try {
        await this.attempt(req);
        c.sent.inc(req.items);
        return true;
      } catch (err) {
        const e = err as Error;
        if (isPermanent(e)) {
          c.sendFailed.inc(req.items);
          this.logger.error({ signal: req.signal, items: req.items, err: e.message }, 'exporting failed permanently; removing the request from the persistent queue');
          this.sender.dropped?.(req.signal, req.data, e);
          return true;
        }
        if (this.forced) return false;
        let delay = backoff.next();
        if (e instanceof RetryableError && e.retryAfterMs !== undefined && e.retryAfterMs > delay) delay = e.retryAfterMs;
        this.logger.debug({ signal: req.signal, items: req.items, delayMs: Math.round(delay), err: e.message }, 'exporting failed; the request stays queued on disk, will retry');
        await this.sleep(delay);
      }
    }
  }

  async consume(signal: Signal, data: AnySignalData): Promise<void> {
    const items = countItems(signal, data);
    if (items === 0) return;
    const c = this.metrics.bySignal[signal];
    if (!this.accepting) {
      c.enqueueFailed.inc(items);
      throw new RetryableError(`exporter ${this.settings.id} is shutting down`, 1000);
    }
    if (this.disk) {
      this.enqueueOnDisk(signal, data, items);
      return;
    }
    const req: Request = { signal, data, items };
    if (!this.cfg.queue.enabled) {
      this.active++;
      try {
        await this.sendWithRetry(req);
      } finally {
        this.active--;
        this.checkIdle();
      }
      return;
    }
    if (this.queue.length - this.head >= this.cfg.queue.queue_size) {
      c.enqueueFailed.inc(items);
      throw new RetryableError('sending queue is full', 1000);
    }
    this.queue.push(req);
    this.metrics.queueSize.set(this.queue.length - this.head);
    this.wakeGatherers();
    if (this.active < this.cfg.queue.num_consumers && this.gathering === 0) void this.runConsumer();
  }

  private take(): Request | undefined {
    if (this.head >= this.queue.length) return undefined;
    const req = this.queue[this.head];
    this.queue[this.head++] = undefined;
    // Compact now and then so the array does not grow with everything ever queued.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.metrics.queueSize.set(this.queue.length - this.head);
    return req;
  }

  private async runConsumer(): Promise<void> {
    this.active++;
    try {
      for (let req = this.take(); req; req = this.take()) {
        if (this.cfg.batch) req = await this.gatherInMemory(req);
        try {
          await this.sendWithRetry(req);
        } catch {
          // already counted and logged; the queue has acknowledged this data, nobody to tell
        }
      }
    } finally {
      this.active--;
      this.checkIdle();
    }
  }

  /** sending_queue.batch on the in-memory queue: merge queued requests of the same signal. */
  private async gatherInMemory(first: Request): Promise<Request> {
    const batch = [first];
    const peek = () => (this.head < this.queue.length ? this.queue[this.head] : undefined);
    await this.gather(batch, () => this.take(), (next) => next.signal === first.signal, peek);
    // Others may have queued while this consumer gathered: let idle consumers take them.
    while (this.active < this.cfg.queue.num_consumers && this.queue.length - this.head > 0 && this.gathering === 0) void this.runConsumer();
    if (batch.length === 1) return first;
    return { signal: first.signal, data: mergeBatches(first.signal, batch.map((r) => r.data) as never), items: batch.reduce((n, r) => n + r.items, 0) };
  }

  private async sendWithRetry(req: Request): Promise<void> {
    const c = this.metrics.bySignal[req.signal];
    const r = this.cfg.retry;
    const started = Date.now();
    const backoff = new Backoff(r, this.opts.random);
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.forced) throw new StoppedError('exporter stopped before the data could be sent');
        await this.attempt(req);
        c.sent.inc(req.items);
        return;
      } catch (err) {
        const e = err as Error;
        const drop = (why: string, out: Error): never => {
          c.sendFailed.inc(req.items);
          this.logger.error({ signal: req.signal, items: req.items, attempts: attempt, err: e.message }, `exporting failed, dropping data: ${why}`);
          this.sender.dropped?.(req.signal, req.data, out);
          throw out;
        };
        if (isPermanent(e)) drop('permanent error', e);
        const retryable = e instanceof RetryableError ? e : new RetryableError(e.message);
        if (this.forced) drop('exporter stopped', retryable);
        if (!r.enabled) drop('retry disabled', retryable);
        let delay = backoff.next();
        if (retryable.retryAfterMs !== undefined && retryable.retryAfterMs > delay) delay = retryable.retryAfterMs;
        if (r.maxElapsedMs > 0 && Date.now() - started + delay > r.maxElapsedMs) drop('retry time exhausted (max_elapsed_time)', retryable);
        this.logger.debug({ signal: req.signal, items: req.items, attempt, delayMs: Math.round(delay), err: e.message }, 'exporting failed, will retry');
        await this.sleep(delay);
      }
    }
  }

  private async attempt(req: Request): Promise<void> {
    const ac = new AbortController();
    this.controllers.add(ac);
    let timer: NodeJS.Timeout | undefined;
    try {
      const sending = this.sender.send(req.signal, req.data, { signal: ac.signal });
      const limit = this.cfg.timeoutMs;
      if (limit <= 0) return await sending;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ac.abort();
          reject(new RetryableError(`export attempt timed out after ${limit}ms`));
        }, limit);
      });
      sending.catch(() => undefined); // a late rejection after a timeout is not unhandled
      return await Promise.race([sending, timedOut]);
    } finally {
      if (timer) clearTimeout(timer);
      this.controllers.delete(ac);
    }
  }

  /** A wait that shutdown can cut short once it gives up on draining. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private checkIdle(): void {
    // A persistent queue is never waited on to empty (it stays on disk); only its senders are.
    if (this.pending() === 0 || (this.disk && this.active === 0)) for (const w of this.idleWaiters.splice(0)) w();
  }

  private whenIdle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stop accepting, drain the queue within the drain timeout, drop the rest, then stop the sender.
   * A persistent queue is not drained: requests being sent get a short while to finish, the rest
   * stays on disk for the next start.
   */
  shutdown(): Promise<void> {
    if (this.disk) return (this.stopping ??= this.shutdownDisk());
    this.stopping ??= (async () => {
      this.accepting = false;
      const limit = this.opts.drainTimeoutMs ?? 20_000;
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        this.whenIdle().then(() => false),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), limit); }),
      ]);
      clearTimeout(timer);
      if (gaveUp) {
        this.forced = true;
        let dropped = 0;
        for (let req = this.take(); req; req = this.take()) {
          this.metrics.bySignal[req.signal].sendFailed.inc(req.items);
          dropped += req.items;
          this.sender.dropped?.(req.signal, req.data, new Error(`exporter stopped: the queue did not drain within ${limit}ms`));
        }
        this.logger.error({ droppedItems: dropped, timeoutMs: limit }, 'exporter queue did not drain in time; dropping what is left');
        for (const ac of this.controllers) ac.abort();
        for (const wake of [...this.sleepers]) wake();
        // A sender that ignores the abort must not hold shutdown forever.
        await Promise.race([this.whenIdle(), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
      }
      await this.sender.shutdown?.();
    })();
    return this.stopping;
  }

  private async shutdownDisk(): Promise<void> {
    const d = this.disk!;
    this.accepting = false;
    this.stopTaking = true;
    this.wakeGatherers();
    const grace = Math.min(this.opts.drainTimeoutMs ?? 20_000, 5000);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      this.whenActiveDone().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), grace); }),
    ]);
    clearTimeout(timer);
    this.forced = true;
    if (gaveUp) {
      for (const ac of this.controllers) ac.abort();
      for (const wake of [...this.sleepers]) wake();
      await Promise.race([this.whenActiveDone(), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    clearInterval(d.timer);
    const st = d.file.stats();
    if (st.count > 0) this.logger.info({ requests: st.count, bytes: st.bytes, file: d.file.path }, 'persistent queue: kept on disk for the next start');
    unregisterQueue(this);
    if (d.storage.release) d.storage.release(d.file);
    else d.file.close();
    await this.sender.shutdown?.();
  }

  private whenActiveDone(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.active === 0) resolve();
        else this.idleWaiters.push(check);
      };
      this.idleWaiters.push(check);
    });
  }
}

/** Build an exporter instance from a sender: what an ExporterFactory's create() returns. */
export function createExporter<C>(
  settings: CreateSettings<C>,
  signals: readonly Signal[],
  sender: Sender,
  opts: ExporterOptions = {},
): HelperExporter {
  // Exporters without helper settings in their schema get no queue, retry or timeout.
  const ex = new QueuedExporter(settings as unknown as CreateSettings<ExporterHelperConfig>, sender, opts);
  return {
    ...ex.consumers(signals),
    start: (host: Host) => ex.start(host),
    shutdown: () => ex.shutdown(),
    pending: () => ex.pending(),
  };
}

export { PermanentError, RetryableError };
