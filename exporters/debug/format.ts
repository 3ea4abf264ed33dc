/**
 * Human-readable text for the debug exporter. Attribute values are printed, as the Collector's
 * debug exporter does at `detailed`: that is the point of it, so it is off unless configured.
 */
import {
  AnyValue, Attributes, Double, InstrumentationScope, KvList, Logs, Metrics, Resource, Signal, Traces, anyValueToJs, countItems,
} from '../../src/model';

const KIND = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS = ['Unset', 'Ok', 'Error'];

function value(v: AnyValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Double) return String(v.value);
  if (v instanceof Uint8Array || v instanceof KvList || Array.isArray(v)) return JSON.stringify(anyValueToJs(v));
  return String(v);
}

function attrs(a: Attributes, indent: string): string[] {
  return Object.keys(a).map((k) => `${indent}-> ${k}: ${value(a[k])}`);
}

function time(n: bigint): string {
  if (n === 0n) return '0';
  const ms = Number(n / 1_000_000n);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${(n % 1_000_000n).toString().padStart(6, '0')}Z`;
}

function header(kind: string, i: number, r: Resource, schemaUrl: string): string[] {
  return [`${kind} #${i}`, `Resource SchemaURL: ${schemaUrl}`, 'Resource attributes:', ...attrs(r.attributes, '     ')];
}

function scopeLines(kind: string, j: number, s: InstrumentationScope, schemaUrl: string): string[] {
  return [`${kind} #${j}`, `ScopeSpans SchemaURL: ${schemaUrl}`.replace('ScopeSpans', kind), `InstrumentationScope ${s.name} ${s.version}`.trimEnd(), ...(Object.keys(s.attributes).length ? ['InstrumentationScope attributes:', ...attrs(s.attributes, '     ')] : [])];
}

export function summary(signal: Signal, data: Traces | Metrics | Logs): string {
  switch (signal) {
    case 'traces': {
      const t = data as Traces;
      return `Traces: resource spans: ${t.resourceSpans.length}, spans: ${countItems(signal, t)}`;
    }
    case 'metrics': {
      const m = data as Metrics;
      let metrics = 0;
      for (const rm of m.resourceMetrics) for (const sm of rm.scopeMetrics) metrics += sm.metrics.length;
      return `Metrics: resource metrics: ${m.resourceMetrics.length}, metrics: ${metrics}, data points: ${countItems(signal, m)}`;
    }
    case 'logs': {
      const l = data as Logs;
      return `Logs: resource logs: ${l.resourceLogs.length}, log records: ${countItems(signal, l)}`;
    }
  }
}

