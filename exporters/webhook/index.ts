/**
 * `webhook` exporter: POSTs each alert notification to an HTTP endpoint, as Alertmanager's
 * webhook receiver does (payload version 4, unchanged), or a body rendered from a template.
 * The body can be signed with HMAC-SHA256 so the receiver can check it came from Vigil.
 */
import { createHash, createHmac } from 'node:crypto';
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { ExporterHelperConfig, exporterHelperProperties } from '../../src/exporterhelper';
import type { Notification } from '../../src/alerting/notification';
import type { LogRecord } from '../../src/model';
import { HttpClient, TlsConfig, checkStatus, tlsSchema } from './http';
import { ReceiversConfig, createNotificationExporter, receiversSchema } from './notify';
import { NotifyTemplate, templateData, templateError } from './template';
import { tlsClientProblems } from '../../src/tls/config';

export interface WebhookConfig extends ExporterHelperConfig, ReceiversConfig {
  url: string;
  headers: Record<string, string>;
  secret: string;
  signature_header: string;
  body_template: string;
  content_type: string;
  tls: TlsConfig;
}

export const SIGNATURE_HEADER = 'X-Vigil-Signature';
export const DELIVERY_HEADER = 'X-Vigil-Delivery';
const USER_AGENT = 'vigil-webhook/0.1';

/** `sha256=<hex>` of HMAC-SHA256(secret, body), GitHub's webhook signature format. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * A delivery id that is the same on every retry of one notification and differs between
 * notifications (time, receiver, group, status), so receivers can drop a redelivery.
 */
export function deliveryId(n: Notification, record: LogRecord): string {
  return createHash('sha256').update(`${record.timeUnixNano}\n${n.receiver}\n${n.groupKey}\n${n.status}\n${n.escalationStep ?? ''}`).digest('hex').slice(0, 32);
}

export const webhookExporterFactory: ExporterFactory<WebhookConfig> = {
  kind: 'exporter',
  type: 'webhook',
  description: 'POSTs alert notifications (Alertmanager webhook v4 JSON or a template) to an HTTP endpoint, HMAC-signed.',
  signals: ['logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^$|^https?://', description: 'Where notifications are POSTed; empty turns the exporter off (so `${env:VIGIL_WEBHOOK_URL:-}` makes it one variable away).' },
      headers: { type: 'object', additionalProperties: { type: 'string', secret: true }, default: {}, description: 'Extra request headers (e.g. Authorization). Never logged.' },
      secret: { type: 'string', secret: true, default: '', description: 'Shared secret for the HMAC-SHA256 body signature; empty sends no signature. Use ${env:VAR}.' },
      signature_header: { type: 'string', minLength: 1, default: SIGNATURE_HEADER, description: 'Header carrying `sha256=<hex HMAC of the body>`.' },
      body_template: { type: 'string', default: '', description: 'Body template (see README); empty posts the Alertmanager v4 JSON payload unchanged.' },
      content_type: { type: 'string', default: 'application/json' },
      receivers: receiversSchema,
      tls: tlsSchema,
      ...exporterHelperProperties({ timeout: '10s', retry_on_failure: { initial_interval: '1s', max_elapsed_time: '10m' } }),
    },
  },
  validate(c) {
    const problems: Array<{ path: Array<string | number>; message: string }> = [];
    const err = templateError(c.body_template);
    if (err) problems.push({ path: ['body_template'], message: err });
    if (c.url) try { new URL(c.url); } catch { problems.push({ path: ['url'], message: 'not a valid URL' }); }
    problems.push(...tlsClientProblems(c.tls));
    return problems;
  },
  create(settings: CreateSettings<WebhookConfig>) {
    const c = settings.config;
    if (!c.url) {
      settings.logger.info('webhook is off: its url is empty (in the default pipelines.yaml, set VIGIL_WEBHOOK_URL to turn it on)');
      return createNotificationExporter(settings, ['logs'], { async deliver() { /* off */ } });
    }
    const client = new HttpClient(c.url, c.tls);
    const template = c.body_template ? NotifyTemplate.compile(c.body_template) : undefined;
    return createNotificationExporter(settings, ['logs'], {
      async deliver(n, record, ctx) {
        // The record body is the payload's JSON text already: send those exact bytes.
        const body = template ? template.render(templateData(n)) : (record.body as string);
        const headers: Record<string, string> = {
          ...c.headers,
          'Content-Type': c.content_type,
          'User-Agent': USER_AGENT,
          [DELIVERY_HEADER]: deliveryId(n, record),
        };
        if (c.secret) headers[c.signature_header] = signBody(c.secret, body);
        const res = await client.post(body, headers, ctx.signal);
        checkStatus(res, `webhook ${client.target}`);
      },
      async shutdown() {
        client.close();
      },
    });
  },
};
