import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { Generator } from '../bench/load';
import { buildPayloads, withFreshIds, type BenchSignal, type Encoding } from '../bench/payloads';
import { countJsonItems, countProtobufItems } from '../bench/count-items';
import { startSink } from '../bench/sink';
import { createTransport, rejectedFromJson, rejectedFromProtobuf } from '../bench/transport';

async function runAgainstSink(t: tap.Test, o: { signal: BenchSignal; encoding: Encoding; gzip: boolean; transport: 'http' | 'grpc'; rate?: number; rejectEvery?: number }) {
  const sink = await startSink({ grpc: o.transport === 'grpc', rejectEvery: o.rejectEvery });
  t.teardown(() => sink.close());
  const set = await buildPayloads({ signal: o.signal, encoding: o.encoding, gzip: o.gzip, itemsPerRequest: 40, distinct: 3 });
  const transport = createTransport({
    kind: o.transport, target: o.transport === 'grpc' ? sink.grpcAddress! : sink.httpUrl, signal: o.signal,
    contentType: set.contentType, contentEncoding: set.contentEncoding, concurrency: 4, timeoutMs: 5000,
  });
  t.teardown(() => transport.close());
  const gen = new Generator(transport, set);
  const stats = await gen.runPhase({ rate: o.rate ?? 0, concurrency: 4, durationMs: 500, freshIds: o.signal === 'traces' && !o.gzip });
  return { sink, stats, gen };
}

t.test('payloads hold the asked number of items and decode back to it', async (t) => {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    for (const encoding of ['protobuf', 'json'] as const) {
      const set = await buildPayloads({ signal, encoding, gzip: true, itemsPerRequest: 25, distinct: 2 });
      t.equal(set.payloads.length, 2);
      for (const p of set.payloads) {
        t.equal(p.items, 25, `${signal}/${encoding} items`);
        const raw = gunzipSync(p.body);
        const counted = encoding === 'json' ? countJsonItems(signal, raw.toString('utf8')) : countProtobufItems(signal, raw);
        t.equal(counted, 25, `${signal}/${encoding} decoded count`);
      }
    }
  }
});

t.test('fresh ids change every id consistently and leave the rest alone', async (t) => {
  for (const encoding of ['protobuf', 'json'] as const) {
    const set = await buildPayloads({ signal: 'traces', encoding, gzip: false, itemsPerRequest: 10, distinct: 1 });
    const p = set.payloads[0];
    t.ok(p.idSlots && p.idSlots.offsets.length >= 20, 'trace and span ids located');
    const a = withFreshIds(p, 1);
    const b = withFreshIds(p, 2);
    t.equal(a.length, p.body.length);
    t.not(a.toString('latin1'), p.body.toString('latin1'));
    t.not(a.toString('latin1'), b.toString('latin1'));
    t.equal(withFreshIds(p, 0).toString('latin1'), p.body.toString('latin1'), 'xor with 0 is the identity');
    if (encoding === 'json') {
      const spans = JSON.parse(a.toString()).resourceSpans[0].scopeSpans[0].spans as { spanId: string; parentSpanId?: string }[];
      const ids = new Set(spans.map((s) => s.spanId));
      const parents = spans.map((s) => s.parentSpanId).filter((x): x is string => !!x);
      t.ok(parents.length > 0 && parents.every((id) => ids.has(id)), 'parent links still point at spans of the request');
    }
  }
});

t.test('fresh copies of metric requests move every point time and nothing else', async (t) => {
  for (const encoding of ['protobuf', 'json'] as const) {
    const set = await buildPayloads({ signal: 'metrics', encoding, gzip: false, itemsPerRequest: 20, distinct: 1 });
    const p = set.payloads[0];
    t.ok(p.timeSlots && p.timeSlots.offsets.length >= 20, `${encoding}: a time for every point`);
    const copy = withFreshIds(p, 7);
    t.equal(copy.length, p.body.length);
    if (encoding === 'protobuf') {
      t.equal(countProtobufItems('metrics', copy), 20);
      for (const off of p.timeSlots!.offsets) t.equal(copy.readBigUInt64LE(off) - p.body.readBigUInt64LE(off), 7000n);
    } else {
      const times = (b: Buffer) => {
        const out: string[] = [];
        for (const rm of JSON.parse(b.toString()).resourceMetrics) {
          for (const sm of rm.scopeMetrics) {
            for (const m of sm.metrics) for (const dp of (m.gauge ?? m.sum ?? m.histogram).dataPoints) out.push(dp.timeUnixNano);
          }
        }
        return out;
      };
      const before = times(p.body);
      const after = times(copy);
      t.equal(after.length, 20);
      t.ok(after.every((v, i) => BigInt(v) - BigInt(before[i]) === 7000n), 'each timeUnixNano is 7 µs later');
    }
  }
});

for (const c of [
  { signal: 'traces', encoding: 'protobuf', gzip: false, transport: 'http' },
  { signal: 'metrics', encoding: 'json', gzip: false, transport: 'http' },
  { signal: 'logs', encoding: 'protobuf', gzip: true, transport: 'http' },
  { signal: 'traces', encoding: 'protobuf', gzip: false, transport: 'grpc' },
] as const) {
  t.test(`max rate ${c.signal} ${c.encoding}${c.gzip ? '+gzip' : ''} over ${c.transport}: report matches the sink`, async (t) => {
    const { sink, stats } = await runAgainstSink(t, c);
    t.ok(stats.requests > 5, `sent some requests (${stats.requests})`);
    t.equal(stats.inFlight, 0, 'phase drains its requests');
    t.equal(stats.itemsAccepted, sink.counts.items, 'accepted items = items the sink decoded');
    t.equal(stats.requests, sink.counts.requests);
    t.equal(stats.byStatus[c.transport === 'grpc' ? 'grpc:OK' : '200'], sink.counts.requests);
    t.ok(stats.latency.p50 > 0 && stats.latency.p50 <= stats.latency.p99 && stats.latency.p99 <= stats.latency.max);
  });
}

t.test('fixed rate sends about the asked items per second', async (t) => {
  // 40 items a request at 2,000 items/s = 50 requests/s: about 25 in 0.5 s.
  const { sink, stats } = await runAgainstSink(t, { signal: 'traces', encoding: 'protobuf', gzip: false, transport: 'http', rate: 2000 });
  t.equal(stats.itemsAccepted, sink.counts.items);
  t.ok(stats.requests >= 20 && stats.requests <= 30, `requests ${stats.requests}`);
  t.equal(stats.skipped, 0);
});

t.test('refusals are counted by status, with Retry-After, and not as accepted', async (t) => {
  const { sink, stats } = await runAgainstSink(t, { signal: 'traces', encoding: 'protobuf', gzip: false, transport: 'http', rejectEvery: 3 });
  t.ok(sink.counts.rejected > 0);
  t.equal(stats.byStatus['503'], sink.counts.rejected);
  t.equal(stats.retryAfter, sink.counts.rejected);
  t.equal(stats.itemsAccepted, sink.counts.items);
});

t.test('partial success responses are read for both encodings', async (t) => {
  // ExportTraceServiceResponse{partial_success{rejected_spans: 300}}: 0a 03 08 ac 02
  t.equal(rejectedFromProtobuf(Buffer.from([0x0a, 0x03, 0x08, 0xac, 0x02])), 300);
  t.equal(rejectedFromProtobuf(Buffer.alloc(0)), 0);
  t.equal(rejectedFromJson('{"partialSuccess":{"rejectedLogRecords":"7","errorMessage":"x"}}'), 7);
  t.equal(rejectedFromJson('{}'), 0);
});
