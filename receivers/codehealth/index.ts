/**
 * `codehealth` receiver: reads source trees and reports how much is really implemented, where the
 * stubs are, and how far the sprint's goals are, as ordinary telemetry: gauges per repository and
 * component, one log record per newly found stub, and `GET /api/codehealth` on the `api` extension.
 * Scans run every `collection_interval` and, a moment after files change, on just the changed files.
 */
import { basename, resolve } from 'node:path';
import type { Component, CreateSettings, Host, ReceiverFactory, SignalConsumers } from '../../src/component';
import { API_EXTENSION, ApiServer } from '../../src/api';
import { ConfigError, formatIssue } from '../../src/errors';
import { nowNanos } from '../../src/model';
import { StateStore } from '../../src/state';
import { durationSchema, parseDuration } from '../../src/util/duration';
import { DEFAULT_EXCLUDE, RepositoryScanner, ScanResult, StubRecord } from './analyze/scan';
import { evaluateSprint, loadSprint, Sprint, SprintStatus } from './sprint';
import { scanMetrics, sprintMetrics, stubLogs } from './telemetry';
import { RepositoryWatcher } from './watch';
import { registerCodehealthApi, unregisterCodehealthApi } from './api';

export interface CodehealthConfig {
  repositories: Array<{ path: string; name?: string; components?: Record<string, string>; exclude?: string[] }>;
  collection_interval: string;
  watch: boolean;
  debounce: string;
  sprint?: string;
  store?: string;
  max_file_size: number;
  max_files: number;
  max_stubs: number;
}

export const codehealthReceiverFactory: ReceiverFactory<CodehealthConfig> = {
  kind: 'receiver',
  type: 'codehealth',
  description: 'Scans source trees (Python, TypeScript, JavaScript) for stubs and implementation score per component, and tracks sprint goals; emits metrics and one log record per stub.',
  signals: ['metrics', 'logs'],
  configSchema: {
    type: 'object',
    required: ['repositories'],
    properties: {
      repositories: {
        type: 'array', minItems: 1,
        items: {
          type: 'object', required: ['path'],
          properties: {
            path: { type: 'string', minLength: 1, description: 'A local checkout.' },
            name: { type: 'string', description: 'Name in metrics and the API (default: the folder name).' },
            components: { type: 'object', additionalProperties: { type: 'string' }, description: 'Component name → folder inside the repository. Default: each top-level folder.' },
            exclude: { type: 'array', items: { type: 'string' }, description: `Folder names never entered (default: ${DEFAULT_EXCLUDE.join(', ')}).` },
          },
        },
      },
      collection_interval: durationSchema('5m', 'Full rescan interval (changed files are re-parsed only).'),
      watch: { type: 'boolean', default: true, description: 'Also rescan changed files shortly after they change (fs.watch).' },
      debounce: durationSchema('500ms', 'Quiet time after a change before the rescan.'),
      sprint: { type: 'string', description: 'Sprint goals file (YAML), relative to the working directory.' },
      store: { type: 'string', description: 'SQLite store (the sqlite exporter\'s path) for `metric` sprint goals.' },
      max_file_size: { type: 'integer', minimum: 1, default: 1048576, description: 'Larger files are skipped (bytes).' },
      max_files: { type: 'integer', minimum: 1, default: 100000, description: 'Source files per repository; the walk stops there.' },
      max_stubs: { type: 'integer', minimum: 1, default: 10000, description: 'Stubs listed (API, logs) per repository.' },
    },
  },
  validate(c) {
    const out: Array<{ path: Array<string | number>; message: string }> = [];
    const names = c.repositories.map(repoName);
    names.forEach((n, i) => { if (names.indexOf(n) !== i) out.push({ path: ['repositories', i, 'name'], message: `repository name ${JSON.stringify(n)} is used twice` }); });
    if (c.sprint) {
      try {
        loadSprint(c.sprint, names);
      } catch (e) {
        const issues = e instanceof ConfigError ? e.issues : [{ path: '', message: (e as Error).message }];
        for (const i of issues) out.push({ path: ['sprint'], message: i.file ? formatIssue(i) : i.message });
      }
    }
    return out;
  },
  create(settings, next) {
    return new CodehealthReceiver(settings, next);
  },
};

function repoName(r: CodehealthConfig['repositories'][number]): string {
  return r.name ?? basename(resolve(r.path));
}

export interface RepositoryState {
  name: string;
  path: string;
  scanner: RepositoryScanner;
  result?: ScanResult;
  /** Why the last scan failed (repository missing, unreadable), if it did. */
  error?: string;
  watcher?: RepositoryWatcher;
}

export class CodehealthReceiver implements Component {
  readonly repos: RepositoryState[];
  sprint?: Sprint;
  sprintStatus?: SprintStatus;
  private state?: StateStore;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly githubCache = new Map<string, { at: number; completion: number }>();

  constructor(private readonly settings: CreateSettings<CodehealthConfig>, private readonly next: SignalConsumers) {
    const c = settings.config;
    this.repos = c.repositories.map((r) => ({
      name: repoName(r),
      path: r.path,
      scanner: new RepositoryScanner({ root: resolve(r.path), components: r.components, exclude: r.exclude, maxFileBytes: c.max_file_size, maxFiles: c.max_files }),
    }));
    if (c.sprint) this.sprint = loadSprint(c.sprint, this.repos.map((r) => r.name));
  }

