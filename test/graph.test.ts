/**
 * The component graph as the Collector builds it: one receiver instance fanning out, processors per
 * pipeline, one exporter instance fanning in, connectors joining pipelines, a private copy for each
 * consumer that changes the data, and start/stop order.
 */
import t from 'tap';
import type { ExporterFactory, ProcessorFactory, ReceiverFactory, SignalConsumers } from '../src/component';
import { silentLogger } from '../src/logger';
import { Traces } from '../src/model';
import { startCollector } from '../src/service';

const events: string[] = [];
let push: SignalConsumers = {};
let receiverInstances = 0;

const src: ReceiverFactory = {
  kind: 'receiver', type: 'src', description: '', signals: ['traces', 'logs'], configSchema: { type: 'object', properties: {} },
  create(s, next) {
    receiverInstances++;
    push = next;
    return { start: async () => void events.push(`start ${s.id}`), shutdown: async () => void events.push(`stop ${s.id}`) };
  },
};
const tag: ProcessorFactory<{ value: string }> = {
  kind: 'processor', type: 'tag', description: '', signals: ['traces', 'logs'], mutatesData: true,
  configSchema: { type: 'object', properties: { value: { type: 'string', default: 'x' } } },
  create(s, _signal, next) {
    return {
      async consume(d: any) {
        for (const rs of d.resourceSpans) rs.resource.attributes.tag = s.config.value;
        return next.consume(d);
      },
      start: async () => void events.push(`start ${s.id}`),
      shutdown: async () => void events.push(`stop ${s.id}`),
    };
  },
};
const seen: Record<string, unknown[]> = {};
let sinkInstances = 0;
const sink: ExporterFactory = {
  kind: 'exporter', type: 'sink', description: '', signals: ['traces', 'logs'], configSchema: { type: 'object', properties: {} },
  create(s, signals) {
    sinkInstances++;
    seen[s.id] = [];
    const out: SignalConsumers = { start: async () => void events.push(`start ${s.id}`), shutdown: async () => void events.push(`stop ${s.id}`) } as never;
    for (const sig of signals) (out as any)[sig] = { consume: async (d: Traces) => void seen[s.id].push(d.resourceSpans[0].resource.attributes.tag ?? 'none') };
    return out;
  },
};

t.test('fan-out, fan-in, copies for mutating consumers, connectors, order', async (t) => {
  const yaml = `receivers: { src: }
processors: { tag/a: { value: a }, tag/b: { value: b } }
exporters: { sink/shared: , sink/raw: , sink/fwd: }
connectors: { forward: }
service:
  telemetry: { metrics: { address: null } }
  pipelines:
    traces/a:
      receivers: [src]
      processors: [tag/a]
      exporters: [sink/shared, forward]
    traces/b:
      receivers: [src]
      processors: [tag/b]
      exporters: [sink/shared]
    traces/raw:
      receivers: [src]
      exporters: [sink/raw]
    traces/fwd:
      receivers: [forward]
      exporters: [sink/fwd]
`;
  const running = await startCollector({ yaml: [yaml], logger: silentLogger(), factories: [src, tag, sink] });
  t.equal(receiverInstances, 1, 'one receiver instance for three pipelines');
  t.equal(sinkInstances, 3, 'one instance per exporter id');
  const data: Traces = { resourceSpans: [{ resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [] }] };
  await push.traces!.consume(data);
  t.same(seen['sink/shared'].sort(), ['a', 'b'], 'fan-in: both pipelines reach the shared exporter, each with its own tag');
  t.same(seen['sink/raw'], ['none'], 'the read-only pipeline sees the data unchanged');
  t.same(seen['sink/fwd'], ['a'], 'the connector carries pipeline a\'s data on');
  t.same(data.resourceSpans[0].resource.attributes, {}, 'the sender\'s object was not modified');
  const startOrder = events.filter((e) => e.startsWith('start'));
  t.ok(startOrder.indexOf('start sink/shared') < startOrder.indexOf('start tag/a'), 'exporters start before processors');
  t.equal(startOrder[startOrder.length - 1], 'start src', 'the receiver starts last');
  events.length = 0;
  await running.shutdown();
  t.equal(events[0], 'stop src', 'the receiver stops first');
  t.ok(events.indexOf('stop tag/a') < events.indexOf('stop sink/shared'), 'processors flush before exporters stop');
  t.ok(events.indexOf('stop sink/fwd') > events.indexOf('stop tag/a'));
});
