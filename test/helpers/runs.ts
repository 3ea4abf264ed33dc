/** A collector with the pipeline_runs connector, its API address, and polling helpers for the runs tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiExtension } from '../../extensions/api';
import type { PipelineRunsConnector } from '../../connectors/pipeline_runs';
import { Capture, captureExporter, startTest } from './collector';

export interface RunsVigil {
  api: string;
  otlp: string;
  http: string;
  capture: Capture;
  connector: PipelineRunsConnector;
  shutdown(): Promise<void>;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `connectorConfig` is YAML indented under `pipeline_runs:` (4 spaces); `alertsConfig`, when given,
 * adds an `alerts` connector (YAML under `alerts:`) fed by the run events.
 */
export async function startRunsVigil(dataDir: string, connectorConfig = '', httpEndpoint = '127.0.0.1:0', alertsConfig?: string): Promise<RunsVigil> {
  const { factory, capture } = captureExporter();
  const yaml = `receivers:
  otlp:
    protocols:
      http:
        endpoint: ${httpEndpoint}
connectors:
  pipeline_runs:
    metrics_interval: 200ms
    persist_interval: 100ms
    stream_interval: 100ms
${connectorConfig}
${alertsConfig !== undefined ? `  alerts:\n${alertsConfig}` : ''}
exporters:
  capture:
extensions:
  api:
    endpoint: 127.0.0.1:0
service:
  data_dir: ${dataDir}
  extensions: [api]
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [pipeline_runs]
    metrics:
      receivers: [otlp]
      exporters: [pipeline_runs]
    logs:
      receivers: [otlp]
      exporters: [pipeline_runs]
    logs/events:
      receivers: [pipeline_runs]
      exporters: [capture${alertsConfig !== undefined ? ', alerts' : ''}]
${alertsConfig !== undefined ? '    logs/notify:\n      receivers: [alerts]\n      exporters: [capture]\n' : ''}    metrics/runs:
      receivers: [pipeline_runs]
      exporters: [capture]
`;
  const vigil = await startTest(yaml, [factory]);
  return {
    api: `http://${vigil.collector.component<ApiExtension>('extension', 'api')?.address}`,
    http: vigil.http,
    otlp: `http://${vigil.http}`,
    capture,
    connector: vigil.collector.component<PipelineRunsConnector>('connector', 'pipeline_runs')!,
    shutdown: () => vigil.shutdown(),
  };
}

export interface PhaseJson { name: string; status: string; started_at?: number; ended_at?: number; duration_ms?: number; usual_duration_ms?: number; slow?: boolean }
export interface RunJson {
  id: string; pipeline: string; status: string; result?: string; error_type?: string; started_at: number; ended_at?: number; updated_at: number;
  current_phase?: string; phase_index?: number; phase_count?: number; progress?: number; eta_ms?: number; trace_id?: string; phases: PhaseJson[];
}
export interface RunDetailJson extends RunJson { metrics: Record<string, [number, number][]>; previous: { id: string; phases: { name: string; duration_ms: number }[] }[] }

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

export async function getRun(api: string, id: string): Promise<RunDetailJson | undefined> {
  const r = await getJson<{ run: RunDetailJson }>(`${api}/api/runs/${encodeURIComponent(id)}`);
  return r.status === 200 ? r.body.run : undefined;
}

/** Polls until `pred` holds for the run (generous timeout: the machine may be loaded). */
export async function waitRun(api: string, id: string, pred: (r: RunDetailJson) => boolean, what: string, timeoutMs = 20_000): Promise<RunDetailJson> {
  const end = Date.now() + timeoutMs;
  let last: RunDetailJson | undefined;
  for (;;) {
    last = await getRun(api, id);
    if (last && pred(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for run ${id}: ${what}; last seen ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function eventsOf(capture: Capture, name: string): Array<{ attributes: Record<string, unknown>; body: unknown; traceId: string }> {
  const out = [];
  for (const l of capture.logs) for (const rl of l.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
    if (r.eventName === name) out.push({ attributes: r.attributes as Record<string, unknown>, body: r.body, traceId: r.traceId });
  }
  return out;
}

export const FAST_PHASES = [
  { name: 'prepare-data', ms: 60 },
  { name: 'merge', ms: 30 },
  { name: 'train', ms: 150, steps: 5 },
  { name: 'compress', ms: 30 },
  { name: 'evaluate', ms: 50 },
];

export const EXPECTED_PHASES_YAML = `    pipelines:
      - name: model-build
        phases: [prepare-data, merge, train, compress, evaluate]
`;
