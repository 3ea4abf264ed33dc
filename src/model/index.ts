import { Logs, cloneLogs, countLogRecords } from './logs';
import { Metrics, cloneMetrics, countDataPoints } from './metrics';
import { Traces, cloneTraces, countSpans } from './traces';

export * from './common';
export * from './traces';
export * from './metrics';
export * from './logs';

export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** The data type that flows through a pipeline of each signal. */
export interface SignalData {
  traces: Traces;
  metrics: Metrics;
  logs: Logs;
}
export type AnySignalData = Traces | Metrics | Logs;

/** Items as the Collector counts them: spans, metric data points, log records. */
export function countItems(signal: Signal, data: AnySignalData): number {
  switch (signal) {
    case 'traces': return countSpans(data as Traces);
    case 'metrics': return countDataPoints(data as Metrics);
    case 'logs': return countLogRecords(data as Logs);
  }
}

export function cloneData<S extends Signal>(signal: S, data: SignalData[S]): SignalData[S] {
  switch (signal) {
    case 'traces': return cloneTraces(data as Traces) as SignalData[S];
    case 'metrics': return cloneMetrics(data as Metrics) as SignalData[S];
    default: return cloneLogs(data as Logs) as SignalData[S];
  }
}

export function emptyData<S extends Signal>(signal: S): SignalData[S] {
  switch (signal) {
    case 'traces': return { resourceSpans: [] } as unknown as SignalData[S];
    case 'metrics': return { resourceMetrics: [] } as unknown as SignalData[S];
    default: return { resourceLogs: [] } as unknown as SignalData[S];
  }
}
