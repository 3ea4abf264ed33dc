/** Metrics → ExportMetricsServiceRequest bytes. */
import {
  Exemplar, ExpBuckets, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, Metrics, NumberDataPoint, SummaryDataPoint,
} from '../model';
import { I64, LEN, VARINT, writeAttributes, writeEnum, writeFixed64, writeId, writeResource, writeScope, writeString, writeUint32 } from './encode-common';
import { Writer } from './writer';

export function encodeMetrics(m: Metrics): Uint8Array {
  const w = new Writer();
  for (const rm of m.resourceMetrics) {
    w.tag(1, LEN);
    const rmAt = w.fork();
    writeResource(w, 1, rm.resource);
    for (const sm of rm.scopeMetrics) {
      w.tag(2, LEN);
      const smAt = w.fork();
      writeScope(w, 1, sm.scope);
      for (const metric of sm.metrics) writeMetric(w, metric);
      writeString(w, 3, sm.schemaUrl);
      w.ldelim(smAt);
    }
    writeString(w, 3, rm.schemaUrl);
    w.ldelim(rmAt);
  }
  return w.finish();
}

function writeMetric(w: Writer, m: Metric): void {
  w.tag(2, LEN);
  const at = w.fork();
  writeString(w, 1, m.name);
  writeString(w, 2, m.description);
  writeString(w, 3, m.unit);
  const d = m.data;
  const field = { gauge: 5, sum: 7, histogram: 9, exponentialHistogram: 10, summary: 11, empty: 0 }[d.type];
  if (field) {
    w.tag(field, LEN);
    const dataAt = w.fork();
    switch (d.type) {
      case 'gauge':
        for (const p of d.dataPoints) writeNumberPoint(w, p);
        break;
      case 'sum':
        for (const p of d.dataPoints) writeNumberPoint(w, p);
        writeEnum(w, 2, d.aggregationTemporality);
        if (d.isMonotonic) { w.tag(3, VARINT); w.bool(true); }
        break;
      case 'histogram':
        for (const p of d.dataPoints) writeHistogramPoint(w, p);
        writeEnum(w, 2, d.aggregationTemporality);
        break;
      case 'exponentialHistogram':
        for (const p of d.dataPoints) writeExpHistogramPoint(w, p);
        writeEnum(w, 2, d.aggregationTemporality);
        break;
      case 'summary':
        for (const p of d.dataPoints) writeSummaryPoint(w, p);
        break;
    }
    w.ldelim(dataAt);
  }
  writeAttributes(w, 12, m.metadata);
  w.ldelim(at);
}

function writeNumberValue(w: Writer, doubleField: number, intField: number, value: number | bigint, isInt: boolean): void {
  if (isInt || typeof value === 'bigint') {
    w.tag(intField, I64);
    w.fixed64(typeof value === 'number' ? Math.trunc(value) : value);
  } else {
    w.tag(doubleField, I64);
    w.double(value);
  }
}

function writeExemplars(w: Writer, field: number, exemplars: Exemplar[]): void {
  for (const ex of exemplars) {
    w.tag(field, LEN);
    const at = w.fork();
    writeFixed64(w, 2, ex.timeUnixNano);
    writeNumberValue(w, 3, 6, ex.value, ex.isInt);
    writeId(w, 4, ex.spanId, 8, 'exemplar span id');
    writeId(w, 5, ex.traceId, 16, 'exemplar trace id');
    writeAttributes(w, 7, ex.filteredAttributes);
    w.ldelim(at);
  }
}

function writeOptionalDouble(w: Writer, field: number, v: number | undefined): void {
  if (v !== undefined && v !== null) { w.tag(field, I64); w.double(v); }
}

function writeDouble(w: Writer, field: number, v: number): void {
  // proto3 omits 0, but -0 is not the default and must survive.
  if (v !== 0 || Object.is(v, -0)) { w.tag(field, I64); w.double(v); }
}

function writeNumberPoint(w: Writer, p: NumberDataPoint): void {
  w.tag(1, LEN);
  const at = w.fork();
  writeFixed64(w, 2, p.startTimeUnixNano);
  writeFixed64(w, 3, p.timeUnixNano);
  writeNumberValue(w, 4, 6, p.value, p.isInt);
  writeExemplars(w, 5, p.exemplars);
  writeAttributes(w, 7, p.attributes);
  writeUint32(w, 8, p.flags);
  w.ldelim(at);
}

function writeHistogramPoint(w: Writer, p: HistogramDataPoint): void {
  w.tag(1, LEN);
  const at = w.fork();
  writeFixed64(w, 2, p.startTimeUnixNano);
  writeFixed64(w, 3, p.timeUnixNano);
  writeFixed64(w, 4, p.count);
  writeOptionalDouble(w, 5, p.sum);
  if (p.bucketCounts.length) {
    w.tag(6, LEN);
    w.uint32(p.bucketCounts.length * 8);
    for (const c of p.bucketCounts) w.fixed64(c);
  }
  if (p.explicitBounds.length) {
    w.tag(7, LEN);
    w.uint32(p.explicitBounds.length * 8);
    for (const b of p.explicitBounds) w.double(b);
  }
  writeExemplars(w, 8, p.exemplars);
  writeAttributes(w, 9, p.attributes);
  writeUint32(w, 10, p.flags);
  writeOptionalDouble(w, 11, p.min);
  writeOptionalDouble(w, 12, p.max);
  w.ldelim(at);
}

function writeBuckets(w: Writer, field: number, b: ExpBuckets): void {
  if (!b.offset && !b.bucketCounts.length) return;
  w.tag(field, LEN);
  const at = w.fork();
  if (b.offset) { w.tag(1, VARINT); w.sint32(b.offset); }
  if (b.bucketCounts.length) {
    w.tag(2, LEN);
    const countsAt = w.fork();
    for (const c of b.bucketCounts) w.uint64(c);
    w.ldelim(countsAt);
  }
  w.ldelim(at);
}

function writeExpHistogramPoint(w: Writer, p: ExponentialHistogramDataPoint): void {
  w.tag(1, LEN);
  const at = w.fork();
  writeAttributes(w, 1, p.attributes);
  writeFixed64(w, 2, p.startTimeUnixNano);
  writeFixed64(w, 3, p.timeUnixNano);
  writeFixed64(w, 4, p.count);
  writeOptionalDouble(w, 5, p.sum);
  if (p.scale) { w.tag(6, VARINT); w.sint32(p.scale); }
  writeFixed64(w, 7, p.zeroCount);
  writeBuckets(w, 8, p.positive);
  writeBuckets(w, 9, p.negative);
  writeUint32(w, 10, p.flags);
  writeExemplars(w, 11, p.exemplars);
  writeOptionalDouble(w, 12, p.min);
  writeOptionalDouble(w, 13, p.max);
  writeDouble(w, 14, p.zeroThreshold);
  w.ldelim(at);
}

function writeSummaryPoint(w: Writer, p: SummaryDataPoint): void {
  w.tag(1, LEN);
  const at = w.fork();
  writeFixed64(w, 2, p.startTimeUnixNano);
  writeFixed64(w, 3, p.timeUnixNano);
  writeFixed64(w, 4, p.count);
  writeDouble(w, 5, p.sum);
  for (const q of p.quantileValues) {
    w.tag(6, LEN);
    const qAt = w.fork();
    writeDouble(w, 1, q.quantile);
    writeDouble(w, 2, q.value);
    w.ldelim(qAt);
  }
  writeAttributes(w, 7, p.attributes);
  writeUint32(w, 8, p.flags);
  w.ldelim(at);
}
