/**
 * `vigil` command line: run, validate, components, schema, version, and the feature commands
 * registered in ./commands.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { factories } from '../components';
import { describeFields, pipelinesJsonSchema } from '../config/schema';
import { ConfigError, formatIssue } from '../errors';
import { projectRoot } from '../paths';
import { loadAndValidate, startCollector } from '../service';
import type { Command } from './command';
import { featureCommands } from './commands';
import { reportCommand } from './commands/report';
import { codehealthScanCommand } from './commands/codehealth';
import { securityCommands } from './commands/security';
import { listenEndpointIssues } from './preflight';

/** Thrown for bad command-line arguments: printed with the usage, exit code 2. */
class ArgsError extends Error {}

/**
 * Node's util.parseArgs, strict: an option missing its value (`--config` at the end), an unknown
 * option or a stray argument is an error rather than a guess.
 */
function args<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
  } catch (e) {
    throw new ArgsError((e as Error).message);
  }
}

const CONFIG_OPTION = { config: { type: 'string', short: 'c', multiple: true } } as const;

/**
 * `--name value`, `--name=value`, `-o value`; names in `booleans` take no value; names in `multi`
 * may repeat and collect into a list.
 */
export function parseFlags(args: string[], multi: string[] = [], booleans: string[] = ['json', 'help']): { flags: Record<string, string | string[] | true>; rest: string[] } {
  const flags: Record<string, string | string[] | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | true = true;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (!booleans.includes(key) && i + 1 < args.length && !args[i + 1].startsWith('-')) value = args[++i];
    if (multi.includes(key)) flags[key] = [...((flags[key] as string[]) ?? []), String(value)];
    else flags[key] = value;
  }
  return { flags, rest };
}

/** --config files; without any, ./pipelines.yaml, else the default that ships with Vigil. */
function configFiles(flags: { config?: string[] }): string[] {
  const given = flags.config ?? [];
  if (given.length) return given;
  if (existsSync('pipelines.yaml')) return ['pipelines.yaml'];
  return [join(projectRoot(), 'pipelines.yaml')];
}

function printConfigError(e: unknown): number {
  if (e instanceof ConfigError) {
    process.stderr.write(`invalid configuration (${e.issues.length} problem${e.issues.length > 1 ? 's' : ''}):\n`);
    for (const i of e.issues) process.stderr.write(`  ${formatIssue(i)}\n`);
    return 2;
  }
  process.stderr.write(`error: ${(e as Error).message}\n`);
  return 1;
}

