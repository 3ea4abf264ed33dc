/**
 * Graceful shutdown: everything that got a success answer before shutdown reaches the exporters,
 * through a batch processor that holds data, while requests keep arriving during the shutdown.
 */
import t from 'tap';
import { request } from 'node:http';
import { encodeTraces } from '../src/otlp';
import { Traces } from '../src/model';
import { captureExporter, otlpConfig, startTest } from './helpers/collector';

function traces(tag: string): Traces {
  return {
    resourceSpans: [{
      resource: { attributes: { tag }, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeSpans: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', spans: [{
        traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceState: '', parentSpanId: '', flags: 0, name: tag, kind: 1,
        startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes: {}, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
      }] }],
    }],
  };
}

function send(addr: string, tag: string): Promise<number> {
  const [host, port] = addr.split(':');
  const body = Buffer.from(encodeTraces(traces(tag)));
  return new Promise((resolve) => {
    const req = request({ host, port: Number(port), path: '/v1/traces', method: 'POST', agent: false, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

t.test('acknowledged data survives a shutdown under load', async (t) => {
  const { factory, capture } = captureExporter();
  capture.delayMs = 30;
  const yaml = otlpConfig(['capture'], { processors: ['batch'], extra: 'processors:\n  batch:\n    send_batch_size: 50\n    timeout: 5s\nexporters:\n  capture:\n' });
  const vigil = await startTest(yaml, [factory]);
  const results = new Map<string, number>();
  const inflight: Promise<void>[] = [];
  let n = 0;
  const pump = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      const tag = `r${n++}`;
      inflight.push(send(vigil.http, tag).then((s) => void results.set(tag, s)));
    }
  }, 2);
  // Shut down once a fair number of requests were acknowledged (time-based waits are flaky under load).
  const deadline = Date.now() + 30_000;
  while ([...results.values()].filter((s) => s === 200).length < 25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const stopping = vigil.shutdown();
  await new Promise((r) => setTimeout(r, 50));
  clearInterval(pump);
  await stopping;
  await Promise.all(inflight);
  const ok = [...results].filter(([, s]) => s === 200).map(([tag]) => tag);
  const received = new Set(capture.traces.flatMap((d) => d.resourceSpans.map((r) => r.resource.attributes.tag as string)));
  t.ok(ok.length >= 25, `${ok.length} requests acknowledged`);
  t.same(ok.filter((tag) => !received.has(tag)), [], 'every acknowledged request reached the exporter');
  t.same([...results.values()].filter((s) => s !== 200 && s !== 503 && s !== 0), [], 'no other answers than 200, 503 or a closed connection');
});
