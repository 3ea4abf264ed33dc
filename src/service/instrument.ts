/**
 * Self-metrics around the graph's edges, named as the Collector's own metrics with a vigil_ prefix:
 * items a receiver pushed into its pipelines (accepted / refused), items into each processor.
 * Exporters count what they sent in the exporter helper.
 */
import type { Consumer } from '../component';
import { Signal, countItems } from '../model';
import type { Telemetry } from '../telemetry';

const ITEM = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' } as const;

export function instrumentConsumer<S extends Signal>(
  telemetry: Telemetry, kind: 'receiver' | 'processor', id: string, signal: S, inner: Consumer<S>, pipeline?: string,
): Consumer<S> & { mutates?: boolean } {
  const mutates = (inner as { mutates?: boolean }).mutates;
  if (kind === 'receiver') {
    const accepted = telemetry.counter(`vigil_receiver_accepted_${ITEM[signal]}_total`, `${ITEM[signal]} successfully pushed into the pipeline`, ['receiver']).labels(id);
    const refused = telemetry.counter(`vigil_receiver_refused_${ITEM[signal]}_total`, `${ITEM[signal]} that could not be pushed into the pipeline`, ['receiver']).labels(id);
    return {
      mutates,
      async consume(data) {
        const n = countItems(signal, data);
        try {
          await inner.consume(data);
          accepted.inc(n);
        } catch (e) {
          refused.inc(n);
          throw e;
        }
      },
    };
  }
  const incoming = telemetry.counter('vigil_processor_incoming_items_total', 'Items passed to a processor', ['processor', 'pipeline', 'otel_signal']).labels(id, pipeline ?? '', signal);
  return {
    mutates,
    consume(data) {
      incoming.inc(countItems(signal, data));
      return inner.consume(data);
    },
  };
}
