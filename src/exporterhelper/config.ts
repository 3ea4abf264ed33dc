/**
 * The settings every exporter shares, named and defaulted as in the Collector's exporterhelper:
 * `timeout`, `sending_queue` and `retry_on_failure`. Exporters put `exporterHelperProperties()`
 * into their config schema's `properties` (optionally with their own defaults).
 */
import type { JsonSchema } from '../component';
import { durationSchema, parseDuration } from '../util/duration';

export interface SendingQueueConfig {
  enabled: boolean;
  /** Concurrent senders taking requests off the queue. */
  num_consumers: number;
  /** Capacity in requests (batches), as the Collector's default "requests" sizer. */
  queue_size: number;
  /** Id of a `file_storage` extension: the queue is then persistent (on disk). */
  storage?: string;
  /** Persistent queue: bound in bytes on disk (MiB). */
  max_size_mib: number;
  /** Persistent queue: what happens when it is full. */
  full_policy: 'refuse' | 'drop_oldest';
  /** Batching from the queue (the Collector's `sending_queue.batch`); absent: each request alone. */
  batch?: Partial<QueueBatchConfig>;
}

export interface QueueBatchConfig {
  /** Items a batch waits for (up to flush_timeout) before it is sent. */
  min_size: number;
  /** Most items merged into one send; 0: no bound. A single larger request is sent as it is. */
  max_size: number;
  flush_timeout: string | number;
}

export const BATCH_DEFAULTS: QueueBatchConfig = { min_size: 8192, max_size: 0, flush_timeout: '200ms' };

export interface RetryConfig {
  enabled: boolean;
  initial_interval: string | number;
  randomization_factor: number;
  multiplier: number;
  max_interval: string | number;
  /** Give up on a request after this long; 0 retries forever. */
  max_elapsed_time: string | number;
}

export interface ExporterHelperConfig {
  /** Per attempt; 0 disables. */
  timeout?: string | number;
  sending_queue?: Partial<SendingQueueConfig>;
  retry_on_failure?: Partial<RetryConfig>;
}

export const QUEUE_DEFAULTS: SendingQueueConfig = { enabled: true, num_consumers: 10, queue_size: 1000, max_size_mib: 512, full_policy: 'refuse' };
export const RETRY_DEFAULTS: RetryConfig = {
  enabled: true, initial_interval: '5s', randomization_factor: 0.5, multiplier: 1.5, max_interval: '30s', max_elapsed_time: '300s',
};
export const TIMEOUT_DEFAULT = '5s';

export function timeoutSchema(def: string = TIMEOUT_DEFAULT): JsonSchema {
  return durationSchema(def, 'Time allowed for one send attempt; 0 disables the limit.');
}

export function sendingQueueSchema(defaults: Partial<SendingQueueConfig> = {}): JsonSchema {
  const d = { ...QUEUE_DEFAULTS, ...defaults };
  return {
    type: 'object',
    description: 'In-memory queue between the pipeline and the senders; consume() returns once a request is queued.',
    default: {},
    properties: {
      enabled: { type: 'boolean', default: d.enabled },
      num_consumers: { type: 'integer', minimum: 1, default: d.num_consumers, description: 'Requests sent concurrently.' },
      queue_size: { type: 'integer', minimum: 1, default: d.queue_size, description: 'In-memory queue: maximum queued requests (batches); beyond it data is refused with a retryable error.' },
      storage: { type: 'string', minLength: 1, description: 'Id of a file_storage extension: the queue is kept on disk, acknowledged upstream only once written, removed only once the destination accepted it, and replayed after a restart.' },
      max_size_mib: { type: 'number', exclusiveMinimum: 0, default: d.max_size_mib, description: 'Persistent queue: most bytes kept on disk.' },
      batch: {
        type: 'object',
        description: 'Batch from the queue, as the Collector\'s sending_queue.batch: senders merge queued requests of one signal into one send of at least min_size items (waiting at most flush_timeout) and at most max_size. With a persistent queue, data is acknowledged upstream once on disk, batched afterwards, and removed once the merged send is accepted.',
        properties: {
          min_size: { type: 'integer', minimum: 0, default: BATCH_DEFAULTS.min_size, description: 'Items to wait for before sending.' },
          max_size: { type: 'integer', minimum: 0, default: BATCH_DEFAULTS.max_size, description: 'Most items per send; 0: no bound.' },
          flush_timeout: durationSchema(String(BATCH_DEFAULTS.flush_timeout), 'Longest wait for min_size items.'),
        },
      },
      full_policy: { enum: ['refuse', 'drop_oldest'], default: d.full_policy, description: 'Persistent queue, when full: refuse new data with a retryable error (the sender keeps it), or drop the oldest requests (counted in vigil_exporter_queue_dropped_*_total).' },
    },
  };
}

