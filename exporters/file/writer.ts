/**
 * Appends lines to a file, one write at a time, rotating by size: the full file is renamed to
 * `<name>-<UTC timestamp><ext>` beside it and only the newest `maxBackups` of those are kept.
 */
import { FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export interface RotationOptions {
  /** 0 disables rotation. */
  maxBytes: number;
  /** Rotated files kept; 0 keeps all. */
  maxBackups: number;
}

export class RotatingFile {
  private fh?: FileHandle;
  private size = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string, private readonly rotation: RotationOptions) {}

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.fh = await open(this.path, 'a', 0o640);
    this.size = (await this.fh.stat()).size;
  }

  /** Queue a line (with its newline); resolves once it is written. */
  append(line: string): Promise<void> {
    const buf = Buffer.from(line, 'utf8');
    const next = this.tail.then(() => this.write(buf));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async write(buf: Buffer): Promise<void> {
    if (!this.fh) throw new Error('file exporter: file is not open');
    // A line is never split across files; an oversized line gets a file of its own.
    if (this.rotation.maxBytes > 0 && this.size > 0 && this.size + buf.length > this.rotation.maxBytes) await this.rotate();
    await this.fh.write(buf);
    this.size += buf.length;
  }

  private async rotate(): Promise<void> {
    await this.fh!.close();
    this.fh = undefined;
    const ext = extname(this.path);
    const base = basename(this.path, ext);
    const stamp = new Date().toISOString().replace(/:/g, '-').replace('Z', '');
    let target = join(dirname(this.path), `${base}-${stamp}${ext}`);
    for (let n = 1; await exists(target); n++) target = join(dirname(this.path), `${base}-${stamp}.${n}${ext}`);
    await rename(this.path, target);
    this.fh = await open(this.path, 'a', 0o640);
    this.size = 0;
    if (this.rotation.maxBackups > 0) await this.prune();
  }

  /** The rotated files of this path, oldest first (their names sort by time). */
  async backups(): Promise<string[]> {
    const ext = extname(this.path);
    const base = basename(this.path, ext);
    const names = await readdir(dirname(this.path));
    const re = new RegExp(`^${escape(base)}-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}(\\.\\d+)?${escape(ext)}$`);
    return names.filter((n) => re.test(n)).sort(byStamp).map((n) => join(dirname(this.path), n));
  }

  private async prune(): Promise<void> {
    const all = await this.backups();
    for (const old of all.slice(0, Math.max(0, all.length - this.rotation.maxBackups))) await unlink(old).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.tail;
    const fh = this.fh;
    this.fh = undefined;
    if (fh) {
      await fh.sync().catch(() => undefined);
      await fh.close();
    }
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Same-millisecond rotations get a ".n" suffix; order them after the plain name. */
function byStamp(a: string, b: string): number {
  const key = (n: string): [string, number] => {
    const m = /^(.*\.\d{3})(?:\.(\d+))?(\.[^.]*)?$/.exec(n);
    return m ? [m[1], Number(m[2] ?? 0)] : [n, 0];
  };
  const [ka, na] = key(a);
  const [kb, nb] = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : na - nb;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
