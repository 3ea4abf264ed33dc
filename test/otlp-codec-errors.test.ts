/** Malformed input is refused with a DecodeError that says what is wrong and where. */
import t, { Test } from 'tap';
import {
  DecodeError, MAX_VALUE_DEPTH, decode, decodeLogs, decodeMetrics, decodeTraces, encodeLogs, encodeTraces, fromJson, parseJson,
} from '../src/otlp';
import { fullLogs, fullTraces } from './otlp-codec-fixtures';

/** Hand-built protobuf: tag, then a length-delimited body. */
const ld = (field: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
/** A request with one span whose body is `span`. */
const oneSpan = (span: Buffer): Buffer => ld(1, ld(2, ld(2, span)));

function throwsDecode(t: Test, fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
    t.fail(`${what}: no error`);
  } catch (err) {
    t.ok(err instanceof DecodeError, `${what}: a DecodeError (${(err as Error)?.constructor?.name})`);
    t.match((err as Error).message, pattern, what);
  }
}

t.test('wrong-length ids name the field and the lengths', async (t) => {
  const traceId15 = Buffer.concat([Buffer.from([0x0a, 15]), Buffer.alloc(15, 1)]);
  throwsDecode(t, () => decodeTraces(oneSpan(traceId15)), /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected 16 bytes, got 15$/, 'trace id');
  const spanId9 = Buffer.concat([Buffer.from([0x12, 9]), Buffer.alloc(9, 1)]);
  throwsDecode(t, () => decodeTraces(oneSpan(spanId9)), /spans\[0\]\.spanId: expected 8 bytes, got 9/, 'span id');
  const parent3 = Buffer.concat([Buffer.from([0x22, 3]), Buffer.alloc(3, 1)]);
  throwsDecode(t, () => decodeTraces(oneSpan(parent3)), /spans\[0\]\.parentSpanId: expected 8 bytes/, 'parent span id');
  // The fourth span is the bad one: the index in the path points at it.
  const good = Buffer.concat([Buffer.from([0x2a, 1]), Buffer.from('x')]);
  const req = ld(1, ld(2, Buffer.concat([ld(2, good), ld(2, good), ld(2, good), ld(2, traceId15)])));
  throwsDecode(t, () => decodeTraces(req), /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[3\]\.traceId: expected 16 bytes, got 15$/, 'index');
  // A link's ids too, and a log record's.
  const link = ld(13, Buffer.concat([Buffer.from([0x0a, 4]), Buffer.alloc(4)]));
  throwsDecode(t, () => decodeTraces(oneSpan(link)), /spans\[0\]\.links\[0\]\.traceId: expected 16 bytes, got 4/, 'link trace id');
  const rec = Buffer.concat([Buffer.from([0x52, 7]), Buffer.alloc(7)]);
  throwsDecode(t, () => decodeLogs(ld(1, ld(2, ld(2, rec)))), /resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.spanId: expected 8 bytes, got 7/, 'log span id');
  // Empty ids are fine.
  const empty = Buffer.from([0x0a, 0, 0x12, 0]);
  t.equal(decodeTraces(oneSpan(empty)).resourceSpans[0].scopeSpans[0].spans[0].traceId, '');
});

t.test('every truncation of a valid request is refused, never half-decoded', async (t) => {
  for (const [signal, bytes] of [['traces', encodeTraces(fullTraces())], ['logs', encodeLogs(fullLogs())]] as const) {
    let refused = 0;
    let accepted = 0;
    for (let n = 1; n < bytes.length; n++) {
      try {
        decode(signal, bytes.subarray(0, n));
        accepted++;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        refused++;
      }
    }
    // A cut between two top-level messages is a shorter valid request; anywhere else must fail.
    t.ok(accepted <= 1, `${signal}: ${accepted} truncations accepted (at most the message boundary)`);
    t.ok(refused >= bytes.length - 2, `${signal}: ${refused} truncations refused`);
  }
  throwsDecode(t, () => decodeTraces(Buffer.from([0x0a, 0x05, 0x12])), /^truncated message \(field length 5 exceeds the 1 bytes left\)$/, 'length past the end');
  throwsDecode(t, () => decodeTraces(oneSpan(Buffer.from([0x39, 1, 2, 3]))), /spans\[0\]: truncated message/, 'fixed64 cut short');
  throwsDecode(t, () => decodeTraces(Buffer.from([0x0a, 0x80])), /truncated/, 'varint cut short');
});

