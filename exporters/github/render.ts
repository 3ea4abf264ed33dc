/** Markdown of GitHub issues and comments for an alert group. */
import { createHash } from 'node:crypto';
import type { Notification, WebhookAlert } from '../../src/alerting/notification';
import { ZERO_TIME } from '../../src/alerting/notification';

/**
 * The group's identity in an issue body: a hash of the group key (the key itself can be long and
 * contain label values, which would make the marker fragile and leak into search). The key already
 * names the route, so it is the group; the receiver is left out so that a group's escalation
 * receivers, served by the same exporter, comment on its issue instead of opening another.
 */
export function groupHash(n: Pick<Notification, 'groupKey'>): string {
  return createHash('sha256').update(`group\n${n.groupKey}`).digest('hex').slice(0, 20);
}

/** The marker hash of earlier versions (receiver and group key), still recognised on existing issues. */
export function legacyGroupHash(n: Pick<Notification, 'receiver' | 'groupKey'>): string {
  return createHash('sha256').update(`${n.receiver}\n${n.groupKey}`).digest('hex').slice(0, 20);
}

export function marker(hash: string): string {
  return `<!-- vigil:alert-group=${hash} -->`;
}

export function findMarker(body: string | null | undefined): string | undefined {
  return /<!-- vigil:alert-group=([0-9a-f]{20}) -->/.exec(body ?? '')?.[1];
}

/**
 * Text from alert labels and annotations is untrusted: escape Markdown and HTML, and break
 * @mentions and #references so an alert cannot ping people or link issues.
 */
export function mdText(s: string): string {
  return s.replace(/[\\`*_{}[\]()<>#|!~]/g, (c) => `\\${c}`).replace(/@/g, '@\u200b').replace(/\r?\n/g, ' ');
}

/** Code spans need no escaping inside, only no backticks and no newlines. */
export function mdCode(s: string): string {
  return `\`${s.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;
}

function labelsMd(l: Record<string, string>): string {
  return Object.entries(l).map(([k, v]) => mdCode(`${k}=${v}`)).join(' ');
}

function row(a: WebhookAlert): string {
  const summary = a.annotations.summary ?? a.labels.alertname ?? a.fingerprint;
  const ends = a.endsAt && a.endsAt !== ZERO_TIME ? ` – ${a.endsAt}` : '';
  const link = /^https?:\/\//i.test(a.generatorURL) ? `[source](${a.generatorURL.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})` : '';
  return `| ${a.status === 'firing' ? '🔥 firing' : '✅ resolved'} | ${mdText(summary)} | ${labelsMd(a.labels)} | ${a.startsAt}${ends} | ${link} |`;
}

export function alertTable(n: Notification): string {
  const lines = ['| Status | Alert | Labels | Since | Link |', '|---|---|---|---|---|', ...n.payload.alerts.map(row)];
  if (n.payload.truncatedAlerts) lines.push('', `_${n.payload.truncatedAlerts} more alerts not shown._`);
  return lines.join('\n');
}

export function groupLabelsText(n: Notification): string {
  return Object.entries(n.payload.groupLabels).map(([k, v]) => `${k}=${v}`).join(' ') || n.groupKey;
}

export function issueBody(n: Notification, hash: string): string {
  const notes = Object.entries(n.payload.commonAnnotations).filter(([k]) => k !== 'summary')
    .map(([k, v]) => `- **${mdText(k)}**: ${/^https?:\/\/\S+$/i.test(v) ? v : mdText(v)}`);
  return [
    `Alert group ${mdCode(groupLabelsText(n))} is **firing** (receiver ${mdCode(n.receiver)}).`,
    '',
    ...(n.payload.commonAnnotations.summary ? [`> ${mdText(n.payload.commonAnnotations.summary)}`, ''] : []),
    ...(notes.length ? [...notes, ''] : []),
    alertTable(n),
    '',
    `Group key: ${mdCode(n.groupKey)}${n.payload.externalURL ? ` · [Vigil](${n.payload.externalURL})` : ''}`,
    '',
    'This issue is managed by Vigil: it gets a comment when the group fires again or escalates, and is closed when the group resolves.',
    '',
    marker(hash),
  ].join('\n');
}

export function commentBody(n: Notification, why: 'refired' | 'changed' | 'escalated' | 'repeat' | 'resolved' | 'partly-resolved'): string {
  const firing = n.payload.alerts.filter((a) => a.status === 'firing').length;
  const head = {
    refired: `🔥 The alert group fired again: ${firing} alert(s) firing.`,
    changed: `🔥 The alerts of the group changed: ${firing} alert(s) firing.`,
    escalated: `⏫ Escalated (policy ${mdCode(n.escalationPolicy ?? '')}, step ${(n.escalationStep ?? 0) + 1}): ${firing} alert(s) firing.`,
    repeat: `🔁 Still firing: ${firing} alert(s).`,
    resolved: '✅ The alert group resolved. Closing.',
    'partly-resolved': `✅ ${n.payload.alerts.length} escalated alert(s) resolved; the group still fires.`,
  }[why];
  return `${head}\n\n${alertTable(n)}`;
}
