/** Collecting config problems with their location (file, dotted path) instead of failing on the first. */
import type { ConfigIssue } from '../errors';

export class Issues {
  readonly list: ConfigIssue[] = [];
  constructor(readonly file?: string) {}

  add(path: string, message: string): void {
    this.list.push({ ...(this.file ? { file: this.file } : {}), path, message });
  }

  get ok(): boolean {
    return this.list.length === 0;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
