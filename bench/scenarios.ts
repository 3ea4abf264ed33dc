/**
 * The named benchmark scenarios: what load to send and which config (bench/<config>.yaml) serves it.
 * Every field can be overridden from the command line.
 */
import type { BenchSignal, Encoding } from './payloads';

export interface Scenario {
  name: string;
  summary: string;
  /** Config file name under bench/. */
  config: string;
  signal: BenchSignal;
  transport: 'http' | 'grpc';
  encoding: Encoding;
  gzip: boolean;
  itemsPerRequest: number;
  concurrency: number;
  /** Items per second; 0 = max rate. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Pin the server to one core and the generator to the other. */
  pin: boolean;
  /** After the run, count rows in these SQLite tables and compare the sum with what was accepted. */
  verifyTables?: string[];
  /** Overload: measure capacity, offer `factor` times it, then check recovery. */
  overload?: { factor: number; capacityMs: number; settleMs: number; recoveryMs: number; concurrency: number };
}

const base = {
  signal: 'traces' as BenchSignal,
  transport: 'http' as const,
  encoding: 'protobuf' as Encoding,
  gzip: false,
  itemsPerRequest: 500,
  concurrency: 8,
  rate: 0,
  warmupMs: 3000,
  durationMs: 15_000,
  pin: true,
};

export const SCENARIOS: Scenario[] = [
  { ...base, name: 'passthrough', config: 'passthrough', summary: 'OTLP/HTTP protobuf traces → batch → nop, max rate; spans per CPU-second of the server' },
  { ...base, name: 'steady', config: 'steady', itemsPerRequest: 100, rate: 10_000, durationMs: 20_000, summary: '10,000 spans/s in requests of 100 spans (the Collector testbed load); server CPU and RSS' },
  { ...base, name: 'sqlite', config: 'sqlite', pin: false, verifyTables: ['spans'], summary: 'traces at max rate into the SQLite exporter, then every accepted span must be in the database' },
  { ...base, name: 'sqlite-metrics', config: 'sqlite', signal: 'metrics', pin: false, verifyTables: ['metric_number_points', 'metric_histogram_points'], summary: 'metric points at max rate into SQLite, then every accepted point must be in the database' },
  { ...base, name: 'sqlite-logs', config: 'sqlite', signal: 'logs', pin: false, verifyTables: ['logs'], summary: 'log records at max rate into SQLite, then every accepted record must be in the database' },
  { ...base, name: 'metrics', config: 'metrics', signal: 'metrics', summary: 'OTLP/HTTP protobuf metrics (gauges, sums, histograms) → batch → nop, max rate; data points' },
  { ...base, name: 'logs', config: 'logs', signal: 'logs', summary: 'OTLP/HTTP protobuf logs → batch → nop, max rate; log records' },
  { ...base, name: 'json', config: 'passthrough', encoding: 'json', summary: 'as passthrough, with OTLP/JSON bodies' },
  { ...base, name: 'gzip', config: 'passthrough', gzip: true, summary: 'as passthrough, with gzip-compressed bodies' },
  { ...base, name: 'grpc', config: 'passthrough', transport: 'grpc', summary: 'as passthrough, over OTLP/gRPC' },
  {
    // Not pinned: the SQLite exporter writes from a worker thread, as in the sqlite scenario.
    ...base, name: 'overload', config: 'overload', durationMs: 30_000, pin: false,
    overload: { factor: 3, capacityMs: 5000, settleMs: 2000, recoveryMs: 6000, concurrency: 256 },
    summary: '3× the measured capacity for 30 s: refusals (429/503, Retry-After), RSS against the memory limit, survival, recovery',
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
