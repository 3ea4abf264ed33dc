/**
 * `pipeline_runs` connector: live state of multi-stage jobs (model-building and CI/CD pipelines)
 * from the telemetry they already send.
 *
 * - traces/metrics/logs → logs: run events (started, succeeded, failed, cancelled, stalled,
 *   phase_slow) as log records, for the `alerts` connector and the store;
 * - traces/metrics/logs → metrics: runs by result, phase duration histograms, runs in progress.
 *
 * Run state is served by the `api` extension (/api/runs, /api/runs/:id, /api/runs/stream) and kept
 * in the data directory across restarts. See README.md.
 */
import { API_EXTENSION, ApiServer } from '../../src/api';
import type { Component, ConnectorFactory, CreateSettings, Host, SignalConsumers } from '../../src/component';
import { Logs, Metrics, Traces, nanosToMillis, numericValue } from '../../src/model';
import { StateStore } from '../../src/state';
import { parseDuration } from '../../src/util/duration';
import { PipelineRunsConfig, configSchema, toSettings } from './config';
import { RunsApi } from './http';
import { RunMetrics, eventsToLogs } from './output';
import { RunTracker } from './tracker';

export type { PipelineRunsConfig };
export { RunTracker };

export const pipelineRunsConnectorFactory: ConnectorFactory<PipelineRunsConfig> = {
  kind: 'connector',
  type: 'pipeline_runs',
  description: 'Live state of pipeline runs (CI/CD and model-building jobs) from their spans, logs and metrics: run events as logs, run metrics, and the /api/runs API.',
  pairs: [['traces', 'logs'], ['metrics', 'logs'], ['logs', 'logs'], ['traces', 'metrics'], ['metrics', 'metrics'], ['logs', 'metrics']],
  mutatesData: false,
  configSchema,
  validate(config) {
    const problems: Array<{ path: Array<string | number>; message: string }> = [];
    const seen = new Set<string>();
    config.pipelines.forEach((p, i) => {
      if (seen.has(p.name)) problems.push({ path: ['pipelines', i, 'name'], message: `pipeline ${p.name} is declared twice` });
      seen.add(p.name);
    });
    return problems;
  },
  create(settings, inputs, next) {
    const c = new PipelineRunsConnector(settings, next);
    if (inputs.includes('traces')) c.traces = { consume: async (d: Traces) => c.consumeTraces(d) };
    if (inputs.includes('metrics')) c.metrics = { consume: async (d: Metrics) => c.consumeMetrics(d) };
    if (inputs.includes('logs')) c.logs = { consume: async (d: Logs) => c.consumeLogs(d) };
    return c;
  },
};

export class PipelineRunsConnector implements Component, SignalConsumers {
  readonly tracker: RunTracker;
  readonly runMetrics: RunMetrics;
  readonly api: RunsApi;
  traces?: SignalConsumers['traces'];
  metrics?: SignalConsumers['metrics'];
  logs?: SignalConsumers['logs'];
  private store?: StateStore;
  private readonly timers: NodeJS.Timeout[] = [];
  private sending: Promise<void> = Promise.resolve();
  private readonly tickMs: number;

  constructor(private readonly s: CreateSettings<PipelineRunsConfig>, private readonly next: SignalConsumers, private readonly now: () => number = Date.now) {
    const settings = toSettings(s.config);
    if (s.config.persist) this.store = StateStore.open(s.dataDir);
    this.tracker = new RunTracker(settings, this.store ? { state: this.store, ns: s.id } : undefined);
    this.runMetrics = new RunMetrics(10_000, now());
    this.tracker.onPhaseEnded = (p, phase, status, ms) => this.runMetrics.phaseEnded(p, phase, status, ms);
    this.tracker.onRunEnded = (p, result) => this.runMetrics.runEnded(p, result);
    this.api = new RunsApi(this.tracker, { streamMs: parseDuration(s.config.stream_interval), maxClients: s.config.max_stream_clients, now });
    // Stalls are noticed within a quarter of the stall timeout (between 100 ms and 5 s).
    this.tickMs = Math.min(5000, Math.max(100, settings.stallMs / 4));
  }

