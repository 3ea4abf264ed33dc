/**
 * Model fixtures that set every field of every signal, every metric type and every AnyValue kind,
 * with values that are easy to get wrong: 64-bit times, ints beyond 2^53, negative ints, integral
 * doubles, NaN, -0, empty strings inside oneofs, "__proto__" keys, non-ASCII text.
 */
import { Double, KvList } from '../src/model/common';
import type { AnyValue, Attributes, Exemplar, Logs, Metrics, Traces } from '../src/model';

export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const SPAN_ID = 'eee19b7ec3c1b174';
export const T0 = 1_700_000_000_123_456_789n;

/** One attribute of every AnyValue kind, nested ones included. */
export function everyValue(): Attributes {
  const attrs: Attributes = {
    str: 'héllo wörld ✓',
    empty: '',
    yes: true,
    no: false,
    int: 42,
    zero: 0,
    neg: -7,
    bigPos: 9_007_199_254_740_993n,
    bigNeg: -9_223_372_036_854_775_808n,
    maxInt: 9_223_372_036_854_775_807n,
    dbl: 3.25,
    intDbl: new Double(2),
    negZeroDbl: new Double(-0),
    nan: NaN,
    inf: -Infinity,
    bytes: new Uint8Array([0, 1, 254, 255]),
    emptyBytes: new Uint8Array([]),
    arr: ['a', 1, 2.5, true, null, [new Double(1), 'nested'], new KvList({ k: 'v' })],
    emptyArr: [],
    kv: new KvList({ inner: 1, deeper: new KvList({ x: [1n << 62n] }) }),
    nil: null,
  };
  Object.defineProperty(attrs, '__proto__', { value: 'not a prototype', enumerable: true, writable: true, configurable: true });
  return attrs;
}

