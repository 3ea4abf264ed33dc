/**
 * Sprint goals (`sprint.yaml`): a name, dates and weighted goals, each with one measurable
 * condition. Completion per goal is 0–1 (partial progress where the condition has a natural measure),
 * a goal is met at 1, and the sprint's completion is the weighted mean. The file is read with the
 * pipeline config's loader, so problems come out as FILE:LINE:COL like `vigil validate`'s.
 */
import type * as OctokitRest from '@octokit/rest';
import { join, sep } from 'node:path';
import { existsSync, realpathSync, readFileSync, statSync } from 'node:fs';
import { loadConfigFiles, LoadedConfig } from '../../src/config/load';
import { validateAgainst } from '../../src/config/validate';
import { ConfigError, ConfigIssue } from '../../src/errors';
import type { JsonSchema } from '../../src/component';
import { parseDuration } from '../../src/util/duration';
import { openStore, StoreReader } from '../../exporters/sqlite/store';
import { queryMetrics } from '../../src/query/metrics';
import { nowNanos } from '../../src/model';
import { analyzeSource, languageOf } from './analyze';
import type { ScanResult } from './analyze/scan';

const repoRef = { type: 'string', description: 'Repository name (default: the only one configured).' };
const compRef = { type: 'string', description: 'Component name.' };

export const sprintSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'start', 'end', 'goals'],
  properties: {
    name: { type: 'string', minLength: 1 },
    start: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}', description: 'ISO date (YYYY-MM-DD) or date-time.' },
    end: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}' },
    goals: {
      type: 'array', minItems: 1,
      items: {
        type: 'object',
        required: ['id'],
        minProperties: 2,
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          description: { type: 'string', default: '' },
          weight: { type: 'number', exclusiveMinimum: 0, default: 1 },
          no_stubs: { type: 'object', required: ['component'], properties: { repository: repoRef, component: compRef } },
          min_score: { type: 'object', required: ['component', 'score'], properties: { repository: repoRef, component: compRef, score: { type: 'number', minimum: 0, maximum: 1 } } },
          exists: { type: 'object', required: ['file'], properties: { repository: repoRef, file: { type: 'string' }, symbol: { type: 'string', description: 'A function, method (Class.method) or class with methods in that file.' } } },
          metric: {
            type: 'object', required: ['name', 'threshold'],
            properties: {
              name: { type: 'string' },
              agg: { enum: ['avg', 'min', 'max', 'sum', 'count', 'rate', 'increase', 'quantile'], default: 'avg' },
              match: { type: 'array', items: { type: 'string' }, default: [], description: 'Label matchers, e.g. service="api".' },
              range: { type: 'string', default: '1h', description: 'Window ending now.' },
              op: { enum: ['>=', '<='], default: '>=' },
              threshold: { type: 'number' },
            },
          },
          github_milestone: {
            type: 'object', required: ['repository', 'milestone'],
            properties: {
              repository: { type: 'string', pattern: '^[^/\\s]+/[^/\\s]+$', description: 'owner/name on GitHub.' },
              milestone: { type: ['string', 'integer'], description: 'Title or number.' },
              min_ratio: { type: 'number', minimum: 0, maximum: 1, default: 1 },
              token: { type: 'string', description: 'Use ${env:GITHUB_TOKEN}.' },
              base_url: { type: 'string', default: 'https://api.github.com' },
            },
          },
        },
      },
    },
  },
};

const CONDITIONS = ['no_stubs', 'min_score', 'exists', 'metric', 'github_milestone'] as const;
type ConditionKind = (typeof CONDITIONS)[number];

export interface Goal {
  id: string;
  description: string;
  weight: number;
  kind: ConditionKind;
  cond: Record<string, any>;
}

export interface Sprint {
  name: string;
  start: string;
  end: string;
  goals: Goal[];
}

