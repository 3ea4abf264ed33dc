/** Traces → ExportTraceServiceRequest bytes. */
import { Span, Traces } from '../model';
import { LEN, writeAttributes, writeEnum, writeFixed32, writeFixed64, writeId, writeResource, writeScope, writeString, writeUint32 } from './encode-common';
import { Writer } from './writer';

export function encodeTraces(t: Traces): Uint8Array {
  const w = new Writer();
  for (const rs of t.resourceSpans) {
    w.tag(1, LEN);
    const rsAt = w.fork();
    writeResource(w, 1, rs.resource);
    for (const ss of rs.scopeSpans) {
      w.tag(2, LEN);
      const ssAt = w.fork();
      writeScope(w, 1, ss.scope);
      for (const span of ss.spans) writeSpan(w, span);
      writeString(w, 3, ss.schemaUrl);
      w.ldelim(ssAt);
    }
    writeString(w, 3, rs.schemaUrl);
    w.ldelim(rsAt);
  }
  return w.finish();
}

function writeSpan(w: Writer, s: Span): void {
  w.tag(2, LEN);
  const at = w.fork();
  writeId(w, 1, s.traceId, 16, 'trace id');
  writeId(w, 2, s.spanId, 8, 'span id');
  writeString(w, 3, s.traceState);
  writeId(w, 4, s.parentSpanId, 8, 'parent span id');
  writeString(w, 5, s.name);
  writeEnum(w, 6, s.kind);
  writeFixed64(w, 7, s.startTimeUnixNano);
  writeFixed64(w, 8, s.endTimeUnixNano);
  writeAttributes(w, 9, s.attributes);
  writeUint32(w, 10, s.droppedAttributesCount);
  for (const ev of s.events) {
    w.tag(11, LEN);
    const evAt = w.fork();
    writeFixed64(w, 1, ev.timeUnixNano);
    writeString(w, 2, ev.name);
    writeAttributes(w, 3, ev.attributes);
    writeUint32(w, 4, ev.droppedAttributesCount);
    w.ldelim(evAt);
  }
  writeUint32(w, 12, s.droppedEventsCount);
  for (const link of s.links) {
    w.tag(13, LEN);
    const linkAt = w.fork();
    writeId(w, 1, link.traceId, 16, 'link trace id');
    writeId(w, 2, link.spanId, 8, 'link span id');
    writeString(w, 3, link.traceState);
    writeAttributes(w, 4, link.attributes);
    writeUint32(w, 5, link.droppedAttributesCount);
    writeFixed32(w, 6, link.flags);
    w.ldelim(linkAt);
  }
  writeUint32(w, 14, s.droppedLinksCount);
  if (s.status.code || s.status.message) {
    w.tag(15, LEN);
    const stAt = w.fork();
    writeString(w, 2, s.status.message);
    writeEnum(w, 3, s.status.code);
    w.ldelim(stAt);
  }
  writeFixed32(w, 16, s.flags);
  w.ldelim(at);
}
