/**
 * The content of a notification e-mail: subject, text and HTML parts from templates, with
 * defaults that read well without configuration (a headline, an alert table with labels and
 * annotations, links back to Vigil).
 */
import { createHash } from 'node:crypto';
import type { Notification, WebhookAlert } from '../../src/alerting/notification';
import { ZERO_TIME } from '../../src/alerting/notification';
import { NotifyTemplate, Trusted, escapeHtml, templateData } from '../webhook/template';

export const DEFAULT_SUBJECT = '[{{ .StatusTag }}] {{ .GroupLabelsText }}';
export const DEFAULT_TEXT = '{{ .Headline }}\n\n{{ .AlertsText }}\n-- \nVigil alert group {{ .GroupKey }}\n{{ .ExternalURL }}\n';
export const DEFAULT_HTML = '<!doctype html><html><body style="font-family:sans-serif">'
  + '<h2>{{ .Headline }}</h2>{{ .AlertsHTML }}'
  + '<p style="color:#666;font-size:small">Vigil alert group <code>{{ .GroupKey }}</code> &middot; <a href="{{ .ExternalURL }}">{{ .ExternalURL }}</a></p>'
  + '</body></html>';

function labelsText(l: Record<string, string>): string {
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(' ');
}

function when(a: WebhookAlert): string {
  const ends = a.endsAt && a.endsAt !== ZERO_TIME ? `, ended ${a.endsAt}` : '';
  return `since ${a.startsAt}${ends}`;
}

function alertsText(n: Notification): string {
  const lines: string[] = [];
  for (const status of ['firing', 'resolved'] as const) {
    const alerts = n.payload.alerts.filter((a) => a.status === status);
    if (!alerts.length) continue;
    lines.push(`${status === 'firing' ? 'Firing' : 'Resolved'} (${alerts.length}):`);
    for (const a of alerts) {
      lines.push(`- ${a.annotations.summary ?? a.labels.alertname ?? a.fingerprint} (${when(a)})`);
      lines.push(`  labels: ${labelsText(a.labels)}`);
      for (const [k, v] of Object.entries(a.annotations)) if (k !== 'summary') lines.push(`  ${k}: ${v}`);
      if (a.generatorURL) lines.push(`  source: ${a.generatorURL}`);
    }
    lines.push('');
  }
  if (n.payload.truncatedAlerts) lines.push(`(${n.payload.truncatedAlerts} more alerts not shown)`, '');
  return lines.join('\n');
}

const cell = 'style="border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top"';

/** Only http(s) links become hrefs: a `javascript:` generatorURL must not be clickable. */
function link(url: string, text: string): string {
  return /^https?:\/\//i.test(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>` : escapeHtml(text);
}

function alertsHtml(n: Notification): Trusted {
  const rows = n.payload.alerts.map((a) => {
    const color = a.status === 'firing' ? '#c0392b' : '#27ae60';
    const labels = Object.entries(a.labels).map(([k, v]) => `<code>${escapeHtml(k)}=${escapeHtml(v)}</code>`).join(' ');
    const notes = Object.entries(a.annotations).filter(([k]) => k !== 'summary')
      .map(([k, v]) => `<div><b>${escapeHtml(k)}</b>: ${/^https?:\/\//i.test(v) ? link(v, v) : escapeHtml(v)}</div>`).join('');
    return `<tr><td ${cell}><b style="color:${color}">${a.status.toUpperCase()}</b></td>`
      + `<td ${cell}>${escapeHtml(a.annotations.summary ?? a.labels.alertname ?? '')}${notes}</td>`
      + `<td ${cell}>${labels}</td><td ${cell}>${escapeHtml(when(a))}</td>`
      + `<td ${cell}>${a.generatorURL ? link(a.generatorURL, 'source') : ''}</td></tr>`;
  }).join('');
  const more = n.payload.truncatedAlerts ? `<p>${n.payload.truncatedAlerts} more alerts not shown.</p>` : '';
  return new Trusted(`<table style="border-collapse:collapse"><tr><th ${cell}>Status</th><th ${cell}>Alert</th><th ${cell}>Labels</th><th ${cell}>Time</th><th ${cell}>Link</th></tr>${rows}</table>${more}`);
}

export function emailData(n: Notification): Record<string, unknown> {
  const firing = n.payload.alerts.filter((a) => a.status === 'firing').length;
  const what = labelsText(n.payload.groupLabels) || n.groupKey;
  const escalation = n.escalationStep !== undefined ? ` (escalation ${n.escalationPolicy ?? ''} step ${n.escalationStep + 1})` : '';
  return templateData(n, {
    StatusTag: n.status === 'firing' ? `FIRING:${firing}` : 'RESOLVED',
    GroupLabelsText: what,
    Headline: n.status === 'firing'
      ? `${firing} alert${firing === 1 ? '' : 's'} firing for ${what}${escalation}`
      : `Resolved: ${what}`,
    AlertsText: alertsText(n),
    AlertsHTML: alertsHtml(n),
  });
}

export interface EmailTemplates {
  subject: NotifyTemplate;
  text: NotifyTemplate;
  html: NotifyTemplate;
}

export function renderEmail(n: Notification, t: EmailTemplates): { subject: string; text: string; html: string } {
  const data = emailData(n);
  // Subjects are header lines: no newlines, whatever the labels contain.
  const subject = t.subject.render(data).replace(/[\r\n]+/g, ' ').trim().slice(0, 250);
  return { subject, text: t.text.render(data), html: t.html.render(data, escapeHtml) };
}

/**
 * Thread headers. Every message of a group refers to the same stable id (hash of the receiver
 * and group key), so mail clients that thread by References/In-Reply-To show a group's firing,
 * repeat and resolved mails as one conversation, with no state kept here.
 */
export function threadIds(n: Notification, deliveryId: string, domain: string): { messageId: string; root: string } {
  const group = createHash('sha256').update(`${n.receiver}\n${n.groupKey}`).digest('hex').slice(0, 24);
  return { root: `<vigil.${group}@${domain}>`, messageId: `<vigil.${group}.${deliveryId}@${domain}>` };
}
