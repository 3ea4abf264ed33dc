/**
 * The component model, after the OpenTelemetry Collector's: factories declare a type, the signals
 * they handle and a JSON Schema for their config (defaults included); the engine validates the
 * config, then asks the factory for an instance wired to the next consumers.
 */
import type { Logger } from 'pino';
import type { Signal, SignalData } from './model';
import type { Telemetry } from './telemetry';

export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'connector' | 'extension';

/** A consumer of one signal's data. Rejects with PermanentError or RetryableError (see errors.ts). */
export interface Consumer<S extends Signal = Signal> {
  consume(data: SignalData[S]): Promise<void>;
}

/** Consumers of each signal a component feeds; only the signals it is wired for are present. */
export type SignalConsumers = { [S in Signal]?: Consumer<S> };

/** Anything the engine starts and stops. */
export interface Component {
  start?(host: Host): Promise<void>;
  /** Stop accepting (receivers), flush (processors), drain (exporters). Must be idempotent. */
  shutdown?(): Promise<void>;
}

/** What a component may ask of the running collector. */
export interface Host {
  /** A started extension by id ("api", "health_check/x"), or undefined. */
  getExtension<T = unknown>(id: string): T | undefined;
  /** Report a component's status (shown by the health_check extension). */
  reportStatus(id: string, status: ComponentStatus, error?: Error): void;
  /** Every component's last reported status. */
  componentStatuses?(): ComponentStatusInfo[];
}

export interface ComponentStatusInfo {
  id: string;
  kind: string;
  status: ComponentStatus;
  error?: string;
  /** RFC 3339 time of the last change. */
  since: string;
}

export type ComponentStatus = 'starting' | 'ok' | 'recoverable_error' | 'permanent_error' | 'stopping' | 'stopped';

/** Everything a factory gets to build an instance. */
export interface CreateSettings<C> {
  /** The full component id, "type" or "type/name". */
  id: string;
  /** The validated config, defaults applied. */
  config: C;
  logger: Logger;
  telemetry: Telemetry;
  /**
   * Where components keep files (default ./data, `service.data_dir` in the config). Persistent
   * state goes through `StateStore.open(dataDir)` (src/state.ts).
   */
  dataDir: string;
}

export type JsonSchema = Record<string, unknown>;

interface FactoryBase<C> {
  type: string;
  description: string;
  /** JSON Schema (draft-07) of the config with `default`s; also drives `vigil components`. */
  configSchema: JsonSchema;
  /** For the type checker only: the config type. */
  readonly _config?: C;
  /**
   * Checks a JSON Schema cannot express (relations between fields). Runs at validation, after
   * defaults; each problem names its path inside the component's config.
   */
  validate?(config: C): Array<{ path: Array<string | number>; message: string }>;
  /** Advice that does not stop the config from loading (a deprecated key), in validate's shape; reported as warnings. */
  warnings?(config: C): Array<{ path: Array<string | number>; message: string }>;
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  kind: 'receiver';
  signals: readonly Signal[];
  /** One instance serves every pipeline that lists this receiver id (fan-out is in `next`). */
  create(settings: CreateSettings<C>, next: SignalConsumers): Component;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  kind: 'processor';
  signals: readonly Signal[];
  /** Whether the processor changes the data it is given (the engine clones on fan-out if so). */
  mutatesData: boolean;
  /** One instance per pipeline. */
  create<S extends Signal>(settings: CreateSettings<C>, signal: S, next: Consumer<S>): Component & Consumer<S>;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  kind: 'exporter';
  signals: readonly Signal[];
  mutatesData?: boolean;
  /** One instance per exporter id, shared by every pipeline that lists it (fan-in). */
  create(settings: CreateSettings<C>, signals: readonly Signal[]): Component & SignalConsumers;
}

export interface ConnectorFactory<C = unknown> extends FactoryBase<C> {
  kind: 'connector';
  /** The [exporter-side signal, receiver-side signal] pairs it supports. */
  pairs: readonly (readonly [Signal, Signal])[];
  mutatesData?: boolean;
  /**
   * One instance per connector id. `next` holds, per output signal, the fan-out to the pipelines
   * where the connector is a receiver. The returned consumers are the input signals, used where the
   * connector is an exporter.
   */
  create(settings: CreateSettings<C>, inputs: readonly Signal[], next: SignalConsumers): Component & SignalConsumers;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  kind: 'extension';
  create(settings: CreateSettings<C>): Component;
}

export type Factory = ReceiverFactory<any> | ProcessorFactory<any> | ExporterFactory<any> | ConnectorFactory<any> | ExtensionFactory<any>;
