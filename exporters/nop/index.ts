/**
 * `nop` exporter: accepts everything and drops it, counting items in the usual exporter metrics.
 * For benchmarks (the cost of a pipeline without any destination) and for tests.
 */
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { createExporter } from '../../src/exporterhelper';
import type { Signal } from '../../src/model';

export type NopConfig = Record<string, never>;

export const nopExporterFactory: ExporterFactory<NopConfig> = {
  kind: 'exporter',
  type: 'nop',
  description: 'Accepts and drops all data (counted in vigil_exporter_sent_*); for benchmarks and tests.',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: { type: 'object', properties: {} },
  create(settings: CreateSettings<NopConfig>, signals: readonly Signal[]) {
    // No queue, no retry, no timeout: nothing can fail and nothing should be held.
    return createExporter(settings, signals, { send: () => Promise.resolve() });
  },
};
