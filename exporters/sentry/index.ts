/**
 * `sentry` exporter: alerts as Sentry events (one per alert, grouped by the alert fingerprint),
 * and optionally spans with error status and error/fatal log records as Sentry error events.
 *
 * Each exporter has its own @sentry/node client and scope, never the global hub, so several
 * exporters (several DSNs) and the host application's own Sentry setup do not interfere. The
 * client's transport is wrapped to learn the answer to each event, so the exporterhelper can
 * retry what Sentry refused for now (429, 5xx, network) and drop what it refused for good.
 */
import type { Event } from '@sentry/node';
import https from 'node:https';
import { TlsClientConfig, tlsClientProblems, tlsClientSchema } from '../../src/tls/config';
import { clientTlsOptions } from '../../src/tls/client';
import { SentryNode, sentry } from './sdk';
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { ExporterHelperConfig, exporterHelperProperties } from '../../src/exporterhelper';
import { Logs, Severity, StatusCode, Traces } from '../../src/model';
import { deliveryId } from '../webhook';
import { parseRetryAfter } from '../webhook/http';
import { ReceiversConfig, createNotificationExporter, receiversSchema } from '../webhook/notify';
import { alertEvent, logEvent, spanEvent } from './events';

export interface SentryConfig extends ExporterHelperConfig, ReceiversConfig {
  dsn: string;
  environment: string;
  release: string;
  alerts: boolean;
  send_resolved: boolean;
  error_spans: boolean;
  error_logs: boolean;
  min_log_severity: 'error' | 'fatal';
  /** Kept for existing configs: the same as tls.ca_file. */
  ca_file?: string;
  /** The shared client tls block (src/tls), for a self-hosted Sentry behind a private CA or mTLS. */
  tls?: TlsClientConfig;
}

// The transport types, without importing @sentry/core (not a direct dependency).
type Transport = ReturnType<typeof SentryNode.makeNodeTransport>;
type Envelope = Parameters<Transport['send']>[0];
type TransportMakeRequestResponse = Awaited<ReturnType<Transport['send']>>;

type Outcome = { ok: true } | { ok: false; error: Error };

/** Sentry's `X-Sentry-Rate-Limits: <seconds>:<categories>:<scope>,...`: the longest delay. */
function rateLimitDelay(h: Record<string, string | null> | undefined): number | undefined {
  const limits = h?.['x-sentry-rate-limits'];
  if (limits) {
    const secs = limits.split(',').map((l) => Number(l.split(':')[0])).filter((n) => Number.isFinite(n));
    if (secs.length) return Math.max(...secs) * 1000;
  }
  return parseRetryAfter(h?.['retry-after'] ?? undefined);
}

function outcomeOf(res: TransportMakeRequestResponse): Outcome {
  const status = res.statusCode;
  if (status === undefined) {
    // The SDK dropped the event itself: an earlier answer rate-limited this category.
    return { ok: false, error: new RetryableError('Sentry rate limit in effect; event held back', undefined, true) };
  }
  if (status >= 200 && status < 300) return { ok: true };
  const msg = `Sentry answered ${status}`;
  if (status === 429) return { ok: false, error: new RetryableError(msg, rateLimitDelay(res.headers), true) };
  if (status >= 500) return { ok: false, error: new RetryableError(msg, rateLimitDelay(res.headers)) };
  return { ok: false, error: new PermanentError(msg) };
}

/** node:https with every request on one agent made from the shared tls block (files read now: errors at start). */
function tlsHttpModule(tls: TlsClientConfig, what: string): { request: typeof https.request } {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 30, ...clientTlsOptions(tls, what) });
  const request = ((options: https.RequestOptions, callback?: (res: import('node:http').IncomingMessage) => void) =>
    https.request({ ...options, agent }, callback)) as typeof https.request;
  return { request };
}

export const sentryExporterFactory: ExporterFactory<SentryConfig> = {
  kind: 'exporter',
  type: 'sentry',
  description: 'Sends alerts (and optionally error spans and error logs) to Sentry as events.',
  signals: ['logs', 'traces'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['dsn'],
    properties: {
      dsn: { type: 'string', pattern: '^https?://', secret: true, description: 'Project DSN, https://<key>@<host>/<project id>. Use ${env:SENTRY_DSN}; never logged.' },
      environment: { type: 'string', default: '', description: 'Sentry environment of the events (empty: the SDK default, production).' },
      release: { type: 'string', default: '' },
      alerts: { type: 'boolean', default: true, description: 'Send firing alerts of notifications as events.' },
      send_resolved: { type: 'boolean', default: false, description: 'Also send resolved alerts (as info events).' },
      error_spans: { type: 'boolean', default: false, description: 'Send spans with error status (traces pipelines) as error events.' },
      error_logs: { type: 'boolean', default: false, description: 'Send log records at or above min_log_severity as error events.' },
      min_log_severity: { enum: ['error', 'fatal'], default: 'error' },
      ca_file: { type: 'string', description: 'CA certificates (PEM) for a self-hosted Sentry (the same as tls.ca_file).' },
      tls: tlsClientSchema,
      receivers: receiversSchema,
      ...exporterHelperProperties({ timeout: '10s', retry_on_failure: { initial_interval: '1s', max_elapsed_time: '5m' } }),
    },
  },
  validate: (c) => tlsClientProblems(c.tls),
  create(settings: CreateSettings<SentryConfig>) {
    return new SentrySender(settings).exporter();
  },
};

