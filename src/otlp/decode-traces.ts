/** ExportTraceServiceRequest (or TracesData) bytes → Traces, straight from the buffer. */
import type { ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, Traces } from '../model';
import { emptyResource, emptyScope } from '../model/common';
import { rethrowWithin } from './errors';
import { decodeResource, decodeScope, nested, readAttribute } from './decode-common';
import { Reader } from './reader';
import { chargeItem } from './limits';

const REQ_RESOURCE_SPANS = (1 << 3) | 2;
const REQ_FIELDS = [undefined, 'resourceSpans'];

const RS_RESOURCE = (1 << 3) | 2;
const RS_SCOPE_SPANS = (2 << 3) | 2;
const RS_SCHEMA_URL = (3 << 3) | 2;
const RS_FIELDS = [undefined, 'resource', 'scopeSpans', 'schemaUrl'];

const SS_SCOPE = (1 << 3) | 2;
const SS_SPANS = (2 << 3) | 2;
const SS_SCHEMA_URL = (3 << 3) | 2;
const SS_FIELDS = [undefined, 'scope', 'spans', 'schemaUrl'];

const SPAN_TRACE_ID = (1 << 3) | 2;
const SPAN_SPAN_ID = (2 << 3) | 2;
const SPAN_TRACE_STATE = (3 << 3) | 2;
const SPAN_PARENT = (4 << 3) | 2;
const SPAN_NAME = (5 << 3) | 2;
const SPAN_KIND = (6 << 3) | 0;
const SPAN_START = (7 << 3) | 1;
const SPAN_END = (8 << 3) | 1;
const SPAN_ATTR = (9 << 3) | 2;
const SPAN_DROPPED_ATTRS = (10 << 3) | 0;
const SPAN_EVENTS = (11 << 3) | 2;
const SPAN_DROPPED_EVENTS = (12 << 3) | 0;
const SPAN_LINKS = (13 << 3) | 2;
const SPAN_DROPPED_LINKS = (14 << 3) | 0;
const SPAN_STATUS = (15 << 3) | 2;
const SPAN_FLAGS = (16 << 3) | 5;
const SPAN_FIELDS = [undefined, 'traceId', 'spanId', 'traceState', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano',
  'endTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount', 'links', 'droppedLinksCount',
  'status', 'flags'];

const EV_TIME = (1 << 3) | 1;
const EV_NAME = (2 << 3) | 2;
const EV_ATTR = (3 << 3) | 2;
const EV_DROPPED = (4 << 3) | 0;
const EV_FIELDS = [undefined, 'timeUnixNano', 'name', 'attributes', 'droppedAttributesCount'];

const LINK_TRACE_ID = (1 << 3) | 2;
const LINK_SPAN_ID = (2 << 3) | 2;
const LINK_TRACE_STATE = (3 << 3) | 2;
const LINK_ATTR = (4 << 3) | 2;
const LINK_DROPPED = (5 << 3) | 0;
const LINK_FLAGS = (6 << 3) | 5;
const LINK_FIELDS = [undefined, 'traceId', 'spanId', 'traceState', 'attributes', 'droppedAttributesCount', 'flags'];

const STATUS_MESSAGE = (2 << 3) | 2;
const STATUS_CODE = (3 << 3) | 0;
const STATUS_FIELDS = [undefined, undefined, 'message', 'code'];

export function decodeTraces(buf: Uint8Array): Traces {
  const r = new Reader(buf);
  const end = r.buf.length;
  const resourceSpans: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === REQ_RESOURCE_SPANS) {
      const e = r.lengthEnd(end);
      try { resourceSpans.push(decodeResourceSpans(r, e)); } catch (err) { rethrowWithin(err, `resourceSpans[${resourceSpans.length}]`); }
    } else {
      r.skip(tag, end, REQ_FIELDS);
    }
  }
  r.finish(end);
  return { resourceSpans };
}

function decodeResourceSpans(r: Reader, end: number): ResourceSpans {
  chargeItem();
  const rs: ResourceSpans = { resource: emptyResource(), schemaUrl: '', scopeSpans: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case RS_RESOURCE: {
        const e = r.lengthEnd(end);
        try { decodeResource(r, e, rs.resource); } catch (err) { rethrowWithin(err, 'resource'); }
        break;
      }
      case RS_SCOPE_SPANS: {
        const e = r.lengthEnd(end);
        try { rs.scopeSpans.push(decodeScopeSpans(r, e)); } catch (err) { rethrowWithin(err, `scopeSpans[${rs.scopeSpans.length}]`); }
        break;
      }
      case RS_SCHEMA_URL: rs.schemaUrl = r.string(end); break;
      default: r.skip(tag, end, RS_FIELDS);
    }
  }
  r.finish(end);
  return rs;
}

