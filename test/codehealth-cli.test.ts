/** `vigil codehealth scan PATH`: the table, --json, usage errors. Run in-process (no child start-up cost). */
import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codehealthScanCommand } from '../src/cli/commands/codehealth';

const root = mkdtempSync(join(tmpdir(), 'vigil-codehealth-cli-'));
t.after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'api'));
writeFileSync(join(root, 'api', 'views.py'), 'def get_orders():\n    return []\n\ndef ping():\n    return "pong"\n');
writeFileSync(join(root, 'api', 'blob.py'), Buffer.from([0, 1, 2, 3]));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  // Like a stream: the write callback runs once the data is handed on.
  process.stdout.write = ((s: string, cb?: () => void) => { out += s; if (typeof cb === 'function') setImmediate(cb); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string, cb?: () => void) => { err += s; if (typeof cb === 'function') setImmediate(cb); return true; }) as typeof process.stderr.write;
  try {
    const code = await codehealthScanCommand.run(args);
    return { code, out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

t.test('table', async (t) => {
  const r = await run([root]);
  t.equal(r.code, 0);
  t.match(r.out, /COMPONENT\s+FUNCTIONS\s+IMPLEMENTED\s+STUBS\s+SCORE/);
  t.match(r.out, /api\s+2\s+1\s+1\s+50\.0%/);
  t.match(r.out, /api\/views\.py:1\s+get_orders\s+placeholder_return\s+api/);
  t.match(r.out, /api\/blob\.py\s+binary/);
});

t.test('--json', async (t) => {
  const r = await run([root, '--json']);
  t.equal(r.code, 0);
  const j = JSON.parse(r.out);
  t.match(j, { score: 0.5, components: [{ name: 'api', functions: 2, implemented: 1, stubs: 1, score: 0.5 }] });
  t.same(j.stubs, [{ file: 'api/views.py', line: 1, function: 'get_orders', kind: 'placeholder_return', component: 'api' }]);
  t.match(j.skipped, [{ file: 'api/blob.py', reason: 'binary' }]);
});

t.test('the command returns only once stdout has taken the whole report (a pipe is asynchronous; the CLI exits on return)', async (t) => {
  // stdout is replaced only while the command runs (tap reports through it), with a write that
  // completes 50 ms later, as a full pipe would.
  const runSlowStdout = async (args: string[]) => {
    let flushed = false;
    const w = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((_s: string, cb?: () => void) => { setTimeout(() => { flushed = true; cb?.(); }, 50); return false; }) as typeof process.stdout.write;
    try {
      const code = await codehealthScanCommand.run(args);
      return { code, flushedAtReturn: flushed };
    } finally {
      process.stdout.write = w;
    }
  };
  t.same(await runSlowStdout([root, '--json']), { code: 0, flushedAtReturn: true });
  t.same(await runSlowStdout([root]), { code: 0, flushedAtReturn: true }, 'the table too');
});

t.test('usage and missing paths', async (t) => {
  t.equal((await run([])).code, 2);
  const r = await run([join(root, 'nope')]);
  t.equal(r.code, 1);
  t.match(r.err, /cannot scan/);
});