/** `normal`: one line per item. */
export function normal(signal: Signal, data: Traces | Metrics | Logs): string[] {
  const out: string[] = [];
  if (signal === 'traces') {
    for (const rs of (data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
      out.push(`${s.name} ${s.traceId} ${s.spanId} ${KIND[s.kind] ?? s.kind} ${STATUS[s.status.code] ?? s.status.code} ${Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6}ms`);
    }
  } else if (signal === 'metrics') {
    for (const rm of (data as Metrics).resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
      out.push(`${m.name}${m.unit ? ` (${m.unit})` : ''} ${m.data.type}: ${m.data.dataPoints.length} data point(s)`);
    }
  } else {
    for (const rl of (data as Logs).resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
      out.push(`${time(r.timeUnixNano || r.observedTimeUnixNano)} ${r.severityText || r.severityNumber} ${typeof r.body === 'string' ? r.body : value(r.body)}`);
    }
  }
  return out;
}

/** `detailed`: every field of every item, in the layout of the Collector's debug exporter. */
export function detailed(signal: Signal, data: Traces | Metrics | Logs): string[] {
  const out: string[] = [];
  if (signal === 'traces') {
    (data as Traces).resourceSpans.forEach((rs, i) => {
      out.push(...header('ResourceSpans', i, rs.resource, rs.schemaUrl));
      rs.scopeSpans.forEach((ss, j) => {
        out.push(...scopeLines('ScopeSpans', j, ss.scope, ss.schemaUrl));
        ss.spans.forEach((s, k) => {
          out.push(`Span #${k}`, `    Trace ID       : ${s.traceId}`, `    Parent ID      : ${s.parentSpanId}`, `    ID             : ${s.spanId}`,
            `    Name           : ${s.name}`, `    Kind           : ${KIND[s.kind] ?? s.kind}`, `    Start time     : ${time(s.startTimeUnixNano)}`,
            `    End time       : ${time(s.endTimeUnixNano)}`, `    Status code    : ${STATUS[s.status.code] ?? s.status.code}`, `    Status message : ${s.status.message}`);
          if (s.traceState) out.push(`    TraceState     : ${s.traceState}`);
          if (Object.keys(s.attributes).length) out.push('Attributes:', ...attrs(s.attributes, '     '));
          s.events.forEach((e, n) => out.push(`SpanEvent #${n}`, `     -> Name: ${e.name}`, `     -> Timestamp: ${time(e.timeUnixNano)}`, ...(Object.keys(e.attributes).length ? ['     -> Attributes:', ...attrs(e.attributes, '         ')] : [])));
          s.links.forEach((l, n) => out.push(`SpanLink #${n}`, `     -> Trace ID: ${l.traceId}`, `     -> ID: ${l.spanId}`, `     -> TraceState: ${l.traceState}`, ...(Object.keys(l.attributes).length ? ['     -> Attributes:', ...attrs(l.attributes, '         ')] : [])));
        });
      });
    });
  } else if (signal === 'metrics') {
    (data as Metrics).resourceMetrics.forEach((rm, i) => {
      out.push(...header('ResourceMetrics', i, rm.resource, rm.schemaUrl));
      rm.scopeMetrics.forEach((sm, j) => {
        out.push(...scopeLines('ScopeMetrics', j, sm.scope, sm.schemaUrl));
        sm.metrics.forEach((m, k) => {
          out.push(`Metric #${k}`, 'Descriptor:', `     -> Name: ${m.name}`, `     -> Description: ${m.description}`, `     -> Unit: ${m.unit}`, `     -> DataType: ${m.data.type}`);
          if (m.data.type === 'sum') out.push(`     -> IsMonotonic: ${m.data.isMonotonic}`);
          if ('aggregationTemporality' in m.data) out.push(`     -> AggregationTemporality: ${['Unspecified', 'Delta', 'Cumulative'][m.data.aggregationTemporality] ?? m.data.aggregationTemporality}`);
          (m.data.dataPoints as Array<Record<string, any>>).forEach((p, n) => {
            out.push(`DataPoint #${n}`);
            if (Object.keys(p.attributes).length) out.push('Data point attributes:', ...attrs(p.attributes, '     '));
            out.push(`StartTimestamp: ${time(p.startTimeUnixNano)}`, `Timestamp: ${time(p.timeUnixNano)}`);
            if ('value' in p) out.push(`Value: ${String(p.value)}`);
            if ('count' in p) out.push(`Count: ${p.count}`);
            if (p.sum !== undefined) out.push(`Sum: ${p.sum}`);
            if (p.min !== undefined) out.push(`Min: ${p.min}`);
            if (p.max !== undefined) out.push(`Max: ${p.max}`);
            if (p.explicitBounds) p.explicitBounds.forEach((b: number, x: number) => out.push(`ExplicitBounds #${x}: ${b}`));
            if (p.bucketCounts) p.bucketCounts.forEach((b: number, x: number) => out.push(`Buckets #${x}, Count: ${b}`));
            if (p.scale !== undefined) out.push(`Scale: ${p.scale}`, `ZeroCount: ${p.zeroCount}`, `Positive offset ${p.positive.offset}: ${p.positive.bucketCounts.join(', ')}`, `Negative offset ${p.negative.offset}: ${p.negative.bucketCounts.join(', ')}`);
            if (p.quantileValues) p.quantileValues.forEach((q: { quantile: number; value: number }, x: number) => out.push(`QuantileValue #${x}: Quantile ${q.quantile}, Value ${q.value}`));
            if (p.exemplars?.length) p.exemplars.forEach((e: Record<string, any>, x: number) => out.push(`Exemplar #${x}`, `     -> Trace ID: ${e.traceId}`, `     -> Span ID: ${e.spanId}`, `     -> Timestamp: ${time(e.timeUnixNano)}`, `     -> Value: ${String(e.value)}`));
          });
        });
      });
    });
  } else {
    (data as Logs).resourceLogs.forEach((rl, i) => {
      out.push(...header('ResourceLog', i, rl.resource, rl.schemaUrl));
      rl.scopeLogs.forEach((sl, j) => {
        out.push(...scopeLines('ScopeLogs', j, sl.scope, sl.schemaUrl));
        sl.logRecords.forEach((r, k) => {
          out.push(`LogRecord #${k}`, `ObservedTimestamp: ${time(r.observedTimeUnixNano)}`, `Timestamp: ${time(r.timeUnixNano)}`,
            `SeverityText: ${r.severityText}`, `SeverityNumber: ${r.severityNumber}`, `Body: ${value(r.body)}`);
          if (r.eventName) out.push(`EventName: ${r.eventName}`);
          if (Object.keys(r.attributes).length) out.push('Attributes:', ...attrs(r.attributes, '     '));
          out.push(`Trace ID: ${r.traceId}`, `Span ID: ${r.spanId}`, `Flags: ${r.flags}`);
        });
      });
    });
  }
  return out;
}