function decodeScopeSpans(r: Reader, end: number): ScopeSpans {
  chargeItem();
  const ss: ScopeSpans = { scope: emptyScope(), schemaUrl: '', spans: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case SS_SCOPE: {
        const e = r.lengthEnd(end);
        try { decodeScope(r, e, ss.scope); } catch (err) { rethrowWithin(err, 'scope'); }
        break;
      }
      case SS_SPANS: {
        const e = r.lengthEnd(end);
        try { ss.spans.push(decodeSpan(r, e)); } catch (err) { rethrowWithin(err, `spans[${ss.spans.length}]`); }
        break;
      }
      case SS_SCHEMA_URL: ss.schemaUrl = r.string(end); break;
      default: r.skip(tag, end, SS_FIELDS);
    }
  }
  r.finish(end);
  return ss;
}

function decodeSpan(r: Reader, end: number): Span {
  chargeItem();
  // All fields present from the start, in one order, so every span shares one hidden class.
  const span: Span = {
    traceId: '', spanId: '', traceState: '', parentSpanId: '', flags: 0, name: '', kind: 0,
    startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: {}, droppedAttributesCount: 0,
    events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' },
  };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case SPAN_TRACE_ID: span.traceId = r.id(end, 16, 'traceId'); break;
      case SPAN_SPAN_ID: span.spanId = r.id(end, 8, 'spanId'); break;
      case SPAN_TRACE_STATE: span.traceState = r.string(end); break;
      case SPAN_PARENT: span.parentSpanId = r.id(end, 8, 'parentSpanId'); break;
      case SPAN_NAME: span.name = r.string(end); break;
      case SPAN_KIND: span.kind = r.varint32() | 0; break;
      case SPAN_START: span.startTimeUnixNano = r.fixed64(); break;
      case SPAN_END: span.endTimeUnixNano = r.fixed64(); break;
      case SPAN_ATTR: span.droppedAttributesCount += readAttribute(r, end, span.attributes, 'attributes', nAttrs++); break;
      case SPAN_DROPPED_ATTRS: span.droppedAttributesCount += r.varint32(); break;
      case SPAN_EVENTS: span.events.push(nested(r, end, 'events', span.events.length, decodeEvent)); break;
      case SPAN_DROPPED_EVENTS: span.droppedEventsCount = r.varint32(); break;
      case SPAN_LINKS: span.links.push(nested(r, end, 'links', span.links.length, decodeLink)); break;
      case SPAN_DROPPED_LINKS: span.droppedLinksCount = r.varint32(); break;
      case SPAN_STATUS: {
        const e = r.lengthEnd(end);
        try { decodeStatus(r, e, span.status); } catch (err) { rethrowWithin(err, 'status'); }
        break;
      }
      case SPAN_FLAGS: span.flags = r.fixed32(); break;
      default: r.skip(tag, end, SPAN_FIELDS);
    }
  }
  r.finish(end);
  return span;
}

function decodeEvent(r: Reader, end: number): SpanEvent {
  chargeItem();
  const ev: SpanEvent = { timeUnixNano: 0n, name: '', attributes: {}, droppedAttributesCount: 0 };
  let n = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case EV_TIME: ev.timeUnixNano = r.fixed64(); break;
      case EV_NAME: ev.name = r.string(end); break;
      case EV_ATTR: ev.droppedAttributesCount += readAttribute(r, end, ev.attributes, 'attributes', n++); break;
      case EV_DROPPED: ev.droppedAttributesCount += r.varint32(); break;
      default: r.skip(tag, end, EV_FIELDS);
    }
  }
  r.finish(end);
  return ev;
}

function decodeLink(r: Reader, end: number): SpanLink {
  chargeItem();
  const link: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: {}, droppedAttributesCount: 0, flags: 0 };
  let n = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case LINK_TRACE_ID: link.traceId = r.id(end, 16, 'traceId'); break;
      case LINK_SPAN_ID: link.spanId = r.id(end, 8, 'spanId'); break;
      case LINK_TRACE_STATE: link.traceState = r.string(end); break;
      case LINK_ATTR: link.droppedAttributesCount += readAttribute(r, end, link.attributes, 'attributes', n++); break;
      case LINK_DROPPED: link.droppedAttributesCount += r.varint32(); break;
      case LINK_FLAGS: link.flags = r.fixed32(); break;
      default: r.skip(tag, end, LINK_FIELDS);
    }
  }
  r.finish(end);
  return link;
}

function decodeStatus(r: Reader, end: number, into: { code: number; message: string }): void {
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === STATUS_MESSAGE) into.message = r.string(end);
    else if (tag === STATUS_CODE) into.code = r.varint32() | 0;
    else r.skip(tag, end, STATUS_FIELDS);
  }
  r.finish(end);
}
