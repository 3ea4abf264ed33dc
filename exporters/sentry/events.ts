/** Sentry events from alerts, error spans and error logs. */
import { createHash } from 'node:crypto';
import type { Event, SeverityLevel, StackFrame } from '@sentry/node';
import { sentry } from './sdk';
import type { Notification, WebhookAlert } from '../../src/alerting/notification';
import { Attributes, LogRecord, Resource, Severity, Span, SpanKind, attributesToJs, nanosToMillis, stringValue } from '../../src/model';

const TAG_KEY_MAX = 32;
const TAG_VALUE_MAX = 200;

/** A deterministic event id, so a retried delivery carries the same id and Sentry drops the repeat. */
export function eventId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

/** Alert severity label → Sentry level. Unknown values are errors: an alert is worth attention. */
export function levelOf(severity: string | undefined): SeverityLevel {
  switch ((severity ?? '').toLowerCase()) {
    case 'critical': case 'page': case 'fatal': case 'emergency': return 'fatal';
    case 'warning': case 'warn': case 'medium': return 'warning';
    case 'info': case 'informational': case 'low': case 'none': return 'info';
    case 'debug': return 'debug';
    default: return 'error';
  }
}

/** Sentry truncates or rejects long tag keys and values: shorten them here, predictably. */
function tagsOf(labels: Record<string, string>, into: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    const key = k.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, TAG_KEY_MAX);
    if (key) into[key] = String(v).replace(/\n/g, ' ').slice(0, TAG_VALUE_MAX);
  }
  return into;
}

function resourceTags(resource: Resource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['service.name', 'service.namespace', 'service.version', 'deployment.environment.name', 'host.name']) {
    const v = stringValue(resource.attributes[k]);
    if (v) out[k] = v;
  }
  return out;
}

export function alertEvent(n: Notification, a: WebhookAlert, delivery: string): Event {
  const summary = a.annotations.summary ?? a.annotations.description ?? a.labels.alertname ?? 'alert';
  return {
    event_id: eventId(delivery, a.fingerprint),
    message: `${a.labels.alertname ?? 'Alert'}: ${summary}`,
    level: levelOf(a.labels.severity),
    // Sentry groups issues by this: one Sentry issue per alert, the same identity as ours.
    fingerprint: [a.fingerprint],
    timestamp: Date.parse(a.startsAt) / 1000 || Date.now() / 1000,
    logger: 'vigil.alerts',
    tags: tagsOf(a.labels, { 'alert.receiver': n.receiver.slice(0, TAG_VALUE_MAX), 'alert.status': a.status }),
    extra: { annotations: a.annotations },
    contexts: {
      alert: {
        fingerprint: a.fingerprint, starts_at: a.startsAt, generator_url: a.generatorURL, group_key: n.groupKey,
        ...(n.escalationStep !== undefined ? { escalation_step: n.escalationStep, escalation_policy: n.escalationPolicy } : {}),
      },
    },
  };
}

function exceptionOf(attrs: Attributes): Event['exception'] | undefined {
  const type = stringValue(attrs['exception.type']);
  const value = stringValue(attrs['exception.message']);
  const stack = stringValue(attrs['exception.stacktrace']);
  if (!type && !value && !stack) return undefined;
  // JavaScript stacks parse into frames; the parser is for V8's format, so the text is kept in
  // `extra.stacktrace` too for other languages.
  let frames: StackFrame[] = [];
  if (stack) { try { frames = sentry().defaultStackParser(stack); } catch { frames = []; } }
  return { values: [{ type: type ?? 'Error', value: value ?? '', ...(frames.length ? { stacktrace: { frames } } : {}) }] };
}

function withoutException(attrs: Attributes): Record<string, unknown> {
  const out = attributesToJs(attrs);
  for (const k of ['exception.type', 'exception.message', 'exception.stacktrace']) delete out[k];
  return out;
}

const KIND_NAMES: Record<number, string> = { [SpanKind.INTERNAL]: 'internal', [SpanKind.SERVER]: 'server', [SpanKind.CLIENT]: 'client', [SpanKind.PRODUCER]: 'producer', [SpanKind.CONSUMER]: 'consumer' };

export function spanEvent(span: Span, resource: Resource): Event {
  const exc = span.events.find((e) => e.name === 'exception');
  const exception = exc ? exceptionOf(exc.attributes) : undefined;
  const stack = exc ? stringValue(exc.attributes['exception.stacktrace']) : undefined;
  return {
    event_id: eventId('span', span.traceId, span.spanId),
    ...(exception ? { exception } : { message: `${span.name}: ${span.status.message || 'error status'}` }),
    level: 'error',
    timestamp: nanosToMillis(span.endTimeUnixNano || span.startTimeUnixNano) / 1000,
    logger: 'vigil.spans',
    transaction: span.name,
    tags: { ...resourceTags(resource), 'span.kind': KIND_NAMES[span.kind] ?? 'unspecified' },
    contexts: {
      trace: { trace_id: span.traceId, span_id: span.spanId, ...(span.parentSpanId ? { parent_span_id: span.parentSpanId } : {}), op: span.name, status: 'internal_error' },
      otel: { attributes: withoutException(span.attributes), resource: attributesToJs(resource.attributes), status_message: span.status.message },
    },
    ...(stack ? { extra: { stacktrace: stack } } : {}),
  };
}

export function logEvent(r: LogRecord, resource: Resource): Event {
  const exception = exceptionOf(r.attributes);
  const stack = stringValue(r.attributes['exception.stacktrace']);
  const body = stringValue(r.body) ?? '';
  return {
    event_id: eventId('log', String(r.timeUnixNano || r.observedTimeUnixNano), r.traceId, r.spanId, body, JSON.stringify(withoutException(r.attributes))),
    ...(exception ? { exception } : {}),
    message: body.slice(0, 8192),
    level: r.severityNumber >= Severity.FATAL ? 'fatal' : 'error',
    timestamp: nanosToMillis(r.timeUnixNano || r.observedTimeUnixNano) / 1000 || Date.now() / 1000,
    logger: 'vigil.logs',
    tags: { ...resourceTags(resource), ...(r.severityText ? { 'log.severity': r.severityText.slice(0, TAG_VALUE_MAX) } : {}) },
    contexts: {
      ...(r.traceId ? { trace: { trace_id: r.traceId, span_id: r.spanId || '0000000000000000' } } : {}),
      otel: { attributes: withoutException(r.attributes), resource: attributesToJs(resource.attributes) },
    },
    ...(stack ? { extra: { stacktrace: stack } } : {}),
  };
}
