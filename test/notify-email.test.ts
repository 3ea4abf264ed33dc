/**
 * email exporter against a real SMTP server (smtp-server) in the test: messages parsed with
 * mailparser, both parts, threading headers, recipients per receiver, auth, and SMTP failures.
 */
import t from 'tap';
import { SMTPServer } from 'smtp-server';
import { ParsedMail, simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { emailExporterFactory } from '../exporters/email';
import { PermanentError } from '../src/errors';
import { build, counter, logsOf, notification, sleep, waitFor } from './fixtures/notify/helpers';

t.jobs = 3;

interface Mail { parsed: ParsedMail; rcpt: string[]; user?: string }

async function smtp(t: { teardown(fn: () => unknown): void }, opts: { auth?: boolean; reject?: (n: number) => string | undefined } = {}) {
  const mails: Mail[] = [];
  let n = 0;
  const server = new SMTPServer({
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !opts.auth,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'vigil' && auth.password === 's3cret') cb(null, { user: 'vigil' });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const attempt = ++n;
      simpleParser(stream).then((parsed) => {
        const code = opts.reject?.(attempt);
        if (code) {
          const e = new Error(code === '451' ? 'Try again later' : 'Mailbox unavailable') as Error & { responseCode: number };
          e.responseCode = Number(code);
          return cb(e);
        }
        mails.push({ parsed, rcpt: session.envelope.rcptTo.map((r) => r.address), user: session.user as string | undefined });
        cb();
      }, cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as AddressInfo).port, mails, attempts: () => n };
}

const base = (port: number) => ({ host: '127.0.0.1', port, starttls: 'disabled', from: 'Vigil <vigil@alerts.example>', to: ['oncall@example.com'] });

const fired = () => notification([
  { labels: { alertname: 'DiskFull', severity: 'critical', instance: 'db-1' }, annotations: { summary: 'disk 97% full on db-1', runbook_url: 'https://runbooks.example/disk' } },
  { labels: { alertname: 'DiskFull', severity: 'critical', instance: '<db-2>' }, annotations: { summary: 'disk 95% full on <db-2>' } },
]);

t.test('one mail per notification, both parts, threaded by group, resolved notice', async (t) => {
  const s = await smtp(t);
  const { ex, telemetry } = build(emailExporterFactory, { ...base(s.port), cc: ['team@example.com'], sending_queue: { enabled: false } });
  const firing = fired();
  const resolved = notification([
    { labels: { alertname: 'DiskFull', severity: 'critical', instance: 'db-1' }, annotations: { summary: 'disk 97% full on db-1' }, status: 'resolved' },
    { labels: { alertname: 'DiskFull', severity: 'critical', instance: '<db-2>' }, annotations: { summary: 'disk 95% full on <db-2>' }, status: 'resolved' },
  ]);
  const other = notification([{ labels: { alertname: 'CPU' } }]);
  await ex.logs!.consume(logsOf(firing));
  await ex.logs!.consume(logsOf(resolved, other));
  await ex.shutdown!();
  t.equal(s.mails.length, 3, 'three notifications, three mails');
  const [m1, m2, m3] = s.mails.map((m) => m.parsed);
  t.equal(m1.subject, '[FIRING:2] alertname=DiskFull');
  t.equal(m2.subject, '[RESOLVED] alertname=DiskFull');
  t.equal(m1.from?.text, '"Vigil" <vigil@alerts.example>');
  t.same(s.mails[0].rcpt.sort(), ['oncall@example.com', 'team@example.com']);
  t.match(m1.text, /2 alerts firing for alertname=DiskFull/);
  t.match(m1.text, /- disk 97% full on db-1 \(since 2025-01-02T03:04:05Z\)/);
  t.match(m1.text, /labels: alertname=DiskFull severity=critical instance=db-1/);
  t.match(m1.text, /runbook_url: https:\/\/runbooks.example\/disk/);
  t.type(m1.html, 'string', 'has an HTML part');
  const html = m1.html as string;
  t.match(html, /<table/);
  t.match(html, /disk 95% full on &lt;db-2&gt;/, 'label values are escaped in HTML');
  t.notMatch(html, /<db-2>/);
  t.match(html, /<a href="https:\/\/runbooks.example\/disk">/);
  t.match(m2.text, /Resolved: alertname=DiskFull/);
  t.match(m2.text, /Resolved \(2\):/);
  // Threading: unique Message-IDs, one stable root per group in In-Reply-To and References.
  t.not(m1.messageId, m2.messageId);
  t.match(m1.messageId, /@alerts\.example>$/);
  t.equal(m1.inReplyTo, m2.inReplyTo, 'same group, same thread root');
  t.same(m1.references, m1.inReplyTo);
  t.same(m2.references, m2.inReplyTo);
  t.not(m3.inReplyTo, m1.inReplyTo, 'another group is another thread');
  t.equal(m1.headers.get('x-vigil-status'), 'firing');
  t.equal(m2.headers.get('x-vigil-status'), 'resolved');
  t.equal(await counter(telemetry, 'vigil_exporter_sent_log_records_total'), 3);
});

t.test('per-receiver recipients, receivers filter, send_resolved false, custom templates', async (t) => {
  const s = await smtp(t);
  const { ex } = build(emailExporterFactory, {
    ...base(s.port), receivers: ['db', 'web'], send_resolved: false,
    per_receiver: { db: { to: ['dba@example.com'], from: 'db-alerts@example.org' } },
    subject: '{{ .CommonLabels.severity | upper }}: {{ .CommonAnnotations.summary }}',
    text: 'Status {{ .Status }} for {{ .Receiver }}', html: '',
    sending_queue: { enabled: false },
  });
  const db = notification([{ labels: { alertname: 'Lag', severity: 'page' }, annotations: { summary: 'replica lag\r\nBcc: evil@x' } }], { receiver: 'db' });
  const web = notification([{ labels: { alertname: 'Err' } }], { receiver: 'web' });
  const skipped = notification([{ labels: { alertname: 'X' } }], { receiver: 'other' });
  const resolved = notification([{ labels: { alertname: 'Lag' }, status: 'resolved' }], { receiver: 'db' });
  await ex.logs!.consume(logsOf(db, web, skipped, resolved));
  await ex.shutdown!();
  t.equal(s.mails.length, 2);
  t.same(s.mails[0].rcpt, ['dba@example.com']);
  t.equal(s.mails[0].parsed.from?.text, 'db-alerts@example.org');
  t.equal(s.mails[0].parsed.subject, 'PAGE: replica lag Bcc: evil@x', 'newlines cannot inject headers');
  t.notOk(s.mails[0].parsed.bcc);
  t.equal(s.mails[0].parsed.text?.trim(), 'Status firing for db');
  t.notOk(s.mails[0].parsed.html, 'html: "" sends text only');
  t.same(s.mails[1].rcpt, ['oncall@example.com']);
});

t.test('SMTP auth; wrong password is a permanent failure', async (t) => {
  const s = await smtp(t, { auth: true });
  const good = build(emailExporterFactory, { ...base(s.port), auth: { username: 'vigil', password: 's3cret' }, sending_queue: { enabled: false } }).ex;
  await good.logs!.consume(logsOf(fired()));
  t.equal(s.mails.length, 1);
  t.equal(s.mails[0].user, 'vigil');
  const bad = build(emailExporterFactory, { ...base(s.port), auth: { username: 'vigil', password: 'nope' }, sending_queue: { enabled: false } }).ex;
  await t.rejects(bad.logs!.consume(logsOf(fired())), PermanentError);
  await Promise.all([good.shutdown!(), bad.shutdown!()]);
});

t.test('451 is retried and delivered once; 550 is dropped without retry', async (t) => {
  const s = await smtp(t, { reject: (n) => (n === 1 ? '451' : n === 3 ? '550' : undefined) });
  const fast = { initial_interval: '100ms', randomization_factor: 0, max_elapsed_time: '10s' };
  const { ex, telemetry } = build(emailExporterFactory, { ...base(s.port), retry_on_failure: fast, sending_queue: { num_consumers: 1 } });
  await ex.logs!.consume(logsOf(fired()));
  await waitFor(() => s.mails.length === 1, 5000, 'delivery after 451');
  await ex.logs!.consume(logsOf(notification([{ labels: { alertname: 'Rejected' } }])));
  await waitFor(() => s.attempts() >= 3, 5000, 'third attempt');
  await sleep(400);
  await ex.shutdown!();
  t.equal(s.attempts(), 3, '451, accepted retry, 550 (no retry)');
  t.equal(s.mails.length, 1);
  t.equal(await counter(telemetry, 'vigil_exporter_sent_log_records_total'), 1);
  t.equal(await counter(telemetry, 'vigil_exporter_send_failed_log_records_total'), 1);
});

t.test('config validation: templates and recipients', async (t) => {
  t.throws(() => build(emailExporterFactory, { host: 'x', from: 'a@b.c', to: [] }), /no recipients/);
  t.throws(() => build(emailExporterFactory, { host: 'x', from: 'a@b.c', to: ['x@y.z'], subject: '{{ nope }}' }), /subject.*unknown function/);
});