t.test('bad wire types are refused', async (t) => {
  throwsDecode(t, () => decodeTraces(Buffer.from([0x0f])), /invalid wire type 7/, 'wire type 7');
  throwsDecode(t, () => decodeTraces(Buffer.from([0x0e])), /invalid wire type 6/, 'wire type 6');
  // A known field with the wrong wire type: span name (5) sent as a varint.
  throwsDecode(t, () => decodeTraces(oneSpan(Buffer.from([0x28, 0x01]))), /spans\[0\]\.name: unexpected wire type 0/, 'name as varint');
  throwsDecode(t, () => decodeTraces(Buffer.from([0x08, 0x01])), /resourceSpans: unexpected wire type 0/, 'resourceSpans as varint');
  throwsDecode(t, () => decodeTraces(Buffer.from([0x00])), /invalid field number 0/, 'field 0');
  throwsDecode(t, () => decodeTraces(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /malformed varint/, 'varint over 10 bytes');
  // Packed doubles whose length is not a multiple of 8.
  const point = Buffer.from([0x3a, 0x03, 1, 2, 3]);
  const req = ld(1, ld(2, ld(2, ld(9, ld(1, point)))));
  throwsDecode(t, () => decodeMetrics(req), /metrics\[0\]\.histogram\.dataPoints\[0\]\.explicitBounds: packed double length/, 'packed doubles');
});

t.test('unknown fields are skipped, of every wire type', async (t) => {
  const unknown = Buffer.concat([
    Buffer.from([0xa8, 0x06, 0x96, 0x01]), // field 101 varint
    Buffer.from([0xa9, 0x06]), Buffer.alloc(8), // field 101 fixed64
    Buffer.from([0xaa, 0x06, 0x02, 0x61, 0x62]), // field 101 bytes
    Buffer.from([0xad, 0x06]), Buffer.alloc(4), // field 101 fixed32
    Buffer.from([0xab, 0x06, 0x08, 0x01, 0xac, 0x06]), // field 101 group holding a varint
  ]);
  const span = Buffer.concat([unknown, Buffer.from([0x2a, 0x02]), Buffer.from('ok'), unknown]);
  const tr = decodeTraces(Buffer.concat([unknown, oneSpan(span)]));
  t.equal(tr.resourceSpans[0].scopeSpans[0].spans[0].name, 'ok');
  throwsDecode(t, () => decodeTraces(Buffer.from([0xab, 0x06, 0x08, 0x01])), /unterminated group/, 'group without end');
});

t.test('deeply nested values are refused, not recursed into', async (t) => {
  // AnyValue{array_value: ArrayValue{values: [AnyValue{array_value: ...}]}}, `depth` levels deep.
  const build = (depth: number): Buffer => {
    let inner: Buffer = Buffer.from([0x0a, 0x01, 0x78]);
    for (let i = 0; i < depth; i++) {
      const values = lenPrefixed(1, inner);
      inner = lenPrefixed(5, values);
    }
    return inner;
  };
  const body = (depth: number) => encodeLogBody(build(depth));
  t.doesNotThrow(() => decodeLogs(body(10)), 'moderate nesting is fine');
  throwsDecode(t, () => decodeLogs(body(MAX_VALUE_DEPTH + 2)), /nested deeper than/, 'too deep');
});

/** Tag plus a proper varint length, for bodies of any size. */
function lenPrefixed(field: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  while (n > 0x7f) { len.push((n & 0x7f) | 0x80); n >>>= 7; }
  len.push(n);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...len]), body]);
}
function encodeLogBody(anyValue: Buffer): Buffer {
  return lenPrefixed(1, lenPrefixed(2, lenPrefixed(2, lenPrefixed(5, anyValue))));
}

t.test('invalid UTF-8 is replaced, not refused', async (t) => {
  const name = Buffer.from([0x2a, 0x03, 0x61, 0xff, 0x62]);
  t.equal(decodeTraces(oneSpan(name)).resourceSpans[0].scopeSpans[0].spans[0].name, 'a\ufffdb');
});

