/** Small builders of model objects and settings for the prometheus / spanmetrics tests. */
import Ajv from 'ajv';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { CreateSettings, JsonSchema } from '../src/component';
import { silentLogger } from '../src/logger';
import {
  Attributes, Metric, MetricData, Metrics, NumberDataPoint, HistogramDataPoint, ExponentialHistogramDataPoint, Temporality,
} from '../src/model';
import { Telemetry } from '../src/telemetry';

export const T0 = 1_700_000_000_000n * 1_000_000n; // a fixed point in time, ns

export function ms(n: number): bigint {
  return T0 + BigInt(n) * 1_000_000n;
}

export function settings<C>(schema: JsonSchema, config: Partial<C>, id = 'test'): CreateSettings<C> {
  const cfg = JSON.parse(JSON.stringify(config));
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(schema);
  if (!validate(cfg)) throw new Error('bad test config: ' + JSON.stringify(validate.errors));
  return { id, config: cfg as C, logger: silentLogger(), telemetry: new Telemetry(), dataDir: ':memory:' };
}

export function numberPoint(value: number, attributes: Attributes = {}, atMs = 1000, startMs = 0): NumberDataPoint {
  return { attributes, startTimeUnixNano: ms(startMs), timeUnixNano: ms(atMs), exemplars: [], flags: 0, value, isInt: Number.isInteger(value) };
}

export function histPoint(bounds: number[], counts: number[], sum: number, attributes: Attributes = {}, atMs = 1000, startMs = 0): HistogramDataPoint {
  return {
    attributes, startTimeUnixNano: ms(startMs), timeUnixNano: ms(atMs), exemplars: [], flags: 0,
    count: counts.reduce((a, b) => a + b, 0), sum, bucketCounts: counts, explicitBounds: bounds,
  };
}

export function expPoint(p: Partial<ExponentialHistogramDataPoint> & { scale: number }, atMs = 1000): ExponentialHistogramDataPoint {
  const positive = p.positive ?? { offset: 0, bucketCounts: [] };
  const negative = p.negative ?? { offset: 0, bucketCounts: [] };
  const zeroCount = p.zeroCount ?? 0;
  const count = zeroCount + positive.bucketCounts.reduce((a, b) => a + b, 0) + negative.bucketCounts.reduce((a, b) => a + b, 0);
  return {
    attributes: {}, startTimeUnixNano: ms(0), timeUnixNano: ms(atMs), exemplars: [], flags: 0,
    count, sum: p.sum, zeroCount, positive, negative, zeroThreshold: p.zeroThreshold ?? 0, ...p,
  } as ExponentialHistogramDataPoint;
}

export function metric(name: string, unit: string, data: MetricData, description = ''): Metric {
  return { name, unit, description, metadata: {}, data };
}

export function gauge(points: NumberDataPoint[]): MetricData {
  return { type: 'gauge', dataPoints: points };
}

export function sum(points: NumberDataPoint[], monotonic = true, temporality: number = Temporality.CUMULATIVE): MetricData {
  return { type: 'sum', dataPoints: points, isMonotonic: monotonic, aggregationTemporality: temporality };
}

export function metrics(resource: Attributes, ms_: Metric[], scope = { name: 'test-scope', version: '1.0' }): Metrics {
  return {
    resourceMetrics: [{
      resource: { attributes: resource, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeMetrics: [{ scope: { ...scope, attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', metrics: ms_ }],
    }],
  };
}

/** Whether Debian's `prometheus` package (server + promtool) is installed. */
export const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts a throwaway Prometheus (temp storage, remote-write receiver on); returns its base URL. */
export async function startPrometheus(t: Test, configYaml: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), configYaml);
  const port = await freePort();
  const proc: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver',
  ], { stdio: 'ignore' });
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${base}/-/ready`).then((r) => r.ok, () => false);
    if (ok) return base;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('prometheus did not become ready');
}
