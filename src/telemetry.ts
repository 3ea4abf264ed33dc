/**
 * Vigil's own metrics (prom-client), in the Collector's naming style with a `vigil_` prefix.
 * One Telemetry per running collector; components get it in CreateSettings and create their
 * instruments through it so that tests can run several collectors in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Telemetry {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter<string>>();
  private readonly gauges = new Map<string, Gauge<string>>();
  private readonly histograms = new Map<string, Histogram<string>>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter({ name, help, labelNames, registers: [this.registry] });
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help, labelNames, registers: [this.registry] });
      this.gauges.set(name, g);
    }
    return g;
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram<string> {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) });
      this.histograms.set(name, h);
    }
    return h;
  }
}
