/**
 * CLI defects found from outside: `vigil components | head` died with an EPIPE stack trace;
 * `validate --config` with no value read a file named "true"; `validate` called a config valid whose
 * listen endpoint, left empty by an unset ${env:...}, then stopped `run`.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../src/cli';
import { loaderArgs } from './helpers/loader-args';

const ROOT = resolve(__dirname, '..');
const ENTRY = join(ROOT, 'src', 'cli', 'main.ts');
const nodeArgs = [...loaderArgs(), ENTRY];

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-defects-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function vigil(args: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof out;
  process.stderr.write = ((c: string) => ((stderr += c), true)) as typeof err;
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

t.test('a closed stdout pipe (vigil components | head -1) exits 0 without a stack trace', async (t) => {
  // The real entry point would load every component under the TypeScript loader (tens of seconds on
  // a loaded machine); a child that installs the same handler main.ts installs and then writes more
  // than a pipe holds, as \`components\` does, shows the behaviour in a second.
  const script = join(dir, 'writer.ts');
  writeFileSync(script, `import { exitQuietlyOnClosedPipe } from ${JSON.stringify(join(ROOT, 'src', 'cli', 'epipe.ts'))};
exitQuietlyOnClosedPipe();
for (let i = 0; i < 20000; i++) process.stdout.write('line ' + i + ' of a long component listing\\n');
`);
  const loader = nodeArgs.slice(0, -1);
  // bash reports the status of the writer itself (PIPESTATUS), not that of head.
  const child = spawn('bash', ['-c', '"$@" | head -1; exit ${PIPESTATUS[0]}', 'pipe', process.execPath, ...loader, script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  t.equal(out, 'line 0 of a long component listing\n');
  t.equal(code, 0, 'a closed pipe is not a failure');
  t.notMatch(err, /EPIPE|at /, `nothing on stderr: ${err.slice(0, 300)}`);
  t.match(readFileSync(ENTRY, 'utf8'), /exitQuietlyOnClosedPipe\(\);/, 'the CLI entry point installs it');
});

t.test('an option missing its value is a usage error, not a file named "true"', async (t) => {
  const r = await vigil(['validate', '--config']);
  t.equal(r.status, 2);
  t.match(r.stderr, /--config <value>' argument missing/);
  t.match(r.stderr, /usage: vigil validate/);
  t.notMatch(r.stderr, /true/);
  const unknown = await vigil(['validate', '--confg', 'x.yaml']);
  t.equal(unknown.status, 2, 'a misspelt option is refused');
  t.match(unknown.stderr, /Unknown option '--confg'/);
  const two = await vigil(['components', '--json', 'batch']);
  t.equal(two.status, 0);
  t.equal(JSON.parse(two.stdout)[0].type, 'batch', 'options and positionals still work');
});

t.test('validate refuses a listen endpoint that run would refuse, naming the unset variable', async (t) => {
  const file = join(dir, 'p.yaml');
  writeFileSync(file, `receivers:
  otlp:
    protocols:
      http: { endpoint: "\${env:VIGIL_TEST_UNSET_ENDPOINT}" }
exporters:
  debug: {}
service:
  telemetry: { metrics: { address: null } }
  pipelines:
    logs: { receivers: [otlp], exporters: [debug] }
`);
  const r = await vigil(['validate', '--config', file], { VIGIL_TEST_UNSET_ENDPOINT: undefined });
  t.equal(r.status, 2);
  t.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+ receivers\\.otlp\\.protocols\\.http\\.endpoint: invalid endpoint ""`));
  t.match(r.stderr, /VIGIL_TEST_UNSET_ENDPOINT is not set/);
  const ok = await vigil(['validate', '--config', file], { VIGIL_TEST_UNSET_ENDPOINT: '127.0.0.1:0' });
  t.equal(ok.status, 0, 'valid once the variable is set');
});
