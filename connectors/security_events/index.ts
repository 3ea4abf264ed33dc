/**
 * `security_events` connector (traces → logs, logs → logs): every span or log record that the
 * `security` processor marked (`security.threat.type` present) becomes a security event, a log
 * record with event.name "security.threat", carrying the threat's type, score, severity, user,
 * source IP, matched attribute and evidence, the trace/span ids of the offending request and the
 * resource of the original. Unmarked items produce nothing, so the connector can sit on the full
 * stream. Security events themselves are never turned into events again.
 */
import type { Component, ConnectorFactory, CreateSettings, SignalConsumers } from '../../src/component';
import { AnyValue, Attributes, LogRecord, Logs, Resource, Severity, Traces, cloneResource, nowNanos, setAttr, stringValue } from '../../src/model';
import { THREAT_ATTR } from '../../processors/security';

export const SECURITY_EVENT_NAME = 'security.threat';

export interface SecurityEventsConfig {
  /** Request attributes copied onto the event when present (who, what, from where). */
  copy_attributes: string[];
}

const SEVERITY: Record<string, [number, string]> = {
  low: [Severity.INFO, 'INFO'],
  medium: [Severity.WARN, 'WARN'],
  high: [Severity.ERROR, 'ERROR'],
  critical: [Severity.FATAL, 'FATAL'],
};

export class SecurityEventsConnector implements Component {
  private readonly emitted;

  constructor(private readonly s: CreateSettings<SecurityEventsConfig>, private readonly next: SignalConsumers) {
    this.emitted = s.telemetry.counter('vigil_connector_security_events_emitted_total', 'Security events emitted', ['connector']).labels(s.id);
  }

  async shutdown(): Promise<void> {
    // Stateless: nothing to flush.
  }

  private event(src: Attributes, time: bigint, traceId: string, spanId: string): LogRecord | undefined {
    const type = stringValue(src[THREAT_ATTR.type]);
    if (!type) return undefined;
    if (stringValue(src['event.name']) === SECURITY_EVENT_NAME) return undefined;
    const severity = stringValue(src[THREAT_ATTR.severity]) ?? 'medium';
    const [num, text] = SEVERITY[severity] ?? SEVERITY.medium;
    const attrs: Attributes = {};
    setAttr(attrs, 'event.name', SECURITY_EVENT_NAME);
    for (const k of Object.values(THREAT_ATTR)) if (src[k] !== undefined) setAttr(attrs, k, src[k]);
    if (src['security.threat.types'] !== undefined) setAttr(attrs, 'security.threat.types', src['security.threat.types']);
    for (const k of this.s.config.copy_attributes) if (src[k] !== undefined) setAttr(attrs, k, src[k] as AnyValue);
    const evidence = stringValue(src[THREAT_ATTR.evidence]) ?? '';
    return {
      timeUnixNano: time || nowNanos(),
      observedTimeUnixNano: nowNanos(),
      severityNumber: num,
      severityText: text,
      body: `${type} (${severity}): ${evidence}`,
      attributes: attrs,
      droppedAttributesCount: 0,
      flags: 0,
      traceId,
      spanId,
      eventName: SECURITY_EVENT_NAME,
    };
  }

  private async emit(groups: Array<{ resource: Resource; records: LogRecord[] }>): Promise<void> {
    const out: Logs = { resourceLogs: [] };
    let n = 0;
    for (const g of groups) {
      if (!g.records.length) continue;
      n += g.records.length;
      out.resourceLogs.push({
        resource: cloneResource(g.resource),
        schemaUrl: '',
        scopeLogs: [{ scope: { name: 'vigil/security', version: '', attributes: {}, droppedAttributesCount: 0 }, schemaUrl: '', logRecords: g.records }],
      });
    }
    if (!n || !this.next.logs) return;
    this.emitted.inc(n);
    await this.next.logs.consume(out);
  }

  readonly traces = {
    consume: async (data: Traces): Promise<void> => {
      const groups = data.resourceSpans.map((rs) => {
        const records: LogRecord[] = [];
        for (const ss of rs.scopeSpans) for (const sp of ss.spans) {
          const e = this.event(sp.attributes, sp.endTimeUnixNano || sp.startTimeUnixNano, sp.traceId, sp.spanId);
          if (e) records.push(e);
        }
        return { resource: rs.resource, records };
      });
      await this.emit(groups);
    },
  };

  readonly logs = {
    consume: async (data: Logs): Promise<void> => {
      const groups = data.resourceLogs.map((rl) => {
        const records: LogRecord[] = [];
        for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
          if (r.eventName === SECURITY_EVENT_NAME) continue;
          const e = this.event(r.attributes, r.timeUnixNano || r.observedTimeUnixNano, r.traceId, r.spanId);
          if (e) records.push(e);
        }
        return { resource: rl.resource, records };
      });
      await this.emit(groups);
    },
  };
}

export const securityEventsConnectorFactory: ConnectorFactory<SecurityEventsConfig> = {
  kind: 'connector',
  type: 'security_events',
  description: 'Turns spans and logs marked by the security processor into security events (log records, event.name security.threat)',
  pairs: [['traces', 'logs'], ['logs', 'logs']],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      copy_attributes: {
        type: 'array', items: { type: 'string' },
        default: ['user.id', 'enduser.id', 'client.address', 'http.request.method', 'http.route', 'url.path', 'http.response.status_code', 'user_agent.original', 'db.system', 'db.system.name', 'event.name.original'],
      },
    },
  },
  create: (settings: CreateSettings<SecurityEventsConfig>, _inputs, next: SignalConsumers) => new SecurityEventsConnector(settings, next),
};
