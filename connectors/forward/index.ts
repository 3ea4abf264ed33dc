/**
 * `forward` connector, as the Collector's: passes data unchanged from the pipelines where it is an
 * exporter to the pipelines of the same signal where it is a receiver.
 */
import type { ConnectorFactory, SignalConsumers } from '../../src/component';
import { SIGNALS } from '../../src/model';

export const forwardFactory: ConnectorFactory<Record<string, never>> = {
  kind: 'connector',
  type: 'forward',
  description: 'Passes data unchanged from one pipeline to others of the same signal.',
  pairs: SIGNALS.map((s) => [s, s] as const),
  mutatesData: false,
  configSchema: { type: 'object', properties: {} },
  create(_settings, inputs, next) {
    const out: SignalConsumers = {};
    for (const s of inputs) (out as Record<string, unknown>)[s] = next[s];
    return out;
  },
};
