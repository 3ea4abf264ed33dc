/** Config checks about durability: `batch` in front of a durable exporter is warned about. */
import t from 'tap';
import { join, resolve } from 'node:path';
import { loadAndValidate } from '../src/service';
import { formatIssue } from '../src/errors';

const ROOT = resolve(__dirname, '..');
const env = { PATH: process.env.PATH };

t.test('batch in front of a persistent queue or an acknowledged store is warned about, with its place', async (t) => {
  const cfg = loadAndValidate({ env, yaml: [`extensions:
  file_storage:
receivers:
  otlp:
    protocols:
      http:
processors:
  batch:
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:1
    sending_queue: { storage: file_storage }
  sqlite:
  nop:
service:
  extensions: [file_storage]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlphttp]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [sqlite]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [nop]
`] });
  const w = cfg.warnings.map(formatIssue);
  t.equal(w.length, 2, w.join('\n'));
  t.match(w[0], /:20:\d+ service\.pipelines\.traces\.processors\[0\]: "batch" answers the receiver before the data reaches exporter "otlphttp" and its persistent sending queue/);
  t.match(w[1], /:24:\d+ service\.pipelines\.logs\.processors\[0\]: .*"sqlite" and its commit \(durability: acknowledged\)/);
});

t.test('the default pipelines and the edge profile are valid and have no such warning', async (t) => {
  for (const file of ['pipelines.yaml', join('examples', 'edge.yaml')]) {
    const cfg = loadAndValidate({ env, configFiles: [join(ROOT, file)] });
    t.same(cfg.warnings.map(formatIssue), [], file);
    const queued = [...cfg.exporters.values()].filter((e) => (e.config.sending_queue as { storage?: string } | undefined)?.storage);
    if (file.includes('edge')) t.same(queued.map((e) => e.id), ['otlphttp'], 'the edge forwards through a persistent queue');
  }
});
