/** Starting collectors in tests, and a capture exporter that records what reaches it. */
import type { ExporterFactory, Factory } from '../../src/component';
import { silentLogger } from '../../src/logger';
import { Signal, SignalData } from '../../src/model';
import { RunningCollector, startCollector } from '../../src/service';
import type { OtlpReceiver } from '../../receivers/otlp';

export interface Capture {
  traces: SignalData['traces'][];
  metrics: SignalData['metrics'][];
  logs: SignalData['logs'][];
  /** Make the next calls fail with this error (or stay pending for `delayMs`). */
  fail?: (signal: Signal) => Error | undefined;
  delayMs?: number;
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
}

export function captureExporter(type = 'capture'): { factory: ExporterFactory; capture: Capture } {
  const capture: Capture = {
    traces: [],
    metrics: [],
    logs: [],
    async waitFor(pred, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > end) throw new Error('timed out waiting for data');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
  const factory: ExporterFactory = {
    kind: 'exporter',
    type,
    description: 'test exporter that records data',
    signals: ['traces', 'metrics', 'logs'],
    configSchema: { type: 'object', properties: {} },
    create(_s, signals) {
      const out: Record<string, unknown> = {};
      for (const sig of signals) {
        out[sig] = {
          async consume(data: never) {
            if (capture.delayMs) await new Promise((r) => setTimeout(r, capture.delayMs));
            const err = capture.fail?.(sig);
            if (err) throw err;
            (capture[sig] as unknown[]).push(data);
          },
        };
      }
      return out;
    },
  };
  return { factory, capture };
}

export async function startTest(yaml: string, factories: Factory[] = []): Promise<RunningCollector & { http: string; grpc: string }> {
  const running = await startCollector({ yaml: [yaml], logger: silentLogger(), factories });
  const otlp = running.collector.component<OtlpReceiver>('receiver', 'otlp');
  return Object.assign(running, { http: otlp?.endpoints.http ?? '', grpc: otlp?.endpoints.grpc ?? '' });
}

/** A config with one otlp receiver on free ports feeding `exporters` for all three signals. */
export function otlpConfig(exporters: string[], opts: { processors?: string[]; extra?: string; http?: string; grpc?: string } = {}): string {
  const pipe = (s: string) => `    ${s}:\n      receivers: [otlp]\n      processors: [${(opts.processors ?? []).join(', ')}]\n      exporters: [${exporters.join(', ')}]\n`;
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
${opts.http ?? ''}
      grpc:
        endpoint: 127.0.0.1:0
${opts.grpc ?? ''}
${opts.extra ?? ''}
service:
  telemetry:
    metrics:
      address: null
  pipelines:
${pipe('traces')}${pipe('metrics')}${pipe('logs')}`;
}
