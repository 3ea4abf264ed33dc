/**
 * Change detection: one non-recursive fs.watch per folder the last scan entered (so excluded trees
 * such as node_modules cost no watches), debounced. Changed source files go to an incremental
 * update; a new or removed folder, or an event without a file name, asks for a full rescan.
 */
import { watch, FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { languageOf } from './analyze';
import type { RepositoryScanner } from './analyze/scan';

export const MAX_WATCHED_DIRS = 8000;

export class RepositoryWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private structural = false;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private warned = false;

  constructor(
    private readonly scanner: RepositoryScanner,
    private readonly debounceMs: number,
    private readonly logger: Logger,
    private readonly onChange: (paths: string[], structural: boolean) => void,
  ) {}

  /** Watch exactly the folders of the last walk. */
  sync(): void {
    if (this.closed) return;
    const root = this.scanner.rootReal();
    const want = new Set(this.scanner.directories().slice(0, MAX_WATCHED_DIRS));
    if (this.scanner.directories().length > MAX_WATCHED_DIRS && !this.warned) {
      this.warned = true;
      this.logger.warn({ folders: this.scanner.directories().length, watched: MAX_WATCHED_DIRS }, 'too many folders to watch them all; the rest is picked up at each collection interval');
    }
    for (const [dir, w] of this.watchers) if (!want.has(dir)) { w.close(); this.watchers.delete(dir); }
    for (const dir of want) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir ? join(root, dir) : root, { persistent: false }, (_event, name) => this.event(dir, name === null ? null : String(name)));
        w.on('error', () => { w.close(); this.watchers.delete(dir); this.structural = true; this.arm(); });
        this.watchers.set(dir, w);
      } catch (e) {
        // ENOSPC (inotify limit), EACCES: the interval scan still covers this folder.
        this.logger.debug({ dir, err: (e as Error).message }, 'cannot watch folder');
      }
    }
  }

  private event(dir: string, name: string | null): void {
    if (this.closed) return;
    if (name === null) this.structural = true;
    else if (languageOf(name)) this.pending.add(dir ? `${dir}/${name}` : name);
    else if (!this.scanner.excluded(name) && !name.includes('.')) this.structural = true; // likely a folder created or removed
    else return;
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const paths = [...this.pending];
      const structural = this.structural;
      this.pending = new Set();
      this.structural = false;
      this.onChange(paths, structural);
    }, this.debounceMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