  async start(host: Host): Promise<void> {
    this.state = StateStore.open(this.settings.dataDir);
    const api = host.getExtension<ApiServer>(API_EXTENSION);
    if (api) registerCodehealthApi(api, this);
    // The first scan runs in the background: start-up does not wait for a large tree.
    this.schedule(() => this.fullScan());
    const every = parseDuration(this.settings.config.collection_interval);
    this.timer = setInterval(() => this.schedule(() => this.fullScan()), every);
    this.timer.unref();
  }

  /** Resolves when every scan scheduled so far is done (tests, the CLI). */
  idle(): Promise<void> {
    return this.running;
  }

  private schedule(fn: () => Promise<void>): void {
    this.running = this.running.then(() => (this.stopped ? undefined : fn())).catch((e) => {
      this.settings.logger.error({ err: (e as Error).message }, 'code health scan failed');
    });
  }

  private async fullScan(): Promise<void> {
    for (const repo of this.repos) {
      try {
        repo.result = await repo.scanner.scan();
        repo.error = undefined;
        this.reportProblems(repo);
        this.syncWatcher(repo);
      } catch (e) {
        repo.error = `${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim();
        this.settings.logger.warn({ repository: repo.name, err: repo.error }, 'cannot scan repository');
      }
    }
    await this.emit();
  }

  private async changed(repo: RepositoryState, paths: string[], structural: boolean): Promise<void> {
    try {
      repo.result = structural ? await repo.scanner.scan() : await repo.scanner.update(paths);
      if (structural) this.syncWatcher(repo);
    } catch (e) {
      repo.error = (e as Error).message;
      return;
    }
    await this.emit();
  }

  private syncWatcher(repo: RepositoryState): void {
    if (!this.settings.config.watch || this.stopped) return;
    repo.watcher ??= new RepositoryWatcher(repo.scanner, parseDuration(this.settings.config.debounce), this.settings.logger, (paths, structural) => this.schedule(() => this.changed(repo, paths, structural)));
    repo.watcher.sync();
  }

  private lastProblems = new Map<string, string>();
  private reportProblems(repo: RepositoryState): void {
    const text = JSON.stringify(repo.result?.problems ?? []);
    if (this.lastProblems.get(repo.name) === text) return;
    this.lastProblems.set(repo.name, text);
    for (const p of (repo.result?.problems ?? []).slice(0, 50)) this.settings.logger.info({ repository: repo.name, file: p.file, reason: p.reason, detail: p.detail }, 'code health: file skipped');
  }

  /** Sprint, metrics and new-stub logs for every repository. */
  private async emit(): Promise<void> {
    if (this.sprint) {
      const key = `sprint:${this.sprint.name}:`;
      this.sprintStatus = await evaluateSprint(this.sprint, {
        repositories: this.repos.map((r) => ({ name: r.name, root: resolve(r.path), result: r.result })),
        store: this.settings.config.store,
        githubCache: this.githubCache,
        metAt: {
          get: (g) => this.state?.get<number>(this.settings.id, key + g),
          set: (g, at) => (at === undefined ? this.state?.delete(this.settings.id, key + g) : this.state?.put(this.settings.id, key + g, at)),
        },
      });
      for (const g of this.sprintStatus.goals) if (g.error) this.settings.logger.warn({ goal: g.id, err: g.error }, 'sprint goal not evaluated');
    }
    const t = nowNanos();
    if (this.sprintStatus) {
      await this.next.metrics?.consume(sprintMetrics(this.sprintStatus, this.repos.map((r) => r.name), t)).catch((e) => this.settings.logger.warn({ err: (e as Error).message }, 'code health sprint metrics refused'));
    }
    for (const repo of this.repos) {
      if (!repo.result) continue;
      await this.next.metrics?.consume(scanMetrics(repo.name, repo.path, repo.result, this.sprintStatus, t)).catch((e) => this.settings.logger.warn({ err: (e as Error).message }, 'code health metrics refused'));
      const fresh = this.newStubs(repo);
      if (fresh.length && this.next.logs) {
        try {
          await this.next.logs.consume(stubLogs(repo.name, repo.path, fresh, t));
          this.remember(repo);
        } catch (e) {
          // Not remembered: the same stubs are offered again at the next scan.
          this.settings.logger.warn({ err: (e as Error).message }, 'code health stub logs refused');
        }
      } else this.remember(repo);
    }
  }

  /** Stubs not reported before (known ones are kept in the state store, so a restart does not repeat them). */
  private newStubs(repo: RepositoryState): StubRecord[] {
    const known = new Set(this.state?.get<string[]>(this.settings.id, `stubs:${repo.name}`) ?? []);
    return (repo.result?.stubList ?? []).slice(0, this.settings.config.max_stubs).filter((s) => !known.has(stubKey(s)));
  }

  private remember(repo: RepositoryState): void {
    this.state?.put(this.settings.id, `stubs:${repo.name}`, (repo.result?.stubList ?? []).slice(0, this.settings.config.max_stubs).map(stubKey));
  }

  get maxStubs(): number {
    return this.settings.config.max_stubs;
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const r of this.repos) r.watcher?.close();
    unregisterCodehealthApi(this);
    await this.running;
    this.state?.release();
    this.state = undefined;
  }
}

function stubKey(s: StubRecord): string {
  return `${s.file}\u0000${s.function}\u0000${s.kind}`;
}
