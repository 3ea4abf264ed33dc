/**
 * `GET /api/codehealth`: every codehealth receiver's repositories with their components, stubs and
 * sprint. The shape is a contract with the console page and `vigil report` (see README).
 */
import type { ApiServer } from '../../src/api';
import type { CodehealthReceiver } from './index';

const receivers = new Set<CodehealthReceiver>();

export interface CodehealthApiRepository {
  name: string;
  path: string;
  scanned_at: number;
  score: number;
  components: Array<{ name: string; functions: number; implemented: number; stubs: number; score: number; loc: number; test_files: number }>;
  stubs: Array<{ file: string; line: number; function: string; kind: string; component: string }>;
  sprint?: { name: string; start: string; end: string; completion: number; goals: Array<{ id: string; description: string; weight: number; completion: number; met_at?: number; repository?: string }> };
}

export function codehealthView(list: Iterable<CodehealthReceiver>): { repositories: CodehealthApiRepository[] } {
  const repositories: CodehealthApiRepository[] = [];
  for (const r of list) {
    for (const repo of r.repos) {
      const res = repo.result;
      if (!res) continue; // not scanned yet (or the repository cannot be read: see the log)
      const out: CodehealthApiRepository = {
        name: repo.name,
        path: repo.path,
        scanned_at: res.scannedAt,
        score: res.score,
        components: res.components.map((c) => ({ name: c.name, functions: c.functions, implemented: c.implemented, stubs: c.stubs, score: c.score, loc: c.loc, test_files: c.test_files })),
        stubs: res.stubList.slice(0, r.maxStubs).map((s) => ({ file: s.file, line: s.line, function: s.function, kind: s.kind, component: s.component })),
      };
      const sp = r.sprintStatus;
      if (sp) {
        out.sprint = {
          name: sp.name, start: sp.start, end: sp.end, completion: sp.completion,
          goals: sp.goals.map((g) => ({ id: g.id, description: g.description, weight: g.weight, completion: g.completion, ...(g.met_at !== undefined ? { met_at: g.met_at } : {}), ...(g.repository !== undefined ? { repository: g.repository } : {}) })),
        };
      }
      repositories.push(out);
    }
  }
  return { repositories };
}

export function registerCodehealthApi(api: ApiServer, receiver: CodehealthReceiver): void {
  receivers.add(receiver);
  api.route('GET', '/api/codehealth', () => codehealthView(receivers));
}

export function unregisterCodehealthApi(receiver: CodehealthReceiver): void {
  receivers.delete(receiver);
}
