/**
 * `otlphttp` exporter: forwards traces, metrics and logs to another collector (or any OTLP
 * backend) over OTLP/HTTP, in protobuf or JSON, gzip-compressed by default, as the OpenTelemetry
 * Collector's exporter of the same name does.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { PermanentError } from '../../src/errors';
import { ExporterHelperConfig, createExporter, exporterHelperProperties } from '../../src/exporterhelper';
import type { Signal } from '../../src/model';
import { HTTP_PATHS, encode, toJson } from '../../src/otlp';
import { TlsConfig, tlsSchema } from '../webhook/http';
import { OtlpHttpClient, answerError, readExportResponse, targetOf } from './client';
import { rejectedCounters, reportPartialSuccess } from './partial';
import { tlsClientProblems } from '../../src/tls/config';

const gzipAsync = promisify(gzip);

export interface OtlpHttpConfig extends ExporterHelperConfig {
  endpoint?: string;
  traces_endpoint?: string;
  metrics_endpoint?: string;
  logs_endpoint?: string;
  encoding: 'proto' | 'json';
  compression: 'gzip' | 'none';
  headers: Record<string, string>;
  tls: TlsConfig;
}

const USER_AGENT = 'Vigil/0.1 (otlphttp exporter)';
const SIGNAL_KEYS = { traces: 'traces_endpoint', metrics: 'metrics_endpoint', logs: 'logs_endpoint' } as const;

/**
 * The URL for one signal: its own `<signal>_endpoint` as given, else `endpoint` with the OTLP path
 * appended (a trailing slash on `endpoint` is not doubled), as the Collector resolves them.
 */
export function signalUrl(c: Pick<OtlpHttpConfig, 'endpoint' | 'traces_endpoint' | 'metrics_endpoint' | 'logs_endpoint'>, signal: Signal): URL | undefined {
  const own = c[SIGNAL_KEYS[signal]];
  if (own) return new URL(own);
  if (!c.endpoint) return undefined;
  const base = new URL(c.endpoint);
  base.pathname = base.pathname.replace(/\/+$/, '') + HTTP_PATHS[signal];
  return base;
}

const urlSchema = (what: string) => ({ type: 'string', pattern: '^https?://', description: what });

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpConfig> = {
  kind: 'exporter',
  type: 'otlphttp',
  description: 'Forwards traces, metrics and logs to another collector or OTLP backend over OTLP/HTTP (protobuf or JSON, gzip).',
  signals: ['traces', 'metrics', 'logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: urlSchema('Base URL; /v1/traces, /v1/metrics or /v1/logs is appended per signal.'),
      traces_endpoint: urlSchema('Full URL for traces, used as is (overrides endpoint).'),
      metrics_endpoint: urlSchema('Full URL for metrics, used as is (overrides endpoint).'),
      logs_endpoint: urlSchema('Full URL for logs, used as is (overrides endpoint).'),
      encoding: { enum: ['proto', 'json'], default: 'proto', description: 'Request body encoding: protobuf or OTLP/JSON.' },
      compression: { enum: ['gzip', 'none'], default: 'gzip', description: 'Content-Encoding of request bodies.' },
      headers: { type: 'object', additionalProperties: { type: 'string', secret: true }, default: {}, description: 'Extra request headers (e.g. Authorization). Never logged.' },
      tls: tlsSchema,
      ...exporterHelperProperties({ timeout: '30s' }),
    },
  },
  validate(c) {
    const problems: Array<{ path: Array<string | number>; message: string }> = [];
    if (!c.endpoint && !c.traces_endpoint && !c.metrics_endpoint && !c.logs_endpoint) {
      problems.push({ path: [], message: 'set endpoint, or traces_endpoint / metrics_endpoint / logs_endpoint' });
    }
    for (const key of ['endpoint', 'traces_endpoint', 'metrics_endpoint', 'logs_endpoint'] as const) {
      const v = c[key];
      if (v === undefined) continue;
      try { new URL(v); } catch { problems.push({ path: [key], message: 'not a valid URL' }); }
    }
    problems.push(...tlsClientProblems(c.tls));
    return problems;
  },
  create(settings: CreateSettings<OtlpHttpConfig>, signals) {
    const c = settings.config;
    const urls = {} as Record<Signal, URL>;
    for (const s of signals) {
      const u = signalUrl(c, s);
      if (!u) throw new Error(`${settings.id}: no endpoint for ${s}: set endpoint or ${SIGNAL_KEYS[s]}`);
      urls[s] = u;
    }
    const client = new OtlpHttpClient(c.tls);
    const rejected = rejectedCounters(settings.telemetry, settings.id);
    const contentType = c.encoding === 'json' ? 'application/json' : 'application/x-protobuf';

    return createExporter(settings, signals, {
      async send(signal, data, ctx) {
        const url = urls[signal];
        const target = targetOf(url);
        let body: Buffer;
        try {
          const raw = c.encoding === 'json' ? JSON.stringify(toJson(signal, data)) : encode(signal, data as never);
          body = typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        } catch (e) {
          // Data the codec refuses (e.g. a malformed id) will be refused every time.
          throw new PermanentError(`cannot encode ${signal} for ${target}: ${(e as Error).message}`);
        }
        const headers: Record<string, string> = { ...c.headers, 'Content-Type': contentType, 'User-Agent': USER_AGENT };
        if (c.compression === 'gzip') {
          body = await gzipAsync(body);
          headers['Content-Encoding'] = 'gzip';
        }
        const answer = await client.post(url, body, headers, ctx.signal);
        if (answer.status < 200 || answer.status >= 300) throw answerError(answer, target);
        let res;
        try {
          res = readExportResponse(signal, answer);
        } catch (e) {
          // The data was accepted; an unreadable answer must not make us send it twice.
          settings.logger.warn({ signal, destination: target, err: (e as Error).message }, 'could not read the OTLP export response; treating it as success');
          return;
        }
        reportPartialSuccess(settings.logger, rejected, signal, res.partialSuccess, target);
      },
      async shutdown() {
        client.close();
      },
    });
  },
};
