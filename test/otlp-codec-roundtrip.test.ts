import t from 'tap';
import { decode, encode, fromJson, parseJson, toJson } from '../src/otlp';
import type { Signal, SignalData } from '../src/model';
import { canon, fullLogs, fullMetrics, fullTraces } from './otlp-codec-fixtures';

const fixtures: { [S in Signal]: () => SignalData[S] } = { traces: fullTraces, metrics: fullMetrics, logs: fullLogs };

for (const signal of ['traces', 'metrics', 'logs'] as const) {
  t.test(`${signal}: model → protobuf → model keeps every field`, async (t) => {
    const model = fixtures[signal]();
    const bytes = encode(signal, model);
    const back = decode(signal, bytes);
    t.strictSame(canon(back), canon(model));
    // Encoding is deterministic: the decoded model encodes to the same bytes.
    t.equal(Buffer.from(encode(signal, back)).toString('hex'), Buffer.from(bytes).toString('hex'));
  });

  t.test(`${signal}: model → OTLP/JSON text → model keeps every field`, async (t) => {
    const model = fixtures[signal]();
    const text = JSON.stringify(toJson(signal, model));
    const back = parseJson(signal, text);
    t.strictSame(canon(back), canon(model));
  });

  t.test(`${signal}: JSON with proto (snake_case) field names reads the same`, async (t) => {
    const model = fixtures[signal]();
    const snake = JSON.parse(JSON.stringify(toJson(signal, model)), function (this: unknown, _k, v) {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = x;
        return out;
      }
      return v;
    });
    t.strictSame(canon(fromJson(signal, snake)), canon(model));
  });
}

t.test('an empty request decodes to empty data and encodes to zero bytes', async (t) => {
  t.strictSame(decode('traces', new Uint8Array(0)), { resourceSpans: [] });
  t.strictSame(decode('metrics', new Uint8Array(0)), { resourceMetrics: [] });
  t.strictSame(decode('logs', new Uint8Array(0)), { resourceLogs: [] });
  t.equal(encode('traces', { resourceSpans: [] }).length, 0);
  t.strictSame(fromJson('logs', {}), { resourceLogs: [] });
});

t.test('OTLP/JSON output follows the Collector conventions', async (t) => {
  const json = toJson('traces', fullTraces()) as any;
  const span = json.resourceSpans[0].scopeSpans[0].spans[0];
  t.equal(span.traceId, '5b8efff798038103d269b633813fc60c', 'ids as lowercase hex');
  t.equal(span.startTimeUnixNano, '1700000000123456789', 'fixed64 as a decimal string');
  t.equal(span.kind, 2, 'enums as integers');
  t.equal(span.status.code, 2);
  const attr = (k: string) => span.attributes.find((a: any) => a.key === k).value;
  t.same(attr('int'), { intValue: '42' }, 'int64 values as strings');
  t.same(attr('bigNeg'), { intValue: '-9223372036854775808' });
  t.same(attr('intDbl'), { doubleValue: 2 });
  t.same(attr('nan'), { doubleValue: 'NaN' });
  t.same(attr('bytes'), { bytesValue: 'AAH+/w==' }, 'bytes as base64');
  t.same(attr('nil'), {});
  const empty = json.resourceSpans[0].scopeSpans[0].spans[1];
  t.same(empty, { status: {} }, 'defaults are omitted; status is always written');
  const m = toJson('metrics', fullMetrics()) as any;
  const hist = m.resourceMetrics[0].scopeMetrics[0].metrics[3].histogram.dataPoints[0];
  t.equal(hist.count, '10');
  t.same(hist.bucketCounts, ['1', '2', '3', '4']);
  t.same(hist.explicitBounds, [0, 5.5, 10]);
  const sum = m.resourceMetrics[0].scopeMetrics[0].metrics[1].sum;
  t.equal(sum.dataPoints[1].asInt, '-9223372036854775808');
  t.equal(sum.isMonotonic, true);
  t.equal(sum.aggregationTemporality, 2);
});
