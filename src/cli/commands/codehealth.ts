/**
 * `vigil codehealth scan PATH`: the code health receiver's analysis, once, on a local tree. Prints
 * components with their scores, then every stub with file:line, then skipped files; `--json` prints
 * the same data as `GET /api/codehealth` would for that repository (plus skipped files). A progress
 * bar goes to stderr when it is a terminal and the tree is large.
 */
import { basename, resolve } from 'node:path';
import type { Command } from '../command';
import { table } from '../api-client';
import { RepositoryScanner, ScanResult } from '../../../receivers/codehealth/analyze/scan';

const PROGRESS_FROM_FILES = 500;

/** PATH, --json, --help, --component NAME=DIR (repeatable), --max-file-size N. */
function parseArgs(args: string[]): { flags: Record<string, string | string[] | true>; rest: string[] } {
  const flags: Record<string, string | string[] | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) { rest.push(a); continue; }
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (key === 'json' || key === 'help') { flags[key] = true; continue; }
    const value = inline ?? args[++i] ?? '';
    if (key === 'component') flags.component = [...((flags.component as string[]) ?? []), value];
    else flags[key] = value;
  }
  return { flags, rest };
}

function progressBar(): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  let last = -1;
  return (done, total) => {
    if (total < PROGRESS_FROM_FILES) return;
    const pct = Math.floor((done / total) * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const fill = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% ${done}/${total} files`);
    if (done === total) process.stderr.write('\n');
  };
}

/**
 * Write and wait until it is handed to the OS: the CLI exits as soon as a command returns, and
 * output to a pipe is asynchronous, so a large report (thousands of stubs) would otherwise be cut
 * at the pipe's buffer size.
 */
function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function codehealthJson(name: string, path: string, r: ScanResult): unknown {
  return {
    name, path, scanned_at: r.scannedAt, score: r.score,
    components: r.components.map((c) => ({ name: c.name, functions: c.functions, implemented: c.implemented, stubs: c.stubs, score: c.score, loc: c.loc, test_files: c.test_files })),
    stubs: r.stubList,
    skipped: r.problems,
  };
}

export const codehealthScanCommand: Command = {
  name: 'codehealth scan',
  summary: 'Scan a source tree for stubs and print the implementation score per component',
  usage: 'vigil codehealth scan PATH [--json] [--component NAME=DIR]... [--max-file-size BYTES]',
  async run(args) {
    const { flags, rest } = parseArgs(args);
    if (flags.help || rest.length !== 1) {
      process.stderr.write(`usage: ${this.usage}\n`);
      return flags.help ? 0 : 2;
    }
    const root = resolve(rest[0]);
    let components: Record<string, string> | undefined;
    for (const c of (flags.component as string[] | undefined) ?? []) {
      const eq = c.indexOf('=');
      if (eq <= 0) { process.stderr.write(`--component ${c}: expected NAME=DIR\n`); return 2; }
      (components ??= {})[c.slice(0, eq)] = c.slice(eq + 1);
    }
    const maxFileBytes = flags['max-file-size'] ? Number(flags['max-file-size']) : undefined;
    const scanner = new RepositoryScanner({ root, components, maxFileBytes, onProgress: flags.json ? undefined : progressBar() });
    let r: ScanResult;
    try {
      r = await scanner.scan();
    } catch (e) {
      process.stderr.write(`error: cannot scan ${root}: ${(e as Error).message}\n`);
      return 1;
    }
    if (flags.json) {
      await writeOut(JSON.stringify(codehealthJson(basename(root), root, r), null, 2) + '\n');
      return 0;
    }
    let out = '';
    const rows = [['COMPONENT', 'FUNCTIONS', 'IMPLEMENTED', 'STUBS', 'SCORE', 'LOC', 'TEST FILES']];
    for (const c of r.components) rows.push([c.name, String(c.functions), String(c.implemented), String(c.stubs), pct(c.score), String(c.loc), String(c.test_files)]);
    rows.push(['TOTAL', String(r.functions), String(r.implemented), String(r.stubs), pct(r.score), String(r.loc), String(r.test_files)]);
    out += table(rows);
    if (r.stubList.length) {
      out += `\nSTUBS (${r.stubList.length})\n`;
      out += table([['LOCATION', 'FUNCTION', 'KIND', 'COMPONENT'], ...r.stubList.map((s) => [`${s.file}:${s.line}`, s.function, s.kind, s.component])]);
    }
    if (r.problems.length) {
      out += `\nSKIPPED (${r.problems.length})\n`;
      out += table([['PATH', 'REASON', 'DETAIL'], ...r.problems.map((p) => [p.file, p.reason, p.detail ?? ''])]);
    }
    await writeOut(out);
    return 0;
  },
};
