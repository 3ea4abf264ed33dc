/** OTLP/JSON ↔ Logs. */
import { LogRecord, Logs } from '../model';
import {
  JsonObject, anyValueFromJson, anyValueToJson, asObject, attributesFromJson, attributesToJson, enumField, get, idField,
  intField, mapArray, nanosField, put, resourceFromJson, resourceToJson, scopeFromJson, scopeToJson, stringField, withinField,
} from './json-common';

const SEVERITY_NAMES: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].forEach((level, i) => {
  SEVERITY_NAMES[`SEVERITY_NUMBER_${level}`] = i * 4 + 1;
  for (let k = 2; k <= 4; k++) SEVERITY_NAMES[`SEVERITY_NUMBER_${level}${k}`] = i * 4 + k;
});

export function logsFromJson(json: unknown): Logs {
  const root = asObject(json, '');
  return {
    resourceLogs: mapArray(root, 'resourceLogs', (rl) => ({
      resource: resourceFromJson(rl),
      schemaUrl: stringField(rl, 'schemaUrl'),
      scopeLogs: mapArray(rl, 'scopeLogs', (sl) => ({
        scope: scopeFromJson(sl),
        schemaUrl: stringField(sl, 'schemaUrl'),
        logRecords: mapArray(sl, 'logRecords', logRecordFromJson),
      })),
    })),
  };
}

function logRecordFromJson(o: JsonObject): LogRecord {
  return {
    timeUnixNano: nanosField(o, 'timeUnixNano'),
    observedTimeUnixNano: nanosField(o, 'observedTimeUnixNano'),
    severityNumber: enumField(o, 'severityNumber', SEVERITY_NAMES),
    severityText: stringField(o, 'severityText'),
    body: withinField('body', () => anyValueFromJson(get(o, 'body'))),
    attributes: attributesFromJson(o, 'attributes'),
    droppedAttributesCount: intField(o, 'droppedAttributesCount'),
    flags: intField(o, 'flags'),
    traceId: idField(o, 'traceId', 16),
    spanId: idField(o, 'spanId', 8),
    eventName: stringField(o, 'eventName'),
  };
}

export function logsToJson(l: Logs): JsonObject {
  return {
    resourceLogs: l.resourceLogs.map((rl) => {
      const o: JsonObject = { resource: resourceToJson(rl.resource) };
      o.scopeLogs = rl.scopeLogs.map((sl) => {
        const so: JsonObject = { scope: scopeToJson(sl.scope), logRecords: sl.logRecords.map(logRecordToJson) };
        put(so, 'schemaUrl', sl.schemaUrl);
        return so;
      });
      put(o, 'schemaUrl', rl.schemaUrl);
      return o;
    }),
  };
}

function logRecordToJson(r: LogRecord): JsonObject {
  const o: JsonObject = {};
  put(o, 'timeUnixNano', r.timeUnixNano);
  put(o, 'observedTimeUnixNano', r.observedTimeUnixNano);
  put(o, 'severityNumber', r.severityNumber);
  put(o, 'severityText', r.severityText);
  if (r.body !== null && r.body !== undefined) o.body = anyValueToJson(r.body);
  put(o, 'attributes', attributesToJson(r.attributes));
  put(o, 'droppedAttributesCount', r.droppedAttributesCount);
  put(o, 'flags', r.flags);
  put(o, 'traceId', r.traceId);
  put(o, 'spanId', r.spanId);
  put(o, 'eventName', r.eventName);
  return o;
}
