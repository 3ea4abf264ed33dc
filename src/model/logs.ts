import {
  AnyValue, Attributes, InstrumentationScope, Nanos, Resource, SpanId, TraceId,
  cloneAnyValue, cloneAttributes, cloneResource, cloneScope,
} from './common';

/** OTLP SeverityNumber ranges: each name covers four numbers (TRACE=1..4, DEBUG=5..8, ...). */
export const Severity = { UNSPECIFIED: 0, TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 } as const;

export interface LogRecord {
  timeUnixNano: Nanos;
  observedTimeUnixNano: Nanos;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
  traceId: TraceId;
  spanId: SpanId;
  eventName: string;
}

export interface ScopeLogs {
  scope: InstrumentationScope;
  schemaUrl: string;
  logRecords: LogRecord[];
}

export interface ResourceLogs {
  resource: Resource;
  schemaUrl: string;
  scopeLogs: ScopeLogs[];
}

export interface Logs {
  resourceLogs: ResourceLogs[];
}

export function countLogRecords(l: Logs): number {
  let n = 0;
  for (const rl of l.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

export function cloneLogRecord(r: LogRecord): LogRecord {
  return { ...r, body: cloneAnyValue(r.body), attributes: cloneAttributes(r.attributes) };
}

export function cloneLogs(l: Logs): Logs {
  return {
    resourceLogs: l.resourceLogs.map((rl) => ({
      resource: cloneResource(rl.resource),
      schemaUrl: rl.schemaUrl,
      scopeLogs: rl.scopeLogs.map((sl) => ({ scope: cloneScope(sl.scope), schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.map(cloneLogRecord) })),
    })),
  };
}