t.test('OTLP/JSON with wrong types names the path', async (t) => {
  const span = (s: Record<string, unknown>) => ({ resourceSpans: [{ scopeSpans: [{ spans: [s] }] }] });
  throwsDecode(t, () => fromJson('traces', span({ traceId: 'abc' })), /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected 32 hex digits \(16 bytes\), got 3 characters$/, 'short trace id');
  throwsDecode(t, () => fromJson('traces', span({ spanId: 'zzzzzzzzzzzzzzzz' })), /spans\[0\]\.spanId: expected 16 hex digits .* non-hex/, 'non-hex span id');
  throwsDecode(t, () => fromJson('traces', span({ traceId: 5 })), /traceId: expected a hex string, got a number/, 'numeric id');
  throwsDecode(t, () => fromJson('traces', span({ name: 5 })), /spans\[0\]\.name: expected a string, got a number/, 'name');
  throwsDecode(t, () => fromJson('traces', span({ startTimeUnixNano: '12x' })), /startTimeUnixNano: expected an unsigned decimal integer string/, 'time');
  throwsDecode(t, () => fromJson('traces', span({ startTimeUnixNano: -1 })), /startTimeUnixNano/, 'negative time');
  throwsDecode(t, () => fromJson('traces', span({ kind: 'SPAN_KIND_BOGUS' })), /kind: unknown enum value name/, 'enum name');
  throwsDecode(t, () => fromJson('traces', span({ attributes: [{ key: 'k', value: { intValue: 'seven' } }] })), /spans\[0\]\.attributes\[0\]\.value\.intValue: expected a decimal integer string/, 'int value');
  throwsDecode(t, () => fromJson('traces', span({ attributes: {} })), /spans\[0\]\.attributes: expected an array, got an object/, 'attributes object');
  throwsDecode(t, () => fromJson('traces', span({ events: [{ attributes: [{ key: 'k', value: { arrayValue: { values: [{ boolValue: 'yes' }] } } }] }] })),
    /spans\[0\]\.events\[0\]\.attributes\[0\]\.value\.arrayValue\.values\[0\]\.boolValue: expected a boolean, got a string/, 'nested');
  throwsDecode(t, () => fromJson('traces', { resourceSpans: 'x' }), /^resourceSpans: expected an array, got a string$/, 'top level');
  throwsDecode(t, () => fromJson('traces', [1]), /expected an object, got an array/, 'not an object');
  throwsDecode(t, () => fromJson('metrics', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ sum: { dataPoints: [{ asInt: 1.5 }] } }] }] }] }),
    /metrics\[0\]\.sum\.dataPoints\[0\]\.asInt: expected an integer, got a number/, 'asInt');
  throwsDecode(t, () => fromJson('metrics', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ histogram: { dataPoints: [{ bucketCounts: ['1', 'x'] }] } }] }] }] }),
    /histogram\.dataPoints\[0\]\.bucketCounts\[1\]: expected an unsigned integer/, 'bucket count');
  throwsDecode(t, () => fromJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { bytesValue: '***' } }] }] }] }), /logRecords\[0\]\.body\.bytesValue: invalid base64/, 'bytes');
  throwsDecode(t, () => parseJson('traces', '{"resourceSpans": [ secret-token'), /^invalid JSON( at position \d+)?$/, 'syntax error, payload not quoted');
});

t.test('OTLP/JSON leniency: enum names, upper-case ids, numbers for 64-bit fields', async (t) => {
  const tr = fromJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{
    traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'EEE19B7EC3C1B174', kind: 'SPAN_KIND_CLIENT',
    startTimeUnixNano: 1700000000000000000, endTimeUnixNano: '1700000000000000001', status: { code: 'STATUS_CODE_ERROR' },
    attributes: [{ key: 'n', value: { intValue: 5 } }, { key: 'd', value: { doubleValue: 'Infinity' } }], unknownField: { ignored: true },
  }] }] }] });
  const s = tr.resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(s.traceId, '5b8efff798038103d269b633813fc60c');
  t.equal(s.spanId, 'eee19b7ec3c1b174');
  t.equal(s.kind, 3);
  t.equal(s.status.code, 2);
  t.equal(s.startTimeUnixNano, 1_700_000_000_000_000_000n);
  t.equal(s.endTimeUnixNano, 1_700_000_000_000_000_001n);
  t.equal(s.attributes.n, 5);
  t.equal(s.attributes.d, Infinity);
});

t.test('"__proto__" attribute keys become own properties, never prototypes', async (t) => {
  const key = Buffer.from('__proto__');
  const kv = Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x78])]);
  const span = Buffer.concat([Buffer.from([0x4a, kv.length]), kv]);
  const attrs = decodeTraces(oneSpan(span)).resourceSpans[0].scopeSpans[0].spans[0].attributes;
  t.equal(Object.getPrototypeOf(attrs), Object.prototype);
  t.same(Object.keys(attrs), ['__proto__']);
  t.equal(Object.getOwnPropertyDescriptor(attrs, '__proto__')?.value, 'x');
  const fromJ = fromJson('traces', JSON.parse('{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"__proto__","value":{"stringValue":"y"}}]}]}]}]}'));
  const ja = fromJ.resourceSpans[0].scopeSpans[0].spans[0].attributes;
  t.equal(Object.getPrototypeOf(ja), Object.prototype);
  t.equal(Object.getOwnPropertyDescriptor(ja, '__proto__')?.value, 'y');
});
