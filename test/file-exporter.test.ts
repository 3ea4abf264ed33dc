import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateSettings, Host } from '../src/component';
import { silentLogger } from '../src/logger';
import { Double, KvList, Logs, Metrics, Traces } from '../src/model';
import { fromJson } from '../src/otlp';
import { Telemetry } from '../src/telemetry';
import { FileConfig, fileExporterFactory } from '../exporters/file';

const host: Host = { getExtension: () => undefined, reportStatus: () => undefined, componentStatuses: () => [] };
const dir = mkdtempSync(join(tmpdir(), 'vigil-file-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

function make(path: string, rotation = { max_megabytes: 100, max_backups: 5 }) {
  const config: FileConfig = { path, rotation, timeout: '5s', sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };
  const settings: CreateSettings<FileConfig> = { id: 'file', config, logger: silentLogger(), telemetry: new Telemetry(), dataDir: dir };
  return fileExporterFactory.create(settings, ['traces', 'metrics', 'logs']);
}

const T = 1_763_000_000_123_456_789n;
const res = { attributes: { 'service.name': 'cart', n: 3, d: new Double(2), list: ['a', 1], kv: new KvList({ x: true }) }, droppedAttributesCount: 1 };
const scope = { name: 'lib', version: '1', attributes: {}, droppedAttributesCount: 0 };
const traces: Traces = { resourceSpans: [{ resource: res, schemaUrl: 'https://schema', scopeSpans: [{ scope, schemaUrl: '', spans: [{
  traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceState: 'a=b', parentSpanId: '', flags: 1, name: 'GET /cart', kind: 2,
  startTimeUnixNano: T, endTimeUnixNano: T + 999n, attributes: { big: 9007199254740993n, ratio: 0.5 }, droppedAttributesCount: 0,
  events: [{ timeUnixNano: T + 1n, name: 'e', attributes: {}, droppedAttributesCount: 0 }], droppedEventsCount: 0,
  links: [], droppedLinksCount: 0, status: { code: 2, message: 'err' },
}] }] }] };
const metrics: Metrics = { resourceMetrics: [{ resource: res, schemaUrl: '', scopeMetrics: [{ scope, schemaUrl: '', metrics: [
  { name: 'reqs', description: '', unit: '1', metadata: {}, data: { type: 'sum', aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: { a: 'b' }, startTimeUnixNano: T - 5n, timeUnixNano: T, value: 42, isInt: true, flags: 0, exemplars: [] }] } },
] }] }] };
const logs: Logs = { resourceLogs: [{ resource: res, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords: [
  { timeUnixNano: T, observedTimeUnixNano: T + 1n, severityNumber: 13, severityText: 'WARN', body: 'low disk', attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: 'disk.low' },
] }] }] };

t.test('one OTLP/JSON export request per line, read back field by field', async (t) => {
  const path = join(dir, 'sub', 'out.json');
  const ex = make(path);
  await ex.start!(host);
  await ex.traces!.consume(traces);
  await ex.metrics!.consume(metrics);
  await ex.logs!.consume(logs);
  await ex.shutdown!();
  const lines = readFileSync(path, 'utf8').split('\n');
  t.equal(lines.pop(), '', 'the file ends with a newline');
  t.equal(lines.length, 3);
  const [tj, mj, lj] = lines.map((l) => JSON.parse(l));
  t.ok(tj.resourceSpans, 'traces line is an ExportTraceServiceRequest');
  t.equal(tj.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano, String(T), 'int64 as a decimal string');
  t.equal(tj.resourceSpans[0].scopeSpans[0].spans[0].traceId, '5b8efff798038103d269b633813fc60c', 'ids as hex');
  t.same(fromJson('traces', tj), traces, 'the traces come back identical');
  t.same(fromJson('metrics', mj), metrics, 'the metrics come back identical');
  t.same(fromJson('logs', lj), logs, 'the logs come back identical');
});

t.test('rotation by size keeps max_backups files and never splits a line', async (t) => {
  const path = join(dir, 'rot', 'traces.jsonl');
  const one = JSON.stringify(JSON.parse(readFileSync(join(dir, 'sub', 'out.json'), 'utf8').split('\n')[0])).length + 1;
  // room for three lines per file
  const ex = make(path, { max_megabytes: (one * 3.5) / (1024 * 1024), max_backups: 2 });
  await ex.start!(host);
  for (let i = 0; i < 20; i++) {
    traces.resourceSpans[0].scopeSpans[0].spans[0].name = `req-${i}`;
    await ex.traces!.consume(traces);
  }
  await ex.shutdown!();
  const files = readdirSync(join(dir, 'rot')).sort();
  t.equal(files.length, 3, `the live file and two backups: ${files}`);
  t.ok(files.includes('traces.jsonl'));
  for (const f of files.filter((x) => x !== 'traces.jsonl')) t.match(f, /^traces-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}(\.\d+)?\.jsonl$/);
  const names: string[] = [];
  for (const f of files.filter((x) => x !== 'traces.jsonl').concat('traces.jsonl')) {
    const lines = readFileSync(join(dir, 'rot', f), 'utf8').trimEnd().split('\n');
    t.ok(lines.length <= 3, `${f} holds at most 3 lines`);
    for (const l of lines) names.push(JSON.parse(l).resourceSpans[0].scopeSpans[0].spans[0].name);
  }
  const expected = Array.from({ length: 20 }, (_, i) => `req-${i}`).slice(20 - names.length);
  t.same(names, expected, 'the kept lines are the newest ones, in order, none cut');
});
