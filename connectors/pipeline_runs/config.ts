/** The `pipeline_runs` config: its JSON Schema (with defaults) and the parsed form the tracker uses. */
import { durationSchema, parseDuration } from '../../src/util/duration';

export interface PipelineRunsConfig {
  attributes: {
    pipeline_name: string;
    run_id: string;
    result: string;
    error_type: string;
    phase_name: string;
    phase_run_id: string;
    phase_type: string;
    run_state: string;
  };
  start_event_name: string;
  progress_metric: string;
  pipelines: Array<{ name: string; phases: string[] }>;
  stall_timeout: string | number;
  ended_retention: string | number;
  max_runs: number;
  history_runs: number;
  slow_factor: number;
  min_history: number;
  slow_min_excess: string | number;
  max_metrics_per_run: number;
  max_points_per_metric: number;
  max_orphan_spans: number;
  metrics_interval: string | number;
  persist: boolean;
  persist_interval: string | number;
  stream_interval: string | number;
  max_stream_clients: number;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    attributes: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Attribute names that identify runs and phases (OpenTelemetry CI/CD semantic conventions by default).',
      properties: {
        pipeline_name: { type: 'string', minLength: 1, default: 'cicd.pipeline.name' },
        run_id: { type: 'string', minLength: 1, default: 'cicd.pipeline.run.id' },
        result: { type: 'string', minLength: 1, default: 'cicd.pipeline.result' },
        error_type: { type: 'string', minLength: 1, default: 'error.type' },
        phase_name: { type: 'string', minLength: 1, default: 'cicd.pipeline.task.name' },
        phase_run_id: { type: 'string', minLength: 1, default: 'cicd.pipeline.task.run.id' },
        phase_type: { type: 'string', minLength: 1, default: 'cicd.pipeline.task.type' },
        run_state: { type: 'string', minLength: 1, default: 'cicd.pipeline.run.state', description: 'A span with this attribute set to pending or executing is a "run started" marker, not the run itself.' },
      },
    },
    start_event_name: { type: 'string', minLength: 1, default: 'cicd.pipeline.run.start', description: 'Event name of the log record that announces a run.' },
    progress_metric: { type: 'string', minLength: 1, default: 'pipeline.progress', description: 'Gauge (0..1) of a run\'s overall progress, with the run id attribute.' },
    pipelines: {
      type: 'array',
      default: [],
      description: 'Expected phases, in order, per pipeline name ("phase 3 of 7").',
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'phases'],
        properties: { name: { type: 'string', minLength: 1 }, phases: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 1000 } },
      },
    },
    stall_timeout: durationSchema('10m', 'A running run with no new span, log record or metric point for this long is stalled.'),
    ended_retention: durationSchema('24h', 'How long ended runs stay in memory (and in the API) after they end.'),
    max_runs: { type: 'integer', minimum: 1, default: 10000, description: 'Runs tracked at most; beyond, the oldest ended (else least recently updated) run is dropped.' },
    history_runs: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Completed runs per pipeline kept to compute usual phase durations and the ETA.' },
    slow_factor: { type: 'number', exclusiveMinimum: 1, default: 1.5, description: 'A phase is slow when it takes more than this times its usual (median) duration.' },
    min_history: { type: 'integer', minimum: 1, default: 3, description: 'Earlier runs with the phase needed before it can be called slow.' },
    slow_min_excess: durationSchema('10s', 'A phase is slow only when it also takes at least this much longer than usual (short phases vary a lot).'),
    max_metrics_per_run: { type: 'integer', minimum: 0, default: 20 },
    max_points_per_metric: { type: 'integer', minimum: 1, default: 500, description: 'Newest points kept per run metric.' },
    max_orphan_spans: { type: 'integer', minimum: 0, default: 10000, description: 'Phase spans held while their run is unknown (no run id, trace not seen yet).' },
    metrics_interval: durationSchema('15s', 'How often run metrics are emitted.'),
    persist: { type: 'boolean', default: true, description: 'Keep run state in the data directory so a restart resumes it.' },
    persist_interval: durationSchema('60s', 'How often runs whose phases or status changed are written; runs with only new progress or metric points are written every fourth time, and everything at shutdown.'),
    stream_interval: durationSchema('1s', 'How often changed runs are pushed to /api/runs/stream clients.'),
    max_stream_clients: { type: 'integer', minimum: 0, default: 32 },
  },
} as const;

/** Durations in ms and lookups built once. */
export interface Settings {
  attrs: PipelineRunsConfig['attributes'];
  startEventName: string;
  progressMetric: string;
  expectedPhases: Map<string, string[]>;
  stallMs: number;
  retentionMs: number;
  maxRuns: number;
  historyRuns: number;
  slowFactor: number;
  minHistory: number;
  slowMinExcessMs: number;
  maxMetricsPerRun: number;
  maxPointsPerMetric: number;
  maxOrphanSpans: number;
}

export function toSettings(c: PipelineRunsConfig): Settings {
  return {
    attrs: c.attributes,
    startEventName: c.start_event_name,
    progressMetric: c.progress_metric,
    expectedPhases: new Map(c.pipelines.map((p) => [p.name, p.phases])),
    stallMs: parseDuration(c.stall_timeout),
    retentionMs: parseDuration(c.ended_retention),
    maxRuns: c.max_runs,
    historyRuns: c.history_runs,
    slowFactor: c.slow_factor,
    minHistory: c.min_history,
    slowMinExcessMs: parseDuration(c.slow_min_excess),
    maxMetricsPerRun: c.max_metrics_per_run,
    maxPointsPerMetric: c.max_points_per_metric,
    maxOrphanSpans: c.max_orphan_spans,
  };
}
