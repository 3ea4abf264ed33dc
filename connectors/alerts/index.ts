/**
 * `alerts` connector: alerting rules and the alert router as one pipeline component.
 *
 * - metrics → logs: metric streams feed threshold and test-health rules;
 * - logs → logs: security events (event.name `security.threat`) and anomaly events
 *   (event.name `anomaly`) feed security and anomaly rules; other records are ignored.
 *
 * What comes out on the logs side is notifications (src/alerting/notification.ts): one record per
 * receiver and group notification, for the notification exporters of the receiving pipeline.
 * See README.md for the configuration and the HTTP API.
 */
import type { ApiServer } from '../../src/api';
import { API_EXTENSION, notConfiguredHints } from '../../src/api';
import type { Component, ConnectorFactory, Consumer, CreateSettings, Host, SignalConsumers } from '../../src/component';
import type { Logs, Metrics, Signal } from '../../src/model';
import { durationSchema } from '../../src/util/duration';
import { Alerting } from '../../src/alerting/alerting';
import { RawAlertingConfig, compileAlertingConfig, loadAlertingConfig } from '../../src/alerting/config';
import { registerAlertingApi } from '../../src/alerting/http';
import { notificationLogs, toNotificationRecord } from '../../src/alerting/notification';
import { parseDuration } from '../../src/util/duration';
import { selfMetrics } from './self-metrics';

notConfiguredHints.push({
  path: /^\/api\/(alerts|silences)(\/|$)|^\/api\/v2\/(alerts|silences?|status|receivers)(\/|$)/,
  hint: 'alerting is not configured: add the `alerts` connector to a pipeline in pipelines.yaml (the default pipelines.yaml has it; see connectors/alerts/README.md)',
});

export type AlertsConfig = RawAlertingConfig & { self_metrics_interval?: string | number };

const matcherList = { type: 'array', items: { type: 'string' } };

