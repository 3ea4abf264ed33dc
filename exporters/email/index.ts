/**
 * `email` exporter: one e-mail per group notification over SMTP (nodemailer), with a text and an
 * HTML part, threaded by alert group.
 */
import { readFileSync } from 'node:fs';
import type * as Nodemailer from 'nodemailer';
import { lazy } from '../../src/util/lazy';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodemailer = lazy(() => require('nodemailer') as typeof Nodemailer);
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { CreateSettings, ExporterFactory } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { ExporterHelperConfig, exporterHelperProperties } from '../../src/exporterhelper';
import { parseDuration } from '../../src/util/duration';
import { ReceiversConfig, createNotificationExporter, receiversSchema } from '../webhook/notify';
import { NotifyTemplate, templateError } from '../webhook/template';
import { deliveryId } from '../webhook';
import { DEFAULT_HTML, DEFAULT_SUBJECT, DEFAULT_TEXT, renderEmail, threadIds } from './render';

export interface Recipients {
  from?: string;
  to?: string[];
  cc?: string[];
}

export interface EmailConfig extends ExporterHelperConfig, ReceiversConfig, Recipients {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (SMTPS, usually port 465). */
  secure: boolean;
  /** STARTTLS on a plain connection: required, opportunistic or disabled. */
  starttls: 'required' | 'opportunistic' | 'disabled';
  auth?: { username: string; password: string };
  tls: { ca_file?: string; insecure_skip_verify?: boolean };
  hello: string;
  per_receiver: Record<string, Recipients>;
  subject: string;
  text: string;
  html: string;
  send_resolved: boolean;
  message_id_domain: string;
}

const addresses = { type: 'array', items: { type: 'string', minLength: 3 } };

/**
 * Nodemailer's failures as the exporterhelper needs them: SMTP 4xx replies and network errors are
 * temporary; 5xx replies (unknown mailbox, rejected message, failed authentication) will not
 * change by retrying.
 */
export function classifySmtpError(e: unknown): Error {
  const err = e as Error & { code?: string; responseCode?: number };
  // The SMTP reply can quote addresses; keep it short and drop the command echo.
  const msg = `SMTP ${err.code ?? 'error'}${err.responseCode ? ` ${err.responseCode}` : ''}: ${String(err.message).split('\n')[0].slice(0, 200)}`;
  if (err.responseCode && err.responseCode >= 500) return new PermanentError(msg);
  if (err.code === 'EAUTH' || err.code === 'EENVELOPE' || err.code === 'EMESSAGE') {
    return err.responseCode && err.responseCode < 500 ? new RetryableError(msg) : new PermanentError(msg);
  }
  return new RetryableError(msg);
}