const run: Command = {
  name: 'run',
  summary: 'Start the pipelines (default ./pipelines.yaml)',
  usage: 'vigil run [--config FILE]...',
  async run(argv) {
    const flags = args(argv, CONFIG_OPTION).values;
    // Handlers go in before anything starts: a signal during start-up stops the collector as soon
    // as it is up, instead of killing the process with data in flight.
    let signalled: string | undefined;
    let onSignal: (sig: string) => void = (sig) => (signalled = sig);
    let forced = false;
    const handler = (sig: string) => {
      if (signalled && forced) process.exit(1);
      if (signalled) forced = true;
      onSignal(sig);
    };
    const onTerm = () => handler('SIGTERM');
    const onInt = () => handler('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    let running;
    try {
      running = await startCollector({ configFiles: configFiles(flags) });
    } catch (e) {
      return printConfigError(e);
    }
    const logger = running.collector.logger;
    const stopped = new Promise<number>((resolve) => {
      onSignal = (sig) => {
        if (forced) {
          logger.error('second signal: exiting without finishing the shutdown');
          process.exit(1);
        }
        signalled = sig;
        logger.info({ signal: sig }, 'shutting down: no new data is accepted; flushing what was received');
        running.shutdown().then(
          () => {
            logger.info('shutdown complete');
            resolve(0);
          },
          (e) => {
            logger.error({ err: (e as Error).message }, 'shutdown failed');
            resolve(1);
          },
        );
      };
    });
    if (signalled) onSignal(signalled);
    const code = await stopped;
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    return code;
  },
};

const validate: Command = {
  name: 'validate',
  summary: 'Check a configuration and list every problem with its file, line and column',
  usage: 'vigil validate [--config FILE]...',
  async run(argv) {
    const files = configFiles(args(argv, CONFIG_OPTION).values);
    try {
      const cfg = loadAndValidate({ configFiles: files });
      const endpoints = listenEndpointIssues(cfg);
      if (endpoints.length) throw new ConfigError(endpoints);
      for (const w of cfg.warnings) process.stderr.write(`warning: ${formatIssue(w)}\n`);
      process.stdout.write(`${files.join(', ')}: valid (${cfg.service.pipelines.length} pipeline${cfg.service.pipelines.length === 1 ? '' : 's'}: ${cfg.service.pipelines.map((p) => p.id).join(', ')})\n`);
      return 0;
    } catch (e) {
      return printConfigError(e);
    }
  },
};

const components: Command = {
  name: 'components',
  summary: 'List every component type with its signals, config fields and defaults',
  usage: 'vigil components [--json] [TYPE]',
  async run(argv) {
    const { values: flags, positionals } = args(argv, { json: { type: 'boolean' } }, true);
    const rest = positionals as string[];
    const list = factories.filter((f) => !rest.length || rest.includes(f.type));
    if (flags.json) {
      process.stdout.write(JSON.stringify(list.map((f) => ({ kind: f.kind, type: f.type, description: f.description, signals: signalsOf(f), config: f.configSchema })), null, 2) + '\n');
      return 0;
    }
    for (const kind of ['receiver', 'processor', 'exporter', 'connector', 'extension'] as const) {
      const fs = list.filter((f) => f.kind === kind);
      if (!fs.length) continue;
      process.stdout.write(`${kind.toUpperCase()}S\n`);
      for (const f of fs) {
        process.stdout.write(`  ${f.type}  [${signalsOf(f).join(', ')}]\n    ${f.description}\n`);
        for (const d of describeFields(f.configSchema)) {
          const def = d.default !== undefined ? ` = ${JSON.stringify(d.default)}` : '';
          process.stdout.write(`      ${d.path} (${d.type})${def}${d.description ? `  ${d.description}` : ''}\n`);
        }
      }
      process.stdout.write('\n');
    }
    return 0;
  },
};

function signalsOf(f: (typeof factories)[number]): string[] {
  if (f.kind === 'connector') return f.pairs.map(([a, b]) => `${a}→${b}`);
  if (f.kind === 'extension') return [];
  return [...f.signals];
}

const schema: Command = {
  name: 'schema',
  summary: 'Print (or write with -o) the JSON Schema of pipelines.yaml, for your editor',
  usage: 'vigil schema [-o|--output FILE]',
  async run(argv) {
    const { values } = args(argv, { output: { type: 'string', short: 'o' } });
    const text = JSON.stringify(pipelinesJsonSchema(factories), null, 2) + '\n';
    const out = values.output;
    if (out) writeFileSync(out, text);
    else process.stdout.write(text);
    return 0;
  },
};

const version: Command = {
  name: 'version',
  summary: 'Print the version',
  usage: 'vigil version',
  async run() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    process.stdout.write(`vigil ${require(join(projectRoot(), 'package.json')).version}\n`);
    return 0;
  },
};

export const commands: Command[] = [run, validate, components, schema, version, ...featureCommands, reportCommand, codehealthScanCommand, ...securityCommands];

function help(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return `Usage: vigil <command> [options]\n\nCommands:\n${commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}\n\nRun "vigil <command> --help" for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(help());
    return 0;
  }
  // Longest match first, so "alerts list" wins over "alerts".
  const sorted = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const c of sorted) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) {
      const rest = argv.slice(words.length);
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(`${c.summary}\n\nUsage: ${c.usage}\n`);
        return 0;
      }
      try {
        return await c.run(rest);
      } catch (e) {
        if (!(e instanceof ArgsError)) throw e;
        process.stderr.write(`error: ${e.message}\nusage: ${c.usage}\n`);
        return 2;
      }
    }
  }
  process.stderr.write(`unknown command "${argv.join(' ')}"\n\n${help()}`);
  return 2;
}