export interface GoalStatus {
  id: string;
  description: string;
  weight: number;
  completion: number;
  met_at?: number;
  /**
   * The configured repository the goal is about (code goals: no_stubs, min_score, exists; named in
   * the goal or the only one configured). Absent for goals over the store or GitHub.
   */
  repository?: string;
  /** Why the goal could not be evaluated this time (GitHub down, store missing, ...). */
  error?: string;
}

export interface SprintStatus {
  name: string;
  start: string;
  end: string;
  completion: number;
  goals: GoalStatus[];
}

/** Load and check a sprint file; every problem located at FILE:LINE:COL. Throws ConfigError. */
export function loadSprint(file: string, repositories?: string[]): Sprint {
  const cfg: LoadedConfig = loadConfigFiles([file]);
  const issues: ConfigIssue[] = [];
  const raw = (cfg.value.sprint ?? cfg.value) as Record<string, unknown>;
  const base = cfg.value.sprint !== undefined ? ['sprint'] : [];
  const value = validateAgainst(sprintSchema, raw, cfg, base, issues) as Record<string, any>;
  if (!issues.length) {
    const ids = new Set<string>();
    (value.goals as Array<Record<string, any>>).forEach((g, i) => {
      const at = (k?: string) => issueFor(cfg, [...base, 'goals', i, ...(k ? [k] : [])]);
      const conds = CONDITIONS.filter((c) => g[c] !== undefined);
      if (conds.length !== 1) issues.push({ ...at(), message: `give exactly one condition of ${CONDITIONS.join(', ')}${conds.length ? ` (found ${conds.join(', ')})` : ''}` });
      if (ids.has(g.id)) issues.push({ ...at('id'), message: `goal id ${JSON.stringify(g.id)} is used twice` });
      ids.add(g.id);
      const c = conds[0] ? g[conds[0]] : undefined;
      if (c?.repository !== undefined && repositories && conds[0] !== 'github_milestone' && !repositories.includes(c.repository)) {
        issues.push({ ...issueFor(cfg, [...base, 'goals', i, conds[0], 'repository']), message: `no configured repository named ${JSON.stringify(c.repository)} (known: ${repositories.join(', ')})` });
      }
      if (conds[0] === 'metric') {
        try { parseDuration(c.range); } catch (e) { issues.push({ ...issueFor(cfg, [...base, 'goals', i, 'metric', 'range']), message: (e as Error).message }); }
      }
    });
    if (Number.isNaN(Date.parse(value.start))) issues.push({ ...issueFor(cfg, [...base, 'start']), message: 'not a date' });
    if (Number.isNaN(Date.parse(value.end))) issues.push({ ...issueFor(cfg, [...base, 'end']), message: 'not a date' });
    else if (Date.parse(value.end) < Date.parse(value.start)) issues.push({ ...issueFor(cfg, [...base, 'end']), message: 'the sprint ends before it starts' });
  }
  if (issues.length) throw new ConfigError(issues);
  return {
    name: value.name, start: value.start, end: value.end,
    goals: (value.goals as Array<Record<string, any>>).map((g) => {
      const kind = CONDITIONS.find((c) => g[c] !== undefined)!;
      return { id: g.id, description: g.description ?? '', weight: g.weight ?? 1, kind, cond: g[kind] };
    }),
  };
}

