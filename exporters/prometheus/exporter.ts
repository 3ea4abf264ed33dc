/**
 * The pull side: metrics flowing through the pipeline are accumulated into Prometheus series and
 * served on `/metrics` for Prometheus to scrape.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Component, Consumer, CreateSettings } from '../../src/component';
import type { Metrics } from '../../src/model';
import { OPENMETRICS_CONTENT_TYPE, Renderer, TEXT_CONTENT_TYPE, negotiateFormat } from '../../src/prometheus/exposition';
import { SeriesStore } from '../../src/prometheus/store';
import { Translator } from '../../src/prometheus/translate';
import { parseDuration } from '../../src/util/duration';
import { listen, parseEndpoint } from '../../src/util/net';
import { createListenerServer, TlsServerConfig } from '../../src/tls';

const gzipAsync = promisify(gzip);

export interface PrometheusExporterConfig {
  endpoint: string;
  namespace: string;
  const_labels: Record<string, string>;
  send_timestamps: boolean;
  metric_expiration: string | number;
  resource_to_telemetry_conversion: { enabled: boolean };
  promote_resource_attributes: string[];
  enable_open_metrics: boolean;
  add_metric_suffixes: boolean;
  max_series: number;
  tls?: TlsServerConfig;
}

export class PrometheusExporter implements Component {
  readonly store: SeriesStore;
  private readonly translator: Translator;
  private readonly renderer: Renderer;
  private server?: Server;
  /** The last response body, reused while the store has not changed (several scrapers, HA pairs). */
  private lastBody?: { version: number; format: string; gzip: boolean; body: Buffer };
  private expiryTimer?: NodeJS.Timeout;
  private readonly seriesGauge;
  private readonly refused;
  private readonly scrapes;
  /** Scrapes served per exposition format since start. */
  readonly scrapeCounts = { text: 0, openmetrics: 0 };
  readonly metrics: Consumer<'metrics'>;

  constructor(private readonly s: CreateSettings<PrometheusExporterConfig>) {
    const c = s.config;
    this.store = new SeriesStore({ expirationMs: parseDuration(c.metric_expiration), maxSeries: c.max_series });
    this.translator = new Translator({
      namespace: c.namespace,
      constLabels: c.const_labels,
      addMetricSuffixes: c.add_metric_suffixes,
      resourceToTelemetry: c.resource_to_telemetry_conversion.enabled,
      promoteResourceAttributes: c.promote_resource_attributes,
    });
    this.renderer = new Renderer({ sendTimestamps: c.send_timestamps });
    const t = s.telemetry;
    this.seriesGauge = t.gauge('vigil_exporter_prometheus_series', 'Series currently exposed by the prometheus exporter', ['exporter']).labels(s.id);
    this.refused = t.counter('vigil_exporter_prometheus_refused_points_total', 'Data points not exposed, by reason (over_limit: max_series reached; out_of_order: older than the current value)', ['exporter', 'reason']);
    this.scrapes = t.counter('vigil_exporter_prometheus_scrapes_total', 'Scrapes served, by exposition format', ['exporter', 'format']);
    this.metrics = { consume: async (md) => this.consumeMetrics(md) };
  }

  consumeMetrics(md: Metrics): void {
    let overLimit = 0;
    let outOfOrder = 0;
    this.translator.translate(md, (u) => {
      const r = this.store.apply(u).result;
      if (r === 'over_limit') overLimit++;
      else if (r === 'out_of_order') outOfOrder++;
    });
    if (overLimit) {
      this.refused.labels(this.s.id, 'over_limit').inc(overLimit);
      this.s.logger.warn({ points: overLimit, max_series: this.s.config.max_series }, 'prometheus exporter at max_series; new series dropped');
    }
    if (outOfOrder) this.refused.labels(this.s.id, 'out_of_order').inc(outOfOrder);
    this.seriesGauge.set(this.store.size);
  }

  /** The exposition as a scrape would get it (after dropping expired series). */
  scrape(format: 'text' | 'openmetrics' = 'text'): string {
    this.store.expire();
    this.seriesGauge.set(this.store.size);
    return this.renderer.render(this.store.families.values(), format);
  }

  /** The bound address, once started (useful with port 0). */
  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    const server = createListenerServer(this.s.config.tls, `exporters.${this.s.id}.tls`, this.s.logger, (req, res) => void this.handle(req, res));
    const bound = await listen(server, parseEndpoint(this.s.config.endpoint, `exporters.${this.s.id}.endpoint`));
    this.server = server;
    const exp = parseDuration(this.s.config.metric_expiration);
    if (exp > 0) {
      // Expire between scrapes too, so memory is given back even when nobody scrapes.
      this.expiryTimer = setInterval(() => {
        this.store.expire();
        this.seriesGauge.set(this.store.size);
      }, Math.min(Math.max(exp / 2, 1000), 30_000));
      this.expiryTimer.unref();
    }
    this.s.logger.info({ endpoint: bound }, 'prometheus exporter listening');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: metrics are served on /metrics\n');
        return;
      }
      const format = negotiateFormat(req.headers.accept, this.s.config.enable_open_metrics);
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      this.scrapeCounts[format]++;
      this.scrapes.labels(this.s.id, format).inc();
      this.store.expire();
      const headers: Record<string, string> = { 'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE };
      if (gzip) headers['Content-Encoding'] = 'gzip';
      const version = this.store.version;
      let payload: Buffer;
      const last = this.lastBody;
      if (last && last.version === version && last.format === format && last.gzip === gzip) {
        payload = last.body;
      } else {
        payload = Buffer.from(this.scrape(format));
        // Level 1: most of the size win at a fraction of the CPU, which matters at 100k+ series.
        if (gzip) payload = await gzipAsync(payload, { level: 1 });
        this.lastBody = { version, format, gzip, body: payload };
      }
      headers['Content-Length'] = String(payload.length);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : payload);
    } catch (err) {
      this.s.logger.error({ err: (err as Error).message }, 'prometheus scrape failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error\n');
    }
  }

  async shutdown(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
