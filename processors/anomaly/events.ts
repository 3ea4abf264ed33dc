/** Anomaly events: log records with event.name "anomaly", as alert rules consume them. */
import { ANOMALY_EXPECTED_MAX_ATTR, ANOMALY_EXPECTED_MIN_ATTR, ANOMALY_SCORE_ATTR, Attributes, Double, LogRecord, Nanos, Resource, Severity, cloneResource, setAttr } from '../../src/model';

export const EVENT_NAME = 'anomaly';
export const SCORE_ATTR = ANOMALY_SCORE_ATTR;
export const EXPECTED_MIN_ATTR = ANOMALY_EXPECTED_MIN_ATTR;
export const EXPECTED_MAX_ATTR = ANOMALY_EXPECTED_MAX_ATTR;
export const SCOPE_NAME = 'vigil/anomaly';

export interface AnomalyEvent {
  /** The series key (name and attributes). */
  series: string;
  /** "metric", "span.latency", "span.error_rate", "log.rate". */
  kind: string;
  /** Metric name, or "service/span" for spans, "service/severity" for logs. */
  name: string;
  value: number;
  expected: [number, number];
  score: number;
  timeUnixNano: Nanos;
  /** Identifying attributes copied onto the event (service.name, span.name, severity ...). */
  attributes: Attributes;
  resource: Resource;
}

const round = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v);

export function eventRecord(e: AnomalyEvent, now: Nanos): LogRecord {
  const attributes: Attributes = {};
  for (const k of Object.keys(e.attributes)) setAttr(attributes, k, e.attributes[k]);
  attributes['event.name'] = EVENT_NAME;
  attributes['anomaly.kind'] = e.kind;
  attributes['anomaly.name'] = e.name;
  attributes['anomaly.series'] = e.series;
  attributes['anomaly.value'] = new Double(e.value);
  attributes[EXPECTED_MIN_ATTR] = new Double(e.expected[0]);
  attributes[EXPECTED_MAX_ATTR] = new Double(e.expected[1]);
  attributes[SCORE_ATTR] = new Double(e.score);
  return {
    timeUnixNano: e.timeUnixNano || now,
    observedTimeUnixNano: now,
    severityNumber: Severity.WARN,
    severityText: 'WARN',
    body: `anomaly in ${e.kind} ${e.name}: value ${round(e.value)} outside the expected ${round(e.expected[0])}..${round(e.expected[1])} (score ${e.score.toFixed(3)})`,
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: EVENT_NAME,
  };
}

/** Groups events by resource into OTLP-shaped logs. */
export function eventsToLogs(events: AnomalyEvent[], now: Nanos): { resourceLogs: Array<{ resource: Resource; schemaUrl: string; scopeLogs: Array<{ scope: { name: string; version: string; attributes: Attributes; droppedAttributesCount: number }; schemaUrl: string; logRecords: LogRecord[] }> }> } {
  const byResource = new Map<Resource, LogRecord[]>();
  for (const e of events) {
    let list = byResource.get(e.resource);
    if (!list) byResource.set(e.resource, (list = []));
    list.push(eventRecord(e, now));
  }
  return {
    resourceLogs: [...byResource].map(([resource, logRecords]) => ({
      resource: cloneResource(resource),
      schemaUrl: '',
      scopeLogs: [{ scope: { name: SCOPE_NAME, version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
    })),
  };
}
