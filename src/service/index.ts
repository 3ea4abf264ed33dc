/**
 * Starting a collector from config files or YAML text: what `vigil run` does, and what tests use.
 */
import type { Server } from 'node:http';
import { createListenerServer } from '../tls/server';
import type { Logger } from 'pino';
import type { Factory } from '../component';
import { factories } from '../components';
import { ConfigSource, loadConfigFiles, loadConfigSources } from '../config/load';
import { validateConfig, ValidatedConfig } from '../config/validate';
import { formatIssue } from '../errors';
import { createLogger } from '../logger';
import { Telemetry } from '../telemetry';
import { Collector } from './collector';
import { listen, parseEndpoint } from '../util/net';

export interface StartOptions {
  /** Config files, merged in order. */
  configFiles?: string[];
  /** Or YAML texts (tests), merged in order. */
  yaml?: string[];
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Extra factories besides the registered ones (tests). */
  factories?: Factory[];
}

export interface RunningCollector {
  collector: Collector;
  config: ValidatedConfig;
  telemetry: Telemetry;
  /** Where self metrics are served, if enabled ("127.0.0.1:8888"). */
  metricsAddress?: string;
  shutdown(): Promise<void>;
}

export function loadAndValidate(opts: StartOptions): ValidatedConfig {
  const loaded = opts.yaml
    ? loadConfigSources(opts.yaml.map((text, i): ConfigSource => ({ name: `<config ${i + 1}>`, text })), opts.env)
    : loadConfigFiles(opts.configFiles ?? [], opts.env);
  return validateConfig(loaded, opts.factories ? [...factories, ...opts.factories] : factories);
}

export async function startCollector(opts: StartOptions): Promise<RunningCollector> {
  const config = loadAndValidate(opts);
  const logger = opts.logger ?? createLogger(config.service.telemetry.logs.level);
  for (const w of config.warnings) logger.warn(formatIssue(w));
  const telemetry = new Telemetry({ processMetrics: true });
  const collector = new Collector(config, logger, telemetry);

  let metricsServer: Server | undefined;
  let metricsAddress: string | undefined;
  if (config.service.telemetry.metrics.address) {
    metricsServer = createListenerServer(config.service.telemetry.metrics.tls, 'service.telemetry.metrics.tls', logger, (req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end('not found; try /metrics\n');
        return;
      }
      telemetry.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': telemetry.registry.contentType }).end(text),
        (e) => res.writeHead(500).end(String(e)),
      );
    });
    metricsAddress = await listen(metricsServer, parseEndpoint(config.service.telemetry.metrics.address, 'service.telemetry.metrics.address'));
  }
  try {
    await collector.start();
  } catch (e) {
    metricsServer?.close();
    throw e;
  }
  logger.info({ pipelines: config.service.pipelines.map((p) => p.id), metrics: metricsAddress }, 'Everything is ready. Begin running and processing data.');
  return {
    collector,
    config,
    telemetry,
    metricsAddress,
    async shutdown() {
      await collector.shutdown();
      await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
      metricsServer?.closeAllConnections();
    },
  };
}
