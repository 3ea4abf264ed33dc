/**
 * `alertmanager` exporter: hands Vigil's alerts to a Prometheus Alertmanager through its API v2
 * (`POST /api/v2/alerts`), for teams that already route with Alertmanager.
 *
 * Alertmanager expects what Prometheus does: the full set of active alerts re-sent regularly,
 * each with an `endsAt` a few resend intervals ahead, so alerts that stop being sent resolve by
 * themselves. Notifications arrive only at group_wait / group_interval / repeat_interval, so this
 * exporter keeps the firing alerts it has seen and re-posts them every `resend_interval`; a
 * resolved alert is posted once with its real `endsAt` and forgotten.
 */
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { ExporterHelperConfig, exporterHelperProperties } from '../../src/exporterhelper';
import type { Notification, WebhookAlert } from '../../src/alerting/notification';
import { ZERO_TIME } from '../../src/alerting/notification';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { HttpClient, TlsConfig, checkStatus, tlsSchema } from '../webhook/http';
import { ReceiversConfig, createNotificationExporter, receiversSchema } from '../webhook/notify';

export interface AlertmanagerConfig extends ExporterHelperConfig, ReceiversConfig {
  url: string;
  headers: Record<string, string>;
  tls: TlsConfig;
  resend_interval: string | number;
  max_active_alerts: number;
}

/** One element of Alertmanager's `postableAlerts`. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

interface Active {
  alert: WebhookAlert;
  groupKey: string;
}

export const alertmanagerExporterFactory: ExporterFactory<AlertmanagerConfig> = {
  kind: 'exporter',
  type: 'alertmanager',
  description: 'Posts alerts to a Prometheus Alertmanager (API v2), re-sending active ones as Prometheus does.',
  signals: ['logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://', description: 'Alertmanager base URL, e.g. http://127.0.0.1:9093 (alerts go to <url>/api/v2/alerts).' },
      headers: { type: 'object', additionalProperties: { type: 'string', secret: true }, default: {}, description: 'Extra headers (e.g. Authorization for a proxy). Never logged.' },
      tls: tlsSchema,
      resend_interval: durationSchema('1m', 'How often active alerts are re-posted; endsAt is set 4 intervals ahead.'),
      max_active_alerts: { type: 'integer', minimum: 1, default: 10000, description: 'Firing alerts kept for re-sending; the oldest are dropped beyond it.' },
      receivers: receiversSchema,
      ...exporterHelperProperties({ timeout: '10s', retry_on_failure: { initial_interval: '1s', max_elapsed_time: '5m' } }),
    },
  },
  create(settings: CreateSettings<AlertmanagerConfig>) {
    return new AlertmanagerSender(settings).exporter();
  },
};

export class AlertmanagerSender {
  private readonly client: HttpClient;
  private readonly resendMs: number;
  private readonly active = new Map<string, Active>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly settings: CreateSettings<AlertmanagerConfig>) {
    const base = settings.config.url.endsWith('/') ? settings.config.url : `${settings.config.url}/`;
    this.client = new HttpClient(base, settings.config.tls);
    this.resendMs = parseDuration(settings.config.resend_interval);
  }

  exporter() {
    return createNotificationExporter(this.settings, ['logs'], {
      deliver: (n, _r, ctx) => this.deliver(n, ctx.signal),
      start: async () => {
        if (this.resendMs > 0) {
          this.timer = setInterval(() => void this.resend(), this.resendMs);
          this.timer.unref();
        }
      },
      shutdown: async () => {
        clearInterval(this.timer);
        this.client.close();
      },
    });
  }

  private toPostable(a: WebhookAlert, now: number): PostableAlert {
    const out: PostableAlert = { labels: a.labels, annotations: a.annotations, startsAt: a.startsAt };
    if (a.status === 'resolved' && a.endsAt && a.endsAt !== ZERO_TIME) out.endsAt = a.endsAt;
    else if (this.resendMs > 0) out.endsAt = new Date(now + 4 * this.resendMs).toISOString();
    if (a.generatorURL) out.generatorURL = a.generatorURL;
    return out;
  }

  /** Posts go out one at a time, in order: a re-send started before a resolve must not land after it and re-fire the alert. */
  private tail: Promise<unknown> = Promise.resolve();

  private post(alerts: WebhookAlert[], signal?: AbortSignal): Promise<void> {
    if (!alerts.length) return Promise.resolve();
    const run = this.tail.then(async () => {
      const now = Date.now();
      const body = JSON.stringify(alerts.map((a) => this.toPostable(a, now)));
      const res = await this.client.post(body, { ...this.settings.config.headers, 'Content-Type': 'application/json', 'User-Agent': 'vigil-alertmanager/0.1' }, signal, 'api/v2/alerts');
      checkStatus(res, `alertmanager ${this.client.target}`);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  async deliver(n: Notification, signal?: AbortSignal): Promise<void> {
    // The group's current alerts replace what we held for it, before the post, so that no later
    // re-send carries an alert this notification resolves. One that left the group without a
    // resolve (send_resolved off, truncation) expires in Alertmanager at its endsAt. A failed post
    // is retried with the same notification, which sets them again.
    for (const [fp, a] of this.active) if (a.groupKey === n.groupKey) this.active.delete(fp);
    for (const a of n.payload.alerts) {
      if (a.status !== 'firing') continue;
      this.active.set(a.fingerprint, { alert: a, groupKey: n.groupKey });
      if (this.active.size > this.settings.config.max_active_alerts) this.active.delete(this.active.keys().next().value!);
    }
    await this.post(n.payload.alerts, signal);
  }

  /** Re-post the active alerts so Alertmanager keeps them firing (errors wait for the next round). */
  async resend(): Promise<void> {
    try {
      await this.post([...this.active.values()].map((a) => a.alert), AbortSignal.timeout(10_000));
    } catch (e) {
      this.settings.logger.warn({ err: (e as Error).message, alerts: this.active.size }, 're-sending active alerts to Alertmanager failed');
    }
  }

  activeCount(): number {
    return this.active.size;
  }
}
