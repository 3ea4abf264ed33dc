import type { Counter, Gauge } from 'prom-client';
import type { Signal } from '../model';
import type { Telemetry } from '../telemetry';

/** How the Collector names the items of each signal in its exporter metrics. */
export const ITEM_NAMES: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };

export interface SignalCounters {
  sent: Counter.Internal;
  sendFailed: Counter.Internal;
  enqueueFailed: Counter.Internal;
  /** Persistent queue with drop_oldest: items dropped to make room. */
  queueDropped: Counter.Internal;
}

export interface ExporterMetrics {
  bySignal: Record<Signal, SignalCounters>;
  queueSize: Gauge.Internal<string>;
  queueCapacity: Gauge.Internal<string>;
  queueBytes: Gauge.Internal<string>;
  queueOldestAge: Gauge.Internal<string>;
}

export function exporterMetrics(t: Telemetry, id: string): ExporterMetrics {
  const bySignal = {} as Record<Signal, SignalCounters>;
  for (const signal of Object.keys(ITEM_NAMES) as Signal[]) {
    const item = ITEM_NAMES[signal];
    const human = item.replace('_', ' ');
    bySignal[signal] = {
      sent: t.counter(`vigil_exporter_sent_${item}_total`, `Number of ${human} successfully sent to the destination`, ['exporter']).labels(id),
      sendFailed: t.counter(`vigil_exporter_send_failed_${item}_total`, `Number of ${human} the exporter failed to send and dropped`, ['exporter']).labels(id),
      enqueueFailed: t.counter(`vigil_exporter_enqueue_failed_${item}_total`, `Number of ${human} refused because the sending queue was full`, ['exporter']).labels(id),
      queueDropped: t.counter(`vigil_exporter_queue_dropped_${item}_total`, `Number of ${human} dropped from a full persistent queue (full_policy drop_oldest)`, ['exporter']).labels(id),
    };
  }
  return {
    bySignal,
    queueSize: t.gauge('vigil_exporter_queue_size', 'Requests (batches) currently in the sending queue', ['exporter']).labels(id),
    queueCapacity: t.gauge('vigil_exporter_queue_capacity', 'Capacity of the sending queue in requests', ['exporter']).labels(id),
    queueBytes: t.gauge('vigil_exporter_queue_bytes', 'Bytes of requests in a persistent sending queue (on disk)', ['exporter']).labels(id),
    queueOldestAge: t.gauge('vigil_exporter_queue_oldest_age_seconds', 'Age of the oldest request in a persistent sending queue', ['exporter']).labels(id),
  };
}
