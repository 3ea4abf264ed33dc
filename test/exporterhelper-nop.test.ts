import t from 'tap';
import { silentLogger } from '../src/logger';
import type { Logs } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { nopExporterFactory } from '../exporters/nop';

t.test('nop accepts everything, drops it, and counts the items', async (t) => {
  const telemetry = new Telemetry();
  const ex = nopExporterFactory.create({ id: 'nop/bench', config: {}, logger: silentLogger(), telemetry, dataDir: '.' }, ['logs', 'traces']);
  t.notOk('metrics' in ex, 'only the wired signals get a consumer');
  const rec = { timeUnixNano: 1n, observedTimeUnixNano: 1n, severityNumber: 0, severityText: '', body: 'x', attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' };
  const logs: Logs = { resourceLogs: [{ resource: { attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [rec, rec, rec] }] }] };
  await ex.logs!.consume(logs);
  await ex.logs!.consume(logs);
  const m = await telemetry.registry.getSingleMetric('vigil_exporter_sent_log_records_total')!.get();
  t.equal(m.values.find((v) => v.labels.exporter === 'nop/bench')?.value, 6);
  await ex.shutdown!();
});
