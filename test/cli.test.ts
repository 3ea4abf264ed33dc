/**
 * The CLI as a user runs it, in a child process: validate (valid / every problem with its position),
 * components, schema, and run + SIGTERM with data sent by the OpenTelemetry SDK in between.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { main } from '../src/cli';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { exportAsync, makeSpans, traceExporter } from './helpers/sdk';
import { loaderArgs } from './helpers/loader-args';

const ROOT = resolve(__dirname, '..');
const ENTRY = join(ROOT, 'src', 'cli', 'main.ts');
// Run the TypeScript sources with the same loader tap gave this process.
const nodeArgs = [...loaderArgs(), ENTRY];

/** Run a command in this process, capturing what it prints (a child per command is slow under a TS loader). */
async function vigil(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof out;
  process.stderr.write = ((c: string) => ((stderr += c), true)) as typeof err;
  try {
    const status = await main(args);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));

t.test('validate: the default pipelines.yaml is valid', async (t) => {
  const r = await vigil(['validate', '--config', join(ROOT, 'pipelines.yaml')]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /pipelines\.yaml: valid \(8 pipelines: traces, metrics, metrics\/spanmetrics, logs, logs\/events, metrics\/alerts, logs\/alerts, logs\/notifications\)/);
});

t.test('validate: every problem as FILE:LINE:COL path: message, non-zero exit', async (t) => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
        max_request_body_size: big
exporters:
  sqlite:
    retention:
      max_age: forever
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [sqlite, kafka]
`);
  const r = await vigil(['validate', '--config', bad]);
  t.equal(r.status, 2);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('  '));
  t.ok(lines.some((l) => l.includes(`${bad}:6:9 receivers.otlp.protocols.http.max_request_body_size: expected integer`)), r.stderr);
  t.ok(lines.some((l) => l.includes(`${bad}:10:7 exporters.sqlite.retention.max_age: expected a duration`)), r.stderr);
  t.ok(lines.some((l) => l.includes(`${bad}:15:20 service.pipelines.traces.processors[0]: processor "batch" is not defined`)), r.stderr);
  t.ok(lines.some((l) => l.includes(`${bad}:16:27 service.pipelines.traces.exporters[1]: exporter or connector "kafka" is not defined`)), r.stderr);
});

t.test('components and schema', async (t) => {
  const r = await vigil(['components']);
  t.equal(r.status, 0);
  for (const type of ['otlp', 'batch', 'memory_limiter', 'sqlite', 'file', 'debug', 'forward', 'api', 'health_check']) t.match(r.stdout, new RegExp(`^  ${type}  `, 'm'), `lists ${type}`);
  t.match(r.stdout, /max_request_body_size \(integer\) = 20971520/, 'fields with defaults');
  const json = JSON.parse((await vigil(['components', '--json', 'batch'])).stdout);
  t.match(json, [{ kind: 'processor', type: 'batch', signals: ['traces', 'metrics', 'logs'] }]);
  const schemaFile = join(dir, 'schema.json');
  t.equal((await vigil(['schema', '-o', schemaFile])).status, 0);
  const schema = JSON.parse(require('node:fs').readFileSync(schemaFile, 'utf8'));
  t.ok(schema.properties.receivers.patternProperties['^otlp(/.+)?$'], 'schema covers components');
  t.equal((await vigil(['nonsense'])).status, 2);
});

t.test('run, receive from the SDK, stop on SIGTERM with everything stored', async (t) => {
  const cfg = join(dir, 'run.yaml');
  writeFileSync(cfg, `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  batch:
    timeout: 10s
exporters:
  sqlite:
    path: ${join(dir, 'run.db')}
service:
  telemetry:
    metrics:
      address: null
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [sqlite]
`);
  const child = spawn(process.execPath, [...nodeArgs, 'run', '--config', cfg], { cwd: dir, env: { ...process.env, VIGIL_LOG_LEVEL: 'info' } });
  let stderr = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /"http":"([^"]+)"/.exec(stderr);
      if (m && stderr.includes('Everything is ready')) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  const http = await ready;
  const spans = await makeSpans('cli');
  const res = await exportAsync(traceExporter('http/protobuf', { http, grpc: '' }), spans);
  t.equal(res.code, 0, 'accepted');
  // The batch processor holds the spans (10 s timeout): only a graceful shutdown gets them stored.
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit');
  t.match(stderr, /shutdown complete/);
  const db = new Database(join(dir, 'run.db'), { readonly: true });
  const rows = db.prepare('select span_id from spans').all() as Array<{ span_id: string }>;
  t.same(rows.map((r) => r.span_id).sort(), spans.map((s) => s.spanContext().spanId).sort(), 'every acknowledged span is in the database');
  db.close();
});
