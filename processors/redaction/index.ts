/**
 * `redaction` processor, after the Collector contrib's: removes or disguises personal data and
 * secrets in span, span event and log record attributes and in string log bodies.
 *
 * - Keys: `blocked_keys` (regexes) have their whole value redacted; with `allow_all_keys: false`
 *   only `allowed_keys` are kept; `ignored_keys` are never touched.
 * - Values: the `patterns` (see redact.ts) are replaced inside every string value.
 * - `action`: `mask` (****), `hash` (keyed HMAC-SHA256, so one user stays correlatable without being
 *   readable; `hash_key` required), or `drop` (the attribute goes).
 * - Counts: `redaction.redacted.count` / `redaction.dropped.count` on each item that lost something,
 *   and `vigil_processor_redaction_redacted_total`.
 *
 * Put it after `security` in a pipeline: detection needs the raw payloads and client addresses.
 */
import type { ProcessorFactory } from '../../src/component';
import type { Attributes, Logs, Traces } from '../../src/model';
import { Action, PATTERN_NAMES, PatternName, Redactor } from './redact';

export interface RedactionConfig {
  allow_all_keys: boolean;
  allowed_keys: string[];
  blocked_keys: string[];
  ignored_keys: string[];
  patterns: PatternName[];
  action: Action;
  hash_key?: string;
  summary: boolean;
}

class AttributeRedactor {
  readonly redactor: Redactor;
  private readonly blocked: RegExp[];
  private readonly allowed: Set<string>;
  private readonly ignored: Set<string>;

  constructor(private readonly c: RedactionConfig) {
    this.redactor = new Redactor({ patterns: c.patterns, action: c.action, hashKey: c.hash_key });
    this.blocked = c.blocked_keys.map((k) => new RegExp(k, 'i'));
    this.allowed = new Set(c.allowed_keys);
    this.ignored = new Set(['redaction.redacted.count', 'redaction.dropped.count', ...c.ignored_keys]);
  }

  /** Redact in place; returns [redacted, dropped]. */
  attributes(attrs: Attributes): [number, number] {
    let redacted = 0;
    let dropped = 0;
    for (const key of Object.keys(attrs)) {
      if (this.ignored.has(key)) continue;
      if (!this.c.allow_all_keys && !this.allowed.has(key)) {
        delete attrs[key];
        dropped++;
        continue;
      }
      const v = attrs[key];
      if (this.blocked.some((re) => re.test(key))) {
        if (this.c.action === 'drop') {
          delete attrs[key];
          dropped++;
        } else {
          attrs[key] = this.redactor.replacement(typeof v === 'string' ? v : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)));
          redacted++;
        }
        continue;
      }
      if (typeof v !== 'string') continue;
      const r = this.redactor.redact(v);
      if (!r.count) continue;
      if (this.c.action === 'drop') {
        delete attrs[key];
        dropped++;
      } else {
        attrs[key] = r.value;
        redacted += r.count;
      }
    }
    return [redacted, dropped];
  }

  summarise(attrs: Attributes, redacted: number, dropped: number): void {
    if (!this.c.summary) return;
    if (redacted) attrs['redaction.redacted.count'] = redacted;
    if (dropped) attrs['redaction.dropped.count'] = dropped;
  }
}

export const redactionProcessorFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  description: 'Masks, hashes (keyed HMAC) or drops personal data and secrets in attributes and log bodies.',
  signals: ['traces', 'logs'],
  mutatesData: true,
  configSchema: {
    type: 'object',
    properties: {
      allow_all_keys: { type: 'boolean', default: true, description: 'false: only allowed_keys are kept.' },
      allowed_keys: { type: 'array', items: { type: 'string' }, default: [] },
      blocked_keys: { type: 'array', items: { type: 'string' }, default: ['(?:^|[._-])(password|passwd|secret|token|api[_-]?key|authorization|cookie)$'], description: 'Regexes of keys whose whole value is redacted.' },
      ignored_keys: { type: 'array', items: { type: 'string' }, default: [], description: 'Keys never touched.' },
      patterns: { type: 'array', items: { enum: PATTERN_NAMES }, default: PATTERN_NAMES, description: 'Value patterns replaced inside strings.' },
      action: { enum: ['mask', 'hash', 'drop'], default: 'mask' },
      hash_key: { type: 'string', minLength: 16, secret: true, description: 'HMAC key for action: hash; use ${env:VAR}.' },
      summary: { type: 'boolean', default: true, description: 'Add redaction.*.count attributes to items that lost something.' },
    },
  },
  validate(c) {
    return c.action === 'hash' && !c.hash_key ? [{ path: ['hash_key'], message: 'action "hash" needs hash_key (at least 16 characters)' }] : [];
  },
  create(settings, signal, next) {
    const r = new AttributeRedactor(settings.config);
    const counter = settings.telemetry.counter('vigil_processor_redaction_redacted_total', 'Values redacted or dropped by the redaction processor', ['processor', 'action']);
    const count = (redacted: number, dropped: number) => {
      if (redacted) counter.inc({ processor: settings.id, action: settings.config.action === 'drop' ? 'mask' : settings.config.action }, redacted);
      if (dropped) counter.inc({ processor: settings.id, action: 'drop' }, dropped);
    };
    return {
      async consume(data) {
        if (signal === 'traces') {
          for (const rs of (data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) {
            let [red, drop] = r.attributes(span.attributes);
            for (const ev of span.events) {
              const [a, b] = r.attributes(ev.attributes);
              red += a;
              drop += b;
            }
            r.summarise(span.attributes, red, drop);
            count(red, drop);
          }
        } else {
          for (const rl of (data as Logs).resourceLogs) for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) {
            let [red, drop] = r.attributes(rec.attributes);
            if (typeof rec.body === 'string') {
              const b = r.redactor.redact(rec.body);
              if (b.count) {
                rec.body = settings.config.action === 'drop' ? '[redacted]' : b.value;
                red += b.count;
              }
            }
            r.summarise(rec.attributes, red, drop);
            count(red, drop);
          }
        }
        return next.consume(data);
      },
    };
  },
};
