export interface Phase { name: string; ms: number; type?: string; steps?: number }
export interface RunOptions {
  /** OTLP/HTTP base URL (default OTEL_EXPORTER_OTLP_ENDPOINT or http://127.0.0.1:4318). */
  endpoint?: string;
  pipeline?: string;
  runId?: string;
  serviceName?: string;
  phases?: Phase[];
  /** Multiplies every phase duration. */
  scale?: number;
  failAt?: string;
  errorType?: string;
  /** Stop sending after this phase's steps, without ending its span or the run. */
  stallAt?: string;
  /** Attribute names, to mimic a pipeline instrumented with its own names. */
  attributes?: Partial<{ pipelineName: string; runId: string; result: string; phaseName: string }>;
  metricIntervalMs?: number;
  /** Awaited before each phase starts (tests pause or restart the collector here). */
  beforePhase?: (name: string, index: number) => unknown | Promise<unknown>;
}
export interface RunOutcome { runId: string; traceId: string; pipeline: string; result: string; errorType?: string }
export declare const DEFAULT_PHASES: Phase[];
export declare function runPipeline(options?: RunOptions): Promise<RunOutcome>;
