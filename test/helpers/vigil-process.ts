/**
 * A real Vigil process for crash tests: `vigil run` on a config. Resolves once it logged that
 * everything is ready, with the OTLP/HTTP address it bound.
 *
 * The process runs the current sources bundled by esbuild (once per test file, about a second):
 * under the TypeScript loader a process takes tens of seconds to start on a loaded machine, and a
 * crash test starts several. The bundle sits in a temp dir that looks like the project to the code
 * (package.json, proto/, node_modules linked), with the sqlite writer thread beside it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
let built: string | undefined;

/** Bundle the CLI and the sqlite writer; the dir is removed when this process exits. */
export async function buildVigil(): Promise<string> {
  if (built) return built;
  const out = mkdtempSync(join(tmpdir(), 'vigil-bundle-'));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({
    entryPoints: { main: join(ROOT, 'src', 'cli', 'main.ts'), worker: join(ROOT, 'exporters', 'sqlite', 'worker.ts') },
    outdir: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', logLevel: 'error',
  });
  copyFileSync(join(ROOT, 'package.json'), join(out, 'package.json'));
  symlinkSync(join(ROOT, 'proto'), join(out, 'proto'));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  built = out;
  return out;
}

export interface VigilProcess {
  child: ChildProcess;
  http: string;
  stderr(): string;
  /** SIGKILL, and wait until it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for a clean exit. */
  stop(): Promise<number | null>;
}

export async function startVigil(config: string, cwd: string, env: Record<string, string> = {}): Promise<VigilProcess> {
  const bundle = await buildVigil();
  const child = spawn(process.execPath, [join(bundle, 'main.js'), 'run', '--config', config], { cwd, env: { ...process.env, VIGIL_LOG_LEVEL: 'info', ...env } });
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /"http":"([^"]+)"/.exec(stderr);
      if (m && stderr.includes('Everything is ready')) {
        resolveStart({
          child,
          http: m[1],
          stderr: () => stderr,
          kill9: async () => {
            child.kill('SIGKILL');
            await exited;
          },
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.stdout!.resume();
    void exited.then(() => reject(new Error(`vigil exited before it was ready:\n${stderr}`)));
  });
}
