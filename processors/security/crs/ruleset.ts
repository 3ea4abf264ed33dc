/**
 * An OWASP Core Rule Set engine for the request rules: compiles the SecRule subset CRS uses
 * (request variables, @rx/@pm/@pmFromFile/@contains/@streq/... operators, @detectSQLi and
 * @detectXSS answered by Vigil's detectors, transformations, chains, captures) and evaluates it
 * against a request rebuilt from span attributes, with CRS's paranoia levels and anomaly scores.
 *
 * Regular expressions run on RE2 (linear time, no catastrophic backtracking). A rule RE2 cannot
 * compile, or one using a variable or operator spans cannot answer, is listed in `unsupported`,
 * never dropped silently. CRS's own control rules (paranoia gates, initialisation, the blocking
 * evaluation) are replaced by the engine's native paranoia level and threshold and are counted
 * in `control`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LRUCache } from 'lru-cache';
import RE2 from 're2';
import { scoreSqli, SQLI_THRESHOLD } from '../detect/sqli';
import { scoreXss, XSS_THRESHOLD } from '../detect/xss';
import { plain } from '../detect/injection';
import { parseRules, RawRule, Variable } from './parse';
import { foldValue, LiteralPrefilter, requiredLiterals } from './prefilter';
import { TRANSFORMS, Transform } from './transforms';

/** A request as CRS sees it, rebuilt from span attributes (see request.ts). */
export interface CrsRequest {
  method: string;
  /** Path and query as sent (REQUEST_URI). */
  uri: string;
  /** Decoded path (REQUEST_FILENAME). */
  path: string;
  query: string;
  protocol: string;
  args: Array<{ name: string; value: string; from: 'get' | 'post' }>;
  /** Header names lowercased. */
  headers: Array<[string, string]>;
  cookies: Array<[string, string]>;
  body: string;
}

export interface RuleMatch {
  id: number;
  msg: string;
  severity: string;
  /** Anomaly points (CRS: critical 5, error 4, warning 3, notice 2). */
  points: number;
  paranoia: number;
  /** attack-sqli -> 'sqli', attack-xss -> 'xss', attack-rce -> 'rce' ... */
  category: string;
  variable: string;
  value: string;
}

export interface CrsEvaluation {
  matches: RuleMatch[];
  /** Inbound anomaly score at the configured paranoia level. */
  score: number;
}

const SEVERITY_POINTS: Record<string, number> = { CRITICAL: 5, ERROR: 4, WARNING: 3, NOTICE: 2, '2': 5, '3': 4, '4': 3, '5': 2 };

interface Target {
  collection: string;
  key: string;
  keyRe?: RE2;
  exclusions: Array<{ key: string; keyRe?: RE2 }>;
  count: boolean;
}

type Operator = (value: string, captures: string[] | undefined) => boolean;

interface Link {
  targets: Target[];
  op: Operator;
  /** Regex-backed operators (@rx, @pm...): index into the rule set's patterns, answered in groups. */
  rx?: number;
  negated: boolean;
  transforms: Transform[];
  transformKey: string;
  multiMatch: boolean;
  capture: boolean;
}

interface CompiledRule {
  id: number;
  msg: string;
  severity: string;
  points: number;
  paranoia: number;
  category: string;
  links: Link[];
}

export interface LoadResult {
  rules: number;
  files: string[];
  /** Detection rules that cannot run, with why (rule id, file:line). */
  unsupported: string[];
  /** Control rules replaced by the engine's paranoia level and threshold. */
  control: number;
  /** Regular expressions and phrase lists the literal prefilter cannot skip (they run on every value). */
  unfiltered: number;
}

