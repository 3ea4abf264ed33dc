/**
 * `anomaly_events` connector: the bridge from scoring to alerting.
 *
 * - metrics → logs: every point the `anomaly` processor marked (anomaly.score ≥ threshold, with an
 *   expected range) becomes an anomaly event. The connector does not score metrics again.
 * - traces → logs: spans are aggregated per service and span name over `interval` (mean latency and
 *   error rate) and each aggregate is scored; anomalous ones become events.
 * - logs → logs: log records are counted per service and severity over `interval` and the counts
 *   are scored. Our own anomaly events are never counted.
 *
 * Events are log records with event.name "anomaly" (see processors/anomaly/README.md).
 */
import type { Component, ConnectorFactory, CreateSettings, SignalConsumers } from '../../src/component';
import {
  Attributes, Logs, Metrics, Resource, Severity, Signal, SpanKind, StatusCode, Traces, nowNanos, numericValue, millisToNanos, stringValue,
} from '../../src/model';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { CommonConfig, Selector, algorithmProblems, algorithmWarnings, commonProperties, seriesKey, toParams } from '../../processors/anomaly/config';
import { AnomalyEvent, EVENT_NAME, EXPECTED_MAX_ATTR, EXPECTED_MIN_ATTR, SCORE_ATTR, eventsToLogs } from '../../processors/anomaly/events';
import { SeriesTracker } from '../../processors/anomaly/series';

export interface AnomalyEventsConfig extends CommonConfig {
  interval: string | number;
  /** Span kinds aggregated (the Collector's names, lower case). */
  span_kinds: string[];
}

const KIND_NAMES: Record<string, number> = {
  unspecified: SpanKind.UNSPECIFIED, internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER,
};

interface Aggregate {
  seenMs?: number;
  resource: Resource;
  attributes: Attributes;
  name: string;
  count: number;
  errors: number;
  latencySumMs: number;
}

function severityName(n: number, text: string): string {
  if (n >= Severity.FATAL) return 'FATAL';
  if (n >= Severity.ERROR) return 'ERROR';
  if (n >= Severity.WARN) return 'WARN';
  if (n >= Severity.INFO) return 'INFO';
  if (n >= Severity.DEBUG) return 'DEBUG';
  if (n >= Severity.TRACE) return 'TRACE';
  return text ? text.toUpperCase().slice(0, 16) : 'UNSPECIFIED';
}

export class AnomalyEventsConnector implements Component {
  private readonly tracker: SeriesTracker;
  private readonly selector: Selector;
  private readonly kinds: Set<number>;
  private spans = new Map<string, Aggregate>();
  private logCounts = new Map<string, Aggregate>();
  /** Log series seen recently: an interval without records is a count of 0, which is news too. */
  private readonly knownLogSeries = new Map<string, Aggregate>();
  private flushTimer?: NodeJS.Timeout;
  private persistTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly emitted;
  readonly consumers: SignalConsumers = {};

  constructor(private readonly s: CreateSettings<AnomalyEventsConfig>, inputs: readonly Signal[], private readonly next: SignalConsumers) {
    const c = s.config;
    this.tracker = new SeriesTracker({
      component: s.id, params: toParams(c), maxSeries: c.max_series, idleMs: parseDuration(c.series_idle_timeout),
      dataDir: c.persist ? s.dataDir : undefined,
    });
    this.selector = new Selector(c);
    this.kinds = new Set(c.span_kinds.map((k) => KIND_NAMES[k]));
    this.emitted = s.telemetry.counter('vigil_connector_anomaly_events_emitted_total', 'Anomaly events emitted', ['connector', 'kind']);
    if (inputs.includes('metrics')) this.consumers.metrics = { consume: (d) => this.fromMetrics(d) };
    if (inputs.includes('traces')) this.consumers.traces = { consume: async (d) => this.addSpans(d) };
    if (inputs.includes('logs')) this.consumers.logs = { consume: async (d) => this.addLogs(d) };
  }

  async start(): Promise<void> {
    this.tracker.open();
    if (this.consumers.traces || this.consumers.logs) {
      this.flushTimer = setInterval(() => {
        this.flushing = this.flushing.then(() => this.flush()).catch((e) => this.s.logger.warn({ err: (e as Error).message }, 'anomaly_events: could not deliver events'));
      }, Math.max(10, parseDuration(this.s.config.interval)));
      this.flushTimer.unref();
    }
    this.persistTimer = setInterval(() => {
      this.tracker.evictIdle(Date.now());
      try {
        this.tracker.persist();
      } catch (e) {
        this.s.logger.warn({ err: (e as Error).message }, 'anomaly_events: could not persist series state');
      }
    }, Math.max(100, parseDuration(this.s.config.persist_interval)));
    this.persistTimer.unref();
  }

