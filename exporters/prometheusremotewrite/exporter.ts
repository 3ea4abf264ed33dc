/**
 * Push side: the same translation as the `prometheus` exporter, sent as remote-write requests.
 *
 * Translation and delta accumulation happen in consume(), in arrival order, before the queue: a
 * running total must see its deltas in order, and points older than a series' latest are dropped
 * there (Prometheus would refuse them as out of order). What goes into the exporterhelper queue is
 * the already-encoded request, split to `max_batch_size_bytes`; a retry resumes at the first part
 * that was not accepted, so accepted parts are not sent twice.
 */
import type { CreateSettings, Host, SignalConsumers } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { ExporterHelperConfig, HelperExporter, SendContext, createExporter } from '../../src/exporterhelper';
import type { Metrics } from '../../src/model';
import { RwMetadata, encodeMetadata, encodeTimeSeries, encodeWriteRequest, fieldSize, seriesToTimeSeries } from '../../src/prometheus/remotewrite';
import type { Family, Series } from '../../src/prometheus/series';
import { snappyCompress } from '../../src/prometheus/snappy';
import { SeriesStore } from '../../src/prometheus/store';
import { Translator } from '../../src/prometheus/translate';
import { parseDuration } from '../../src/util/duration';
import type { TlsClientConfig } from '../../src/tls/config';
import { TlsFetch, tlsFetch } from '../../src/tls/fetch';

export interface RemoteWriteConfig extends ExporterHelperConfig {
  endpoint: string;
  headers: Record<string, string>;
  namespace: string;
  external_labels: Record<string, string>;
  resource_to_telemetry_conversion: { enabled: boolean };
  promote_resource_attributes: string[];
  target_info: { enabled: boolean };
  add_metric_suffixes: boolean;
  send_metadata: boolean;
  max_batch_size_bytes: number;
  metric_expiration: string | number;
  max_series: number;
  /** The shared client tls block (src/tls): ca_file, cert_file/key_file, insecure_skip_verify ... */
  tls?: TlsClientConfig;
}

const USER_AGENT = 'vigil-prometheusremotewrite/0.1';

/** The queued request: encoded parts plus how many were already accepted (for resuming retries). */
interface Prepared {
  parts: Uint8Array[];
  sent: number;
}

const PREPARED = Symbol('prometheusremotewrite.prepared');
type Carrier = Metrics & { [PREPARED]?: Prepared };

/** Groups encoded TimeSeries into WriteRequests of at most `maxBytes` each (a lone oversize series goes alone). */
export function splitRequests(series: Uint8Array[], metadata: Uint8Array[], maxBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cur: Uint8Array[] = [];
  let size = 0;
  for (const s of series) {
    const n = fieldSize(s.length);
    if (cur.length && size + n > maxBytes) {
      out.push(encodeWriteRequest(cur));
      cur = [];
      size = 0;
    }
    cur.push(s);
    size += n;
  }
  if (cur.length || metadata.length) out.push(encodeWriteRequest(cur, metadata));
  return out;
}

export class RemoteWriteExporter {
  readonly store: SeriesStore;
  private readonly translator: Translator;
  private readonly helper: HelperExporter;
  private readonly url: URL;
  private readonly refused;
  private expiryTimer?: NodeJS.Timeout;
  private readonly http: TlsFetch;

  constructor(private readonly s: CreateSettings<RemoteWriteConfig>) {
    const c = s.config;
    try {
      this.url = new URL(c.endpoint);
    } catch {
      throw new Error(`invalid endpoint "${c.endpoint}": expected a URL like http://127.0.0.1:9090/api/v1/write`);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`endpoint must be http(s), got ${this.url.protocol}`);
    this.http = tlsFetch(c.tls, `exporters.${s.id}.tls`);
    this.store = new SeriesStore({ expirationMs: parseDuration(c.metric_expiration), maxSeries: c.max_series });
    this.translator = new Translator({
      namespace: c.namespace,
      constLabels: c.external_labels,
      addMetricSuffixes: c.add_metric_suffixes,
      resourceToTelemetry: c.resource_to_telemetry_conversion.enabled,
      promoteResourceAttributes: c.promote_resource_attributes,
      targetInfo: c.target_info.enabled,
    });
    this.refused = s.telemetry.counter('vigil_exporter_prometheusremotewrite_refused_points_total', 'Data points not sent, by reason (over_limit: max_series reached; out_of_order: older than the series\' latest)', ['exporter', 'reason']);
    this.helper = createExporter(s, ['metrics'], { send: (_sig, data, ctx) => this.send(data as Carrier, ctx) });
  }

