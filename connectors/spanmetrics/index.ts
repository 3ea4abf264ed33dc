/**
 * `spanmetrics` connector (traces → metrics), as the Collector's: request counts and latency
 * histograms per service, span name, kind and status code — RED dashboards from traces alone.
 */
import type { ConnectorFactory } from '../../src/component';
import { durationSchema } from '../../src/util/duration';
import { DEFAULT_BUCKETS, SpanMetricsConfig, SpanMetricsConnector } from './connector';

export { SpanMetricsConfig, SpanMetricsConnector };

const durationItem = { anyOf: [{ type: 'string', pattern: '^(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h))+$' }, { type: 'number', minimum: 0 }] };

export const spanMetricsConnectorFactory: ConnectorFactory<SpanMetricsConfig> = {
  kind: 'connector',
  type: 'spanmetrics',
  description: 'Derives call counts and duration histograms from spans (traces → metrics).',
  pairs: [['traces', 'metrics']],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      namespace: { type: 'string', default: 'traces.span.metrics', description: 'Prefix of the metric names (<namespace>.calls, <namespace>.duration).' },
      histogram: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          disable: { type: 'boolean', default: false, description: 'Emit only the call counter.' },
          unit: { enum: ['ms', 's'], default: 'ms', description: 'Unit of the duration histogram.' },
          explicit: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: { buckets: { type: 'array', items: durationItem, minItems: 1, default: DEFAULT_BUCKETS, description: 'Bucket upper bounds as durations ("2ms", "1s") or milliseconds.' } },
          },
        },
      },
      dimensions: {
        type: 'array',
        default: [],
        description: 'Extra dimensions: a span attribute (else resource attribute) by name, with an optional default when absent (absent and no default: the dimension is left out).',
        items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1 }, default: { type: ['string', 'null'] } } },
      },
      exclude_dimensions: {
        type: 'array', default: [], items: { enum: ['service.name', 'span.name', 'span.kind', 'status.code'] },
        description: 'Default dimensions to leave out.',
      },
      aggregation_temporality: {
        enum: ['AGGREGATION_TEMPORALITY_CUMULATIVE', 'AGGREGATION_TEMPORALITY_DELTA'], default: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
      },
      metrics_flush_interval: durationSchema('60s', 'How often the metrics are emitted.'),
      metrics_expiration: durationSchema('0', 'Cumulative series with no span for this long are dropped; 0 keeps them.'),
      aggregation_cardinality_limit: {
        type: 'integer', minimum: 1, default: 10000,
        description: 'Series kept at most; spans of further combinations are counted in one series with otel.metric.overflow=true.',
      },
      resource_metrics_key_attributes: {
        type: 'array', items: { type: 'string' }, default: [],
        description: 'Resource attributes that identify a resource; by default all of them (a changing attribute such as a pid then splits series).',
      },
      exemplars: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          enabled: { type: 'boolean', default: false, description: 'Attach trace/span ids of recent spans as exemplars.' },
          max_per_data_point: { type: 'integer', minimum: 1, default: 5 },
        },
      },
    },
  },
  create(settings, _inputs, next) {
    const metrics = next.metrics;
    if (!metrics) throw new Error('spanmetrics must feed a metrics pipeline');
    return new SpanMetricsConnector(settings, metrics);
  },
};
