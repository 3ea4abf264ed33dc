/**
 * Threat-intelligence IP feeds: FireHOL .netset / .ipset, Spamhaus DROP (`cidr ; SBLnnn`), and
 * plain one-address-per-line lists, IPv4 and IPv6. Lookup is one set probe per distinct prefix
 * length present in the feeds (at most 33 for IPv4, 129 for IPv6), whatever the feed size.
 * Private, loopback and link-local addresses never match unless `includePrivate` is set: public
 * level-1 lists carry the bogon ranges, and matching them would flag every internal client.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

export interface IntelMatch {
  feed: string;
  cidr: string;
  /** Free text after ";" on the line (Spamhaus SBL id), when present. */
  note?: string;
}

interface Table {
  /** prefix length → network (masked, as string key) → match info */
  v4: Map<number, Map<number, IntelMatch>>;
  v6: Map<number, Map<bigint, IntelMatch>>;
  entries: number;
}

export function parseIPv4(s: string): number | undefined {
  let n = 0;
  let parts = 0;
  let cur = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (cur < 0 || cur > 255) return undefined;
      n = n * 256 + cur;
      parts++;
      cur = -1;
    } else if (c >= 48 && c <= 57) {
      cur = cur < 0 ? c - 48 : cur * 10 + (c - 48);
      if (cur > 255) return undefined;
    } else return undefined;
  }
  return parts === 4 ? n >>> 0 : undefined;
}

export function parseIPv6(s: string): bigint | undefined {
  if (s.indexOf(':') < 0) return undefined;
  let str = s;
  const zone = str.indexOf('%');
  if (zone >= 0) str = str.slice(0, zone);
  // Embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = str.lastIndexOf(':');
  if (str.indexOf('.', lastColon) > 0) {
    const v4 = parseIPv4(str.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    str = str.slice(0, lastColon + 1) + (v4 >>> 16).toString(16) + ':' + (v4 & 0xffff).toString(16);
  }
  const dbl = str.indexOf('::');
  const parseGroups = (p: string): number[] | undefined => {
    if (p === '') return [];
    const out: number[] = [];
    for (const g of p.split(':')) {
      if (g.length === 0 || g.length > 4) return undefined;
      const v = parseInt(g, 16);
      if (Number.isNaN(v) || !/^[0-9a-fA-F]+$/.test(g)) return undefined;
      out.push(v);
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(str.slice(0, dbl));
    const rest = parseGroups(str.slice(dbl + 2));
    if (!head || !rest) return undefined;
    const fill = 8 - head.length - rest.length;
    if (fill < 0) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    const all = parseGroups(str);
    if (!all) return undefined;
    groups = all;
  }
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

const V4_PRIVATE: Array<[number, number]> = [
  ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['100.64.0.0', 10], ['0.0.0.0', 8],
].map(([a, l]) => [parseIPv4(a as string)!, l as number]);

function maskV4(ip: number, len: number): number {
  return len === 0 ? 0 : (ip & (~0 << (32 - len))) >>> 0;
}

function maskV6(ip: bigint, len: number): bigint {
  if (len === 0) return 0n;
  const all = (1n << 128n) - 1n;
  return ip & (all ^ ((1n << BigInt(128 - len)) - 1n));
}

/** Private, loopback, link-local, CGNAT (IPv4); loopback, ULA, link-local (IPv6); v4-mapped follow v4. */
export function isPrivateAddress(addr: string): boolean {
  const v4 = parseIPv4(addr);
  if (v4 !== undefined) return V4_PRIVATE.some(([net, len]) => maskV4(v4, len) === net);
  const v6 = parseIPv6(addr);
  if (v6 === undefined) return false;
  if (v6 === 1n || v6 === 0n) return true;
  if (v6 >> 32n === 0xffffn) return isPrivateAddress(v4ToString(Number(v6 & 0xffffffffn)));
  const top = Number(v6 >> 112n);
  return (top & 0xfe00) === 0xfc00 || (top & 0xffc0) === 0xfe80;
}

function v4ToString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export class ThreatIntel {
  private table: Table = { v4: new Map(), v6: new Map(), entries: 0 };
  private readonly mtimes = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  /** Lines that did not parse at the last load, per feed (reported, never fatal). */
  readonly rejected = new Map<string, number>();

  constructor(readonly files: string[], readonly includePrivate = false, private readonly onError?: (file: string, err: Error) => void) {}

  get size(): number {
    return this.table.entries;
  }

  /** Loads every feed; a feed that cannot be read keeps its previous entries out (logged). */
  load(): void {
    const t: Table = { v4: new Map(), v6: new Map(), entries: 0 };
    for (const file of this.files) {
      let text: string;
      try {
        const st = statSync(file);
        this.mtimes.set(file, st.mtimeMs * 1e3 + st.size);
        text = readFileSync(file, 'utf8');
      } catch (err) {
        this.onError?.(file, err as Error);
        continue;
      }
      let bad = 0;
      for (const raw of text.split('\n')) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
        const semi = line.indexOf(';');
        const entry = (semi >= 0 ? line.slice(0, semi) : line).trim().split(/\s/)[0];
        const note = semi >= 0 ? line.slice(semi + 1).trim() : undefined;
        if (!this.add(t, entry, { feed: basename(file), cidr: entry, ...(note ? { note } : {}) })) bad++;
      }
      this.rejected.set(file, bad);
    }
    this.table = t;
  }

  private add(t: Table, entry: string, m: IntelMatch): boolean {
    const slash = entry.indexOf('/');
    const addr = slash >= 0 ? entry.slice(0, slash) : entry;
    const v4 = parseIPv4(addr);
    if (v4 !== undefined) {
      const len = slash >= 0 ? Number(entry.slice(slash + 1)) : 32;
      if (!Number.isInteger(len) || len < 0 || len > 32) return false;
      let byLen = t.v4.get(len);
      if (!byLen) t.v4.set(len, (byLen = new Map()));
      byLen.set(maskV4(v4, len), m);
      t.entries++;
      return true;
    }
    const v6 = parseIPv6(addr);
    if (v6 === undefined) return false;
    const len = slash >= 0 ? Number(entry.slice(slash + 1)) : 128;
    if (!Number.isInteger(len) || len < 0 || len > 128) return false;
    let byLen = t.v6.get(len);
    if (!byLen) t.v6.set(len, (byLen = new Map()));
    byLen.set(maskV6(v6, len), m);
    t.entries++;
    return true;
  }

  lookup(addr: string): IntelMatch | undefined {
    if (!addr || this.table.entries === 0) return undefined;
    if (!this.includePrivate && isPrivateAddress(addr)) return undefined;
    let v4 = parseIPv4(addr);
    if (v4 === undefined) {
      const v6 = parseIPv6(addr);
      if (v6 === undefined) return undefined;
      if (v6 >> 32n === 0xffffn) v4 = Number(v6 & 0xffffffffn);
      else {
        for (const [len, nets] of this.table.v6) {
          const m = nets.get(maskV6(v6, len));
          if (m) return m;
        }
        return undefined;
      }
    }
    for (const [len, nets] of this.table.v4) {
      const m = nets.get(maskV4(v4, len));
      if (m) return m;
    }
    return undefined;
  }

  /** Reloads the feeds when any file's mtime or size changes, checking every `intervalMs`. */
  watch(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      let changed = false;
      for (const file of this.files) {
        try {
          const st = statSync(file);
          if (this.mtimes.get(file) !== st.mtimeMs * 1e3 + st.size) changed = true;
        } catch {
          if (this.mtimes.has(file)) changed = true;
        }
      }
      if (changed) this.load();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
