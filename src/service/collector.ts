/**
 * A running collector: builds the component graph from a validated config as the Collector does
 * (one receiver instance per id fanning out to its pipelines, processors per pipeline, one exporter
 * instance per id fanning in, connectors joining pipelines), starts it downstream-first and stops it
 * upstream-first so that everything a receiver acknowledged is flushed through to the exporters.
 */
import type { Logger } from 'pino';
import type {
  Component, ComponentStatus, ComponentStatusInfo, ConnectorFactory, Consumer, CreateSettings, ExporterFactory,
  ExtensionFactory, Host, ProcessorFactory, ReceiverFactory, SignalConsumers,
} from '../component';
import type { ComponentConfig, PipelineConfig, ValidatedConfig } from '../config/validate';
import { Signal } from '../model';
import { Telemetry } from '../telemetry';
import { Downstream, fanOut } from './fanout';
import { instrumentConsumer } from './instrument';

export interface Node {
  /** "receiver:otlp", "processor:batch@traces/x", "exporter:sqlite", "connector:forward", "extension:api". */
  key: string;
  id: string;
  kind: ComponentConfig['kind'];
  instance: Component;
  /** Keys of the nodes this one sends data to (for ordering start and shutdown). */
  downstream: Set<string>;
}

export type ComponentStatusEntry = ComponentStatusInfo;

export class Collector implements Host {
  readonly nodes = new Map<string, Node>();
  readonly statuses = new Map<string, ComponentStatusEntry>();
  private started: Node[] = [];
  private stopping?: Promise<void>;

  constructor(
    readonly config: ValidatedConfig,
    readonly logger: Logger,
    readonly telemetry: Telemetry,
  ) {
    this.build();
  }

  // ---- Host ----
  getExtension<T = unknown>(id: string): T | undefined {
    return this.nodes.get(`extension:${id}`)?.instance as T | undefined;
  }

  reportStatus(id: string, status: ComponentStatus, error?: Error): void {
    const prev = this.statuses.get(id);
    const kind = prev?.kind ?? [...this.nodes.values()].find((n) => n.id === id)?.kind ?? 'component';
    this.statuses.set(id, { id, kind, status, ...(error ? { error: error.message } : {}), since: prev?.status === status ? prev.since : new Date().toISOString() });
    if (status === 'permanent_error' || status === 'recoverable_error') this.logger.error({ component: id, err: error?.message }, 'component reported an error');
  }

  componentStatuses(): ComponentStatusInfo[] {
    return [...this.statuses.values()];
  }

  /** A component instance by id, for tests and tools ("otlp", "sqlite", "batch@traces"). */
  component<T = Component>(kind: Node['kind'], id: string, pipeline?: string): T | undefined {
    const key = kind === 'processor' ? `processor:${id}@${pipeline}` : `${kind}:${id}`;
    return this.nodes.get(key)?.instance as T | undefined;
  }

  // ---- building ----
  private settings(c: ComponentConfig, extra?: string): CreateSettings<any> {
    return {
      id: c.id,
      config: c.config,
      logger: this.logger.child({ kind: c.kind, component: c.id, ...(extra ? { pipeline: extra } : {}) }),
      telemetry: this.telemetry,
      dataDir: this.config.service.dataDir,
    };
  }

