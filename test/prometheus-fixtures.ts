/** Small builders of model objects and settings for the prometheus / spanmetrics tests. */
import Ajv from 'ajv';
import type { CreateSettings, JsonSchema } from '../src/component';
import { silentLogger } from '../src/logger';
import {
  Attributes, Metric, MetricData, Metrics, NumberDataPoint, HistogramDataPoint, ExponentialHistogramDataPoint, Temporality,
} from '../src/model';
import { Telemetry } from '../src/telemetry';

export const T0 = 1_700_000_000_000n * 1_000_000n; // a fixed point in time, ns

export function ms(n: number): bigint {
  return T0 + BigInt(n) * 1_000_000n;
}

export function settings<C>(schema: JsonSchema, config: Partial<C>, id = 'test'): CreateSettings<C> {
  const cfg = JSON.parse(JSON.stringify(config));
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(schema);
  if (!validate(cfg)) throw new Error('bad test config: ' + JSON.stringify(validate.errors));
  return { id, config: cfg as C, logger: silentLogger(), telemetry: new Telemetry(), dataDir: ':memory:' };
}

export function numberPoint(value: number, attributes: Attributes = {}, atMs = 1000, startMs = 0): NumberDataPoint {
  return { attributes, startTimeUnixNano: ms(startMs), timeUnixNano: ms(atMs), exemplars: [], flags: 0, value, isInt: Number.isInteger(value) };
}

export function histPoint(bounds: number[], counts: number[], sum: number, attributes: Attributes = {}, atMs = 1000, startMs = 0): HistogramDataPoint {
  return {
    attributes, startTimeUnixNano: ms(startMs), timeUnixNano: ms(atMs), exemplars: [], flags: 0,
    count: counts.reduce((a, b) => a + b, 0), sum, bucketCounts: counts, explicitBounds: bounds,
  };
}

export function expPoint(p: Partial<ExponentialHistogramDataPoint> & { scale: number }, atMs = 1000): ExponentialHistogramDataPoint {
  const positive = p.positive ?? { offset: 0, bucketCounts: [] };
  const negative = p.negative ?? { offset: 0, bucketCounts: [] };
  const zeroCount = p.zeroCount ?? 0;
  const count = zeroCount + positive.bucketCounts.reduce((a, b) => a + b, 0) + negative.bucketCounts.reduce((a, b) => a + b, 0);
  return {
    attributes: {}, startTimeUnixNano: ms(0), timeUnixNano: ms(atMs), exemplars: [], flags: 0,
    count, sum: p.sum, zeroCount, positive, negative, zeroThreshold: p.zeroThreshold ?? 0, ...p,
  } as ExponentialHistogramDataPoint;
}

export function metric(name: string, unit: string, data: MetricData, description = ''): Metric {
  return { name, unit, description, metadata: {}, data };
}

export function gauge(points: NumberDataPoint[]): MetricData {
  return { type: 'gauge', dataPoints: points };
}

export function sum(points: NumberDataPoint[], monotonic = true, temporality: number = Temporality.CUMULATIVE): MetricData {
  return { type: 'sum', dataPoints: points, isMonotonic: monotonic, aggregationTemporality: temporality };
}

export function metrics(resource: Attributes, ms_: Metric[], scope = { name: 'test-scope', version: '1.0' }): Metrics {
  return {
    resourceMetrics: [{
      resource: { attributes: resource, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeMetrics: [{ scope: { ...scope, attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics: ms_ }],
    }],
  };
}