  consumeTraces(td: Traces): void {
    const now = this.now();
    for (const rs of td.resourceSpans) for (const ss of rs.scopeSpans) this.tracker.spans(ss.spans, rs.resource.attributes, now);
    this.emitEvents();
  }

  consumeLogs(ld: Logs): void {
    const now = this.now();
    for (const rl of ld.resourceLogs) for (const sl of rl.scopeLogs) {
      // Our own events coming back (a pipeline loop through the store) are not run activity.
      if (sl.scope.name === 'vigil/pipeline_runs') continue;
      for (const rec of sl.logRecords) this.tracker.log(rec, rl.resource.attributes, now);
    }
    this.emitEvents();
  }

  consumeMetrics(md: Metrics): void {
    const now = this.now();
    const runIdAttr = this.s.config.attributes.run_id;
    for (const rm of md.resourceMetrics) for (const sm of rm.scopeMetrics) {
      if (sm.scope.name === 'vigil/pipeline_runs') continue;
      for (const m of sm.metrics) {
        // Only gauges and sums carry a value per point; histograms of a run are not run metrics.
        if (m.data.type !== 'gauge' && m.data.type !== 'sum') continue;
        for (const p of m.data.dataPoints) {
          if (p.attributes[runIdAttr] === undefined) continue;
          const v = numericValue(p.value);
          if (v === undefined) continue;
          this.tracker.point(m.name, p.attributes, nanosToMillis(p.timeUnixNano), v, rm.resource.attributes, now);
        }
      }
    }
    this.emitEvents();
  }

  /** Sends pending run events down the logs pipeline (in order, never overlapping). */
  private emitEvents(): void {
    if (!this.tracker.events.length) return;
    const events = this.tracker.takeEvents();
    const out = this.next.logs;
    if (!out) return;
    this.sending = this.sending.then(async () => {
      try {
        await out.consume(eventsToLogs(events));
      } catch (err) {
        this.s.logger.warn({ err: (err as Error).message, events: events.length }, 'pipeline_runs: the logs pipeline refused run events');
      }
    });
  }

  private async emitMetrics(): Promise<void> {
    const out = this.next.metrics;
    if (!out || (this.runMetrics.empty && this.tracker.size === 0)) return;
    const md = this.runMetrics.collect(this.tracker.all(), this.now());
    if (!md.resourceMetrics.length) return;
    try {
      await out.consume(md);
    } catch (err) {
      this.s.logger.warn({ err: (err as Error).message }, 'pipeline_runs: the metrics pipeline refused run metrics');
    }
  }

  private persist(full = false): void {
    try {
      this.tracker.persist(full);
    } catch (err) {
      // The next round retries: dirty runs stay dirty.
      this.s.logger.warn({ err: (err as Error).message }, 'pipeline_runs: could not save run state');
    }
  }

  async start(host: Host): Promise<void> {
    this.tracker.load(this.now());
    const api = host.getExtension<ApiServer>(API_EXTENSION);
    if (api) this.api.register(api);
    const every = (ms: number, fn: () => void) => {
      if (ms <= 0) return;
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.tickMs, () => { this.tracker.tick(this.now()); this.emitEvents(); });
    every(parseDuration(this.s.config.metrics_interval), () => void this.emitMetrics());
    // Phase and status changes every interval; progress and metric points every fourth.
    let rounds = 0;
    if (this.store) every(parseDuration(this.s.config.persist_interval), () => this.persist(++rounds % 4 === 0));
    this.s.logger.info({ runs: this.tracker.size, api: !!api }, 'pipeline_runs started');
  }

  async shutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.api.close();
    this.emitEvents();
    await this.sending;
    await this.emitMetrics();
    if (this.store) {
      this.persist(true);
      this.store.release();
      this.store = undefined;
    }
  }
}