  async shutdown(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.persistTimer) clearInterval(this.persistTimer);
    this.flushTimer = this.persistTimer = undefined;
    await this.flushing.catch(() => undefined);
    this.tracker.close();
  }

  private async emit(events: AnomalyEvent[]): Promise<void> {
    if (events.length === 0 || !this.next.logs) return;
    for (const e of events) this.emitted.labels(this.s.id, e.kind).inc();
    await this.next.logs.consume(eventsToLogs(events, nowNanos()) as Logs);
  }

  private async fromMetrics(data: Metrics): Promise<void> {
    const events: AnomalyEvent[] = [];
    for (const rm of data.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          for (const p of m.data.dataPoints as Array<{ attributes: Attributes; timeUnixNano: bigint; value?: number | bigint; sum?: number; count?: number }>) {
            const score = numericValue(p.attributes[SCORE_ATTR]);
            const lo = numericValue(p.attributes[EXPECTED_MIN_ATTR]);
            const hi = numericValue(p.attributes[EXPECTED_MAX_ATTR]);
            if (score === undefined || lo === undefined || hi === undefined || score < this.s.config.threshold) continue;
            const attributes: Attributes = {};
            for (const k of Object.keys(p.attributes)) if (!k.startsWith('anomaly.')) attributes[k] = p.attributes[k];
            const value = p.value !== undefined ? Number(p.value) : p.sum !== undefined && p.count ? p.sum / p.count : NaN;
            events.push({
              series: seriesKey(m.name, rm.resource.attributes, attributes), kind: 'metric', name: m.name, value, expected: [lo, hi], score,
              timeUnixNano: p.timeUnixNano, attributes: { 'metric.name': m.name, ...attributes }, resource: rm.resource,
            });
          }
        }
      }
    }
    await this.emit(events);
  }

  private addSpans(data: Traces): void {
    for (const rs of data.resourceSpans) {
      const res = rs.resource.attributes;
      const service = stringValue(res['service.name']) ?? 'unknown_service';
      for (const ss of rs.scopeSpans) {
        for (const sp of ss.spans) {
          if (!this.kinds.has(sp.kind)) continue;
          const name = `${service}/${sp.name}`;
          if (!this.selector.selected(name, res, sp.attributes)) continue;
          let a = this.spans.get(name);
          if (!a) {
            if (this.spans.size >= this.s.config.max_series) continue;
            a = { resource: rs.resource, attributes: { 'service.name': service, 'span.name': sp.name }, name, count: 0, errors: 0, latencySumMs: 0 };
            this.spans.set(name, a);
          }
          a.count++;
          if (sp.status.code === StatusCode.ERROR) a.errors++;
          const d = Number(sp.endTimeUnixNano - sp.startTimeUnixNano) / 1e6;
          if (d >= 0 && Number.isFinite(d)) a.latencySumMs += d;
        }
      }
    }
  }

  private addLogs(data: Logs): void {
    for (const rl of data.resourceLogs) {
      const res = rl.resource.attributes;
      const service = stringValue(res['service.name']) ?? 'unknown_service';
      for (const sl of rl.scopeLogs) {
        for (const r of sl.logRecords) {
          if (r.eventName === EVENT_NAME) continue;
          const sev = severityName(r.severityNumber, r.severityText);
          const name = `${service}/${sev}`;
          let a = this.logCounts.get(name);
          if (!a) {
            if (this.logCounts.size >= this.s.config.max_series) continue;
            if (!this.selector.selected(name, res, r.attributes)) continue;
            a = { resource: rl.resource, attributes: { 'service.name': service, severity: sev }, name, count: 0, errors: 0, latencySumMs: 0 };
            this.logCounts.set(name, a);
          }
          a.count++;
        }
      }
    }
  }

  /** Scores the interval's aggregates and emits the anomalous ones. */
  async flush(): Promise<void> {
    const now = Date.now();
    const t = millisToNanos(now);
    const events: AnomalyEvent[] = [];
    const score = (kind: string, a: Aggregate, value: number) => {
      const e = this.tracker.entry(seriesKey(`${kind}:${a.name}`, {}, {}), now);
      const r = this.tracker.score(e, value, now / 1000);
      if (r.ready && r.score >= this.s.config.threshold) {
        events.push({ series: `${kind}:${a.name}`, kind, name: a.name, value, expected: r.expected, score: r.score, timeUnixNano: t, attributes: a.attributes, resource: a.resource });
      }
    };
    const spans = this.spans;
    this.spans = new Map();
    for (const a of spans.values()) {
      score('span.latency', a, a.latencySumMs / a.count);
      score('span.error_rate', a, a.errors / a.count);
    }
    const logs = this.logCounts;
    this.logCounts = new Map();
    for (const [name, a] of logs) this.knownLogSeries.set(name, a);
    const idleMs = parseDuration(this.s.config.series_idle_timeout);
    for (const [name, known] of this.knownLogSeries) {
      const a = logs.get(name);
      if (a) {
        a.seenMs = now;
        score('log.rate', a, a.count);
      } else if (now - (known.seenMs ?? now) > idleMs) {
        this.knownLogSeries.delete(name);
      } else {
        score('log.rate', { ...known, count: 0 }, 0);
      }
    }
    await this.emit(events);
  }
}

export const anomalyEventsConnectorFactory: ConnectorFactory<AnomalyEventsConfig> = {
  kind: 'connector',
  type: 'anomaly_events',
  description: 'Turns points marked by the anomaly processor, and anomalous span latency/error rates and log rates, into anomaly event log records.',
  pairs: [['metrics', 'logs'], ['traces', 'logs'], ['logs', 'logs']],
  mutatesData: false,
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...commonProperties,
      interval: durationSchema('1m', 'Aggregation interval for span and log series.'),
      span_kinds: { type: 'array', items: { enum: Object.keys(KIND_NAMES) }, default: ['server', 'consumer'], description: 'Span kinds whose latency and error rate are scored.' },
    },
  },
  // The same algorithm settings as the processor, so the same checks and the same deprecation warnings.
  validate: algorithmProblems,
  warnings: algorithmWarnings,
  create(settings, inputs, next) {
    const c = new AnomalyEventsConnector(settings, inputs, next);
    return Object.assign(c, c.consumers) as unknown as Component & SignalConsumers;
  },
};
