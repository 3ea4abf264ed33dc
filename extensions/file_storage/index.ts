/**
 * `file_storage` extension, as the Collector's: a directory where components keep data that must
 * survive a restart. Exporters ask for it by id (`sending_queue: { storage: file_storage }`) and get
 * one queue file each, named after their id, so several exporters can share one storage.
 *
 * A queue file whose exporter is no longer configured (its id changed, or it was removed) is never
 * silently forgotten: once every component has started, each such file that still holds data is
 * reported in the log and in this extension's status (the health check shows it) until it is
 * claimed again or moved away.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Component, CreateSettings, ExtensionFactory, Host } from '../../src/component';
import { QueueFile } from './queue-file';

export interface FileStorageConfig {
  directory?: string;
  fsync: boolean;
  max_file_size_mib: number;
}

/** What an exporter gets from `host.getExtension(storageId)`. */
export interface FileStorage {
  readonly directory: string;
  /** Open (create) the queue file of one component; throws a clear error if it cannot. */
  openQueue(kind: string, id: string): QueueFile;
  /** Queue files with data that no started component claimed. */
  orphans(): Array<{ file: string; owner: string; count: number; bytes: number }>;
}

export const FILE_STORAGE_TYPE = 'file_storage';

/** File name of a component's queue: kind_id with anything unusual in the id made safe. */
export function queueFileName(kind: string, id: string): string {
  return `${kind}_${id.replace(/[^A-Za-z0-9_.-]/g, (c) => `~${c.charCodeAt(0).toString(16)}`)}.db`;
}

class FileStorageExtension implements Component, FileStorage {
  readonly directory: string;
  private readonly open = new Map<string, QueueFile>();
  private host?: Host;
  private timer?: NodeJS.Timeout;
  private reported = new Set<string>();
  private lastStatus = '';

  constructor(private readonly s: CreateSettings<FileStorageConfig>) {
    const d = s.config.directory ?? join(s.dataDir, 'file_storage');
    this.directory = isAbsolute(d) ? d : resolve(process.cwd(), d);
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    try {
      mkdirSync(this.directory, { recursive: true });
      if (!statSync(this.directory).isDirectory()) throw new Error('not a directory');
      accessSync(this.directory, constants.W_OK | constants.R_OK);
    } catch (e) {
      throw new Error(`file_storage directory ${this.directory} is not a writable directory: ${(e as Error).message}`);
    }
    // Orphans can only be told once every component had the chance to claim its file.
    this.timer = setInterval(() => this.checkOrphans(), 1000);
    this.timer.unref();
  }

  openQueue(kind: string, id: string): QueueFile {
    const name = queueFileName(kind, id);
    if (this.open.has(name)) throw new Error(`${kind} "${id}" already has a queue open in ${this.directory}`);
    const path = join(this.directory, name);
    let q: QueueFile;
    try {
      q = new QueueFile(path, `${kind}/${id}`, { fsync: this.s.config.fsync, maxFileBytes: Math.round(this.s.config.max_file_size_mib * 1024 * 1024) });
    } catch (e) {
      throw new Error(`cannot open the persistent queue ${path}: ${(e as Error).message}`);
    }
    this.open.set(name, q);
    return q;
  }

  /** Called by the queue's owner on shutdown. */
  release(q: QueueFile): void {
    for (const [name, open] of this.open) if (open === q) this.open.delete(name);
    q.close();
  }

  orphans(): Array<{ file: string; owner: string; count: number; bytes: number }> {
    if (!existsSync(this.directory)) return [];
    const out: Array<{ file: string; owner: string; count: number; bytes: number }> = [];
    for (const f of readdirSync(this.directory)) {
      if (!f.endsWith('.db') || this.open.has(f)) continue;
      const d = QueueFile.describe(join(this.directory, f));
      if (d && d.count > 0) out.push({ file: join(this.directory, f), ...d });
    }
    return out;
  }

  private checkOrphans(): void {
    const statuses = this.host?.componentStatuses?.() ?? [];
    if (statuses.length === 0 || statuses.some((c) => c.status === 'starting')) return;
    const orphans = this.orphans();
    for (const o of orphans) {
      if (this.reported.has(o.file)) continue;
      this.reported.add(o.file);
      this.s.logger.warn({ file: o.file, owner: o.owner, items: o.count, bytes: o.bytes },
        'a persistent queue holds data for a component that is not configured (was its id changed?); rename the component back to deliver it, or move the file away');
    }
    const names = new Set(orphans.map((o) => o.file));
    for (const f of this.reported) if (!names.has(f)) this.reported.delete(f);
    const message = orphans.map((o) => `${o.file} holds ${o.count} request(s) for "${o.owner}", which is not configured`).join('; ');
    if (message === this.lastStatus) return;
    this.lastStatus = message;
    this.host?.reportStatus(this.s.id, orphans.length ? 'recoverable_error' : 'ok', orphans.length ? new Error(message) : undefined);
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const q of this.open.values()) q.close();
    this.open.clear();
  }
}

export const fileStorageExtensionFactory: ExtensionFactory<FileStorageConfig> = {
  kind: 'extension',
  type: FILE_STORAGE_TYPE,
  description: 'A directory where exporters keep their persistent sending queues (and other data that must survive a restart).',
  configSchema: {
    type: 'object',
    properties: {
      directory: { type: 'string', minLength: 1, description: 'Where the files go; default <service.data_dir>/file_storage.' },
      fsync: { type: 'boolean', default: false, description: 'Sync each append to disk: queued data then also survives a power loss or OS crash (kill -9 is survived either way).' },
      max_file_size_mib: { type: 'number', minimum: 0, default: 0, description: 'Hard limit per file (a disk budget of last resort; the queue\'s own max_size_mib is the normal bound). 0: none.' },
    },
  },
  create: (settings) => new FileStorageExtension(settings),
};
