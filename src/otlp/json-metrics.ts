/** OTLP/JSON ↔ Metrics. */
import {
  Exemplar, ExpBuckets, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, MetricData, Metrics, NumberDataPoint, SummaryDataPoint,
} from '../model';
import {
  JsonObject, arrayField, asObject, attributesFromJson, attributesToJson, boolField, countField, countValue, doubleField,
  doubleToJson, doubleValue, enumField, get, idField, int64Value, intField, mapArray, nanosField, objectField,
  optionalDoubleField, put, resourceFromJson, resourceToJson, scopeFromJson, scopeToJson, stringField, withinField,
} from './json-common';
import { rethrowWithin } from './errors';

const TEMPORALITY_NAMES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

export function metricsFromJson(json: unknown): Metrics {
  const root = asObject(json, '');
  return {
    resourceMetrics: mapArray(root, 'resourceMetrics', (rm) => ({
      resource: resourceFromJson(rm),
      schemaUrl: stringField(rm, 'schemaUrl'),
      scopeMetrics: mapArray(rm, 'scopeMetrics', (sm) => ({
        scope: scopeFromJson(sm),
        schemaUrl: stringField(sm, 'schemaUrl'),
        metrics: mapArray(sm, 'metrics', metricFromJson),
      })),
    })),
  };
}

function metricFromJson(o: JsonObject): Metric {
  return {
    name: stringField(o, 'name'),
    description: stringField(o, 'description'),
    unit: stringField(o, 'unit'),
    metadata: attributesFromJson(o, 'metadata'),
    data: dataFromJson(o),
  };
}

function dataFromJson(o: JsonObject): MetricData {
  let d: JsonObject | undefined;
  if ((d = objectField(o, 'gauge'))) {
    const g = d;
    return withinField('gauge', () => ({ type: 'gauge', dataPoints: mapArray(g, 'dataPoints', numberPointFromJson) }));
  }
  if ((d = objectField(o, 'sum'))) {
    const s = d;
    return withinField('sum', () => ({
      type: 'sum',
      dataPoints: mapArray(s, 'dataPoints', numberPointFromJson),
      aggregationTemporality: enumField(s, 'aggregationTemporality', TEMPORALITY_NAMES),
      isMonotonic: boolField(s, 'isMonotonic'),
    }));
  }
  if ((d = objectField(o, 'histogram'))) {
    const h = d;
    return withinField('histogram', () => ({
      type: 'histogram',
      dataPoints: mapArray(h, 'dataPoints', histogramPointFromJson),
      aggregationTemporality: enumField(h, 'aggregationTemporality', TEMPORALITY_NAMES),
    }));
  }
  if ((d = objectField(o, 'exponentialHistogram'))) {
    const h = d;
    return withinField('exponentialHistogram', () => ({
      type: 'exponentialHistogram',
      dataPoints: mapArray(h, 'dataPoints', expHistogramPointFromJson),
      aggregationTemporality: enumField(h, 'aggregationTemporality', TEMPORALITY_NAMES),
    }));
  }
  if ((d = objectField(o, 'summary'))) {
    const s = d;
    return withinField('summary', () => ({ type: 'summary', dataPoints: mapArray(s, 'dataPoints', summaryPointFromJson) }));
  }
  return { type: 'empty', dataPoints: [] };
}

/** The as_double / as_int oneof of number points and exemplars. */
function numberValue(o: JsonObject): { value: number | bigint; isInt: boolean } {
  const i = get(o, 'asInt');
  if (i !== undefined && i !== null) return { value: int64Value(i, 'asInt'), isInt: true };
  const d = get(o, 'asDouble');
  if (d !== undefined && d !== null) return { value: doubleValue(d, 'asDouble'), isInt: false };
  return { value: 0, isInt: false };
}

function exemplarsFromJson(o: JsonObject): Exemplar[] {
  return mapArray(o, 'exemplars', (e) => {
    const { value, isInt } = numberValue(e);
    return {
      filteredAttributes: attributesFromJson(e, 'filteredAttributes'),
      timeUnixNano: nanosField(e, 'timeUnixNano'),
      value,
      isInt,
      spanId: idField(e, 'spanId', 8),
      traceId: idField(e, 'traceId', 16),
    };
  });
}

function numberPointFromJson(o: JsonObject): NumberDataPoint {
  const { value, isInt } = numberValue(o);
  return {
    attributes: attributesFromJson(o, 'attributes'),
    startTimeUnixNano: nanosField(o, 'startTimeUnixNano'),
    timeUnixNano: nanosField(o, 'timeUnixNano'),
    exemplars: exemplarsFromJson(o),
    flags: intField(o, 'flags'),
    value,
    isInt,
  };
}

