/**
 * `prometheus` exporter, as the Collector's: serves the metrics of its pipelines on `/metrics` in the
 * Prometheus text format (or OpenMetrics, when enabled and asked for), names and labels translated by
 * the OpenTelemetry-to-Prometheus compatibility rules (src/prometheus/).
 */
import type { ExporterFactory } from '../../src/component';
import { durationSchema } from '../../src/util/duration';
import { tlsServerSchema } from '../../src/tls/config';
import { PrometheusExporter, PrometheusExporterConfig } from './exporter';

export { PrometheusExporter, PrometheusExporterConfig };

export const prometheusExporterFactory: ExporterFactory<PrometheusExporterConfig> = {
  kind: 'exporter',
  type: 'prometheus',
  description: 'Serves the metrics of its pipelines on /metrics for Prometheus to scrape.',
  signals: ['metrics'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { type: 'string', default: '127.0.0.1:9464', description: 'host:port to serve /metrics on.' },
      tls: tlsServerSchema,
      namespace: { type: 'string', default: '', description: 'Prefix added to every metric name (joined with _).' },
      const_labels: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Labels added to every series.' },
      send_timestamps: { type: 'boolean', default: false, description: 'Expose the data points\' own timestamps instead of letting Prometheus stamp the scrape time.' },
      metric_expiration: durationSchema('5m', 'Series not updated for this long disappear from /metrics (and Prometheus marks them stale). 0: never.'),
      resource_to_telemetry_conversion: {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean', default: false, description: 'Copy every resource attribute onto every series as a label.' } },
        default: {},
      },
      promote_resource_attributes: { type: 'array', items: { type: 'string' }, default: [], description: 'Resource attributes copied onto every series as labels (e.g. deployment.environment).' },
      enable_open_metrics: { type: 'boolean', default: false, description: 'Answer in OpenMetrics (with exemplars) to scrapers that ask for it.' },
      add_metric_suffixes: { type: 'boolean', default: true, description: 'Add unit, _total and _ratio suffixes to metric names.' },
      max_series: { type: 'integer', minimum: 1, default: 500000, description: 'Series kept at most; points of new series beyond it are dropped (counted in vigil_exporter_prometheus_refused_points_total).' },
    },
  },
  create: (settings) => new PrometheusExporter(settings),
};
