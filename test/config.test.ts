import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Factory } from '../src/component';
import { loadConfigFiles, loadConfigSources } from '../src/config/load';
import { validateConfig } from '../src/config/validate';
import { ConfigError } from '../src/errors';

const recv: Factory = {
  kind: 'receiver', type: 'otlp', description: '', signals: ['traces', 'metrics', 'logs'],
  configSchema: { type: 'object', properties: { protocols: { type: 'object', properties: { http: { type: 'object', properties: { endpoint: { type: 'string', default: '127.0.0.1:4318' } } } } } } },
  create: () => ({}),
};
const tracesOnly: Factory = { kind: 'receiver', type: 'zipkin', description: '', signals: ['traces'], configSchema: { type: 'object', properties: {} }, create: () => ({}) };
const proc: Factory = {
  kind: 'processor', type: 'batch', description: '', signals: ['traces', 'metrics', 'logs'], mutatesData: false,
  configSchema: { type: 'object', properties: { send_batch_size: { type: 'integer', default: 8192 }, timeout: { anyOf: [{ type: 'string', pattern: '^\\d+(ms|s|m|h)$' }, { type: 'number' }], default: '200ms' } } },
  create: () => ({ consume: async () => {} }),
};
const exp: Factory = { kind: 'exporter', type: 'nop', description: '', signals: ['traces', 'metrics', 'logs'], configSchema: { type: 'object', properties: { path: { type: 'string', default: 'x' } } }, create: () => ({}) };
const conn: Factory = { kind: 'connector', type: 'forward', description: '', pairs: [['traces', 'traces'], ['logs', 'logs']], configSchema: { type: 'object', properties: {} }, create: () => ({}) };
const factories = [recv, tracesOnly, proc, exp, conn];

