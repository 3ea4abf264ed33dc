/**
 * The top functions by self time in a V8 .cpuprofile (what `node --cpu-prof` writes), so a run with
 * `--cpu-prof` says where the server's time went without opening DevTools.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

export function topFunctions(profilePath: string, root: string, limit = 20): { totalMs: number; top: HotFunction[] } {
  const p = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, HotFunction>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // A sample's time is the delta to the next sample.
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const n = byId.get(p.samples[i]);
    if (!n) continue;
    total += dt;
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.startsWith('file://') ? relative(root, url.slice(7)) : url;
    const where = file ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = self.get(key) ?? { name: functionName || '(anonymous)', where, selfMs: 0, percent: 0 };
    entry.selfMs += dt;
    self.set(key, entry);
  }
  const top = [...self.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, limit);
  for (const f of top) f.percent = total > 0 ? (f.selfMs / total) * 100 : 0;
  return { totalMs: total, top };
}

export function formatTop(r: { totalMs: number; top: HotFunction[] }): string {
  const lines = [`top functions by self time (of ${(r.totalMs / 1000).toFixed(1)} s sampled):`];
  for (const f of r.top) lines.push(`  ${f.percent.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`);
  return lines.join('\n');
}