  get consumers(): SignalConsumers {
    return { metrics: { consume: (md) => this.consume(md) } };
  }

  /** Translates, accumulates and encodes now; queues the encoded request. */
  async consume(md: Metrics): Promise<void> {
    const changed: { fam: Family; s: Series; stale: boolean }[] = [];
    let overLimit = 0;
    let outOfOrder = 0;
    this.translator.translate(md, (u) => {
      if (u.stale) {
        // Forward the producer's "series ended" as Prometheus's staleness marker.
        const fam = this.store.families.get(u.family);
        const s = fam?.series.get(u.key);
        if (fam && s) changed.push({ fam, s: { ...s, timeMs: u.timeMs }, stale: true });
      }
      const r = this.store.apply(u);
      if (r.result === 'over_limit') overLimit++;
      else if (r.result === 'out_of_order') outOfOrder++;
      else if (r.series && r.family) changed.push({ fam: r.family, s: r.series, stale: false });
    });
    if (overLimit) this.refused.labels(this.s.id, 'over_limit').inc(overLimit);
    if (outOfOrder) this.refused.labels(this.s.id, 'out_of_order').inc(outOfOrder);
    if (!changed.length) return;
    const encoded: Uint8Array[] = [];
    const families = new Map<string, Family>();
    for (const { fam, s, stale } of changed) {
      // Snapshot now: the store keeps changing while this request waits in the queue.
      for (const ts of seriesToTimeSeries(fam, s, stale)) encoded.push(encodeTimeSeries(ts));
      families.set(fam.name, fam);
    }
    const metadata = this.s.config.send_metadata
      ? [...families.values()].map((f) => encodeMetadata({ type: f.type, family: f.name, help: f.help, unit: f.unit } as RwMetadata))
      : [];
    const carrier: Carrier = { resourceMetrics: md.resourceMetrics };
    carrier[PREPARED] = { parts: splitRequests(encoded, metadata, this.s.config.max_batch_size_bytes), sent: 0 };
    await this.helper.metrics!.consume(carrier);
  }

  private async send(carrier: Carrier, ctx: SendContext): Promise<void> {
    const p = carrier[PREPARED];
    if (!p) return;
    while (p.sent < p.parts.length) {
      await this.post(p.parts[p.sent], ctx);
      p.sent++;
    }
  }

  private async post(body: Uint8Array, ctx: SendContext): Promise<void> {
    const compressed = snappyCompress(body);
    let res: Response;
    try {
      res = await this.http.fetch(this.url, {
        method: 'POST',
        headers: {
          ...this.s.config.headers,
          'Content-Encoding': 'snappy',
          'Content-Type': 'application/x-protobuf',
          'User-Agent': USER_AGENT,
          'X-Prometheus-Remote-Write-Version': '0.1.0',
        },
        body: compressed,
        signal: ctx.signal,
      });
    } catch (err) {
      throw new RetryableError(`remote write to ${this.url.host} failed: ${(err as Error).message}`);
    }
    // Only the first bytes of an error body: enough to explain, never a whole echoed payload.
    const text = res.ok ? '' : (await res.text().catch(() => '')).slice(0, 256).trim();
    if (!res.ok) await res.body?.cancel().catch(() => undefined);
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    const msg = `remote write to ${this.url.host} answered ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status === 429 || res.status >= 500) {
      const ra = Number(res.headers.get('retry-after'));
      throw new RetryableError(msg, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined, res.status === 429);
    }
    throw new PermanentError(msg);
  }

  async start(host: Host): Promise<void> {
    await this.helper.start?.(host);
    const exp = parseDuration(this.s.config.metric_expiration);
    if (exp > 0) {
      this.expiryTimer = setInterval(() => this.store.expire(), Math.min(Math.max(exp / 2, 1000), 30_000));
      this.expiryTimer.unref();
    }
  }

  async shutdown(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    await this.helper.shutdown?.();
    this.http.close();
  }
}
