/**
 * `batch` processor, as the Collector's: items accumulate until `send_batch_size` is reached or
 * `timeout` passes, then go on as one batch, split to at most `send_batch_max_size`.
 *
 * Where it differs, on purpose: the Collector's batch processor drops a batch the exporter refuses.
 * Here a refused batch is retried (after the Retry-After the exporter gave, or a short backoff), and
 * while more than `max_pending_items` are waiting, new data is refused with a retryable error so the
 * receiver answers 503 and the sender keeps it. Nothing acknowledged is lost to backpressure.
 */
import type { Consumer, CreateSettings, ProcessorFactory } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { Signal, SignalData, countItems } from '../../src/model';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { mergeBatches, splitByItems } from './split';

export interface BatchConfig {
  send_batch_size: number;
  send_batch_max_size: number;
  timeout: string | number;
  max_pending_items: number;
}

export class BatchProcessor<S extends Signal> implements Consumer<S> {
  private pending: SignalData[S][] = [];
  private pendingItems = 0;
  private inFlightItems = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly timeoutMs: number;
  private readonly sizeTrigger;
  private readonly timeoutTrigger;
  private readonly sendSize;
  private readonly dropped;

  constructor(private readonly s: CreateSettings<BatchConfig>, private readonly signal: S, private readonly next: Consumer<S>) {
    this.timeoutMs = parseDuration(s.config.timeout);
    const t = s.telemetry;
    this.sizeTrigger = t.counter('vigil_processor_batch_batch_size_trigger_send_total', 'Batches sent because they reached send_batch_size', ['processor']).labels(s.id);
    this.timeoutTrigger = t.counter('vigil_processor_batch_timeout_trigger_send_total', 'Batches sent because the timeout passed', ['processor']).labels(s.id);
    this.sendSize = t.histogram('vigil_processor_batch_batch_send_size', 'Items per batch sent', ['processor'], [10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000]).labels(s.id);
    this.dropped = t.counter('vigil_processor_batch_dropped_items_total', 'Items dropped because the next component refused them permanently', ['processor']).labels(s.id);
  }

  async consume(data: SignalData[S]): Promise<void> {
    const n = countItems(this.signal, data);
    if (n === 0) return;
    if (this.stopped) throw new RetryableError('batch processor is shutting down', 1000);
    // A request larger than the processor can ever hold would be refused on every retry: say so once.
    if (n > this.s.config.max_pending_items) {
      throw new PermanentError(`request of ${n} items is larger than the batch processor can hold (max_pending_items ${this.s.config.max_pending_items}); send it in smaller requests`);
    }
    if (this.pendingItems + this.inFlightItems + n > this.s.config.max_pending_items) {
      throw new RetryableError(`batch processor has ${this.pendingItems + this.inFlightItems} items waiting for the exporters (max_pending_items ${this.s.config.max_pending_items})`, 1000);
    }
    this.pending.push(data);
    this.pendingItems += n;
    if (this.timeoutMs === 0 || this.pendingItems >= this.s.config.send_batch_size) {
      this.sizeTrigger.inc();
      this.flush(this.timeoutMs === 0);
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timeoutTrigger.inc();
        this.flush(true);
      }, this.timeoutMs);
    }
  }

  /** Send full batches; with `all`, send whatever is pending too. */
  private flush(all: boolean): void {
    if (this.pendingItems === 0) return;
    const max = this.s.config.send_batch_max_size;
    const merged = mergeBatches(this.signal, this.pending);
    const total = this.pendingItems;
    this.pending = [];
    this.pendingItems = 0;
    const chunks = splitByItems(this.signal, merged, max, total);
    for (const chunk of chunks) {
      const n = countItems(this.signal, chunk);
      // Without `all`, a last chunk below send_batch_size waits for more items (or the timeout).
      if (!all && n < this.s.config.send_batch_size && chunk === chunks[chunks.length - 1] && chunks.length > 1) {
        this.pending.push(chunk);
        this.pendingItems += n;
        continue;
      }
      this.send(chunk, n);
    }
    if (this.pendingItems > 0 && !this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timeoutTrigger.inc();
        this.flush(true);
      }, this.timeoutMs);
    } else if (this.pendingItems === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private send(chunk: SignalData[S], n: number): void {
    this.inFlightItems += n;
    this.sendSize.observe(n);
    const p = this.deliver(chunk, n).finally(() => {
      this.inFlightItems -= n;
      this.inFlight.delete(p);
    });
    this.inFlight.add(p);
  }

  private async deliver(chunk: SignalData[S], n: number): Promise<void> {
    let backoff = 100;
    for (;;) {
      try {
        await this.next.consume(chunk);
        return;
      } catch (e) {
        if (e instanceof PermanentError || !(e instanceof RetryableError) && this.stopped) {
          this.dropped.inc(n);
          this.s.logger.error({ items: n, err: (e as Error).message }, 'batch refused permanently; dropped');
          return;
        }
        const wait = e instanceof RetryableError && e.retryAfterMs ? e.retryAfterMs : backoff;
        backoff = Math.min(backoff * 2, 5000);
        this.s.logger.debug({ items: n, waitMs: wait, err: (e as Error).message }, 'batch refused for now; retrying');
        await new Promise((r) => setTimeout(r, Math.min(wait, 5000)));
      }
    }
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush(true);
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}

export const batchFactory: ProcessorFactory<BatchConfig> = {
  kind: 'processor',
  type: 'batch',
  description: 'Groups items into batches by size or time before they go on to the exporters.',
  signals: ['traces', 'metrics', 'logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    properties: {
      send_batch_size: { type: 'integer', minimum: 1, default: 8192, description: 'Items (spans, data points, log records) that trigger a send.' },
      send_batch_max_size: { type: 'integer', minimum: 0, default: 0, description: 'Upper bound of a batch; larger ones are split. 0: no bound.' },
      timeout: durationSchema('200ms', 'Time after which a batch is sent whatever its size; 0 sends at once.'),
      max_pending_items: { type: 'integer', minimum: 1, default: 100000, description: 'Items waiting in or behind this processor above which new data is refused (retryable) rather than buffered.' },
    },
  },
  validate: (c) =>
    c.send_batch_max_size > 0 && c.send_batch_max_size < c.send_batch_size
      ? [{ path: ['send_batch_max_size'], message: `must be 0 or at least send_batch_size (${c.send_batch_size}), got ${c.send_batch_max_size}` }]
      : [],
  create: (settings, signal, next) => new BatchProcessor(settings, signal, next),
};
