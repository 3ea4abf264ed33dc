/**
 * Scanning a repository: walk the tree, read and analyse each source file, keep a per-file summary,
 * and add the summaries up per component. The scanner keeps its summaries between scans, so a
 * rescan re-parses only files whose size, mtime or inode changed, and `update(paths)` re-parses just
 * the paths a file watcher named.
 *
 * Safety: symlinks are never followed (a link pointing outside the repository, or at one of its own
 * ancestors, is reported), files are opened with O_NOFOLLOW after a realpath check against the
 * repository's real path, so nothing outside the repository is read even if the tree changes under
 * the scan. Binary, oversized and generated files, syntax errors, unreadable folders and files that
 * vanish are reported as problems and skipped. Memory is bounded: at most `maxFileBytes` of one file
 * is held at a time, summaries keep counts and stubs only, and the walk stops at `maxFiles`.
 */
import { hash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { isTestFile, languageOf } from './index';
import { AnalysisPool, defaultWorkerCount, MIN_FILES_FOR_WORKERS } from './pool';
import { summarizeSource, SummaryOutcome } from './summary';
import type { StubKind } from './types';

export interface ScanFs {
  readdirSync(path: string, opts: { withFileTypes: true }): nodeFs.Dirent[];
  realpathSync(path: string): string;
  lstatSync(path: string): nodeFs.Stats;
  openSync(path: string, flags: number): number;
  fstatSync(fd: number): nodeFs.Stats;
  readSync(fd: number, buf: Buffer, off: number, len: number, pos: number): number;
  closeSync(fd: number): void;
}

export interface ScanOptions {
  root: string;
  /** Component name → folder relative to the root. Default: each top-level folder is a component. */
  components?: Record<string, string>;
  /** Folder names never entered. */
  exclude?: readonly string[];
  maxFileBytes?: number;
  maxFiles?: number;
  /** File system calls (tests replace some to simulate unreadable folders as root). */
  fs?: ScanFs;
  /** Called while analysing: files done, files to do. */
  onProgress?(done: number, total: number): void;
  /** Test hook: runs after the walk listed the files and before they are read. */
  afterWalk?(files: string[]): void;
  /**
   * Worker threads for a large pass (at least MIN_FILES_FOR_WORKERS files to parse). Default: one per
   * available core, capped; 0 or 1 parses in the scanner's thread.
   */
  workers?: number;
  /** Files to parse from which a pass uses workers (default MIN_FILES_FOR_WORKERS). */
  minFilesForWorkers?: number;
  /** A worker thread failed; its files were analysed in the scanner's thread instead. */
  onWorkerError?(e: Error): void;
}

export const DEFAULT_EXCLUDE = ['.git', '.hg', '.svn', 'node_modules', 'dist', 'build', 'out', 'coverage', '.venv', 'venv', '__pycache__', '.tox', '.mypy_cache', '.pytest_cache', 'site-packages', '.next', 'vendor', 'third_party'];
export const ROOT_COMPONENT = '(root)';
export const OTHER_COMPONENT = '(other)';

export type ProblemReason = 'binary' | 'too_large' | 'generated' | 'syntax_error' | 'symlink_loop' | 'outside_repository' | 'unreadable' | 'vanished' | 'too_many_files' | 'not_a_file';

export interface Problem {
  /** Path relative to the repository root. */
  file: string;
  reason: ProblemReason;
  detail?: string;
}

export interface StubRecord {
  file: string;
  line: number;
  function: string;
  kind: StubKind;
  component: string;
}

export interface ComponentSummary {
  name: string;
  files: number;
  functions: number;
  implemented: number;
  stubs: number;
  exempt: number;
  score: number;
  loc: number;
  test_files: number;
}

export interface ScanResult {
  root: string;
  /** Unix ms when the result was computed. */
  scannedAt: number;
  files: number;
  /** Files parsed in this pass (all on the first scan, only changed ones afterwards). */
  parsed: number;
  functions: number;
  implemented: number;
  stubs: number;
  score: number;
  loc: number;
  test_files: number;
  components: ComponentSummary[];
  stubList: StubRecord[];
  problems: Problem[];
}

interface FileSummary {
  key: string;
  /** Content hash: a file touched but not changed (checkout, save without edits) is not parsed again. */
  hash?: string;
  component: string;
  test: boolean;
  loc: number;
  functions: number;
  implemented: number;
  exempt: number;
  stubs: Array<{ line: number; function: string; kind: StubKind }>;
  problem?: Problem;
}

/** implemented ÷ (implemented + stubs); 1 when there is nothing to judge. See README, "Score". */
export function implementationScore(implemented: number, stubs: number): number {
  return implemented + stubs === 0 ? 1 : implemented / (implemented + stubs);
}

const YIELD_EVERY_MS = 15;
/** Files and characters per batch sent to a worker: large enough that messaging is a small cost. */
const BATCH_FILES = 64;
const BATCH_BYTES = 512 * 1024;
const GENERATED_MARK = /@generated|DO NOT EDIT|auto-?generated|Code generated by/i;

export class RepositoryScanner {
  readonly root: string;
  private realRoot?: string;
  private readonly fs: ScanFs;
  private readonly exclude: Set<string>;
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private readonly componentDirs: Array<[string, string]> | undefined;
  private readonly files = new Map<string, FileSummary>();
  private walkProblems: Problem[] = [];
  private walkedDirs: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  /** Real paths of folders, for one pass (a folder swapped for a symlink mid-pass is caught by the next). */
  private dirReal = new Map<string, string>();

  constructor(private readonly opts: ScanOptions) {
    this.root = opts.root;
    this.fs = opts.fs ?? nodeFs;
    this.exclude = new Set(opts.exclude ?? DEFAULT_EXCLUDE);
    this.maxFileBytes = opts.maxFileBytes ?? 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? 100_000;
    this.componentDirs = opts.components
      ? Object.entries(opts.components).map(([n, d]) => [n, d.replace(/\\/g, '/').replace(/^\.\/|\/+$/g, '')] as [string, string]).sort((a, b) => b[1].length - a[1].length)
      : undefined;
  }

  /** A full pass: walk the tree, parse new and changed files, forget deleted ones. */
  scan(): Promise<ScanResult> {
    return this.serial(() => this.fullScan());
  }

  /** Re-examine only these paths (relative to the root or absolute), e.g. from a file watcher. */
  update(paths: Iterable<string>): Promise<ScanResult> {
    const list = [...paths];
    return this.serial(() => this.partialScan(list));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Folders the last full scan entered, relative to the root ('' is the root). */
  directories(): readonly string[] {
    return this.walkedDirs;
  }

  /** Whether a folder name is excluded from scans. */
  excluded(name: string): boolean {
    return this.exclude.has(name);
  }

  rootReal(): string {
    // Throws (ENOENT, EACCES) when the repository itself is missing: the caller reports it.
    this.realRoot ??= this.fs.realpathSync(this.root);
    return this.realRoot;
  }

  private async fullScan(): Promise<ScanResult> {
    const realRoot = this.rootReal();
    this.walkProblems = [];
    this.dirReal.clear();
    const listed = this.walk(realRoot);
    this.opts.afterWalk?.(listed.map((f) => f.rel));
    const seen = new Set(listed.map((f) => f.rel));
    for (const rel of [...this.files.keys()]) if (!seen.has(rel)) this.files.delete(rel);
    const todo = listed.filter((f) => {
      const prev = this.files.get(f.rel);
      return !prev || prev.key !== f.key || prev.problem?.reason === 'vanished';
    }).map((f) => f.rel);
    const parsed = await this.analyzeFiles(todo, listed.length - todo.length, listed.length);
    return this.result(parsed);
  }

  private async partialScan(paths: string[]): Promise<ScanResult> {
    const realRoot = this.rootReal();
    let parsed = 0;
    this.dirReal.clear();
    for (const p of paths) {
      const rel = (isAbsolute(p) ? relative(realRoot, p) : normalize(p)).split(sep).join('/');
      if (rel === '' || rel === '.' || rel.startsWith('../') || rel === '..' || isAbsolute(rel)) continue;
      if (rel.split('/').some((part) => this.exclude.has(part))) continue;
      if (!languageOf(rel)) continue;
      let st: nodeFs.Stats;
      try {
        st = this.fs.lstatSync(join(realRoot, rel));
      } catch {
        this.files.delete(rel); // deleted: forget it
        continue;
      }
      if (!st.isFile()) {
        this.files.delete(rel);
        continue;
      }
      parsed += await this.analyzeFiles([rel], 0, 1);
    }
    return this.result(parsed);
  }

  /** Every source file under the root, with a change key; directories that cannot be read are problems. */
  private walk(realRoot: string): Array<{ rel: string; key: string }> {
    const out: Array<{ rel: string; key: string }> = [];
    const stack: string[] = [''];
    this.walkedDirs = [];
    while (stack.length) {
      const relDir = stack.pop()!;
      const absDir = relDir ? join(realRoot, relDir) : realRoot;
      let entries: nodeFs.Dirent[];
      try {
        entries = this.fs.readdirSync(absDir, { withFileTypes: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        this.walkProblems.push({ file: relDir || '.', reason: code === 'ENOENT' ? 'vanished' : 'unreadable', detail: code ?? (e as Error).message });
        continue;
      }
      this.walkedDirs.push(relDir);
      entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)); // popped in name order
      for (const ent of entries) {
        const rel = relDir ? `${relDir}/${ent.name}` : ent.name;
        if (ent.isSymbolicLink()) {
          this.checkLink(realRoot, rel);
          continue;
        }
        if (ent.isDirectory()) {
          if (!this.exclude.has(ent.name)) stack.push(rel);
          continue;
        }
        if (!ent.isFile() || !languageOf(ent.name)) continue;
        if (out.length >= this.maxFiles) {
          if (!this.walkProblems.some((p) => p.reason === 'too_many_files')) this.walkProblems.push({ file: rel, reason: 'too_many_files', detail: `stopped at ${this.maxFiles} files` });
          return out;
        }
        // A file seen for the first time is parsed whatever its key: the read takes the key from fstat.
        let key = '';
        if (this.files.has(rel)) {
          try {
            const st = this.fs.lstatSync(join(realRoot, rel));
            key = `${st.size}:${st.mtimeMs}:${st.ino}`;
          } catch {
            key = 'vanished'; // the read reports it
          }
        }
        out.push({ rel, key });
      }
    }
    return out;
  }

  /** Symlinks are not followed; loops and links leaving the repository are reported. */
  private checkLink(realRoot: string, rel: string): void {
    let target: string;
    try {
      target = this.fs.realpathSync(join(realRoot, rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') this.walkProblems.push({ file: rel, reason: 'symlink_loop', detail: 'the link resolves to itself' });
      return; // a dangling link is nothing to analyse
    }
    if (target !== realRoot && !target.startsWith(realRoot + sep)) {
      this.walkProblems.push({ file: rel, reason: 'outside_repository', detail: 'symlink to a path outside the repository; not followed' });
      return;
    }
    const linkDir = join(realRoot, rel, '..');
    if (linkDir === target || linkDir.startsWith(target + sep)) this.walkProblems.push({ file: rel, reason: 'symlink_loop', detail: 'the link points at one of its own parent folders' });
  }

  private componentOf(rel: string): string {
    if (this.componentDirs) {
      for (const [name, dir] of this.componentDirs) if (dir === '' || dir === '.' || rel === dir || rel.startsWith(dir + '/')) return name;
      return OTHER_COMPONENT;
    }
    const slash = rel.indexOf('/');
    return slash < 0 ? ROOT_COMPONENT : rel.slice(0, slash);
  }

  /**
   * Read and analyse these files; returns how many were parsed (files whose content hash did not
   * change are not). The scanner's thread reads, with the safety checks; parsing goes to worker
   * threads when there is enough of it, in batches, with a bounded number of batches in flight so
   * that memory stays bounded whatever the tree's size.
   */
  private async analyzeFiles(rels: string[], doneBefore: number, total: number): Promise<number> {
    const want = this.opts.workers ?? defaultWorkerCount();
    let pool = want > 1 && rels.length >= (this.opts.minFilesForWorkers ?? MIN_FILES_FOR_WORKERS) ? new AnalysisPool(want) : undefined;
    const inFlight: Array<Promise<void>> = [];
    let done = doneBefore;
    let parsed = 0;
    let t0 = Date.now();
    const progress = async () => {
      if (Date.now() - t0 > YIELD_EVERY_MS) {
        this.opts.onProgress?.(done, total);
        await new Promise((r) => setImmediate(r));
        t0 = Date.now();
      }
    };
    let batch: Array<{ rel: string; text: string; summary: FileSummary }> = [];
    let batchBytes = 0;
    const send = () => {
      const b = batch;
      batch = [];
      batchBytes = 0;
      const p = pool!.analyze(b.map(({ rel, text }) => ({ rel, text })))
        .catch(async (e: Error) => {
          // A worker died (out of memory on a pathological file, killed): finish in this thread.
          this.opts.onWorkerError?.(e);
          const out: SummaryOutcome[] = [];
          for (const f of b) out.push(await summarizeSource(f.text, f.rel));
          return out;
        })
        .then((outcomes) => {
          outcomes.forEach((o, i) => this.store(b[i].rel, b[i].summary, o));
          done += b.length;
        });
      inFlight.push(p);
    };
    try {
      for (const rel of rels) {
        const read = this.readSource(rel);
        if (!read) { done++; await progress(); continue; }
        parsed++;
        if (!pool) {
          this.store(rel, read.summary, await summarizeSource(read.text, rel));
          done++;
        } else {
          batch.push({ rel, ...read });
          batchBytes += read.text.length;
          if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) send();
          // At most two batches per worker in flight: reading stays just ahead of parsing.
          while (inFlight.length >= pool.size * 2) await inFlight.shift();
        }
        await progress();
      }
      if (batch.length) send();
      while (inFlight.length) await inFlight.shift();
    } finally {
      await pool?.close();
      pool = undefined;
    }
    this.opts.onProgress?.(total, total);
    return parsed;
  }

  private store(rel: string, summary: FileSummary, outcome: SummaryOutcome): void {
    if ('syntaxError' in outcome) summary.problem = { file: rel, reason: 'syntax_error', detail: outcome.syntaxError };
    else Object.assign(summary, outcome.ok);
    this.files.set(rel, summary);
  }

  /**
   * Read one file for analysis. Returns undefined when there is nothing to parse: the file is a
   * problem (recorded), or its content is unchanged since the last pass (its summary is kept).
   */
  private readSource(rel: string): { text: string; summary: FileSummary } | undefined {
    const realRoot = this.rootReal();
    const summary: FileSummary = { key: '', component: this.componentOf(rel), test: isTestFile(rel), loc: 0, functions: 0, implemented: 0, exempt: 0, stubs: [] };
    const fail = (reason: ProblemReason, detail?: string) => {
      summary.problem = { file: rel, reason, detail };
      this.files.set(rel, summary);
      return undefined;
    };
    const abs = join(realRoot, rel);
    let bytes: Buffer;
    let fd: number | undefined;
    try {
      // The folder's real path must stay inside the repository, whatever changed since the walk;
      // the file itself is opened with O_NOFOLLOW, so a symlink in its place is refused.
      const slash = rel.lastIndexOf('/');
      const relDir = slash < 0 ? '' : rel.slice(0, slash);
      let realDir = this.dirReal.get(relDir);
      if (realDir === undefined) {
        realDir = relDir ? this.fs.realpathSync(join(realRoot, relDir)) : realRoot;
        this.dirReal.set(relDir, realDir);
      }
      if (realDir !== realRoot && !realDir.startsWith(realRoot + sep)) return fail('outside_repository', 'resolves outside the repository');
      fd = this.fs.openSync(abs, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW | nodeFs.constants.O_NONBLOCK);
      const st = this.fs.fstatSync(fd);
      summary.key = `${st.size}:${st.mtimeMs}:${st.ino}`;
      if (!st.isFile()) return fail('not_a_file');
      if (st.size > this.maxFileBytes) return fail('too_large', `${st.size} bytes, over the ${this.maxFileBytes}-byte limit`);
      const buf = Buffer.allocUnsafe(st.size);
      let n = 0;
      while (n < st.size) {
        const r = this.fs.readSync(fd, buf, n, st.size - n, n);
        if (r === 0) break;
        n += r;
      }
      bytes = buf.subarray(0, n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return fail('vanished', 'deleted during the scan');
      if (code === 'ELOOP') return fail('symlink_loop', 'became a symlink during the scan');
      return fail('unreadable', code ?? (e as Error).message);
    } finally {
      if (fd !== undefined) this.fs.closeSync(fd);
    }
    if (bytes.subarray(0, 8000).includes(0)) return fail('binary', 'contains NUL bytes');
    summary.hash = hash('sha1', bytes, 'base64');
    const prev = this.files.get(rel);
    if (prev && !prev.problem && prev.hash === summary.hash && prev.component === summary.component) {
      prev.key = summary.key;
      return undefined;
    }
    const text = bytes.toString('utf8');
    if (isGenerated(text)) return fail('generated', 'marked generated or minified');
    return { text, summary };
  }

  /** The current totals from the kept summaries. */
  result(parsed = 0): ScanResult {
    const comps = new Map<string, ComponentSummary>();
    const stubList: StubRecord[] = [];
    const problems: Problem[] = [...this.walkProblems];
    const comp = (name: string) => {
      let c = comps.get(name);
      if (!c) comps.set(name, (c = { name, files: 0, functions: 0, implemented: 0, stubs: 0, exempt: 0, score: 1, loc: 0, test_files: 0 }));
      return c;
    };
    if (this.componentDirs) for (const [name] of this.componentDirs) comp(name);
    const rels = [...this.files.keys()].sort();
    for (const rel of rels) {
      const f = this.files.get(rel)!;
      if (f.problem) {
        problems.push(f.problem);
        continue;
      }
      const c = comp(f.component);
      c.files++;
      c.loc += f.loc;
      if (f.test) c.test_files++;
      c.functions += f.functions;
      c.implemented += f.implemented;
      c.exempt += f.exempt;
      c.stubs += f.stubs.length;
      for (const s of f.stubs) stubList.push({ file: rel, line: s.line, function: s.function, kind: s.kind, component: f.component });
    }
    const components = [...comps.values()].sort((a, b) => a.name.localeCompare(b.name));
    let functions = 0, implemented = 0, stubs = 0, loc = 0, testFiles = 0, files = 0;
    for (const c of components) {
      c.score = implementationScore(c.implemented, c.stubs);
      functions += c.functions; implemented += c.implemented; stubs += c.stubs; loc += c.loc; testFiles += c.test_files; files += c.files;
    }
    return {
      root: this.root, scannedAt: Date.now(), files, parsed, functions, implemented, stubs,
      score: implementationScore(implemented, stubs), loc, test_files: testFiles, components, stubList, problems,
    };
  }
}

/** Generated or minified: a marker near the top, or very long lines. */
function isGenerated(text: string): boolean {
  const head = text.slice(0, 1000);
  if (GENERATED_MARK.test(head)) return true;
  let longest = 0, start = 0;
  for (let i = text.indexOf('\n'); ; i = text.indexOf('\n', start)) {
    const end = i < 0 ? text.length : i;
    if (end - start > longest) longest = end - start;
    if (i < 0) break;
    start = i + 1;
  }
  return longest > 2000;
}