  private build(): void {
    const cfg = this.config;
    const pipelines = cfg.service.pipelines;
    const entries = new Map<string, { consumer: Consumer; mutates: boolean; keys: string[] }>();
    const exporterSignals = new Map<string, Set<Signal>>();
    for (const p of pipelines) for (const e of p.exporters) if (cfg.exporters.has(e)) {
      let set = exporterSignals.get(e);
      if (!set) exporterSignals.set(e, (set = new Set()));
      set.add(p.signal);
    }

    // Exporters: one instance per id.
    for (const [id, signals] of exporterSignals) {
      const c = cfg.exporters.get(id)!;
      const f = c.factory as ExporterFactory;
      const instance = f.create(this.settings(c), [...signals]);
      this.nodes.set(`exporter:${id}`, { key: `exporter:${id}`, id, kind: 'exporter', instance, downstream: new Set() });
    }

    // Connectors and pipeline entries depend on each other; build depth-first (validation ruled out cycles).
    const connectorInputs = (id: string) => new Set(pipelines.filter((p) => p.exporters.includes(id)).map((p) => p.signal));
    const buildConnector = (id: string): Node => {
      const key = `connector:${id}`;
      const existing = this.nodes.get(key);
      if (existing) return existing;
      const c = cfg.connectors.get(id)!;
      const f = c.factory as ConnectorFactory;
      const next: SignalConsumers = {};
      const downstream = new Set<string>();
      for (const signal of ['traces', 'metrics', 'logs'] as Signal[]) {
        const targets = pipelines.filter((p) => p.signal === signal && p.receivers.includes(id));
        if (targets.length === 0) continue;
        const built = targets.map((p) => buildPipeline(p));
        built.forEach((b) => b.keys.forEach((k) => downstream.add(k)));
        (next as Record<Signal, Consumer>)[signal] = fanOut(signal, built.map((b) => ({ consumer: b.consumer, mutates: b.mutates }) as Downstream<Signal>));
      }
      const instance = f.create(this.settings(c), [...connectorInputs(id)], next);
      const node: Node = { key, id, kind: 'connector', instance, downstream };
      this.nodes.set(key, node);
      return node;
    };

    const buildPipeline = (p: PipelineConfig) => {
      const done = entries.get(p.id);
      if (done) return done;
      const targets: Downstream<Signal>[] = [];
      const exporterKeys: string[] = [];
      for (const e of p.exporters) {
        if (cfg.exporters.has(e)) {
          const node = this.nodes.get(`exporter:${e}`)!;
          const consumer = (node.instance as SignalConsumers)[p.signal];
          if (!consumer) throw new Error(`exporter ${e} did not provide a ${p.signal} consumer`);
          const mutates = !!(cfg.exporters.get(e)!.factory as ExporterFactory).mutatesData;
          // Exporters count what they send themselves (exporterhelper).
          targets.push({ consumer, mutates });
          exporterKeys.push(node.key);
        } else {
          const node = buildConnector(e);
          const consumer = (node.instance as SignalConsumers)[p.signal];
          if (!consumer) throw new Error(`connector ${e} did not provide a ${p.signal} consumer`);
          targets.push({ consumer, mutates: !!(cfg.connectors.get(e)!.factory as ConnectorFactory).mutatesData });
          exporterKeys.push(node.key);
        }
      }
      let next: Consumer & { mutates?: boolean } = fanOut(p.signal, targets);
      let mutates = next.mutates ?? false;
      let downKeys = exporterKeys;
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const pid = p.processors[i];
        const c = cfg.processors.get(pid)!;
        const f = c.factory as ProcessorFactory;
        const instance = f.create(this.settings(c, p.id), p.signal, next as Consumer<Signal>);
        const key = `processor:${pid}@${p.id}`;
        this.nodes.set(key, { key, id: `${pid}@${p.id}`, kind: 'processor', instance, downstream: new Set(downKeys) });
        downKeys = [key];
        next = instrumentConsumer(this.telemetry, 'processor', pid, p.signal, instance as Consumer, p.id);
        mutates = mutates || f.mutatesData;
      }
      // A pipeline with no processors starts at its exporters: all of them are its first nodes.
      const entry = { consumer: next as Consumer, mutates, keys: downKeys };
      entries.set(p.id, entry);
      return entry;
    };

    for (const p of pipelines) buildPipeline(p);

