/**
 * Scrape time of the prometheus exporter with many series (target: 100,000 series in ≤ 250 ms).
 *
 *   node -r ts-node/register/transpile-only bench/prometheus-scrape.ts [--series 100000] [--runs 10]
 *     [--labels 4] [--format text|openmetrics] [--gzip]
 *
 * Series are counters and gauges spread over 100 metrics. Two figures per run, both measured as
 * a real HTTP GET of /metrics over loopback, body fully read:
 * - "updated": every series got a new value since the previous scrape (the usual case when the
 *   export interval is shorter than the scrape interval), so every line is rendered afresh;
 * - "unchanged": nothing changed, lines come from the per-series cache.
 */
import { request } from 'node:http';
import { prometheusExporterFactory, PrometheusExporter } from '../exporters/prometheus';
import { silentLogger } from '../src/logger';
import { Metric, Metrics, NumberDataPoint, Temporality } from '../src/model';
import { Telemetry } from '../src/telemetry';
import { parseExposition } from '../src/prometheus/textparse';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1].startsWith('--') ? process.argv[i + 1] : def;
}

const SERIES = Number(arg('series', '100000'));
const RUNS = Number(arg('runs', '10'));
const LABELS = Number(arg('labels', '4'));
const FORMAT = arg('format', 'text');
const GZIP = process.argv.includes('--gzip');
const METRICS = 100;

function batch(round: number): Metrics {
  const perMetric = Math.ceil(SERIES / METRICS);
  const metrics: Metric[] = [];
  const t = BigInt(Date.now() + Math.ceil(round)) * 1_000_000n;
  let made = 0;
  for (let m = 0; m < METRICS && made < SERIES; m++) {
    const points: NumberDataPoint[] = [];
    for (let i = 0; i < perMetric && made < SERIES; i++, made++) {
      const attributes: Record<string, string> = {};
      for (let l = 0; l < LABELS; l++) attributes[`label.${l}`] = `value-${l}-${(i >> (l * 3)) & 0xffff}`;
      attributes['series.id'] = String(i);
      points.push({ attributes, startTimeUnixNano: 0n, timeUnixNano: t, exemplars: [], flags: 0, value: i + round * 0.5, isInt: false });
    }
    const counter = m % 2 === 0;
    metrics.push({
      name: `bench.metric.${m}`, description: `Benchmark metric ${m}`, unit: counter ? '{request}' : 'By', metadata: {},
      data: counter ? { type: 'sum', isMonotonic: true, aggregationTemporality: Temporality.CUMULATIVE, dataPoints: points } : { type: 'gauge', dataPoints: points },
    });
  }
  return {
    resourceMetrics: [{
      resource: { attributes: { 'service.name': 'bench', 'service.instance.id': 'i-1' }, droppedAttributesCount: 0 }, schemaUrl: '',
      scopeMetrics: [{ scope: { name: 'bench', version: '1', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics }],
    }],
  };
}

/** Wall time is at the mercy of other processes on a shared machine; CPU time of this process much less so. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function scrape(port: number, keepBody = false): Promise<{ ms: number; cpu: number; bytes: number; body: string }> {
  const headers: Record<string, string> = {};
  if (FORMAT === 'openmetrics') headers.accept = 'application/openmetrics-text;version=1.0.0';
  if (GZIP) headers['accept-encoding'] = 'gzip';
  const start = process.hrtime.bigint();
  const cpu0 = cpuMs();
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time, as Prometheus's scrapes after an idle interval.
    request({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false }, (res) => {
      // Only the first scrape is kept and parsed; the timed ones just count bytes, as a scraper's read would.
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keepBody) chunks.push(c);
      });
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        resolve({ ms, cpu: cpuMs() - cpu0, bytes, body: keepBody && !GZIP ? Buffer.concat(chunks).toString() : '' });
      });
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

const pct = (xs: number[], p: number): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function main(): Promise<void> {
  const ex = prometheusExporterFactory.create({
    id: 'prometheus', logger: silentLogger(), telemetry: new Telemetry(), dataDir: ':memory:',
    config: {
      endpoint: '127.0.0.1:0', namespace: '', const_labels: {}, send_timestamps: false, metric_expiration: '5m',
      resource_to_telemetry_conversion: { enabled: false }, promote_resource_attributes: [], enable_open_metrics: true,
      add_metric_suffixes: true, max_series: 10_000_000,
    },
  }, ['metrics']) as PrometheusExporter;
  await ex.start();
  const port = ex.address!.port;

  const t0 = process.hrtime.bigint();
  ex.consumeMetrics(batch(0));
  const ingestMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const first = await scrape(port, true);
  if (!GZIP) {
    const parsed = parseExposition(first.body, FORMAT === 'openmetrics');
    const samples = parsed.samples.filter((x) => x.name !== 'target_info').length;
    if (samples < SERIES) throw new Error(`expected ${SERIES} series, the scrape had ${samples}`);
  }

  const updated: number[] = [];
  const unchanged: number[] = [];
  const renderOnly: number[] = [];
  const updatedCpu: number[] = [];
  const unchangedCpu: number[] = [];
  const renderCpu: number[] = [];
  for (let r = 1; r <= RUNS; r++) {
    ex.consumeMetrics(batch(r));
    const u = await scrape(port);
    updated.push(u.ms);
    updatedCpu.push(u.cpu);
    const c = await scrape(port);
    unchanged.push(c.ms);
    unchangedCpu.push(c.cpu);
    ex.consumeMetrics(batch(r + 0.5));
    const t1 = process.hrtime.bigint();
    const c1 = cpuMs();
    ex.scrape(FORMAT === 'openmetrics' ? 'openmetrics' : 'text');
    renderOnly.push(Number(process.hrtime.bigint() - t1) / 1e6);
    renderCpu.push(cpuMs() - c1);
  }
  await ex.shutdown();

  const line = (name: string, xs: number[], cpu: number[]) =>
    `${name.padEnd(10)} wall median ${pct(xs, 0.5).toFixed(1)} ms  p90 ${pct(xs, 0.9).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms` +
    `   cpu median ${pct(cpu, 0.5).toFixed(1)} ms`;
  console.log(`prometheus exporter scrape: ${SERIES} series, ${LABELS + 5} labels each, format ${FORMAT}${GZIP ? ', gzip' : ''}, ${RUNS} runs`);
  console.log(`ingest of one batch of ${SERIES} points: ${ingestMs.toFixed(0)} ms; response ${(first.bytes / 1e6).toFixed(1)} MB`);
  console.log(line('updated', updated, updatedCpu));
  console.log(line('unchanged', unchanged, unchangedCpu));
  console.log(line('render', renderOnly, renderCpu) + '   (updated series, exposition text only, no HTTP)');
  const target = 250;
  console.log(`target ≤ ${target} ms for updated series: wall ${pct(updated, 0.5) <= target ? 'met' : 'NOT met'}, cpu ${pct(updatedCpu, 0.5) <= target ? 'met' : 'NOT met'} (medians; wall depends on the machine's load)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