export function fullTraces(): Traces {
  return {
    resourceSpans: [{
      resource: { attributes: { 'service.name': 'checkout', ...{ 'host.name': 'web-1' } }, droppedAttributesCount: 3 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: [{
        scope: { name: 'io.vigil.test', version: '1.2.3', attributes: { 'scope.attr': 'x' }, droppedAttributesCount: 1 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.25.0',
        spans: [{
          traceId: TRACE_ID, spanId: SPAN_ID, traceState: 'vendor=abc,other=1', parentSpanId: '0102030405060708', flags: 0x301,
          name: 'GET /api/orders/{id}', kind: 2, startTimeUnixNano: T0, endTimeUnixNano: T0 + 15_000_001n,
          attributes: everyValue(), droppedAttributesCount: 4,
          events: [
            { timeUnixNano: T0 + 5n, name: 'exception', attributes: { 'exception.type': 'Error', 'exception.message': 'boom' }, droppedAttributesCount: 1 },
            { timeUnixNano: 0n, name: '', attributes: {}, droppedAttributesCount: 0 },
          ],
          droppedEventsCount: 5,
          links: [
            { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'ffffffffffffffff', traceState: 'a=b', attributes: { 'link.kind': 'follows' }, droppedAttributesCount: 2, flags: 0x101 },
            { traceId: '', spanId: '', traceState: '', attributes: {}, droppedAttributesCount: 0, flags: 0 },
          ],
          droppedLinksCount: 6,
          status: { code: 2, message: 'upstream failed' },
        }, {
          // A span with every field at its default.
          traceId: '', spanId: '', traceState: '', parentSpanId: '', flags: 0, name: '', kind: 0,
          startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: {}, droppedAttributesCount: 0,
          events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
        }, {
          // Maximum fixed64 time and flags.
          traceId: '00000000000000000000000000000001', spanId: '0000000000000001', traceState: '', parentSpanId: '', flags: 0xffffffff,
          name: 'edge', kind: 5, startTimeUnixNano: (1n << 64n) - 1n, endTimeUnixNano: 1n, attributes: { 'k': 'v' }, droppedAttributesCount: 0,
          events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 1, message: '' },
        }],
      }, {
        scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans: [],
      }],
    }, {
      resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [],
    }],
  };
}

const exemplars = (): Exemplar[] => [
  { filteredAttributes: { 'user.id': 'u1' }, timeUnixNano: T0 + 1n, value: 0.25, isInt: false, spanId: SPAN_ID, traceId: TRACE_ID },
  { filteredAttributes: {}, timeUnixNano: T0 + 2n, value: -(1n << 60n), isInt: true, spanId: '', traceId: '' },
  { filteredAttributes: {}, timeUnixNano: 0n, value: 7, isInt: true, spanId: '', traceId: '' },
];

export function fullMetrics(): Metrics {
  const point = { attributes: { 'http.route': '/x' }, startTimeUnixNano: T0 - 60_000_000_000n, timeUnixNano: T0 };
  return {
    resourceMetrics: [{
      resource: { attributes: { 'service.name': 'checkout' }, droppedAttributesCount: 0 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeMetrics: [{
        scope: { name: 'meter', version: '0.1', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: 's',
        metrics: [
          {
            name: 'queue.depth', description: 'items waiting', unit: '{item}', metadata: { 'prometheus.type': 'gauge' },
            data: { type: 'gauge', dataPoints: [
              { ...point, exemplars: exemplars(), flags: 0, value: 1.5, isInt: false },
              { ...point, attributes: {}, exemplars: [], flags: 1, value: 0, isInt: false },
              { ...point, exemplars: [], flags: 0, value: NaN, isInt: false },
              { ...point, exemplars: [], flags: 0, value: new Double(3).value, isInt: false },
            ] },
          },
          {
            name: 'requests', description: '', unit: '1', metadata: {},
            data: { type: 'sum', aggregationTemporality: 2, isMonotonic: true, dataPoints: [
              { ...point, exemplars: [], flags: 0, value: 12, isInt: true },
              { ...point, exemplars: [], flags: 0, value: -(2n ** 63n), isInt: true },
              { ...point, exemplars: [], flags: 0, value: 0, isInt: true },
            ] },
          },
          {
            name: 'delta.sum', description: '', unit: '', metadata: {},
            data: { type: 'sum', aggregationTemporality: 1, isMonotonic: false, dataPoints: [{ ...point, exemplars: [], flags: 0, value: -2.5, isInt: false }] },
          },
          {
            name: 'latency', description: 'request latency', unit: 'ms', metadata: {},
            data: { type: 'histogram', aggregationTemporality: 1, dataPoints: [
              { ...point, exemplars: exemplars(), flags: 0, count: 10, sum: 123.5, bucketCounts: [1, 2, 3, 4], explicitBounds: [0, 5.5, 10], min: 0.5, max: 99 },
              { ...point, exemplars: [], flags: 1, count: 0, sum: undefined, bucketCounts: [], explicitBounds: [], min: undefined, max: undefined },
              { ...point, exemplars: [], flags: 0, count: 2 ** 40, sum: 0, bucketCounts: [2 ** 40], explicitBounds: [], min: -0, max: Infinity },
            ] },
          },
          {
            name: 'latency.exp', description: '', unit: 's', metadata: {},
            data: { type: 'exponentialHistogram', aggregationTemporality: 2, dataPoints: [
              { ...point, exemplars: exemplars(), flags: 0, count: 9, sum: 1.75, scale: -3, zeroCount: 2,
                positive: { offset: -5, bucketCounts: [1, 0, 3] }, negative: { offset: 7, bucketCounts: [2 ** 35] },
                min: -4, max: 2.5, zeroThreshold: 1e-9 },
              { ...point, exemplars: [], flags: 0, count: 0, sum: undefined, scale: 20, zeroCount: 0,
                positive: { offset: 0, bucketCounts: [] }, negative: { offset: 0, bucketCounts: [] },
                min: undefined, max: undefined, zeroThreshold: 0 },
            ] },
          },
          {
            name: 'rpc.summary', description: '', unit: '', metadata: {},
            data: { type: 'summary', dataPoints: [
              { ...point, flags: 0, count: 5, sum: 17.5, quantileValues: [{ quantile: 0, value: 1 }, { quantile: 0.5, value: 3.5 }, { quantile: 1, value: 9 }] },
              { ...point, flags: 1, count: 0, sum: 0, quantileValues: [] },
            ] },
          },
          { name: 'no.data', description: '', unit: '', metadata: {}, data: { type: 'empty', dataPoints: [] } },
        ],
      }],
    }],
  };
}

export function fullLogs(): Logs {
  const record = (body: AnyValue, i: number) => ({
    timeUnixNano: T0 + BigInt(i), observedTimeUnixNano: T0 + 1_000n, severityNumber: 17, severityText: 'ERROR', body,
    attributes: { 'log.file.name': 'app.log', seq: i }, droppedAttributesCount: 1, flags: 1, traceId: TRACE_ID, spanId: SPAN_ID,
    eventName: i === 0 ? 'app.login' : '',
  });
  const bodies: AnyValue[] = ['plain text body', '', 123, 1n << 60n, new Double(5), 0.5, true, new Uint8Array([9, 8]), ['x', 2], new KvList({ msg: 'structured', n: 3 }), null];
  return {
    resourceLogs: [{
      resource: { attributes: { 'service.name': 'auth' }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{
        scope: { name: 'logger', version: '', attributes: {}, droppedAttributesCount: 0 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        logRecords: [
          ...bodies.map(record),
          { timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', body: null, attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' },
          { ...record('x', 99), attributes: everyValue() },
        ],
      }],
    }],
  };
}

/**
 * A plain, JSON-comparable picture of any model value that keeps what deep-equality helpers blur:
 * -0 vs 0, NaN, bigint vs number, Double vs number, bytes, KvList, own "__proto__" keys, undefined.
 */
export function canon(v: unknown): unknown {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $num: Object.is(v, -0) ? '-0' : String(v) };
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v instanceof Double) return { $double: canon(v.value) };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (v instanceof KvList) return { $kvlist: canon(v.values) };
  if (Array.isArray(v)) return v.map(canon);
  const out: [string, unknown][] = [];
  for (const k of Object.keys(v as object).sort()) out.push([k, canon((v as Record<string, unknown>)[k])]);
  return { $object: out };
}