function issueFor(cfg: LoadedConfig, path: Array<string | number>): Omit<ConfigIssue, 'message'> {
  const p = cfg.locate(path);
  return { file: p?.file ?? cfg.files[0], line: p?.line, col: p?.col, path: path.map((x) => (typeof x === 'number' ? `[${x}]` : x)).join('.').replace(/\.\[/g, '[') };
}

export interface RepoView {
  name: string;
  root: string;
  result?: ScanResult;
}

export interface EvalContext {
  repositories: RepoView[];
  /** Path of the SQLite store for metric goals. */
  store?: string;
  /** Persistent met_at per goal; read and written by the evaluator. */
  metAt: { get(goal: string): number | undefined; set(goal: string, at: number | undefined): void };
  now?: () => number;
  /** Abort slow GitHub calls after this long. */
  timeoutMs?: number;
  /**
   * GitHub answers kept between evaluations (goal id → time and completion): file changes re-evaluate
   * the sprint often, and the milestone does not need asking more than once a minute.
   */
  githubCache?: Map<string, { at: number; completion: number }>;
}

export const GITHUB_CACHE_MS = 60_000;

/** Evaluate every goal; a goal that cannot be evaluated keeps completion 0 and carries the error. */
export async function evaluateSprint(sprint: Sprint, ctx: EvalContext): Promise<SprintStatus> {
  const now = ctx.now ?? Date.now;
  const goals: GoalStatus[] = [];
  let reader: StoreReader | undefined;
  try {
    for (const g of sprint.goals) {
      let completion = 0;
      let error: string | undefined;
      try {
        if (g.kind === 'metric' && !reader) {
          if (!ctx.store) throw new Error('no store configured for metric goals (receiver option `store`)');
          reader = openStore(ctx.store);
        }
        completion = clamp(await evaluateGoal(g, ctx, reader));
      } catch (e) {
        error = (e as Error).message.split('\n')[0].slice(0, 300);
      }
      let metAt = ctx.metAt.get(g.id);
      if (completion >= 1 && metAt === undefined) ctx.metAt.set(g.id, (metAt = now()));
      else if (completion < 1 && !error && metAt !== undefined) ctx.metAt.set(g.id, (metAt = undefined));
      const repository = goalRepository(g, ctx);
      goals.push({ id: g.id, description: g.description, weight: g.weight, completion, ...(metAt !== undefined ? { met_at: metAt } : {}), ...(repository !== undefined ? { repository } : {}), ...(error ? { error } : {}) });
    }
  } finally {
    reader?.close();
  }
  const total = goals.reduce((s, g) => s + g.weight, 0);
  const completion = total ? goals.reduce((s, g) => s + g.weight * g.completion, 0) / total : 0;
  return { name: sprint.name, start: sprint.start, end: sprint.end, completion, goals };
}

function clamp(x: number): number {
  return Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0;
}

const CODE_GOALS: ReadonlySet<ConditionKind> = new Set(['no_stubs', 'min_score', 'exists']);

function goalRepository(g: Goal, ctx: EvalContext): string | undefined {
  if (!CODE_GOALS.has(g.kind)) return undefined;
  const named = g.cond?.repository as string | undefined;
  if (named !== undefined) return named;
  return ctx.repositories.length === 1 ? ctx.repositories[0].name : undefined;
}

function repoFor(ctx: EvalContext, name: string | undefined): RepoView {
  const r = name === undefined ? (ctx.repositories.length === 1 ? ctx.repositories[0] : undefined) : ctx.repositories.find((x) => x.name === name);
  if (!r) throw new Error(name === undefined ? 'several repositories are configured: name one in the goal' : `no repository ${JSON.stringify(name)}`);
  return r;
}

function componentOf(ctx: EvalContext, c: Record<string, any>) {
  const repo = repoFor(ctx, c.repository);
  if (!repo.result) throw new Error(`repository ${repo.name} is not scanned yet`);
  const comp = repo.result.components.find((x) => x.name === c.component);
  if (!comp) throw new Error(`no component ${JSON.stringify(c.component)} in ${repo.name}`);
  return comp;
}

async function evaluateGoal(g: Goal, ctx: EvalContext, reader: StoreReader | undefined): Promise<number> {
  const c = g.cond;
  switch (g.kind) {
    case 'no_stubs': {
      // Progress toward "no stubs" is the component's implementation score; met only at zero stubs.
      const comp = componentOf(ctx, c);
      return comp.stubs === 0 ? 1 : Math.min(comp.score, 0.999);
    }
    case 'min_score': {
      const comp = componentOf(ctx, c);
      return comp.score >= c.score ? 1 : c.score > 0 ? comp.score / c.score : 1;
    }
    case 'exists':
      return (await fileHasSymbol(repoFor(ctx, c.repository), c.file, c.symbol)) ? 1 : 0;
    case 'metric':
      return metricCompletion(reader!, c);
    case 'github_milestone': {
      const now = (ctx.now ?? Date.now)();
      const hit = ctx.githubCache?.get(g.id);
      if (hit && now - hit.at < GITHUB_CACHE_MS) return hit.completion;
      const completion = await milestoneCompletion(c, ctx.timeoutMs ?? 15_000);
      ctx.githubCache?.set(g.id, { at: now, completion });
      return completion;
    }
  }
}

/** Whether `file` (inside the repository: realpath-checked) exists and defines `symbol`. */
export async function fileHasSymbol(repo: RepoView, file: string, symbol?: string): Promise<boolean> {
  const root = realpathSync(repo.root);
  const abs = join(root, file);
  if (!existsSync(abs)) return false;
  const real = realpathSync(abs);
  if (!real.startsWith(root + sep)) throw new Error(`${file} is outside the repository`);
  if (!symbol) return true;
  if (!statSync(real).isFile() || !languageOf(real)) return false;
  if (statSync(real).size > 4 * 1024 * 1024) throw new Error(`${file} is too large to look for symbols`);
  const a = await analyzeSource(readFileSync(real, 'utf8'), real);
  return a.functions.some((f) => f.name === symbol || f.name.startsWith(symbol + '.') || f.name.endsWith('.' + symbol));
}

function metricCompletion(reader: StoreReader, c: Record<string, any>): number {
  const rangeMs = parseDuration(c.range ?? '1h');
  const now = nowNanos();
  const q = new URLSearchParams({ name: c.name, agg: c.agg ?? 'avg', start: String(now - BigInt(rangeMs) * 1_000_000n), end: String(now), step: `${rangeMs}ms`, by: '' });
  for (const m of c.match ?? []) q.append('match[]', m);
  const res = queryMetrics(reader.db, q, now);
  const values = res.series.flatMap((s) => s.points.map((p) => p[1])).filter((v): v is number => v !== null);
  if (!values.length) throw new Error(`no data for ${c.name} in the last ${c.range ?? '1h'}`);
  const v = values[values.length - 1];
  const op = c.op ?? '>=';
  if (op === '>=') return v >= c.threshold ? 1 : c.threshold > 0 ? Math.max(0, v) / c.threshold : 0;
  return v <= c.threshold ? 1 : v > 0 ? Math.max(0, c.threshold) / v : 0;
}

/* eslint-disable @typescript-eslint/no-require-imports */
async function milestoneCompletion(c: Record<string, any>, timeoutMs: number): Promise<number> {
  const { Octokit } = require('@octokit/rest') as typeof OctokitRest;
  const [owner, repo] = String(c.repository).split('/');
  const octokit = new Octokit({
    auth: c.token, baseUrl: String(c.base_url ?? 'https://api.github.com').replace(/\/+$/, ''), userAgent: 'vigil-codehealth/0.1',
    request: { signal: AbortSignal.timeout(timeoutMs) },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  let m: { number: number; title: string; open_issues: number; closed_issues: number } | undefined;
  if (typeof c.milestone === 'number') {
    m = (await octokit.rest.issues.getMilestone({ owner, repo, milestone_number: c.milestone })).data;
  } else {
    const list = await octokit.paginate(octokit.rest.issues.listMilestones, { owner, repo, state: 'all', per_page: 100 });
    m = list.find((x) => x.title === c.milestone);
    if (!m) throw new Error(`no milestone titled ${JSON.stringify(c.milestone)} in ${c.repository}`);
  }
  const total = m.open_issues + m.closed_issues;
  const ratio = total ? m.closed_issues / total : 0;
  const min = c.min_ratio ?? 1;
  return ratio >= min ? 1 : min > 0 ? ratio / min : 1;
}
