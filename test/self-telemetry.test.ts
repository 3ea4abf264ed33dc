/** Vigil's own metrics on service.telemetry.metrics.address move when data flows. */
import t from 'tap';
import { silentLogger } from '../src/logger';
import { startCollector } from '../src/service';
import type { OtlpReceiver } from '../receivers/otlp';
import { exportAsync, makeSpans, traceExporter } from './helpers/sdk';

function value(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : NaN;
}

t.test('self metrics', async (t) => {
  const yaml = `receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
  batch: { timeout: 10ms }
exporters:
  nop:
service:
  telemetry: { metrics: { address: 127.0.0.1:0 } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [nop] }
`;
  const vigil = await startCollector({ yaml: [yaml], logger: silentLogger() });
  t.teardown(() => vigil.shutdown());
  const http = vigil.collector.component<OtlpReceiver>('receiver', 'otlp')!.endpoints.http!;
  const scrape = async () => {
    const res = await fetch(`http://${vigil.metricsAddress}/metrics`);
    t.equal(res.status, 200);
    return res.text();
  };
  const before = await scrape();
  t.match(before, /^vigil_process_resident_memory_bytes \d+/m, 'process RSS');
  t.match(before, /^vigil_nodejs_eventloop_lag_seconds /m, 'event-loop delay');
  t.match(before, /^vigil_nodejs_heap_size_used_bytes /m, 'heap');
  t.match(before, /^vigil_process_cpu_seconds_total /m, 'CPU');
  const spans = await makeSpans('self');
  t.equal((await exportAsync(traceExporter('http/protobuf', { http, grpc: '' }), spans)).code, 0);
  await new Promise((r) => setTimeout(r, 100));
  const after = await scrape();
  t.equal(value(after, 'vigil_receiver_accepted_spans_total', 'receiver="otlp"'), spans.length, 'receiver accepted');
  t.equal(value(after, 'vigil_processor_incoming_items_total', 'processor="batch"'), spans.length, 'processor incoming');
  t.equal(value(after, 'vigil_exporter_sent_spans_total', 'exporter="nop"'), spans.length, 'exporter sent');
  t.equal((await fetch(`http://${vigil.metricsAddress}/other`)).status, 404);
});
