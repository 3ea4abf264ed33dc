/** Reading a NAB-layout corpus: <data>/<group>/<file>.csv with timestamp,value rows, and a windows file. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface NabSeries {
  /** "group/file.csv", the key used by NAB's windows file. */
  name: string;
  group: string;
  file: string;
  timestampText: string[];
  timestamps: number[];
  values: Float64Array;
}

const TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** NAB timestamps are naive wall-clock times; read them as UTC milliseconds so equal text compares equal. */
export function parseNabTime(text: string): number {
  const m = TS.exec(text.trim());
  if (!m) throw new Error(`unreadable timestamp "${text}"`);
  const ms = m[7] ? Math.floor(Number(m[7].padEnd(6, '0')) / 1000) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

export function readSeries(path: string, name: string): NabSeries {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const header = lines[0].split(',').map((s) => s.trim());
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0) throw new Error(`${path}: expected timestamp and value columns`);
  const text: string[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const cols = lines[i].split(',');
    text.push(cols[ti].trim());
    values.push(Number(cols[vi]));
  }
  const [group, file] = name.split('/');
  return { name, group, file, timestampText: text, timestamps: text.map(parseNabTime), values: Float64Array.from(values) };
}

/** Every <group>/<file>.csv under the data folder, sorted by name. */
export function readCorpus(dataDir: string): NabSeries[] {
  const out: NabSeries[] = [];
  for (const group of readdirSync(dataDir).sort()) {
    const gdir = join(dataDir, group);
    if (!statSync(gdir).isDirectory()) continue;
    for (const file of readdirSync(gdir).sort()) {
      if (file.endsWith('.csv')) out.push(readSeries(join(gdir, file), `${group}/${file}`));
    }
  }
  return out;
}

/** The windows file: { "group/file.csv": [[start, end], ...] } as millisecond pairs. */
export function readWindows(path: string): Map<string, Array<[number, number]>> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Array<[string, string]>>;
  const out = new Map<string, Array<[number, number]>>();
  for (const [k, ws] of Object.entries(raw)) out.set(k, ws.map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as [number, number]));
  return out;
}

/** profiles.json ({ name: { CostMatrix: {...} } }) as cost matrices. */
export function readProfiles(path: string): Record<string, { tpWeight: number; fpWeight: number; fnWeight: number }> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { CostMatrix: { tpWeight: number; fpWeight: number; fnWeight: number } }>;
  const out: Record<string, { tpWeight: number; fpWeight: number; fnWeight: number }> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = { tpWeight: v.CostMatrix.tpWeight, fpWeight: v.CostMatrix.fpWeight, fnWeight: v.CostMatrix.fnWeight };
  return out;
}