export class SentrySender {
  private readonly client: SentryNode.NodeClient;
  private readonly scope = new (sentry().Scope)();
  private readonly waiting = new Map<string, (o: Outcome) => void>();

  constructor(private readonly settings: CreateSettings<SentryConfig>) {
    const c = settings.config;
    const transport = (opts: Parameters<typeof SentryNode.makeNodeTransport>[0]): Transport => {
      const inner = sentry().makeNodeTransport(opts);
      return {
        send: async (env: Envelope) => {
          const id = (env[0] as { event_id?: string }).event_id;
          try {
            const res = await inner.send(env);
            if (id) this.settle(id, outcomeOf(res));
            return res;
          } catch (e) {
            if (id) this.settle(id, { ok: false, error: new RetryableError(`sending to Sentry failed: ${(e as Error).message}`) });
            throw e;
          }
        },
        flush: (timeout?: number) => inner.flush(timeout),
      };
    };
    this.client = new (sentry().NodeClient)({
      dsn: c.dsn,
      environment: c.environment || undefined,
      release: c.release || undefined,
      transport,
      // The SDK's transport takes only a CA; an https module whose requests use an agent built from
      // the shared tls block gives it client certificates, server_name_override and min_version too.
      transportOptions: c.dsn.startsWith('https:') ? { httpModule: tlsHttpModule({ ...c.tls, ca_file: c.tls?.ca_file ?? c.ca_file }, `exporters.${settings.id}.tls`) } : undefined,
      stackParser: sentry().defaultStackParser,
      integrations: [],
      sendClientReports: false,
      sendDefaultPii: false,
      tracesSampleRate: undefined,
    } as ConstructorParameters<typeof SentryNode.NodeClient>[0]);
    this.scope.setClient(this.client);
    this.client.init();
  }

  private settle(id: string, o: Outcome): void {
    const done = this.waiting.get(id);
    if (done) { this.waiting.delete(id); done(o); }
  }

  /** Capture an event on our own scope and wait for Sentry's answer to it. */
  private async capture(event: Event, signal: AbortSignal): Promise<void> {
    const id = event.event_id!;
    const answered = new Promise<Outcome>((resolve) => this.waiting.set(id, resolve));
    const onAbort = () => this.settle(id, { ok: false, error: new RetryableError('Sentry did not answer in time') });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.client.captureEvent(event, { event_id: id }, this.scope);
      const o = await answered;
      if (!o.ok) throw o.error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.waiting.delete(id);
    }
  }

  exporter() {
    const c = this.settings.config;
    const minLog = c.min_log_severity === 'fatal' ? Severity.FATAL : Severity.ERROR;
    /** Alerts of a notification already accepted, so a retry after a partial failure resends only the rest. */
    const sent = new Set<string>();
    return createNotificationExporter(this.settings, ['logs', 'traces'], {
      deliver: async (n, record, ctx) => {
        if (!c.alerts) return;
        const delivery = deliveryId(n, record);
        for (const a of n.payload.alerts) {
          if (a.status === 'resolved' && !c.send_resolved) continue;
          const ev = alertEvent(n, a, delivery);
          if (a.status === 'resolved') { ev.level = 'info'; ev.message = `Resolved: ${ev.message}`; }
          if (sent.has(ev.event_id!)) continue;
          await this.capture(ev, ctx.signal);
          sent.add(ev.event_id!);
          if (sent.size > 10_000) sent.delete(sent.values().next().value!);
        }
      },
      wantsLog: (r) => c.error_logs && r.severityNumber >= minLog,
      deliverLog: async (logs: Logs, ctx) => {
        const rl = logs.resourceLogs[0];
        await this.capture(logEvent(rl.scopeLogs[0].logRecords[0], rl.resource), ctx.signal);
      },
      wantsSpan: (s) => c.error_spans && s.status.code === StatusCode.ERROR,
      deliverSpan: async (traces: Traces, ctx) => {
        const rs = traces.resourceSpans[0];
        await this.capture(spanEvent(rs.scopeSpans[0].spans[0], rs.resource), ctx.signal);
      },
      shutdown: async () => {
        await this.client.close(2000);
      },
    });
  }
}