/** Collections spans can answer. */
const COLLECTIONS = new Set([
  'ARGS', 'ARGS_NAMES', 'ARGS_GET', 'ARGS_GET_NAMES', 'ARGS_POST', 'ARGS_POST_NAMES', 'REQUEST_HEADERS', 'REQUEST_HEADERS_NAMES',
  'REQUEST_COOKIES', 'REQUEST_COOKIES_NAMES', 'REQUEST_URI', 'REQUEST_URI_RAW', 'REQUEST_FILENAME', 'REQUEST_BASENAME',
  'QUERY_STRING', 'REQUEST_LINE', 'REQUEST_METHOD', 'REQUEST_PROTOCOL', 'REQUEST_BODY', 'MATCHED_VAR', 'MATCHED_VARS',
  'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES', 'TX',
]);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Longest value an operator sees: bounds the cost of one request (CRS's own limits are similar). */
const MAX_VALUE = 16384;

/** Members per combined pattern: small enough for RE2's memory budget, large enough to save calls. */
const CHUNK = 12;

/**
 * Patterns of links that share a transformation chain, tested together: one combined RE2
 * alternation per chunk rejects a value for all its members in one call (most values match
 * nothing), and only a chunk that matches is tested member by member.
 */
interface PatternGroup {
  chunks: Array<{ any: RE2 | undefined; members: number[] }>;
}

/** A rule whose first link reads one of the request's collections: it can only match through a member that matches that link. */
interface IndexEntry {
  rule: number;
  link: Link;
  /** The link's targets in this collection (member names, exclusions). */
  targets: Target[];
}

/** The rules at one paranoia level, indexed by what their first link reads. */
interface RuleIndex {
  collections: Map<string, {
    /** Positive @rx/@pm links whose transformations keep a safe value the same up to case, by pattern. */
    byPattern: Map<number, IndexEntry[]>;
    /** Positive links whose pattern has no required literal: evaluated on each new value. */
    unfiltered: IndexEntry[];
    /** Every other link: evaluated on each new value. */
    others: IndexEntry[];
    all: IndexEntry[];
  }>;
  /** Rules not indexed (counts, MATCHED_VARS, TX): run on every request. */
  always: Uint8Array;
  /**
   * Rules a member's value triggers, per collection, member and value: most recur (hosts, agents,
   * routes). A Map cleared when full, as the detectors' value cache: lru-cache's bookkeeping was
   * 6% of the server's time in a profile of the CRS bench.
   */
  cache: Map<string, number[]>;
}

/**
 * Values no transformation CRS uses changes except in case: no percent, plus, entity, backslash,
 * quote, comma, semicolon, whitespace, comment or NUL characters, no `--`, no `//` and no `.`/`..`
 * path segments. The literal prefilter can then scan the value once for every transformation chain.
 */
const SAFE_VALUE = /^[A-Za-z0-9_.:@~=?!$\/-]*$/;
const UNSAFE_PARTS = /--|\/\/|(?:^|\/)\.{1,2}(?:\/|$)/;
const VALUE_CACHE_MAX = 20000;
/** Transformations whose output is not the input up to case even on safe values. */
const CASE_UNSTABLE = new Set(['length', 'sha1', 'md5', 'hexencode', 'hexdecode', 'base64decode', 'base64decodeext', 'base64encode']);
/** Collections the request itself answers (not MATCHED_* or TX, which depend on earlier links). */
const REQUEST_COLLECTIONS = new Set([...COLLECTIONS].filter((c) => !c.startsWith('MATCHED_') && c !== 'TX'));

export interface LoadOptions {
  /** Run only the patterns whose required literals occur in a value (default true; false runs every pattern, for comparison). */
  prefilter?: boolean;
}

export class CrsRuleSet {
  private rules: CompiledRule[] = [];
  private tx = new Map<string, string>();
  private patterns: Array<{ re: RE2; source: string; raw: string }> = [];
  private usePrefilter = true;
  /** Every pattern's required literals, scanned in one pass per value (prefilter.ts). */
  private prefilter?: LiteralPrefilter;
  /** Per paranoia level, built on first use. */
  private indexes = new Map<number, RuleIndex>();
  private groups = new Map<string, PatternGroup>();
  private pending = new Map<string, number[]>();
  /** Values repeat across requests (headers, user agents, common parameters): remember answers. */
  private readonly answers = new LRUCache<string, number[]>({ max: 20000 });

  /** Loads .conf files (a directory: its REQUEST-*.conf, or any *.conf when none is named so). */
  static load(paths: string[], options: LoadOptions = {}): { ruleset: CrsRuleSet; result: LoadResult } {
    const rs = new CrsRuleSet();
    rs.usePrefilter = options.prefilter ?? true;
    const files: string[] = [];
    for (const p of paths) {
      if (statSync(p).isDirectory()) {
        const names = readdirSync(p).filter((f) => f.endsWith('.conf')).sort();
        const request = names.filter((f) => f.startsWith('REQUEST-'));
        for (const f of request.length ? request : names) files.push(join(p, f));
      } else files.push(p);
    }
    const raw: RawRule[] = [];
    const unsupported: string[] = [];
    for (const f of files) {
      const { rules, errors } = parseRules(readFileSync(f, 'utf8'), f);
      raw.push(...rules);
      unsupported.push(...errors);
    }
    rs.harvestDefaults(raw);
    let control = 0;
    for (let i = 0; i < raw.length; i++) {
      const r = raw[i];
      const chain: RawRule[] = [r];
      while (chain[chain.length - 1].actions.some((a) => a.name === 'chain') && i + 1 < raw.length) chain.push(raw[++i]);
      const severity = r.actions.find((a) => a.name === 'severity')?.value.toUpperCase();
      // Detection rules carry a severity and a paranoia-level tag; the rest is CRS's control flow.
      const detection = r.actions.some((a) => a.name === 'tag' && a.value.startsWith('paranoia-level/'));
      if (r.kind !== 'rule' || !severity || !detection) {
        control++;
        continue;
      }
      const id = Number(r.actions.find((a) => a.name === 'id')?.value ?? 0);
      try {
        rs.rules.push(rs.compile(id, severity, chain));
      } catch (e) {
        unsupported.push(`${id} (${basename(r.file)}:${r.line}): ${(e as Error).message}`);
      }
    }
    rs.buildGroups();
    if (rs.usePrefilter) rs.prefilter = new LiteralPrefilter(rs.patterns.map((p) => requiredLiterals(p.raw)));
    return { ruleset: rs, result: { rules: rs.rules.length, files, unsupported, control, unfiltered: rs.unfiltered() } };
  }

  private addPattern(source: string, flags: string, transformKey: string): number {
    const idx = this.patterns.length;
    this.patterns.push({ re: new RE2(source, flags), source: flags.includes('i') ? `(?i:${source})` : `(?:${source})`, raw: source });
    const list = this.pending.get(transformKey) ?? [];
    list.push(idx);
    this.pending.set(transformKey, list);
    return idx;
  }

  private buildGroups(): void {
    for (const [key, members] of this.pending) {
      const chunks: PatternGroup['chunks'] = [];
      for (let k = 0; k < members.length; k += CHUNK) {
        const part = members.slice(k, k + CHUNK);
        let any: RE2 | undefined;
        try {
          any = new RE2(part.map((m) => this.patterns[m].source).join('|'), 'u');
        } catch {
          any = undefined; // too large combined: members are tested one by one
        }
        chunks.push({ any, members: part });
      }
      this.groups.set(key, { chunks });
    }
    this.pending.clear();
  }

  /** Indices of the patterns in a group that match a (transformed) value. */
  private matching(groupKey: string, value: string, memo: RequestMemo): number[] {
    let byValue = memo.matches.get(groupKey);
    if (!byValue) memo.matches.set(groupKey, (byValue = new Map()));
    const seen = byValue.get(value);
    if (seen) return seen;
    const cacheKey = value.length <= 256 ? `${groupKey}\u0000${value}` : undefined;
    const known = cacheKey !== undefined ? this.answers.get(cacheKey) : undefined;
    if (known) {
      byValue.set(value, known);
      return known;
    }
    const out: number[] = [];
    for (const c of this.groups.get(groupKey)?.chunks ?? []) {
      if (c.any && !c.any.test(value)) continue;
      for (const m of c.members) if (this.patterns[m].re.test(value)) out.push(m);
    }
    if (cacheKey !== undefined) this.answers.set(cacheKey, out);
    byValue.set(value, out);
    return out;
  }

  /** CRS 901 sets defaults as `SecRule &TX:x "@eq 0" "setvar:tx.x=..."`; operators may reference them. */
  private harvestDefaults(raw: RawRule[]): void {
    for (const r of raw) {
      for (const a of r.actions) {
        if (a.name !== 'setvar') continue;
        const m = /^'?tx\.([\w.-]+)=([^+-].*?)'?$/i.exec(a.value);
        if (m && !m[2].includes('%{') && !this.tx.has(m[1].toLowerCase())) this.tx.set(m[1].toLowerCase(), m[2]);
      }
    }
  }

  private expand(s: string): string {
    return s.replace(/%\{tx\.([\w.-]+)\}/gi, (_, name: string) => {
      const v = this.tx.get(name.toLowerCase());
      if (v === undefined) throw new Error(`references %{tx.${name}}, which no loaded rule sets`);
      return v;
    });
  }

  private compile(id: number, severity: string, chain: RawRule[]): CompiledRule {
    const first = chain[0];
    const tags = first.actions.filter((a) => a.name === 'tag').map((a) => a.value);
    const pl = Number(/paranoia-level\/(\d)/.exec(tags.join(' '))?.[1] ?? 1);
    const attack = tags.find((t) => t.startsWith('attack-'));
    return {
      id,
      msg: first.actions.find((a) => a.name === 'msg')?.value ?? '',
      severity,
      points: SEVERITY_POINTS[severity] ?? 0,
      paranoia: pl,
      category: attack ? attack.slice('attack-'.length) : 'generic',
      links: chain.map((r) => this.compileLink(r)),
    };
  }

  private compileLink(r: RawRule): Link {
    const targets: Target[] = [];
    const exclusions = new Map<string, Array<{ key: string; keyRe?: RE2 }>>();
    const missing: string[] = [];
    for (const v of r.variables) {
      if (!COLLECTIONS.has(v.collection)) {
        missing.push(v.collection);
        continue;
      }
      // Spans record few headers: a header's absence there says nothing about the request.
      if (v.count && v.collection === 'REQUEST_HEADERS') throw new Error('tests whether a header is present; spans record only some headers');
      if (v.collection === 'TX' && !/^\d$/.test(v.key)) throw new Error(`variable TX:${v.key} (engine state; the native threshold and paranoia level replace it)`);
      if (v.exclude) {
        const list = exclusions.get(v.collection) ?? [];
        list.push(keyOf(v));
        exclusions.set(v.collection, list);
      } else targets.push({ collection: v.collection, ...keyOf(v), exclusions: [], count: v.count });
    }
    for (const t of targets) t.exclusions = exclusions.get(t.collection) ?? [];
    if (!targets.length) throw new Error(`no variable available from spans (${[...new Set(missing)].join(', ')})`);
    const names = r.actions.filter((a) => a.name === 't').map((a) => a.value.toLowerCase());
    const transforms: Transform[] = [];
    for (const n of names) {
      if (n === 'none') {
        transforms.length = 0;
        continue;
      }
      const f = TRANSFORMS[n];
      if (!f) throw new Error(`transformation t:${n}`);
      transforms.push(f);
    }
    const transformKey = names.slice(names.lastIndexOf('none') + 1).join(',');
    const [op, rx] = this.operator(r, transformKey);
    return {
      targets,
      op,
      rx,
      negated: r.negated,
      transforms,
      transformKey,
      multiMatch: r.actions.some((a) => a.name === 'multiMatch'),
      capture: r.actions.some((a) => a.name === 'capture'),
    };
  }

  private operator(r: RawRule, transformKey: string): [Operator, number?] {
    const op = r.operator.toLowerCase();
    if (op === '@rx' || op === '@pm' || op === '@pmf' || op === '@pmfromfile') {
      const exec = this.regexOperator(r);
      let rx: number;
      try {
        rx = this.addPattern(exec.source, exec.flags, transformKey);
      } catch (e) {
        throw new Error(`RE2 cannot compile the regular expression (${(e as Error).message})`);
      }
      return [exec.op, rx];
    }
    return [this.plainOperator(r)];
  }

  private regexOperator(r: RawRule): { op: Operator; source: string; flags: string } {
    const op = r.operator.toLowerCase();
    const arg = op === '@rx' ? r.argument : this.expand(r.argument);
    switch (op) {
      case '@rx': {
        if (arg.includes('%{')) throw new Error('@rx with a macro');
        let re: RE2;
        try {
          re = new RE2(arg, 'u');
        } catch (e) {
          throw new Error(`RE2 cannot compile the regular expression (${(e as Error).message})`);
        }
        return {
          source: arg,
          flags: 'u',
          op: (v, cap) => {
            const m = re.exec(v);
            if (!m) return false;
            if (cap) for (let k = 0; k < 10; k++) cap[k] = m[k] ?? '';
            return true;
          },
        };
      }
      default: {
        const phrases = op === '@pm' ? arg.split(/\s+/).filter(Boolean) : arg.split(/\s+/).filter(Boolean).flatMap((f) => phraseFile(resolve(dirname(r.file), f)));
        if (!phrases.length) throw new Error(`${r.operator} with no phrases`);
        const source = phrases.map(escapeRe).join('|');
        const re = new RE2(source, 'iu');
        return {
          source,
          flags: 'iu',
          op: (v, cap) => {
            const m = re.exec(v);
            if (m && cap) cap[0] = m[0];
            return m !== null;
          },
        };
      }
    }
  }

  private plainOperator(r: RawRule): Operator {
    const op = r.operator.toLowerCase();
    const arg = this.expand(r.argument);
    switch (op) {
      case '@contains': return (v) => v.includes(arg);
      case '@containsword': {
        const re = new RE2(`\\b${escapeRe(arg)}\\b`, 'u');
        return (v) => re.test(v);
      }
      case '@streq': return (v) => v === arg;
      case '@beginswith': return (v) => v.startsWith(arg);
      case '@endswith': return (v) => v.endsWith(arg);
      case '@within': return (v) => v !== '' && arg.includes(v);
      case '@eq': case '@ge': case '@gt': case '@le': case '@lt': {
        const n = Number(arg);
        if (!Number.isFinite(n)) throw new Error(`${r.operator} ${arg} is not a number`);
        const cmp = { '@eq': (a: number) => a === n, '@ge': (a: number) => a >= n, '@gt': (a: number) => a > n, '@le': (a: number) => a <= n, '@lt': (a: number) => a < n }[op]!;
        return (v) => cmp(Number(v) || 0);
      }
      case '@detectsqli': {
        // Plain values (letters, digits, `_ . : @ ~ / -`) cannot carry SQL; others recur (answers cached).
        const answers = new LRUCache<string, string>({ max: 4096 });
        return (v, cap) => {
          if (plain(v)) return false;
          let fp = v.length <= 512 ? answers.get(v) : undefined;
          if (fp === undefined) {
            const s = scoreSqli(v);
            fp = s.score >= SQLI_THRESHOLD ? s.fingerprint || ' ' : '';
            if (v.length <= 512) answers.set(v, fp);
          }
          if (fp && cap) cap[0] = fp.trim();
          return fp !== '';
        };
      }
      case '@detectxss': {
        const answers = new LRUCache<string, boolean>({ max: 4096 });
        return (v) => {
          if (plain(v)) return false;
          let hit = v.length <= 512 ? answers.get(v) : undefined;
          if (hit === undefined) {
            hit = scoreXss(v).score >= XSS_THRESHOLD;
            if (v.length <= 512) answers.set(v, hit);
          }
          return hit;
        };
      }
      case '@validatebyterange': {
        const ok = new Uint8Array(256);
        for (const part of arg.split(',')) {
          const [a, b] = part.trim().split('-').map(Number);
          for (let k = a; k <= (b ?? a); k++) ok[k] = 1;
        }
        return (v) => {
          for (const byte of Buffer.from(v, 'utf8')) if (!ok[byte]) return true;
          return false;
        };
      }
      case '@validateurlencoding': return (v) => /%(?![0-9a-fA-F]{2})/.test(v);
      case '@unconditionalmatch': return () => true;
      case '@nomatch': return () => false;
      default:
        throw new Error(`operator ${r.operator}`);
    }
  }

  /** Rules at or below `paranoia`, evaluated on one request. */
  evaluate(req: CrsRequest, paranoia: number): CrsEvaluation {
    const matches: RuleMatch[] = [];
    let score = 0;
    const memo: RequestMemo = { items: new Map(), forms: new Map(), matches: new Map(), candidates: new Map() };
    // With the index, only the rules a value can trigger (and those not indexed) are run.
    let triggered: Uint8Array | undefined;
    if (this.prefilter) {
      const index = this.ruleIndex(paranoia);
      triggered = index.always.slice();
      for (const collection of index.collections.keys()) {
        collect({ collection, key: '', exclusions: [], count: false }, req, [], [], memo);
        for (const item of memo.items.get(collection)!) {
          for (const r of this.rulesForMember(index, collection, item.member, item.value, memo)) triggered[r] = 1;
        }
      }
    }
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i];
      if (rule.paranoia > paranoia) continue;
      if (triggered && !triggered[i]) continue;
      const m = this.runRule(rule, req, memo);
      if (!m) continue;
      matches.push({ id: rule.id, msg: rule.msg, severity: rule.severity, points: rule.points, paranoia: rule.paranoia, category: rule.category, variable: m.name, value: m.value });
      score += rule.points;
    }
    return { matches, score };
  }

  get size(): number {
    return this.rules.length;
  }

  private unfiltered(): number {
    return this.prefilter ? this.prefilter.unfiltered : this.patterns.length;
  }

  /**
   * Indexes the rules at a paranoia level by their first link. A link reading the request's own
   * collections matches only through a member whose (transformed) value satisfies its operator,
   * and that answer depends on the member alone: it is computed once per member value and cached.
   * Rules whose first link counts members or reads MATCHED_VARS/TX run on every request.
   */
  private ruleIndex(paranoia: number): RuleIndex {
    let index = this.indexes.get(paranoia);
    if (index) return index;
    index = { collections: new Map(), always: new Uint8Array(this.rules.length), cache: new Map() };
    this.rules.forEach((rule, i) => {
      if (rule.paranoia > paranoia) return;
      const link = rule.links[0];
      if (!link.targets.every((t) => REQUEST_COLLECTIONS.has(t.collection) && !t.count)) {
        index!.always[i] = 1;
        return;
      }
      const byCase = link.rx !== undefined && !link.negated && !link.transformKey.split(',').some((n) => CASE_UNSTABLE.has(n));
      for (const c of new Set(link.targets.map((t) => t.collection))) {
        let col = index!.collections.get(c);
        if (!col) index!.collections.set(c, (col = { byPattern: new Map(), unfiltered: [], others: [], all: [] }));
        const e: IndexEntry = { rule: i, link, targets: link.targets.filter((t) => t.collection === c) };
        col.all.push(e);
        if (!byCase) col.others.push(e);
        else if (this.prefilter!.isUnfiltered(link.rx!)) col.unfiltered.push(e);
        else {
          const list = col.byPattern.get(link.rx!) ?? [];
          list.push(e);
          col.byPattern.set(link.rx!, list);
        }
      }
    });
    this.indexes.set(paranoia, index);
    return index;
  }

  /** Rules whose first link a member of `collection` satisfies (name filters included). */
  private rulesForMember(index: RuleIndex, collection: string, member: string, value: string, memo: RequestMemo): number[] {
    const key = value.length + member.length <= 512 ? `${collection}\u0000${member}\u0000${value}` : undefined;
    const known = key !== undefined ? index.cache.get(key) : undefined;
    if (known) return known;
    const col = index.collections.get(collection)!;
    const v = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
    const found: number[] = [];
    const check = (e: IndexEntry): void => {
      if (!e.targets.some((t) => (!t.key || keyMatches(member, t.key, t.keyRe)) && !t.exclusions.some((x) => keyMatches(member, x.key, x.keyRe)))) return;
      const link = e.link;
      for (const f of transformed(v, link, memo)) {
        const r = link.rx !== undefined ? this.test(link.rx, f, memo) : link.op(f, undefined);
        if (r !== link.negated) {
          found.push(e.rule);
          return;
        }
      }
    };
    if (SAFE_VALUE.test(v) && !UNSAFE_PARTS.test(v)) {
      // Every case-stable chain gives this value up to case: one literal scan picks the patterns.
      for (const p of this.hitsOf(v, memo)) for (const e of col.byPattern.get(p) ?? []) check(e);
      for (const e of col.unfiltered) check(e);
      for (const e of col.others) check(e);
    } else {
      for (const e of col.all) check(e);
    }
    if (key !== undefined) {
      if (index.cache.size >= VALUE_CACHE_MAX) index.cache.clear();
      index.cache.set(key, found);
    }
    return found;
  }

  /** One pattern on one (transformed) value, skipped when the value lacks the pattern's literals. */
  private test(pattern: number, value: string, memo: RequestMemo): boolean {
    return (this.prefilter!.isUnfiltered(pattern) || this.hitsOf(value, memo).includes(pattern)) && this.patterns[pattern].re.test(value);
  }

  /** Patterns with a required literal in the value (few: CRS's literals are rare in ordinary text). */
  private hitsOf(value: string, memo: RequestMemo): number[] {
    const folded = foldValue(value);
    let c = memo.candidates.get(folded);
    if (!c) memo.candidates.set(folded, (c = this.prefilter!.hits(folded)));
    return c;
  }

  private runRule(rule: CompiledRule, req: CrsRequest, memo: RequestMemo): { name: string; value: string } | undefined {
    let matched: Array<{ name: string; value: string }> = [];
    const cap: string[] = [];
    for (let li = 0; li < rule.links.length; li++) {
      const link = rule.links[li];
      const next: Array<{ name: string; value: string }> = [];
      for (const t of link.targets) {
        for (const item of collect(t, req, matched, cap, memo)) {
          const forms = transformed(item.value, link, memo);
          let hit = false;
          for (const f of forms) {
            let r: boolean;
            if (link.rx !== undefined) {
              r = this.prefilter ? this.test(link.rx, f, memo) : this.matching(link.transformKey, f, memo).includes(link.rx);
              // Captures (TX:0..9) only when a chained link will read them.
              if (r && link.capture) link.op(f, cap);
            } else r = link.op(f, link.capture ? cap : undefined);
            if (r !== link.negated) {
              hit = true;
              break;
            }
          }
          if (hit) next.push(item);
        }
      }
      if (!next.length) return undefined;
      matched = next;
    }
    return matched[0];
  }
}

