/**
 * Plumbing shared by the notification exporters (webhook, email, github, sentry, alertmanager).
 *
 * The exporterhelper retries a whole request when it fails. If a request held several
 * notifications, a failure on the second would resend the first: a duplicate page, email or issue
 * comment. So every notification record becomes its own request, and a retry only ever repeats
 * the one delivery that failed.
 */
import type { Host, SignalConsumers } from '../../src/component';
import type { CreateSettings } from '../../src/component';
import { Notification, notificationLogs, parseNotification, receiverSelected } from '../../src/alerting/notification';
import { ExporterOptions, HelperExporter, SendContext, createExporter } from '../../src/exporterhelper';
import { DeliveryRing, deliveryChannels } from '../../src/alerting/deliveries';
import { API_EXTENSION, type ApiServer } from '../../src/api';
import { isPermanent } from '../../src/errors';
import type { AnySignalData, LogRecord, Logs, Signal, Traces } from '../../src/model';

export interface NotificationHandler {
  /** Deliver one notification. Throw RetryableError / PermanentError as the exporterhelper expects. */
  deliver(n: Notification, record: LogRecord, ctx: SendContext): Promise<void>;
  /** Optional raw telemetry (sentry): a logs batch of one record that is not a notification. */
  deliverLog?(record: Logs, ctx: SendContext): Promise<void>;
  /** Optional raw telemetry (sentry): a traces batch of one span. */
  deliverSpan?(span: Traces, ctx: SendContext): Promise<void>;
  /** Which non-notification log records `deliverLog` wants; the rest are ignored. */
  wantsLog?(record: LogRecord): boolean;
  /** Which spans `deliverSpan` wants. */
  wantsSpan?(span: Traces['resourceSpans'][number]['scopeSpans'][number]['spans'][number]): boolean;
  start?(host: Host): Promise<void>;
  shutdown?(): Promise<void>;
}

export interface ReceiversConfig {
  /** Receiver names this exporter handles; empty = all. */
  receivers?: string[];
}

export const receiversSchema = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  default: [],
  description: 'Alert receivers (alert.receiver) this exporter delivers; empty means every receiver.',
};

/** A symbol-keyed field so the parsed notification rides along with its request. */
const PARSED = Symbol('notification');
type Carried = Logs & { [PARSED]?: Notification };

/** Same on every retry of one notification (time, receiver, group, status, step). */
function deliveryKey(n: Notification, r: LogRecord): string {
  return `${r.timeUnixNano}\n${n.receiver}\n${n.groupKey}\n${n.status}\n${n.escalationStep ?? ''}`;
}

function single(rl: Logs['resourceLogs'][number], sl: Logs['resourceLogs'][number]['scopeLogs'][number], r: LogRecord): Logs {
  return {
    resourceLogs: [{ resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: [{ scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: [r] }] }],
  };
}

/**
 * An exporter whose logs consumer picks out the notifications addressed to `receivers` and hands
 * each to `handler.deliver` through the exporterhelper (queue, retry, timeout, metrics).
 */
export function createNotificationExporter<C extends ReceiversConfig>(
  settings: CreateSettings<C>,
  signals: readonly Signal[],
  handler: NotificationHandler,
  opts: ExporterOptions = {},
): HelperExporter {
  const receivers = settings.config.receivers;
  // Recent deliveries and their outcome, for GET /api/alerts/notifications (src/alerting/deliveries.ts).
  const ring = new DeliveryRing(settings.id, settings.id.split('/')[0]);
  const helper = createExporter(settings, signals, {
    start: async (host) => {
      const api = host.getExtension<ApiServer>(API_EXTENSION);
      if (api) deliveryChannels(api).set(settings.id, ring);
      await handler.start?.(host);
    },
    shutdown: handler.shutdown ? () => handler.shutdown!() : undefined,
    send: async (signal: Signal, data: AnySignalData, ctx: SendContext) => {
      if (signal === 'traces') return handler.deliverSpan?.(data as Traces, ctx);
      const carried = data as Carried;
      const n = carried[PARSED];
      if (!n) return handler.deliverLog?.(carried, ctx);
      const record = carried.resourceLogs[0].scopeLogs[0].logRecords[0];
      const key = deliveryKey(n, record);
      ring.attempt(key, n);
      try {
        await handler.deliver(n, record, ctx);
        ring.outcome(key, undefined, false);
      } catch (e) {
        // A retryable error may still be given up on: `dropped` below then marks it failed.
        ring.outcome(key, e as Error, isPermanent(e as Error));
        throw e;
      }
    },
    dropped: (signal: Signal, data: AnySignalData, err: Error) => {
      const carried = data as Carried;
      const n = signal === 'logs' ? carried[PARSED] : undefined;
      if (n) ring.outcome(deliveryKey(n, carried.resourceLogs[0].scopeLogs[0].logRecords[0]), err, true);
    },
  }, opts);

  const out: HelperExporter = { start: helper.start, shutdown: helper.shutdown, pending: helper.pending };
  if (signals.includes('logs')) {
    out.logs = {
      consume: async (logs: Logs) => {
        for (const rl of logs.resourceLogs) {
          for (const sl of rl.scopeLogs) {
            for (const r of sl.logRecords) {
              const n = parseNotification(r);
              if (n) {
                if (!receiverSelected(receivers, n.receiver)) continue;
                const req: Carried = notificationLogs([r]);
                req[PARSED] = n;
                await helper.logs!.consume(req);
              } else if (handler.wantsLog?.(r)) {
                await helper.logs!.consume(single(rl, sl, r));
              }
            }
          }
        }
      },
    };
  }
  if (signals.includes('traces')) {
    out.traces = {
      consume: async (traces: Traces) => {
        for (const rs of traces.resourceSpans) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              if (!handler.wantsSpan?.(s)) continue;
              await helper.traces!.consume({
                resourceSpans: [{ resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [{ scope: ss.scope, schemaUrl: ss.schemaUrl, spans: [s] }] }],
              });
            }
          }
        }
      },
    };
  }
  return out as HelperExporter & SignalConsumers;
}
