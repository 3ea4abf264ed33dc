/** ExportLogsServiceRequest (or LogsData) bytes → Logs, straight from the buffer. */
import type { LogRecord, Logs, ResourceLogs, ScopeLogs } from '../model';
import { AnyValue, emptyResource, emptyScope } from '../model/common';
import { rethrowWithin } from './errors';
import { decodeAnyValue, decodeResource, decodeScope, readAttribute } from './decode-common';
import { chargeItem } from './limits';
import { Reader } from './reader';

const REQ_RESOURCE_LOGS = (1 << 3) | 2;
const REQ_FIELDS = [undefined, 'resourceLogs'];

const RL_RESOURCE = (1 << 3) | 2;
const RL_SCOPE_LOGS = (2 << 3) | 2;
const RL_SCHEMA_URL = (3 << 3) | 2;
const RL_FIELDS = [undefined, 'resource', 'scopeLogs', 'schemaUrl'];

const SL_SCOPE = (1 << 3) | 2;
const SL_RECORDS = (2 << 3) | 2;
const SL_SCHEMA_URL = (3 << 3) | 2;
const SL_FIELDS = [undefined, 'scope', 'logRecords', 'schemaUrl'];

const LR_TIME = (1 << 3) | 1;
const LR_SEVERITY_NUMBER = (2 << 3) | 0;
const LR_SEVERITY_TEXT = (3 << 3) | 2;
const LR_BODY = (5 << 3) | 2;
const LR_ATTR = (6 << 3) | 2;
const LR_DROPPED = (7 << 3) | 0;
const LR_FLAGS = (8 << 3) | 5;
const LR_TRACE_ID = (9 << 3) | 2;
const LR_SPAN_ID = (10 << 3) | 2;
const LR_OBSERVED = (11 << 3) | 1;
const LR_EVENT_NAME = (12 << 3) | 2;
const LR_FIELDS = [undefined, 'timeUnixNano', 'severityNumber', 'severityText', undefined, 'body', 'attributes',
  'droppedAttributesCount', 'flags', 'traceId', 'spanId', 'observedTimeUnixNano', 'eventName'];

export function decodeLogs(buf: Uint8Array): Logs {
  const r = new Reader(buf);
  const end = r.buf.length;
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === REQ_RESOURCE_LOGS) {
      const e = r.lengthEnd(end);
      try { resourceLogs.push(decodeResourceLogs(r, e)); } catch (err) { rethrowWithin(err, `resourceLogs[${resourceLogs.length}]`); }
    } else {
      r.skip(tag, end, REQ_FIELDS);
    }
  }
  r.finish(end);
  return { resourceLogs };
}

function decodeResourceLogs(r: Reader, end: number): ResourceLogs {
  chargeItem();
  const rl: ResourceLogs = { resource: emptyResource(), schemaUrl: '', scopeLogs: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case RL_RESOURCE: {
        const e = r.lengthEnd(end);
        try { decodeResource(r, e, rl.resource); } catch (err) { rethrowWithin(err, 'resource'); }
        break;
      }
      case RL_SCOPE_LOGS: {
        const e = r.lengthEnd(end);
        try { rl.scopeLogs.push(decodeScopeLogs(r, e)); } catch (err) { rethrowWithin(err, `scopeLogs[${rl.scopeLogs.length}]`); }
        break;
      }
      case RL_SCHEMA_URL: rl.schemaUrl = r.string(end); break;
      default: r.skip(tag, end, RL_FIELDS);
    }
  }
  r.finish(end);
  return rl;
}

function decodeScopeLogs(r: Reader, end: number): ScopeLogs {
  chargeItem();
  const sl: ScopeLogs = { scope: emptyScope(), schemaUrl: '', logRecords: [] };
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case SL_SCOPE: {
        const e = r.lengthEnd(end);
        try { decodeScope(r, e, sl.scope); } catch (err) { rethrowWithin(err, 'scope'); }
        break;
      }
      case SL_RECORDS: {
        const e = r.lengthEnd(end);
        try { sl.logRecords.push(decodeLogRecord(r, e)); } catch (err) { rethrowWithin(err, `logRecords[${sl.logRecords.length}]`); }
        break;
      }
      case SL_SCHEMA_URL: sl.schemaUrl = r.string(end); break;
      default: r.skip(tag, end, SL_FIELDS);
    }
  }
  r.finish(end);
  return sl;
}

function decodeLogRecord(r: Reader, end: number): LogRecord {
  chargeItem();
  const rec: LogRecord = {
    timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', body: null,
    attributes: {}, droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '',
  };
  let nAttrs = 0;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case LR_TIME: rec.timeUnixNano = r.fixed64(); break;
      case LR_OBSERVED: rec.observedTimeUnixNano = r.fixed64(); break;
      case LR_SEVERITY_NUMBER: rec.severityNumber = r.varint32() | 0; break;
      case LR_SEVERITY_TEXT: rec.severityText = r.string(end); break;
      case LR_BODY: {
        const e = r.lengthEnd(end);
        let body: AnyValue = null;
        try { body = decodeAnyValue(r, e, 0); } catch (err) { rethrowWithin(err, 'body'); }
        rec.body = body;
        break;
      }
      case LR_ATTR: rec.droppedAttributesCount += readAttribute(r, end, rec.attributes, 'attributes', nAttrs++); break;
      case LR_DROPPED: rec.droppedAttributesCount += r.varint32(); break;
      case LR_FLAGS: rec.flags = r.fixed32(); break;
      case LR_TRACE_ID: rec.traceId = r.id(end, 16, 'traceId'); break;
      case LR_SPAN_ID: rec.spanId = r.id(end, 8, 'spanId'); break;
      case LR_EVENT_NAME: rec.eventName = r.string(end); break;
      default: r.skip(tag, end, LR_FIELDS);
    }
  }
  r.finish(end);
  return rec;
}