export const alertsConnectorFactory: ConnectorFactory<AlertsConfig> = {
  kind: 'connector',
  type: 'alerts',
  description: 'Alerting rules (threshold, test health, security, anomaly) with Prometheus lifecycle, and an Alertmanager-style router (grouping, inhibition, silences, escalation) emitting notifications as log records.',
  pairs: [['metrics', 'logs'], ['logs', 'logs']],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      evaluation_interval: durationSchema('1m', 'How often rule groups are evaluated (a group may set its own interval).'),
      external_url: { type: 'string', default: '', description: 'URL of this Vigil as users reach it; sent as externalURL and used in generatorURL.' },
      rule_files: { type: 'array', items: { type: 'string' }, default: [], description: 'Rule files (Prometheus-like YAML `groups:`), relative to the working directory.' },
      groups: { type: 'array', items: { type: 'object' }, default: [], description: 'Inline rule groups, same format as rule files.' },
      route: { type: 'object', default: { receiver: 'default' }, description: 'Alertmanager-style routing tree.' },
      receivers: {
        type: 'array', default: [], description: 'Declared receivers (optional): name, send_resolved (default true), max_alerts.',
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, send_resolved: { type: 'boolean' }, max_alerts: { type: 'integer', minimum: 0 } } },
      },
      inhibit_rules: {
        type: 'array', default: [],
        items: { type: 'object', properties: { source_matchers: matcherList, target_matchers: matcherList, equal: { type: 'array', items: { type: 'string' } } } },
      },
      escalation_policies: { type: 'array', default: [], items: { type: 'object' }, description: 'Named escalation policies: steps of {wait, receivers}, repeat.' },
      resolved_retention: durationSchema('15m', 'How long resolved alerts stay listed.'),
      silence_retention: durationSchema('120h', 'How long expired silences stay listed.'),
      self_metrics_interval: durationSchema('0s', 'Feed Vigil\'s own metrics (those served on the telemetry address) to the rules this often, as service.name=vigil; 0 = never.'),
      resolve_timeout: durationSchema('5m', 'Alerts posted to /api/v2/alerts without endsAt resolve this long after their last update (Alertmanager\'s global.resolve_timeout).'),
      resource_labels: { type: 'array', items: { type: 'string' }, description: 'Resource attributes copied into series labels (default service.name, service.namespace, service.instance.id, deployment.environment.name).' },
      max_series: { type: 'integer', minimum: 1, default: 100000 },
      max_samples_per_series: { type: 'integer', minimum: 1, default: 10000 },
      max_events_per_rule: { type: 'integer', minimum: 1, default: 100000 },
    },
  },
  validate(config) {
    return compileAlertingConfig(config).issues.map((i) => ({
      path: i.file ? ['rule_files'] : i.path.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '').map((x) => (/^\d+$/.test(x) ? Number(x) : x)),
      message: i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ''} ${i.path || '(root)'}: ${i.message}` : i.message,
    }));
  },
  create(settings: CreateSettings<AlertsConfig>, inputs: readonly Signal[], next: SignalConsumers) {
    return new AlertsConnector(settings, inputs, next);
  },
};

export class AlertsConnector implements Component, SignalConsumers {
  readonly alerting: Alerting;
  metrics?: Consumer<'metrics'>;
  logs?: Consumer<'logs'>;

  constructor(private readonly settings: CreateSettings<AlertsConfig>, inputs: readonly Signal[], next: SignalConsumers) {
    const { self_metrics_interval: _self, ...raw } = settings.config;
    const config = loadAlertingConfig(raw);
    const sent = settings.telemetry.counter('vigil_connector_alerts_notifications_sent_total', 'Alert notifications handed to the logs pipeline.', ['connector', 'receiver', 'status']);
    const failed = settings.telemetry.counter('vigil_connector_alerts_notifications_failed_total', 'Alert notifications the logs pipeline refused (retried at the next group interval).', ['connector', 'receiver']);
    const out = next.logs;
    this.alerting = new Alerting(config, {
      dataDir: settings.dataDir,
      namespace: settings.id,
      logger: settings.logger,
      send: async (n) => {
        if (!out) return; // not wired to a logs pipeline: nothing to deliver to
        try {
          await out.consume(notificationLogs([toNotificationRecord(n, this.alerting.clock.now())]));
          sent.inc({ connector: settings.id, receiver: n.receiver, status: n.status });
        } catch (e) {
          failed.inc({ connector: settings.id, receiver: n.receiver });
          throw e;
        }
      },
    });
    const active = settings.telemetry.gauge('vigil_connector_alerts_active', 'Alerts held by the rules, by state.', ['connector', 'state']);
    const series = settings.telemetry.gauge('vigil_connector_alerts_series', 'Metric series held for rule windows.', ['connector']);
    this.alerting.evaluator.afterEvaluation = () => {
      const counts: Record<string, number> = { pending: 0, firing: 0, inactive: 0 };
      for (const a of this.alerting.evaluator.alerts()) counts[a.state]++;
      for (const [state, n] of Object.entries(counts)) active.set({ connector: settings.id, state: state === 'inactive' ? 'resolved' : state }, n);
      series.set({ connector: settings.id }, this.alerting.evaluator.series.size);
    };
    if (!out) settings.logger.warn('the alerts connector is not a receiver of any logs pipeline: notifications have nowhere to go');
    if (inputs.includes('metrics')) this.metrics = { consume: async (m: Metrics) => this.alerting.consumeMetrics(m) };
    if (inputs.includes('logs')) this.logs = { consume: async (l: Logs) => this.alerting.consumeLogs(l) };
  }

  private selfTimer?: NodeJS.Timeout;

  async start(host: Host): Promise<void> {
    const api = host.getExtension<ApiServer>(API_EXTENSION);
    if (api) registerAlertingApi(api, this.alerting);
    this.alerting.start();
    const every = parseDuration(this.settings.config.self_metrics_interval ?? 0);
    if (every > 0) {
      const startedAt = Date.now();
      this.selfTimer = setInterval(() => {
        selfMetrics(this.settings.telemetry.registry, startedAt, Date.now())
          .then((m) => this.alerting.consumeMetrics(m))
          .catch((e) => this.settings.logger.warn({ err: (e as Error).message }, 'cannot read Vigil\'s own metrics for the rules'));
      }, every);
      this.selfTimer.unref();
    }
    this.settings.logger.info({ rules: this.alerting.config.groups.reduce((n, g) => n + g.rules.length, 0), api: !!api }, 'alerting started');
  }

  async shutdown(): Promise<void> {
    clearInterval(this.selfTimer);
    await this.alerting.stop();
  }
}