function numberList(o: JsonObject, camel: string, read: (v: unknown, field: string) => number): number[] {
  const arr = arrayField(o, camel);
  const out: number[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    try { out[i] = read(arr[i], ''); } catch (err) { rethrowWithin(err, `${camel}[${i}]`); }
  }
  return out;
}

function histogramPointFromJson(o: JsonObject): HistogramDataPoint {
  return {
    attributes: attributesFromJson(o, 'attributes'),
    startTimeUnixNano: nanosField(o, 'startTimeUnixNano'),
    timeUnixNano: nanosField(o, 'timeUnixNano'),
    exemplars: exemplarsFromJson(o),
    flags: intField(o, 'flags'),
    count: countField(o, 'count'),
    sum: optionalDoubleField(o, 'sum'),
    bucketCounts: numberList(o, 'bucketCounts', countValue),
    explicitBounds: numberList(o, 'explicitBounds', doubleValue),
    min: optionalDoubleField(o, 'min'),
    max: optionalDoubleField(o, 'max'),
  };
}

function bucketsFromJson(o: JsonObject, camel: string): ExpBuckets {
  const b = objectField(o, camel);
  if (!b) return { offset: 0, bucketCounts: [] };
  return withinField(camel, () => ({ offset: intField(b, 'offset', true), bucketCounts: numberList(b, 'bucketCounts', countValue) }));
}

function expHistogramPointFromJson(o: JsonObject): ExponentialHistogramDataPoint {
  return {
    attributes: attributesFromJson(o, 'attributes'),
    startTimeUnixNano: nanosField(o, 'startTimeUnixNano'),
    timeUnixNano: nanosField(o, 'timeUnixNano'),
    exemplars: exemplarsFromJson(o),
    flags: intField(o, 'flags'),
    count: countField(o, 'count'),
    sum: optionalDoubleField(o, 'sum'),
    scale: intField(o, 'scale', true),
    zeroCount: countField(o, 'zeroCount'),
    positive: bucketsFromJson(o, 'positive'),
    negative: bucketsFromJson(o, 'negative'),
    min: optionalDoubleField(o, 'min'),
    max: optionalDoubleField(o, 'max'),
    zeroThreshold: doubleField(o, 'zeroThreshold'),
  };
}

function summaryPointFromJson(o: JsonObject): SummaryDataPoint {
  return {
    attributes: attributesFromJson(o, 'attributes'),
    startTimeUnixNano: nanosField(o, 'startTimeUnixNano'),
    timeUnixNano: nanosField(o, 'timeUnixNano'),
    flags: intField(o, 'flags'),
    count: countField(o, 'count'),
    sum: doubleField(o, 'sum'),
    quantileValues: mapArray(o, 'quantileValues', (q) => ({ quantile: doubleField(q, 'quantile'), value: doubleField(q, 'value') })),
  };
}

// ---- model → OTLP/JSON ----

export function metricsToJson(m: Metrics): JsonObject {
  return {
    resourceMetrics: m.resourceMetrics.map((rm) => {
      const o: JsonObject = { resource: resourceToJson(rm.resource) };
      o.scopeMetrics = rm.scopeMetrics.map((sm) => {
        const so: JsonObject = { scope: scopeToJson(sm.scope), metrics: sm.metrics.map(metricToJson) };
        put(so, 'schemaUrl', sm.schemaUrl);
        return so;
      });
      put(o, 'schemaUrl', rm.schemaUrl);
      return o;
    }),
  };
}

function metricToJson(m: Metric): JsonObject {
  const o: JsonObject = {};
  put(o, 'name', m.name);
  put(o, 'description', m.description);
  put(o, 'unit', m.unit);
  const d = m.data;
  switch (d.type) {
    case 'gauge': o.gauge = { dataPoints: d.dataPoints.map(numberPointToJson) }; break;
    case 'sum': {
      const s: JsonObject = { dataPoints: d.dataPoints.map(numberPointToJson) };
      put(s, 'aggregationTemporality', d.aggregationTemporality);
      put(s, 'isMonotonic', d.isMonotonic);
      o.sum = s;
      break;
    }
    case 'histogram': {
      const h: JsonObject = { dataPoints: d.dataPoints.map(histogramPointToJson) };
      put(h, 'aggregationTemporality', d.aggregationTemporality);
      o.histogram = h;
      break;
    }
    case 'exponentialHistogram': {
      const h: JsonObject = { dataPoints: d.dataPoints.map(expHistogramPointToJson) };
      put(h, 'aggregationTemporality', d.aggregationTemporality);
      o.exponentialHistogram = h;
      break;
    }
    case 'summary': o.summary = { dataPoints: d.dataPoints.map(summaryPointToJson) }; break;
  }
  put(o, 'metadata', attributesToJson(m.metadata));
  return o;
}

