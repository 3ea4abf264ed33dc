/** OTLP/JSON ↔ Traces. */
import { Span, Traces } from '../model';
import {
  JsonObject, asObject, attributesFromJson, attributesToJson, enumField, idField, intField, mapArray, nanosField,
  objectField, put, resourceFromJson, resourceToJson, scopeFromJson, scopeToJson, stringField, withinField,
} from './json-common';

const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODE_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

export function tracesFromJson(json: unknown): Traces {
  const root = asObject(json, '');
  return {
    resourceSpans: mapArray(root, 'resourceSpans', (rs) => ({
      resource: resourceFromJson(rs),
      schemaUrl: stringField(rs, 'schemaUrl'),
      scopeSpans: mapArray(rs, 'scopeSpans', (ss) => ({
        scope: scopeFromJson(ss),
        schemaUrl: stringField(ss, 'schemaUrl'),
        spans: mapArray(ss, 'spans', spanFromJson),
      })),
    })),
  };
}

function spanFromJson(o: JsonObject): Span {
  const st = objectField(o, 'status');
  return {
    traceId: idField(o, 'traceId', 16),
    spanId: idField(o, 'spanId', 8),
    traceState: stringField(o, 'traceState'),
    parentSpanId: idField(o, 'parentSpanId', 8),
    flags: intField(o, 'flags'),
    name: stringField(o, 'name'),
    kind: enumField(o, 'kind', SPAN_KIND_NAMES),
    startTimeUnixNano: nanosField(o, 'startTimeUnixNano'),
    endTimeUnixNano: nanosField(o, 'endTimeUnixNano'),
    attributes: attributesFromJson(o, 'attributes'),
    droppedAttributesCount: intField(o, 'droppedAttributesCount'),
    events: mapArray(o, 'events', (e) => ({
      timeUnixNano: nanosField(e, 'timeUnixNano'),
      name: stringField(e, 'name'),
      attributes: attributesFromJson(e, 'attributes'),
      droppedAttributesCount: intField(e, 'droppedAttributesCount'),
    })),
    droppedEventsCount: intField(o, 'droppedEventsCount'),
    links: mapArray(o, 'links', (l) => ({
      traceId: idField(l, 'traceId', 16),
      spanId: idField(l, 'spanId', 8),
      traceState: stringField(l, 'traceState'),
      attributes: attributesFromJson(l, 'attributes'),
      droppedAttributesCount: intField(l, 'droppedAttributesCount'),
      flags: intField(l, 'flags'),
    })),
    droppedLinksCount: intField(o, 'droppedLinksCount'),
    status: st
      ? withinField('status', () => ({ code: enumField(st, 'code', STATUS_CODE_NAMES), message: stringField(st, 'message') }))
      : { code: 0, message: '' },
  };
}

export function tracesToJson(t: Traces): JsonObject {
  return {
    resourceSpans: t.resourceSpans.map((rs) => {
      const o: JsonObject = { resource: resourceToJson(rs.resource) };
      o.scopeSpans = rs.scopeSpans.map((ss) => {
        const so: JsonObject = { scope: scopeToJson(ss.scope), spans: ss.spans.map(spanToJson) };
        put(so, 'schemaUrl', ss.schemaUrl);
        return so;
      });
      put(o, 'schemaUrl', rs.schemaUrl);
      return o;
    }),
  };
}

function spanToJson(s: Span): JsonObject {
  const o: JsonObject = {};
  put(o, 'traceId', s.traceId);
  put(o, 'spanId', s.spanId);
  put(o, 'traceState', s.traceState);
  put(o, 'parentSpanId', s.parentSpanId);
  put(o, 'flags', s.flags);
  put(o, 'name', s.name);
  put(o, 'kind', s.kind);
  put(o, 'startTimeUnixNano', s.startTimeUnixNano);
  put(o, 'endTimeUnixNano', s.endTimeUnixNano);
  put(o, 'attributes', attributesToJson(s.attributes));
  put(o, 'droppedAttributesCount', s.droppedAttributesCount);
  put(o, 'events', s.events.map((e) => {
    const eo: JsonObject = {};
    put(eo, 'timeUnixNano', e.timeUnixNano);
    put(eo, 'name', e.name);
    put(eo, 'attributes', attributesToJson(e.attributes));
    put(eo, 'droppedAttributesCount', e.droppedAttributesCount);
    return eo;
  }));
  put(o, 'droppedEventsCount', s.droppedEventsCount);
  put(o, 'links', s.links.map((l) => {
    const lo: JsonObject = {};
    put(lo, 'traceId', l.traceId);
    put(lo, 'spanId', l.spanId);
    put(lo, 'traceState', l.traceState);
    put(lo, 'attributes', attributesToJson(l.attributes));
    put(lo, 'droppedAttributesCount', l.droppedAttributesCount);
    put(lo, 'flags', l.flags);
    return lo;
  }));
  put(o, 'droppedLinksCount', s.droppedLinksCount);
  const status: JsonObject = {};
  put(status, 'message', s.status.message);
  put(status, 'code', s.status.code);
  // The Collector always writes the status object, empty when unset.
  o.status = status;
  return o;
}