export function retryOnFailureSchema(defaults: Partial<RetryConfig> = {}): JsonSchema {
  const d = { ...RETRY_DEFAULTS, ...defaults };
  return {
    type: 'object',
    description: 'Retry of retryable failures with exponential backoff and jitter.',
    default: {},
    properties: {
      enabled: { type: 'boolean', default: d.enabled },
      initial_interval: durationSchema(String(d.initial_interval), 'Wait before the first retry.'),
      randomization_factor: { type: 'number', minimum: 0, maximum: 1, default: d.randomization_factor, description: 'Jitter: each wait is picked in [w·(1−f), w·(1+f)].' },
      multiplier: { type: 'number', minimum: 1, default: d.multiplier, description: 'Growth of the wait after each attempt.' },
      max_interval: durationSchema(String(d.max_interval), 'Upper bound of one wait.'),
      max_elapsed_time: durationSchema(String(d.max_elapsed_time), 'Give up on a request after this long; 0 means never.'),
    },
  };
}

/** The three properties, for an exporter's config schema. */
export function exporterHelperProperties(defaults: {
  timeout?: string; sending_queue?: Partial<SendingQueueConfig>; retry_on_failure?: Partial<RetryConfig>;
} = {}): Record<string, JsonSchema> {
  return {
    timeout: timeoutSchema(defaults.timeout),
    sending_queue: sendingQueueSchema(defaults.sending_queue),
    retry_on_failure: retryOnFailureSchema(defaults.retry_on_failure),
  };
}

export interface ResolvedRetry {
  enabled: boolean;
  initialMs: number;
  randomization: number;
  multiplier: number;
  maxIntervalMs: number;
  /** 0 = unlimited */
  maxElapsedMs: number;
}

export interface ResolvedBatch {
  minSize: number;
  /** Infinity when unbounded. */
  maxSize: number;
  flushTimeoutMs: number;
}

export interface ResolvedHelperConfig {
  timeoutMs: number;
  queue: SendingQueueConfig;
  /** Batching from the queue, when `sending_queue.batch` is set. */
  batch?: ResolvedBatch;
  retry: ResolvedRetry;
}

/**
 * Settings as numbers. A missing block means the feature is off (an exporter that does not list a
 * setting in its schema does not get it), a present block takes the Collector's defaults for the
 * keys it leaves out.
 */
export function resolveHelperConfig(c: ExporterHelperConfig): ResolvedHelperConfig {
  const q = c.sending_queue ? { ...QUEUE_DEFAULTS, ...c.sending_queue } : { ...QUEUE_DEFAULTS, enabled: false };
  const r = c.retry_on_failure ? { ...RETRY_DEFAULTS, ...c.retry_on_failure } : { ...RETRY_DEFAULTS, enabled: false };
  const b = q.enabled && q.batch ? { ...BATCH_DEFAULTS, ...q.batch } : undefined;
  return {
    timeoutMs: c.timeout === undefined ? 0 : parseDuration(c.timeout),
    queue: q,
    batch: b && { minSize: b.min_size, maxSize: b.max_size > 0 ? b.max_size : Infinity, flushTimeoutMs: parseDuration(b.flush_timeout) },
    retry: {
      enabled: r.enabled,
      initialMs: parseDuration(r.initial_interval),
      randomization: r.randomization_factor,
      multiplier: r.multiplier,
      maxIntervalMs: parseDuration(r.max_interval),
      maxElapsedMs: parseDuration(r.max_elapsed_time),
    },
  };
}
