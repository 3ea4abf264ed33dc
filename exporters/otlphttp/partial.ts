/**
 * OTLP partial success, shared by the `otlphttp` and `otlp` exporters. The destination kept the
 * rest of the request, so the rejected items are logged and counted, never retried: sending the
 * same request again would duplicate what was accepted.
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { ITEM_NAMES } from '../../src/exporterhelper';
import type { Signal } from '../../src/model';
import type { PartialSuccess } from '../../src/otlp';
import type { Telemetry } from '../../src/telemetry';

export type RejectedCounters = Record<Signal, Counter.Internal>;

export function rejectedCounters(t: Telemetry, id: string): RejectedCounters {
  const out = {} as RejectedCounters;
  for (const signal of Object.keys(ITEM_NAMES) as Signal[]) {
    const item = ITEM_NAMES[signal];
    out[signal] = t.counter(
      `vigil_exporter_rejected_${item}_total`,
      `Number of ${item.replace('_', ' ')} the destination refused in an OTLP partial success (not retried)`,
      ['exporter'],
    ).labels(id);
  }
  return out;
}

/** Message length kept from the destination's explanation. */
const MAX_MESSAGE = 256;

export function reportPartialSuccess(
  logger: Logger, counters: RejectedCounters, signal: Signal, ps: PartialSuccess | undefined, target: string,
): void {
  if (!ps || (!ps.rejected && !ps.errorMessage)) return;
  const rejected = Number.isFinite(ps.rejected) && ps.rejected > 0 ? ps.rejected : 0;
  if (rejected) counters[signal].inc(rejected);
  // A zero count with a message is a warning from the server, per the OTLP specification.
  logger.warn({ signal, rejected, destination: target, message: ps.errorMessage.slice(0, MAX_MESSAGE) }, 'OTLP partial success: the destination refused some items');
}
