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
 */
import type { Logger } from 'pino';
import type { Component, Consumer, CreateSettings, Host, SignalConsumers } from '../component';
import { PermanentError, RetryableError, isPermanent } from '../errors';
import { AnySignalData, Signal, SignalData, countItems } from '../model';
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
    return this.queue.length - this.head + this.active;
  }

  async start(host: Host): Promise<void> {
    await this.sender.start?.(host);
  }

  async consume(signal: Signal, data: AnySignalData): Promise<void> {
    const items = countItems(signal, data);
    if (items === 0) return;
    const c = this.metrics.bySignal[signal];
    if (!this.accepting) {
      c.enqueueFailed.inc(items);
      throw new RetryableError(`exporter ${this.settings.id} is shutting down`, 1000);
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
    if (this.active < this.cfg.queue.num_consumers) void this.runConsumer();
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
    if (this.pending() === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private whenIdle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop accepting, drain the queue within the drain timeout, drop the rest, then stop the sender. */
  shutdown(): Promise<void> {
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
