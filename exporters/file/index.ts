/**
 * `file` exporter: OTLP/JSON, one export request per line (the Collector's file exporter format,
 * readable by its `otlpjsonfile` receiver and by `jq`), with rotation by size.
 */
import { isAbsolute, resolve } from 'node:path';
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { ExporterHelperConfig, createExporter, exporterHelperProperties } from '../../src/exporterhelper';
import type { Signal } from '../../src/model';
import { toJson } from '../../src/otlp';
import { RotatingFile } from './writer';

export interface FileConfig extends ExporterHelperConfig {
  path: string;
  rotation: { max_megabytes: number; max_backups: number };
}

export const fileExporterFactory: ExporterFactory<FileConfig> = {
  kind: 'exporter',
  type: 'file',
  description: 'Writes OTLP/JSON to a file, one export request per line, rotating it by size.',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: {
    type: 'object',
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'File to append to, relative to the working directory.' },
      rotation: {
        type: 'object',
        default: {},
        properties: {
          max_megabytes: { type: 'number', minimum: 0, default: 100, description: 'Rotate when the file would grow past this size (MiB); 0 never rotates.' },
          max_backups: { type: 'integer', minimum: 0, default: 5, description: 'Rotated files to keep, newest first; 0 keeps all.' },
        },
      },
      ...exporterHelperProperties({ sending_queue: { enabled: false }, retry_on_failure: { enabled: false } }),
    },
  },
  create(settings: CreateSettings<FileConfig>, signals: readonly Signal[]) {
    const c = settings.config;
    const path = isAbsolute(c.path) ? c.path : resolve(process.cwd(), c.path);
    const file = new RotatingFile(path, {
      maxBytes: Math.round((c.rotation?.max_megabytes ?? 100) * 1024 * 1024),
      maxBackups: c.rotation?.max_backups ?? 5,
    });
    return createExporter(settings, signals, {
      start: () => file.open(),
      send: (signal, data) => file.append(JSON.stringify(toJson(signal, data)) + '\n'),
      shutdown: () => file.close(),
    });
  },
};