function keyOf(v: Variable): { key: string; keyRe?: RE2 } {
  if (v.key.startsWith('/') && v.key.endsWith('/') && v.key.length > 1) return { key: v.key, keyRe: new RE2(v.key.slice(1, -1), 'iu') };
  return { key: v.key.toLowerCase() };
}

function phraseFile(path: string): string[] {
  return readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Per-request memory: members per collection, transformed forms and pattern answers per value. */
interface RequestMemo {
  items: Map<string, Array<{ name: string; value: string; member: string }>>;
  forms: Map<string, Map<string, string[]>>;
  matches: Map<string, Map<string, number[]>>;
  /** Prefilter hits per folded value. */
  candidates: Map<string, number[]>;
}

function transformed(value: string, link: Link, memo: RequestMemo): string[] {
  const v = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
  const key = link.multiMatch ? `${link.transformKey}+m` : link.transformKey;
  let byValue = memo.forms.get(key);
  if (!byValue) memo.forms.set(key, (byValue = new Map()));
  let forms = byValue.get(v);
  if (forms) return forms;
  let cur = v;
  forms = link.multiMatch ? [cur] : [];
  for (const t of link.transforms) {
    const next = t(cur);
    if (link.multiMatch && next !== cur) forms.push(next);
    cur = next;
  }
  if (!link.multiMatch) forms.push(cur);
  byValue.set(v, forms);
  return forms;
}

function keyMatches(name: string, key: string, keyRe?: RE2): boolean {
  return keyRe ? keyRe.test(name) : name.toLowerCase() === key;
}

/** The (name, value) members a target reads from the request. */
function collect(t: Target, req: CrsRequest, matched: Array<{ name: string; value: string }>, cap: string[], memo: RequestMemo): Array<{ name: string; value: string }> {
  let items: Array<{ name: string; value: string; member: string }>;
  const request = !t.collection.startsWith('MATCHED_') && t.collection !== 'TX';
  const known = request ? memo.items.get(t.collection) : undefined;
  if (known) items = known;
  else switch (t.collection) {
    case 'ARGS': items = req.args.map((a) => ({ name: `ARGS:${a.name}`, value: a.value, member: a.name })); break;
    case 'ARGS_GET': items = req.args.filter((a) => a.from === 'get').map((a) => ({ name: `ARGS_GET:${a.name}`, value: a.value, member: a.name })); break;
    case 'ARGS_POST': items = req.args.filter((a) => a.from === 'post').map((a) => ({ name: `ARGS_POST:${a.name}`, value: a.value, member: a.name })); break;
    case 'ARGS_NAMES': items = req.args.map((a) => ({ name: `ARGS_NAMES:${a.name}`, value: a.name, member: a.name })); break;
    case 'ARGS_GET_NAMES': items = req.args.filter((a) => a.from === 'get').map((a) => ({ name: `ARGS_GET_NAMES:${a.name}`, value: a.name, member: a.name })); break;
    case 'ARGS_POST_NAMES': items = req.args.filter((a) => a.from === 'post').map((a) => ({ name: `ARGS_POST_NAMES:${a.name}`, value: a.name, member: a.name })); break;
    case 'REQUEST_HEADERS': items = req.headers.map(([n, v]) => ({ name: `REQUEST_HEADERS:${n}`, value: v, member: n })); break;
    case 'REQUEST_HEADERS_NAMES': items = req.headers.map(([n]) => ({ name: `REQUEST_HEADERS_NAMES:${n}`, value: n, member: n })); break;
    case 'REQUEST_COOKIES': items = req.cookies.map(([n, v]) => ({ name: `REQUEST_COOKIES:${n}`, value: v, member: n })); break;
    case 'REQUEST_COOKIES_NAMES': items = req.cookies.map(([n]) => ({ name: `REQUEST_COOKIES_NAMES:${n}`, value: n, member: n })); break;
    case 'REQUEST_URI': case 'REQUEST_URI_RAW': items = [{ name: t.collection, value: req.uri, member: '' }]; break;
    case 'REQUEST_FILENAME': items = [{ name: t.collection, value: req.path, member: '' }]; break;
    case 'REQUEST_BASENAME': items = [{ name: t.collection, value: req.path.slice(req.path.lastIndexOf('/') + 1), member: '' }]; break;
    case 'QUERY_STRING': items = [{ name: t.collection, value: req.query, member: '' }]; break;
    case 'REQUEST_LINE': items = [{ name: t.collection, value: `${req.method} ${req.uri} ${req.protocol}`, member: '' }]; break;
    case 'REQUEST_METHOD': items = [{ name: t.collection, value: req.method, member: '' }]; break;
    case 'REQUEST_PROTOCOL': items = [{ name: t.collection, value: req.protocol, member: '' }]; break;
    case 'REQUEST_BODY': items = req.body ? [{ name: t.collection, value: req.body, member: '' }] : []; break;
    case 'MATCHED_VAR': items = matched.slice(-1).map((m) => ({ ...m, member: '' })); break;
    case 'MATCHED_VARS': items = matched.map((m) => ({ ...m, member: m.name })); break;
    case 'MATCHED_VAR_NAME': items = matched.slice(-1).map((m) => ({ name: 'MATCHED_VAR_NAME', value: m.name, member: '' })); break;
    case 'MATCHED_VARS_NAMES': items = matched.map((m) => ({ name: 'MATCHED_VARS_NAMES', value: m.name, member: m.name })); break;
    case 'TX': items = [{ name: `TX:${t.key}`, value: cap[Number(t.key)] ?? '', member: t.key }]; break;
    default: items = [];
  }
  if (request && !known) memo.items.set(t.collection, items);
  if (t.key && t.collection !== 'TX') items = items.filter((i) => keyMatches(i.member, t.key, t.keyRe));
  if (t.exclusions.length) items = items.filter((i) => !t.exclusions.some((x) => keyMatches(i.member, x.key, x.keyRe)));
  if (t.count) return [{ name: `&${t.collection}`, value: String(items.length) }];
  return items;
}

/**
 * One attack family's score from CRS's points and Vigil's own confidence for the same type (0 for
 * families Vigil has no detector for). CRS's confidence is 0.3 at the anomaly threshold and 0.6
 * (an alarm) at twice it: one critical rule on its own, which ordinary HTML and prose often
 * trigger (an HTML comment, a word like "exec"), is evidence, two are an alarm. The two sources
 * combine as independent evidence: 1 - (1 - own) (1 - crs).
 */
export function familyScore(points: number, own: number, threshold: number): number {
  const crs = Math.min(0.9, (0.3 * points) / threshold);
  return Math.round((1 - (1 - own) * (1 - crs)) * 100) / 100;
}
