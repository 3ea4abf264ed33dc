/**
 * The contract between the alert router and the notification exporters (webhook, email, github,
 * sentry, alertmanager).
 *
 * The `alerts` connector emits one log record per (receiver, group) notification into a logs
 * pipeline. Each record:
 *
 * - `eventName` = `alert.notification` (also set as the `event.name` attribute for consumers that
 *   only look at attributes);
 * - attributes:
 *     `alert.receiver`         the Alertmanager-style receiver name it is addressed to;
 *     `alert.group_key`        the group key (Alertmanager's format: `<route key>:<group labels>`);
 *     `alert.status`           `firing` or `resolved` (firing when any alert in it fires);
 *     `alert.escalation_step`  0-based step index, only on notifications sent by an escalation policy;
 *     `alert.escalation_policy` the policy name, with the step;
 *     `alert.count`            number of alerts in the payload;
 * - body: a string, the JSON text of Alertmanager's webhook payload version 4, so an exporter can
 *   POST it unchanged and existing Alertmanager webhook consumers work as they are.
 *
 * Exporters take a `receivers: [names]` config filter: an exporter handles a notification only when
 * its `alert.receiver` is in that list; an empty or absent list means every receiver. Records whose
 * event name is not `alert.notification` are not notifications and are ignored by those exporters.
 */
import { Attributes, LogRecord, Logs, Severity, millisToNanos, setAttr, stringValue, numericValue } from '../model';
import { Labels, sortLabels } from './labels';

export const NOTIFICATION_EVENT = 'alert.notification';
export const ATTR_RECEIVER = 'alert.receiver';
export const ATTR_GROUP_KEY = 'alert.group_key';
export const ATTR_STATUS = 'alert.status';
export const ATTR_ESCALATION_STEP = 'alert.escalation_step';
export const ATTR_ESCALATION_POLICY = 'alert.escalation_policy';
export const ATTR_COUNT = 'alert.count';

export type AlertStatus = 'firing' | 'resolved';

/** One alert of Alertmanager's webhook payload. Times are RFC 3339; an unset endsAt is Go's zero time. */
export interface WebhookAlert {
  status: AlertStatus;
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's webhook payload, version 4. */
export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: AlertStatus;
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface Notification {
  receiver: string;
  groupKey: string;
  status: AlertStatus;
  escalationStep?: number;
  escalationPolicy?: string;
  payload: WebhookPayload;
}

/** Go's zero time as encoding/json writes it; Alertmanager sends it for alerts with no end. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A time as Go's encoding/json writes it (RFC 3339 with trailing zeros of the fraction cut:
 *  `…:53.71Z`, `…:53Z`), so that webhook bodies are Alertmanager's byte for byte. */
export function formatTime(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z') : ZERO_TIME;
}

/** Labels (or annotations) whose name and value are the same in every set. */
export function commonOf(sets: Labels[]): Labels {
  if (sets.length === 0) return {};
  const out: Labels = {};
  for (const [k, v] of Object.entries(sets[0])) {
    if (sets.every((s) => Object.prototype.hasOwnProperty.call(s, k) && s[k] === v)) out[k] = v;
  }
  return sortLabels(out);
}

export interface PayloadInput {
  receiver: string;
  groupKey: string;
  groupLabels: Labels;
  externalURL: string;
  alerts: WebhookAlert[];
  /** Alerts left out to respect a size limit. */
  truncatedAlerts?: number;
}

export function buildPayload(i: PayloadInput): WebhookPayload {
  return {
    version: '4',
    groupKey: i.groupKey,
    truncatedAlerts: i.truncatedAlerts ?? 0,
    status: i.alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: i.receiver,
    groupLabels: sortLabels(i.groupLabels),
    commonLabels: commonOf(i.alerts.map((a) => a.labels)),
    commonAnnotations: commonOf(i.alerts.map((a) => a.annotations)),
    externalURL: i.externalURL,
    alerts: i.alerts,
  };
}

/** The log record carrying a notification (see the module comment for the contract). */
export function toNotificationRecord(n: Notification, nowMs: number = Date.now()): LogRecord {
  const attributes: Attributes = {};
  setAttr(attributes, 'event.name', NOTIFICATION_EVENT);
  setAttr(attributes, ATTR_RECEIVER, n.receiver);
  setAttr(attributes, ATTR_GROUP_KEY, n.groupKey);
  setAttr(attributes, ATTR_STATUS, n.status);
  setAttr(attributes, ATTR_COUNT, n.payload.alerts.length);
  if (n.escalationStep !== undefined) setAttr(attributes, ATTR_ESCALATION_STEP, n.escalationStep);
  if (n.escalationPolicy !== undefined) setAttr(attributes, ATTR_ESCALATION_POLICY, n.escalationPolicy);
  const t = millisToNanos(nowMs);
  return {
    timeUnixNano: t,
    observedTimeUnixNano: t,
    severityNumber: n.status === 'firing' ? Severity.WARN : Severity.INFO,
    severityText: n.status,
    body: JSON.stringify(n.payload),
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: NOTIFICATION_EVENT,
  };
}

/** A logs batch of notification records, under a `service.name: vigil` resource. */
export function notificationLogs(records: LogRecord[]): Logs {
  return {
    resourceLogs: [{
      resource: { attributes: { 'service.name': 'vigil' }, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 'vigil/alerts', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
    }],
  };
}

export function isNotification(r: LogRecord): boolean {
  return r.eventName === NOTIFICATION_EVENT || r.attributes['event.name'] === NOTIFICATION_EVENT;
}

/** The notification a record carries, or undefined when it is not a well-formed notification record. */
export function parseNotification(r: LogRecord): Notification | undefined {
  if (!isNotification(r)) return undefined;
  const receiver = stringValue(r.attributes[ATTR_RECEIVER]);
  const groupKey = stringValue(r.attributes[ATTR_GROUP_KEY]);
  const status = stringValue(r.attributes[ATTR_STATUS]);
  if (receiver === undefined || groupKey === undefined || (status !== 'firing' && status !== 'resolved')) return undefined;
  const text = typeof r.body === 'string' ? r.body : undefined;
  if (text === undefined) return undefined;
  let payload: WebhookPayload;
  try {
    payload = JSON.parse(text) as WebhookPayload;
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || payload.version !== '4' || !Array.isArray(payload.alerts)) return undefined;
  const n: Notification = { receiver, groupKey, status, payload };
  const step = numericValue(r.attributes[ATTR_ESCALATION_STEP]);
  if (step !== undefined) n.escalationStep = step;
  const policy = stringValue(r.attributes[ATTR_ESCALATION_POLICY]);
  if (policy !== undefined) n.escalationPolicy = policy;
  return n;
}

/** The filter every notification exporter applies: empty list = all receivers. */
export function receiverSelected(receivers: readonly string[] | undefined, receiver: string): boolean {
  return !receivers || receivers.length === 0 || receivers.includes(receiver);
}
