import {
  Attributes, InstrumentationScope, Nanos, Resource, SpanId, TraceId,
  cloneAttributes, cloneResource, cloneScope,
} from './common';

/** OTLP Span.SpanKind values. */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP Status.StatusCode values. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface SpanEvent {
  timeUnixNano: Nanos;
  name: string;
  attributes: Attributes;
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: TraceId;
  spanId: SpanId;
  traceState: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
}

export interface SpanStatus {
  code: number;
  message: string;
}

export interface Span {
  traceId: TraceId;
  spanId: SpanId;
  traceState: string;
  parentSpanId: SpanId;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: Nanos;
  endTimeUnixNano: Nanos;
  attributes: Attributes;
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status: SpanStatus;
}

export interface ScopeSpans {
  scope: InstrumentationScope;
  schemaUrl: string;
  spans: Span[];
}

export interface ResourceSpans {
  resource: Resource;
  schemaUrl: string;
  scopeSpans: ScopeSpans[];
}

export interface Traces {
  resourceSpans: ResourceSpans[];
}

export function countSpans(t: Traces): number {
  let n = 0;
  for (const rs of t.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

export function cloneSpan(s: Span): Span {
  return {
    ...s,
    attributes: cloneAttributes(s.attributes),
    events: s.events.map((e) => ({ ...e, attributes: cloneAttributes(e.attributes) })),
    links: s.links.map((l) => ({ ...l, attributes: cloneAttributes(l.attributes) })),
    status: { ...s.status },
  };
}

export function cloneTraces(t: Traces): Traces {
  return {
    resourceSpans: t.resourceSpans.map((rs) => ({
      resource: cloneResource(rs.resource),
      schemaUrl: rs.schemaUrl,
      scopeSpans: rs.scopeSpans.map((ss) => ({ scope: cloneScope(ss.scope), schemaUrl: ss.schemaUrl, spans: ss.spans.map(cloneSpan) })),
    })),
  };
}
