/**
 * `debug` exporter: writes what flows through a pipeline to stderr, like the Collector's debug
 * exporter. `basic`: one summary line per batch; `normal`: one line per item; `detailed`: every
 * field. Output goes straight to stderr (not through the logger) so it stays readable.
 */
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { createExporter } from '../../src/exporterhelper';
import type { Logs, Metrics, Signal, Traces } from '../../src/model';
import { detailed, normal, summary } from './format';

export interface DebugConfig {
  verbosity: 'basic' | 'normal' | 'detailed';
}

/** The exporter, writing to `write` (stderr in the product, a buffer in tests). */
export function createDebugExporter(settings: CreateSettings<DebugConfig>, signals: readonly Signal[], write: (text: string) => void) {
  const verbosity = settings.config.verbosity ?? 'basic';
  return createExporter(settings, signals, {
    send: async (signal, data) => {
      const d = data as Traces | Metrics | Logs;
      const lines = [`${settings.id} ${summary(signal, d)}`];
      if (verbosity === 'normal') lines.push(...normal(signal, d));
      else if (verbosity === 'detailed') lines.push(...detailed(signal, d));
      write(lines.join('\n') + '\n');
    },
  });
}

export const debugExporterFactory: ExporterFactory<DebugConfig> = {
  kind: 'exporter',
  type: 'debug',
  description: 'Prints a summary of each batch (basic), one line per item (normal) or every field (detailed) to stderr.',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: {
    type: 'object',
    properties: {
      verbosity: { enum: ['basic', 'normal', 'detailed'], default: 'basic', description: 'How much to print per batch.' },
    },
  },
  create(settings: CreateSettings<DebugConfig>, signals: readonly Signal[]) {
    return createDebugExporter(settings, signals, (text) => void process.stderr.write(text));
  },
};