    // Receivers: one instance per id, fanning out per signal to the pipelines that list it.
    const receiverIds = new Set(pipelines.flatMap((p) => p.receivers.filter((r) => cfg.receivers.has(r))));
    for (const id of receiverIds) {
      const c = cfg.receivers.get(id)!;
      const f = c.factory as ReceiverFactory;
      const next: SignalConsumers = {};
      const downstream = new Set<string>();
      for (const signal of ['traces', 'metrics', 'logs'] as Signal[]) {
        const targets = pipelines.filter((p) => p.signal === signal && p.receivers.includes(id));
        if (targets.length === 0) continue;
        const built = targets.map((p) => entries.get(p.id)!);
        built.forEach((b) => b.keys.forEach((k) => downstream.add(k)));
        const out = fanOut(signal, built.map((b) => ({ consumer: b.consumer, mutates: b.mutates }) as Downstream<Signal>));
        (next as Record<Signal, Consumer>)[signal] = instrumentConsumer(this.telemetry, 'receiver', id, signal, out);
      }
      const instance = f.create(this.settings(c), next);
      this.nodes.set(`receiver:${id}`, { key: `receiver:${id}`, id, kind: 'receiver', instance, downstream });
    }

    for (const id of cfg.service.extensions) {
      const c = cfg.extensions.get(id)!;
      const instance = (c.factory as ExtensionFactory).create(this.settings(c));
      this.nodes.set(`extension:${id}`, { key: `extension:${id}`, id, kind: 'extension', instance, downstream: new Set() });
    }
  }

  /** Data-flow nodes, upstream first (receivers ... exporters). */
  private upstreamFirst(): Node[] {
    const flow = [...this.nodes.values()].filter((n) => n.kind !== 'extension');
    const order: Node[] = [];
    const mark = new Set<string>();
    const visit = (n: Node) => {
      if (mark.has(n.key)) return;
      mark.add(n.key);
      for (const d of n.downstream) {
        const dn = this.nodes.get(d);
        if (dn) visit(dn);
      }
      order.push(n);
    };
    for (const n of flow) visit(n);
    return order.reverse();
  }

  async start(): Promise<void> {
    const extensions = [...this.nodes.values()].filter((n) => n.kind === 'extension');
    const flow = this.upstreamFirst().reverse(); // downstream first: exporters ... receivers
    // Every component is 'starting' before the first starts: a health check must not read
    // "all ok" from the few that have started while later ones still register their API routes.
    for (const n of [...extensions, ...flow]) this.reportStatus(n.id, 'starting');
    for (const n of [...extensions, ...flow]) {
      try {
        await n.instance.start?.(this);
      } catch (e) {
        this.reportStatus(n.id, 'permanent_error', e as Error);
        await this.stopNodes();
        throw new Error(`cannot start ${n.kind} "${n.id}": ${(e as Error).message}`);
      }
      this.started.push(n);
      this.reportStatus(n.id, 'ok');
    }
  }

  /**
   * Stop accepting (receivers), flush processors in pipeline order, then connectors and exporters
   * (which drain their queues), extensions last. Bounded by service.shutdown_timeout.
   */
  shutdown(): Promise<void> {
    if (!this.stopping) {
      const timeout = this.config.service.shutdownTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.logger.error({ timeoutMs: timeout }, 'shutdown timed out; some data may not have been exported');
          resolve();
        }, timeout);
        timer.unref();
      });
      this.stopping = Promise.race([this.stopNodes(), deadline]).finally(() => clearTimeout(timer));
    }
    return this.stopping;
  }

  private async stopNodes(): Promise<void> {
    const startedKeys = new Set(this.started.map((n) => n.key));
    const flow = this.upstreamFirst().filter((n) => startedKeys.has(n.key));
    const extensions = this.started.filter((n) => n.kind === 'extension').reverse();
    for (const n of [...flow, ...extensions]) {
      this.reportStatus(n.id, 'stopping');
      try {
        await n.instance.shutdown?.();
        this.reportStatus(n.id, 'stopped');
      } catch (e) {
        this.reportStatus(n.id, 'permanent_error', e as Error);
        this.logger.error({ component: n.id, err: (e as Error).message }, 'error while stopping');
      }
    }
    this.started = [];
  }
}
