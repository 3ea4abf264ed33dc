/** Export responses (with partial success) and google.rpc.Status, in protobuf and OTLP/JSON. */
import type { Signal } from '../model';
import { DecodeError, rethrowWithin } from './errors';
import { LEN, VARINT } from './encode-common';
import { Reader } from './reader';
import { Writer } from './writer';

export interface PartialSuccess {
  /** Items refused: spans, metric data points or log records, by signal. */
  rejected: number;
  errorMessage: string;
}

/** The response object a gRPC Export handler answers with (and what the client side decodes). */
export interface ExportResponse {
  partialSuccess?: PartialSuccess;
}

/** JSON name of the rejected-count field in each signal's ExportXPartialSuccess. */
export const REJECTED_FIELD: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * Export<Signal>ServiceResponse. Without `partial` it is empty (zero bytes), which is full success;
 * the signal only matters for JSON, the protobuf field numbers being the same for all three.
 */
export function encodeExportResponse(_signal: Signal, partial?: PartialSuccess): Uint8Array {
  const w = new Writer(64);
  if (partial && (partial.rejected || partial.errorMessage)) {
    w.tag(1, LEN);
    const at = w.fork();
    if (partial.rejected) { w.tag(1, VARINT); w.int64(Math.trunc(partial.rejected)); }
    if (partial.errorMessage) { w.tag(2, LEN); w.string(partial.errorMessage); }
    w.ldelim(at);
  }
  return w.finish();
}

/** OTLP/JSON of the same response: `{}` or `{ partialSuccess: { rejectedSpans: "3", errorMessage } }`. */
export function exportResponseJson(signal: Signal, partial?: PartialSuccess): Record<string, unknown> {
  if (!partial || (!partial.rejected && !partial.errorMessage)) return {};
  const ps: Record<string, unknown> = {};
  // int64 is a decimal string in proto3 JSON, as the Collector writes it.
  if (partial.rejected) ps[REJECTED_FIELD[signal]] = String(Math.trunc(partial.rejected));
  if (partial.errorMessage) ps.errorMessage = partial.errorMessage;
  return { partialSuccess: ps };
}

/** Parses an Export<Signal>ServiceResponse (what an OTLP exporter gets back). */
export function decodeExportResponse(_signal: Signal, buf: Uint8Array): ExportResponse {
  const r = new Reader(buf);
  const end = r.buf.length;
  const out: ExportResponse = {};
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === ((1 << 3) | LEN)) {
      const e = r.lengthEnd(end);
      const ps: PartialSuccess = out.partialSuccess ?? { rejected: 0, errorMessage: '' };
      try {
        while (r.pos < e) {
          const t = r.varint32();
          if (t === ((1 << 3) | VARINT)) ps.rejected = Number(r.int64());
          else if (t === ((2 << 3) | LEN)) ps.errorMessage = r.string(e);
          else r.skip(t, e, [undefined, 'rejected', 'errorMessage']);
        }
        r.finish(e);
      } catch (err) {
        rethrowWithin(err, 'partialSuccess');
      }
      out.partialSuccess = ps;
    } else {
      r.skip(tag, end, [undefined, 'partialSuccess']);
    }
  }
  r.finish(end);
  return out;
}

/**
 * google.rpc.Status, the body of OTLP/HTTP error responses (and gRPC's rich error details). With
 * `retryDelayMs`, a RetryInfo detail tells the client how long to wait before retrying.
 */
export function encodeStatus(code: number, message: string, retryDelayMs?: number): Uint8Array {
  const w = new Writer(128);
  if (code) { w.tag(1, VARINT); w.int32(code); }
  if (message) { w.tag(2, LEN); w.string(message); }
  if (retryDelayMs !== undefined && retryDelayMs >= 0 && Number.isFinite(retryDelayMs)) {
    w.tag(3, LEN);
    const any = w.fork();
    w.tag(1, LEN);
    w.string(RETRY_INFO_TYPE_URL);
    w.tag(2, LEN);
    const info = w.fork();
    w.tag(1, LEN);
    const duration = w.fork();
    const seconds = Math.floor(retryDelayMs / 1000);
    const nanos = Math.round((retryDelayMs - seconds * 1000) * 1e6);
    if (seconds) { w.tag(1, VARINT); w.int64(seconds); }
    if (nanos) { w.tag(2, VARINT); w.int32(nanos); }
    w.ldelim(duration);
    w.ldelim(info);
    w.ldelim(any);
  }
  return w.finish();
}

/** OTLP/JSON google.rpc.Status. */
export function statusJson(code: number, message: string, retryDelayMs?: number): Record<string, unknown> {
  const out: Record<string, unknown> = { code, message };
  if (retryDelayMs !== undefined && retryDelayMs >= 0 && Number.isFinite(retryDelayMs)) {
    // google.protobuf.Duration's JSON form is seconds with an "s" suffix.
    out.details = [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${+(retryDelayMs / 1000).toFixed(9)}s` }];
  }
  return out;
}

export interface DecodedStatus {
  code: number;
  message: string;
  /** From a RetryInfo detail, when the server sent one. */
  retryDelayMs?: number;
}

/** Parses a google.rpc.Status (an OTLP/HTTP error body), picking out RetryInfo. */
export function decodeStatus(buf: Uint8Array): DecodedStatus {
  const r = new Reader(buf);
  const end = r.buf.length;
  const out: DecodedStatus = { code: 0, message: '' };
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === ((1 << 3) | VARINT)) out.code = r.varint32() | 0;
    else if (tag === ((2 << 3) | LEN)) out.message = r.string(end);
    else if (tag === ((3 << 3) | LEN)) {
      const e = r.lengthEnd(end);
      let typeUrl = '';
      let value: Uint8Array | undefined;
      while (r.pos < e) {
        const t = r.varint32();
        if (t === ((1 << 3) | LEN)) typeUrl = r.string(e);
        else if (t === ((2 << 3) | LEN)) value = r.bytes(e);
        else r.skip(t, e, []);
      }
      r.finish(e);
      if (typeUrl === RETRY_INFO_TYPE_URL && value) out.retryDelayMs = decodeRetryInfo(value);
    } else r.skip(tag, end, []);
  }
  r.finish(end);
  return out;
}

function decodeRetryInfo(buf: Uint8Array): number {
  const r = new Reader(buf);
  let ms = 0;
  while (r.pos < r.buf.length) {
    const tag = r.varint32();
    if (tag !== ((1 << 3) | LEN)) { r.skip(tag, r.buf.length, []); continue; }
    const e = r.lengthEnd(r.buf.length);
    let seconds = 0;
    let nanos = 0;
    while (r.pos < e) {
      const t = r.varint32();
      if (t === ((1 << 3) | VARINT)) seconds = Number(r.int64());
      else if (t === ((2 << 3) | VARINT)) nanos = r.varint32() | 0;
      else r.skip(t, e, []);
    }
    r.finish(e);
    ms = seconds * 1000 + nanos / 1e6;
  }
  if (!Number.isFinite(ms) || ms < 0) throw new DecodeError('invalid retry delay', 'retryInfo');
  return ms;
}
