/**
 * The HTTP side of the `otlphttp` exporter: one POST per request over kept-alive connections, and
 * the reading of the answer as the OTLP/HTTP specification lays it out. Unlike the webhook client,
 * it keeps the whole (bounded) answer body, since a partial success or a google.rpc.Status has to
 * be decoded from it.
 */
import http from 'node:http';
import https from 'node:https';
import { PermanentError, RetryableError } from '../../src/errors';
import type { Signal } from '../../src/model';
import { DecodedStatus, ExportResponse, REJECTED_FIELD, decodeExportResponse, decodeStatus } from '../../src/otlp';
import { TlsConfig, parseRetryAfter } from '../webhook/http';
import { NodeClientTlsOptions, clientTlsOptions } from '../../src/tls/client';

/** Answers are a few bytes normally; a larger one is cut here rather than held in memory. */
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_MESSAGE = 256;

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
}

export class OtlpHttpClient {
  private httpAgent?: http.Agent;
  private httpsAgent?: https.Agent;

  private readonly tlsOptions: NodeClientTlsOptions;

  /** Certificate files are read and checked here, so a bad one fails the start, not the first send. */
  constructor(tls: TlsConfig = {}) {
    this.tlsOptions = clientTlsOptions(tls);
  }

  private agentFor(url: URL): http.Agent {
    if (url.protocol === 'https:') {
      this.httpsAgent ??= new https.Agent({
        keepAlive: true,
        maxSockets: 32,
        ...this.tlsOptions,
      });
      return this.httpsAgent;
    }
    this.httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: 32 });
    return this.httpAgent;
  }

  /** Network failures and aborts reject with a RetryableError; every HTTP answer resolves. */
  post(url: URL, body: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<Answer> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, {
        method: 'POST',
        agent: this.agentFor(url),
        headers: { ...headers, 'Content-Length': String(body.length) },
        signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        res.on('data', (c: Buffer) => {
          if (kept + c.length <= MAX_ANSWER_BYTES) { chunks.push(c); kept += c.length; } else truncated = true;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated }));
        res.on('error', (e) => reject(new RetryableError(`reading the answer of ${targetOf(url)} failed: ${e.message}`)));
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(new RetryableError(`POST ${targetOf(url)} failed: ${e.code ?? e.message}`)));
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
  }
}

/** Where messages say data went: scheme, host and path; never credentials or a query string. */
export function targetOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function isJson(headers: http.IncomingHttpHeaders): boolean {
  return /^application\/json\b/i.test(headers['content-type'] ?? '');
}

function isProtobuf(headers: http.IncomingHttpHeaders): boolean {
  return /^application\/(x-)?protobuf\b/i.test(headers['content-type'] ?? '');
}

/** The ExportServiceResponse of a 2xx answer, in whichever encoding the server chose. */
export function readExportResponse(signal: Signal, a: Answer): ExportResponse {
  if (a.body.length === 0 || a.truncated) return {};
  if (isJson(a.headers)) {
    const v = JSON.parse(a.body.toString('utf8')) as { partialSuccess?: Record<string, unknown>; partial_success?: Record<string, unknown> };
    const ps = v?.partialSuccess ?? v?.partial_success;
    if (!ps || typeof ps !== 'object') return {};
    const snake = REJECTED_FIELD[signal].replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const rejected = Number(ps[REJECTED_FIELD[signal]] ?? ps[snake] ?? 0);
    const message = ps.errorMessage ?? ps.error_message;
    return { partialSuccess: { rejected: Number.isFinite(rejected) ? rejected : 0, errorMessage: typeof message === 'string' ? message : '' } };
  }
  return decodeExportResponse(signal, a.body);
}

/** A google.rpc.Status in an error answer, when the server sent one we can read. */
export function readStatus(a: Answer): DecodedStatus | undefined {
  if (a.body.length === 0 || a.truncated) return undefined;
  try {
    if (isProtobuf(a.headers)) return decodeStatus(a.body);
    if (isJson(a.headers)) {
      const v = JSON.parse(a.body.toString('utf8')) as { code?: unknown; message?: unknown };
      if (v && typeof v === 'object' && (typeof v.message === 'string' || typeof v.code === 'number')) {
        return { code: Number(v.code) || 0, message: typeof v.message === 'string' ? v.message : '' };
      }
    }
  } catch {
    // an unreadable error body still leaves the status code to go by
  }
  return undefined;
}

/** Statuses the OTLP specification says to retry; every other failure is permanent. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Turns a non-2xx answer into the error the exporterhelper acts on. */
export function answerError(a: Answer, target: string): Error {
  const st = readStatus(a);
  let detail = st?.message ?? '';
  if (!st && /^text\//i.test(a.headers['content-type'] ?? '')) detail = a.body.toString('utf8').replace(/\s+/g, ' ').trim();
  if (detail.length > MAX_MESSAGE) detail = `${detail.slice(0, MAX_MESSAGE)}…`;
  const msg = `${target} answered ${a.status}${detail ? `: ${detail}` : ''}`;
  if (RETRYABLE.has(a.status)) {
    const after = parseRetryAfter(a.headers['retry-after']) ?? st?.retryDelayMs;
    return new RetryableError(msg, after, a.status === 429);
  }
  return new PermanentError(msg);
}
