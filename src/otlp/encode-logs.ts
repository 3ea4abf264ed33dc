/** Logs → ExportLogsServiceRequest bytes. */
import { LogRecord, Logs } from '../model';
import { LEN, writeAnyValue, writeAttributes, writeEnum, writeFixed32, writeFixed64, writeId, writeResource, writeScope, writeString, writeUint32 } from './encode-common';
import { Writer } from './writer';

export function encodeLogs(l: Logs): Uint8Array {
  const w = new Writer();
  for (const rl of l.resourceLogs) {
    w.tag(1, LEN);
    const rlAt = w.fork();
    writeResource(w, 1, rl.resource);
    for (const sl of rl.scopeLogs) {
      w.tag(2, LEN);
      const slAt = w.fork();
      writeScope(w, 1, sl.scope);
      for (const rec of sl.logRecords) writeLogRecord(w, rec);
      writeString(w, 3, sl.schemaUrl);
      w.ldelim(slAt);
    }
    writeString(w, 3, rl.schemaUrl);
    w.ldelim(rlAt);
  }
  return w.finish();
}

function writeLogRecord(w: Writer, r: LogRecord): void {
  w.tag(2, LEN);
  const at = w.fork();
  writeFixed64(w, 1, r.timeUnixNano);
  writeEnum(w, 2, r.severityNumber);
  writeString(w, 3, r.severityText);
  if (r.body !== null && r.body !== undefined) {
    w.tag(5, LEN);
    const bodyAt = w.fork();
    writeAnyValue(w, r.body);
    w.ldelim(bodyAt);
  }
  writeAttributes(w, 6, r.attributes);
  writeUint32(w, 7, r.droppedAttributesCount);
  writeFixed32(w, 8, r.flags);
  writeId(w, 9, r.traceId, 16, 'trace id');
  writeId(w, 10, r.spanId, 8, 'span id');
  writeFixed64(w, 11, r.observedTimeUnixNano);
  writeString(w, 12, r.eventName);
  w.ldelim(at);
}