export const emailExporterFactory: ExporterFactory<EmailConfig> = {
  kind: 'exporter',
  type: 'email',
  description: 'Sends alert notifications as e-mail over SMTP (text and HTML parts, threaded per alert group).',
  signals: ['logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'from'],
    properties: {
      host: { type: 'string', minLength: 1, description: 'SMTP server.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 587 },
      secure: { type: 'boolean', default: false, description: 'Implicit TLS (SMTPS, port 465).' },
      starttls: { enum: ['required', 'opportunistic', 'disabled'], default: 'required', description: 'STARTTLS on a plain connection.' },
      auth: {
        type: 'object', additionalProperties: false, required: ['username', 'password'],
        properties: { username: { type: 'string' }, password: { type: 'string', secret: true, description: 'Use ${env:VAR}; never logged.' } },
      },
      tls: {
        type: 'object', additionalProperties: false, default: {},
        properties: { ca_file: { type: 'string' }, insecure_skip_verify: { type: 'boolean', default: false } },
      },
      hello: { type: 'string', default: 'localhost', description: 'Name sent in EHLO.' },
      from: { type: 'string', minLength: 3, description: 'Sender address, e.g. "Vigil <vigil@example.com>".' },
      to: { ...addresses, default: [] },
      cc: { ...addresses, default: [] },
      per_receiver: {
        type: 'object', default: {},
        description: 'Recipients (and sender) per alert receiver name, overriding from/to/cc.',
        additionalProperties: { type: 'object', additionalProperties: false, properties: { from: { type: 'string' }, to: addresses, cc: addresses } },
      },
      receivers: receiversSchema,
      subject: { type: 'string', default: DEFAULT_SUBJECT, description: 'Subject template.' },
      text: { type: 'string', default: DEFAULT_TEXT, description: 'Text part template.' },
      html: { type: 'string', default: DEFAULT_HTML, description: 'HTML part template (values are HTML-escaped); empty sends text only.' },
      send_resolved: { type: 'boolean', default: true, description: 'Also mail resolved notifications.' },
      message_id_domain: { type: 'string', default: '', description: 'Domain of Message-IDs; default the domain of `from`.' },
      ...exporterHelperProperties({ timeout: '30s', sending_queue: { num_consumers: 2 }, retry_on_failure: { initial_interval: '5s', max_elapsed_time: '30m' } }),
    },
  },
  validate(c) {
    const out: Array<{ path: Array<string | number>; message: string }> = [];
    for (const k of ['subject', 'text', 'html'] as const) {
      const e = templateError(c[k]);
      if (e) out.push({ path: [k], message: e });
    }
    if (!c.to?.length && Object.values(c.per_receiver ?? {}).every((r) => !r.to?.length)) {
      out.push({ path: ['to'], message: 'no recipients: set `to` or per_receiver.<name>.to' });
    }
    return out;
  },
  create(settings: CreateSettings<EmailConfig>) {
    const c = settings.config;
    const templates = {
      subject: NotifyTemplate.compile(c.subject),
      text: NotifyTemplate.compile(c.text),
      html: NotifyTemplate.compile(c.html),
    };
    const attemptMs = c.timeout === undefined ? 0 : parseDuration(c.timeout);
    const smtpTimeout = attemptMs > 0 ? Math.max(1000, attemptMs - 500) : 60_000;
    const options: SMTPTransport.Options = {
      host: c.host,
      port: c.port,
      secure: c.secure,
      requireTLS: !c.secure && c.starttls === 'required',
      ignoreTLS: !c.secure && c.starttls === 'disabled',
      name: c.hello,
      auth: c.auth ? { user: c.auth.username, pass: c.auth.password } : undefined,
      tls: {
        ca: c.tls.ca_file ? readFileSync(c.tls.ca_file) : undefined,
        rejectUnauthorized: !c.tls.insecure_skip_verify,
      },
      // Keep nodemailer's own limits inside the attempt timeout, so an attempt the exporterhelper
      // abandoned is not still sending (and then retried: a duplicate mail).
      connectionTimeout: Math.min(smtpTimeout, 10_000),
      greetingTimeout: Math.min(smtpTimeout, 10_000),
      socketTimeout: smtpTimeout,
      logger: false,
      debug: false,
    };
    const transport = nodemailer().createTransport(options);
    const fromDomain = (addr: string) => /@([^>\s]+)>?\s*$/.exec(addr)?.[1] ?? 'vigil.local';

    return createNotificationExporter(settings, ['logs'], {
      async deliver(n, record) {
        if (n.status === 'resolved' && !c.send_resolved) return;
        const r = c.per_receiver?.[n.receiver] ?? {};
        const from = r.from ?? c.from!;
        const to = r.to?.length ? r.to : c.to ?? [];
        // A receiver with its own `to` gets only its own cc, not the default one.
        const cc = r.to?.length ? r.cc ?? [] : r.cc ?? c.cc ?? [];
        if (!to.length) throw new PermanentError(`no recipients configured for receiver ${n.receiver}`);
        const { subject, text, html } = renderEmail(n, templates);
        const ids = threadIds(n, deliveryId(n, record), c.message_id_domain || fromDomain(from));
        try {
          await transport.sendMail({
            from, to, cc: cc.length ? cc : undefined, subject, text, html: c.html ? html : undefined,
            messageId: ids.messageId,
            inReplyTo: ids.root,
            references: [ids.root],
            headers: {
              'X-Vigil-Group-Key': n.groupKey.replace(/[\r\n]+/g, ' '),
              'X-Vigil-Status': n.status,
              'X-Vigil-Receiver': n.receiver.replace(/[\r\n]+/g, ' '),
            },
          });
        } catch (e) {
          throw classifySmtpError(e);
        }
      },
      async shutdown() {
        transport.close();
      },
    });
  },
};