function issuesOf(yaml: string, env: NodeJS.ProcessEnv = {}) {
  try {
    validateConfig(loadConfigSources([{ name: 'p.yaml', text: yaml }], env), factories);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

t.test('a valid config gets defaults, null bodies and env substitution', async (t) => {
  const yaml = `receivers:
  otlp:
    protocols:
      http:
processors:
  batch:
    send_batch_size: \${env:SIZE}
exporters:
  nop/a:
    path: "\${env:DIR:-/tmp}/x-$$HOME-\${env:NAME}"
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [nop/a]
`;
  const cfg = validateConfig(loadConfigSources([{ name: 'p.yaml', text: yaml }], { SIZE: '100', NAME: 'n' }), factories);
  t.same(cfg.receivers.get('otlp')!.config, { protocols: { http: { endpoint: '127.0.0.1:4318' } } });
  t.equal(cfg.processors.get('batch')!.config.send_batch_size, 100, 'a whole-value reference takes the YAML type');
  t.equal(cfg.processors.get('batch')!.config.timeout, '200ms');
  t.equal(cfg.exporters.get('nop/a')!.config.path, '/tmp/x-$HOME-n', 'default, $$ escape and interpolation');
  t.equal(cfg.exporters.get('nop/a')!.name, 'a');
  t.same(cfg.service.pipelines, [{ id: 'traces', signal: 'traces', receivers: ['otlp'], processors: ['batch'], exporters: ['nop/a'] }]);
  t.equal(cfg.service.dataDir, './data');
});

t.test('unset variables warn with their position', async (t) => {
  const loaded = loadConfigSources([{ name: 'p.yaml', text: 'exporters:\n  nop:\n    path: ${env:MISSING}\n' }], {});
  t.equal(loaded.warnings.length, 1);
  t.match(loaded.warnings[0], { line: 3, path: 'exporters.nop.path', message: /MISSING is not set/ });
});

t.test('every problem is reported with file, line, column and path', async (t) => {
  const yaml = `receivers:
  otlp:
    protocols:
      http:
        endpont: 1
  bogus:
  zipkin:
processors:
  batch:
    send_batch_size: "lots"
    timeout: soon
exporters:
  nop:
service:
  pipelines:
    traces:
      receivers: [otlp, missing]
      exporters: [nop]
    metrics:
      receivers: [zipkin]
      exporters: [nop]
    logs/x:
      exporters: [nop]
    spans:
      receivers: [otlp]
      exporters: [nop]
`;
  const issues = issuesOf(yaml);
  const find = (re: RegExp) => issues.find((i) => re.test(i.message));
  t.match(find(/unknown key "endpont"/), { file: 'p.yaml', line: 5, col: 9, path: 'receivers.otlp.protocols.http.endpont' });
  t.match(find(/unknown receiver type "bogus"/), { line: 6, path: 'receivers.bogus' });
  t.match(find(/expected integer/), { line: 10, path: 'processors.batch.send_batch_size' });
  t.match(find(/expected a duration/), { line: 11, path: 'processors.batch.timeout' });
  t.match(find(/unknown key "endpont"/), { message: /expected one of: endpoint/ });
  t.match(find(/receiver or connector "missing" is not defined/), { line: 17, path: 'service.pipelines.traces.receivers[1]' });
  t.match(find(/does not support metrics/), { path: 'service.pipelines.metrics.receivers[0]' });
  t.match(find(/missing required key "receivers"/), { path: 'service.pipelines.logs/x' });
  t.match(find(/invalid pipeline id "spans"/), { line: 24 });
});

t.test('connectors: both sides, supported pairs, cycles', async (t) => {
  const base = `receivers: {otlp: }
exporters: {nop: }
connectors: {forward: , forward/b: }
`;
  let issues = issuesOf(base + `service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [forward]
`);
  t.match(issues[0], { message: /used only as an exporter/ });

  issues = issuesOf(base + `service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [forward]
    metrics:
      receivers: [forward]
      exporters: [nop]
`);
  t.ok(issues.some((i) => /cannot take traces/.test(i.message)), 'traces→metrics is not a pair of forward');

  issues = issuesOf(base + `service:
  pipelines:
    traces/a:
      receivers: [otlp, forward/b]
      exporters: [forward]
    traces/b:
      receivers: [forward]
      exporters: [forward/b]
`);
  t.ok(issues.some((i) => /form a cycle/.test(i.message)), 'cycle detected');

  issues = issuesOf(base + `service:
  pipelines:
    traces/a:
      receivers: [otlp]
      exporters: [forward]
    traces/b:
      receivers: [forward]
      exporters: [nop]
`);
  t.same(issues, []);
});

t.test('several files merge, later wins, and errors name the right file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
  const a = join(dir, 'a.yaml');
  const b = join(dir, 'b.yaml');
  writeFileSync(a, 'receivers:\n  otlp:\nexporters:\n  nop:\n    path: first\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [nop]\n');
  writeFileSync(b, 'exporters:\n  nop:\n    path: second\nprocessors:\n  batch:\n    sned: 1\n');
  const loaded = loadConfigFiles([a, b], {});
  t.equal((loaded.value.exporters as any).nop.path, 'second');
  t.ok((loaded.value.receivers as any).otlp === null);
  try {
    validateConfig(loaded, factories);
    t.fail('should not validate');
  } catch (e) {
    t.match((e as ConfigError).issues[0], { file: b, line: 6, path: 'processors.batch.sned' });
  }
});

t.test('YAML syntax errors and unreadable files', async (t) => {
  try {
    loadConfigSources([{ name: 'bad.yaml', text: 'a: [1, 2\nb: c' }]);
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof ConfigError);
    t.match((e as ConfigError).issues[0], { file: 'bad.yaml', line: Number, message: /YAML syntax/ });
  }
  t.throws(() => loadConfigFiles(['/nonexistent/vigil.yaml']), /cannot read the config file: ENOENT/);
  const issues = issuesOf('receivers: {otlp: }\nreceivers2: 1\n');
  t.ok(issues.some((i) => /unknown top-level key "receivers2"/.test(i.message) && i.line === 2));
  t.ok(issues.some((i) => /missing the "service" section/.test(i.message)));
});
