/**
 * `prometheusremotewrite` exporter, as the Collector's: pushes metrics to Prometheus, Mimir, Thanos,
 * Cortex or anything speaking remote write 1.0, with the exporterhelper's queue and retry.
 */
import type { ExporterFactory } from '../../src/component';
import { exporterHelperProperties } from '../../src/exporterhelper';
import { durationSchema } from '../../src/util/duration';
import { tlsClientProblems, tlsClientSchema } from '../../src/tls/config';
import { RemoteWriteConfig, RemoteWriteExporter } from './exporter';

export { RemoteWriteConfig, RemoteWriteExporter };

export const prometheusRemoteWriteExporterFactory: ExporterFactory<RemoteWriteConfig> = {
  kind: 'exporter',
  type: 'prometheusremotewrite',
  description: 'Pushes metrics with the Prometheus remote write protocol (snappy protobuf).',
  signals: ['metrics'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['endpoint'],
    properties: {
      endpoint: { type: 'string', description: 'Remote write URL, e.g. http://127.0.0.1:9090/api/v1/write.' },
      headers: { type: 'object', additionalProperties: { type: 'string', secret: true }, default: {}, description: 'Extra HTTP headers (e.g. Authorization, X-Scope-OrgID). Never logged.' },
      namespace: { type: 'string', default: '', description: 'Prefix added to every metric name (joined with _).' },
      external_labels: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Labels added to every series.' },
      resource_to_telemetry_conversion: {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean', default: false, description: 'Copy every resource attribute onto every series as a label.' } },
        default: {},
      },
      promote_resource_attributes: { type: 'array', items: { type: 'string' }, default: [], description: 'Resource attributes copied onto every series as labels.' },
      target_info: {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean', default: true, description: 'Send a target_info series per resource.' } },
        default: {},
      },
      add_metric_suffixes: { type: 'boolean', default: true, description: 'Add unit, _total and _ratio suffixes to metric names.' },
      send_metadata: { type: 'boolean', default: false, description: 'Also send metric metadata (type, help, unit).' },
      max_batch_size_bytes: { type: 'integer', minimum: 1024, default: 3000000, description: 'Uncompressed size above which a request is split.' },
      metric_expiration: durationSchema('5m', 'How long the running total of a series (needed for delta inputs) is kept without updates.'),
      max_series: { type: 'integer', minimum: 1, default: 500000, description: 'Series tracked at most; points of new series beyond it are dropped.' },
      tls: tlsClientSchema,
      // One consumer by default: concurrent requests could deliver a series' samples out of order, which Prometheus refuses.
      ...exporterHelperProperties({ sending_queue: { num_consumers: 1, queue_size: 10000 } }),
    },
  },
  validate: (c) => tlsClientProblems(c.tls),
  create: (settings) => {
    const ex = new RemoteWriteExporter(settings);
    return { ...ex.consumers, start: (host) => ex.start(host), shutdown: () => ex.shutdown() };
  },
};