function putNumberValue(o: JsonObject, value: number | bigint, isInt: boolean): void {
  if (isInt || typeof value === 'bigint') o.asInt = typeof value === 'bigint' ? value.toString() : String(Math.trunc(value));
  else o.asDouble = doubleToJson(value);
}

function putDouble(o: JsonObject, k: string, v: number | undefined): void {
  if (v !== undefined && v !== null) o[k] = doubleToJson(v);
}

/** A plain double: omitted when 0 (the default) but kept when NaN or -0. */
function putNonZero(o: JsonObject, k: string, v: number): void {
  if (v !== 0 || Object.is(v, -0)) o[k] = doubleToJson(v);
}

function putTimesAndAttrs(o: JsonObject, p: { attributes: NumberDataPoint['attributes']; startTimeUnixNano: bigint; timeUnixNano: bigint }): void {
  put(o, 'attributes', attributesToJson(p.attributes));
  put(o, 'startTimeUnixNano', p.startTimeUnixNano);
  put(o, 'timeUnixNano', p.timeUnixNano);
}

function exemplarsToJson(exemplars: Exemplar[]): JsonObject[] {
  return exemplars.map((e) => {
    const o: JsonObject = {};
    put(o, 'filteredAttributes', attributesToJson(e.filteredAttributes));
    put(o, 'timeUnixNano', e.timeUnixNano);
    putNumberValue(o, e.value, e.isInt);
    put(o, 'spanId', e.spanId);
    put(o, 'traceId', e.traceId);
    return o;
  });
}

function numberPointToJson(p: NumberDataPoint): JsonObject {
  const o: JsonObject = {};
  putTimesAndAttrs(o, p);
  putNumberValue(o, p.value, p.isInt);
  put(o, 'exemplars', exemplarsToJson(p.exemplars));
  put(o, 'flags', p.flags);
  return o;
}

function histogramPointToJson(p: HistogramDataPoint): JsonObject {
  const o: JsonObject = {};
  putTimesAndAttrs(o, p);
  put(o, 'count', p.count ? String(p.count) : 0);
  putDouble(o, 'sum', p.sum);
  put(o, 'bucketCounts', p.bucketCounts.map(String));
  put(o, 'explicitBounds', p.explicitBounds.map(doubleToJson));
  put(o, 'exemplars', exemplarsToJson(p.exemplars));
  put(o, 'flags', p.flags);
  putDouble(o, 'min', p.min);
  putDouble(o, 'max', p.max);
  return o;
}

function bucketsToJson(b: ExpBuckets): JsonObject {
  const o: JsonObject = {};
  put(o, 'offset', b.offset);
  put(o, 'bucketCounts', b.bucketCounts.map(String));
  return o;
}

function expHistogramPointToJson(p: ExponentialHistogramDataPoint): JsonObject {
  const o: JsonObject = {};
  putTimesAndAttrs(o, p);
  put(o, 'count', p.count ? String(p.count) : 0);
  putDouble(o, 'sum', p.sum);
  put(o, 'scale', p.scale);
  put(o, 'zeroCount', p.zeroCount ? String(p.zeroCount) : 0);
  if (p.positive.offset || p.positive.bucketCounts.length) o.positive = bucketsToJson(p.positive);
  if (p.negative.offset || p.negative.bucketCounts.length) o.negative = bucketsToJson(p.negative);
  put(o, 'flags', p.flags);
  put(o, 'exemplars', exemplarsToJson(p.exemplars));
  putDouble(o, 'min', p.min);
  putDouble(o, 'max', p.max);
  putNonZero(o, 'zeroThreshold', p.zeroThreshold);
  return o;
}

function summaryPointToJson(p: SummaryDataPoint): JsonObject {
  const o: JsonObject = {};
  putTimesAndAttrs(o, p);
  put(o, 'count', p.count ? String(p.count) : 0);
  putNonZero(o, 'sum', p.sum);
  put(o, 'quantileValues', p.quantileValues.map((q) => {
    const qo: JsonObject = {};
    putNonZero(qo, 'quantile', q.quantile);
    putNonZero(qo, 'value', q.value);
    return qo;
  }));
  put(o, 'flags', p.flags);
  return o;
}
