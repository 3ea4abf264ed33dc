/**
 * The one place where component factories are registered. Add a line here for each new component.
 */
import type { Factory } from './component';
import { alertsConnectorFactory } from '../connectors/alerts';
import { anomalyEventsConnectorFactory } from '../connectors/anomaly_events';
import { forwardFactory } from '../connectors/forward';
import { spanMetricsConnectorFactory } from '../connectors/spanmetrics';
import { prometheusExporterFactory } from '../exporters/prometheus';
import { prometheusRemoteWriteExporterFactory } from '../exporters/prometheusremotewrite';
import { debugExporterFactory } from '../exporters/debug';
import { fileExporterFactory } from '../exporters/file';
import { nopExporterFactory } from '../exporters/nop';
import { sqliteExporterFactory } from '../exporters/sqlite';
import { webhookExporterFactory } from '../exporters/webhook';
import { emailExporterFactory } from '../exporters/email';
import { githubExporterFactory } from '../exporters/github';
import { alertmanagerExporterFactory } from '../exporters/alertmanager';
import { sentryExporterFactory } from '../exporters/sentry';
import { otlpHttpExporterFactory } from '../exporters/otlphttp';
import { otlpGrpcExporterFactory } from '../exporters/otlp';
import { apiExtensionFactory } from '../extensions/api';
import { healthCheckExtensionFactory } from '../extensions/health_check';
import { fileStorageExtensionFactory } from '../extensions/file_storage';
import { bearerTokenAuthFactory } from '../extensions/bearertokenauth';
import { basicAuthFactory } from '../extensions/basicauth';
import { redactionProcessorFactory } from '../processors/redaction';
import { anomalyProcessorFactory } from '../processors/anomaly';
import { batchFactory } from '../processors/batch';
import { memoryLimiterFactory } from '../processors/memory_limiter';
import { otlpReceiverFactory } from '../receivers/otlp';
import { securityProcessorFactory } from '../processors/security';
import { securityEventsConnectorFactory } from '../connectors/security_events';
import { codehealthReceiverFactory } from '../receivers/codehealth';
import { auditReceiverFactory } from '../receivers/audit';
import { pipelineRunsConnectorFactory } from '../connectors/pipeline_runs';

export const factories: Factory[] = [
  otlpReceiverFactory,
  batchFactory,
  memoryLimiterFactory,
  forwardFactory,
  spanMetricsConnectorFactory,
  prometheusExporterFactory,
  prometheusRemoteWriteExporterFactory,
  anomalyProcessorFactory,
  anomalyEventsConnectorFactory,
  alertsConnectorFactory,
  apiExtensionFactory,
  healthCheckExtensionFactory,
  fileStorageExtensionFactory,
  sqliteExporterFactory,
  debugExporterFactory,
  fileExporterFactory,
  nopExporterFactory,
  securityProcessorFactory,
  securityEventsConnectorFactory,
  webhookExporterFactory,
  emailExporterFactory,
  githubExporterFactory,
  alertmanagerExporterFactory,
  sentryExporterFactory,
  otlpHttpExporterFactory,
  otlpGrpcExporterFactory,
  codehealthReceiverFactory,
  pipelineRunsConnectorFactory,
  bearerTokenAuthFactory,
  basicAuthFactory,
  redactionProcessorFactory,
  auditReceiverFactory,
];

export function findFactory(kind: Factory['kind'], type: string): Factory | undefined {
  return factories.find((f) => f.kind === kind && f.type === type);
}
