/**
 * Alertmanager label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.
 *
 * As in Alertmanager, regexes are anchored at both ends (`^(?:re)$`) and a label that is absent
 * matches as the empty string, so `team!~".+"` selects alerts with no team label.
 *
 * JavaScript regexes backtrack, unlike Go's RE2, so a pattern such as `(a+)+$` could take exponential
 * time on a hostile label value. Matchers come from config and from the silences API, so patterns
 * with a repeated group that itself repeats or alternates are refused, as are patterns with more
 * than two unbounded repetitions (`.*a.*b.*c` is cubic on a long value); patterns are
 * bounded in length. Everything a routing or silence regex normally needs (alternation, classes,
 * a few `.*`) works.
 */
import { Labels, labelValue } from './labels';

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
  /** Compiled, anchored regex for =~ and !~. */
  re?: RegExp;
}

/** The JSON shape of Alertmanager's API v2 (silences): isEqual false means != or !~. */
export interface ApiMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

const MAX_PATTERN = 1024;
const NAME = /^[^\s{}!=~,"'`]+$/u;

/** Throws when the pattern is too long, not a valid regex, or could backtrack catastrophically. */
export function compileAnchored(pattern: string): RegExp {
  if (pattern.length > MAX_PATTERN) throw new Error(`regex longer than ${MAX_PATTERN} characters`);
  checkBacktracking(pattern);
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch (e) {
    throw new Error(`invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/**
 * Refuses a quantified group whose body repeats (`(a+)*`) or alternates (`(a|ab)+`), and
 * backreferences: the shapes that make a backtracking engine exponential.
 */
const MAX_UNBOUNDED = 2;

function checkBacktracking(p: string): void {
  const stack: Array<{ risky: boolean }> = [];
  let inClass = false;
  let unbounded = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      if (/[1-9k]/.test(p[i + 1] ?? '')) throw new Error('backreferences are not supported');
      i++;
      continue;
    }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') { inClass = true; continue; }
    if (c === '(') {
      if (p.startsWith('(?=', i) || p.startsWith('(?!', i) || p.startsWith('(?<=', i) || p.startsWith('(?<!', i)) {
        throw new Error('lookaround assertions are not supported');
      }
      stack.push({ risky: false });
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || c === '{';
    if ((c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(p.slice(i)))) && ++unbounded > MAX_UNBOUNDED) {
      throw new Error(`regex ${JSON.stringify(p)} has more than ${MAX_UNBOUNDED} unbounded repetitions (*, +, {n,}), which can backtrack for a long time; simplify it`);
    }
    if (c === '|' && stack.length) stack[stack.length - 1].risky = true;
    if (quantifier && c !== '?' && stack.length) stack[stack.length - 1].risky = true;
    if (c === ')') {
      const g = stack.pop();
      const next = p[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}|^\{\d+\}/.test(p.slice(i + 1)) && !/^\{[01]\}|^\{0,1\}/.test(p.slice(i + 1)));
      if (g?.risky && repeated) {
        throw new Error(`regex ${JSON.stringify(p)} repeats a group that itself repeats or alternates (catastrophic backtracking); rewrite it without nesting`);
      }
      // A repeated group makes its enclosing group risky too.
      if (repeated && stack.length) stack[stack.length - 1].risky = true;
      if (g?.risky && stack.length) stack[stack.length - 1].risky = true;
    }
  }
}

export function newMatcher(name: string, type: MatchType, value: string): Matcher {
  if (!name || !NAME.test(name)) throw new Error(`invalid label name ${JSON.stringify(name)}`);
  const m: Matcher = { name, type, value };
  if (type === '=~' || type === '!~') m.re = compileAnchored(value);
  return m;
}

const MATCHER_RE = /^\s*([^\s{}!=~,"'`]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/su;

/** Parses one matcher in Alertmanager's syntax; the value may be double-quoted (with escapes) or bare. */
export function parseMatcher(s: string): Matcher {
  const m = MATCHER_RE.exec(s);
  if (!m) throw new Error(`invalid matcher ${JSON.stringify(s)}: expected name="value", name!="value", name=~"regex" or name!~"regex"`);
  let value = m[3];
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2) throw new Error(`invalid matcher ${JSON.stringify(s)}: unterminated quoted value`);
    // Only \" and \\ are escapes; other backslashes stay, so regexes such as "\d+" need no doubling.
    value = value.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  return newMatcher(m[1], m[2] as MatchType, value);
}

/** Parses a list of matchers; one string may hold several in braces: `{a="1", b=~"x|y"}`. */
export function parseMatchers(list: readonly string[]): Matcher[] {
  const out: Matcher[] = [];
  for (const item of list) {
    const s = item.trim();
    if (s.startsWith('{') && s.endsWith('}')) out.push(...splitMatchers(s.slice(1, -1)).map(parseMatcher));
    else out.push(parseMatcher(s));
  }
  return out;
}

/** Splits on commas outside double quotes. */
function splitMatchers(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\') { cur += c + (s[i + 1] ?? ''); i++; continue; }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) { if (cur.trim()) parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim()) parts.push(cur);
  return parts;
}

export function matches(m: Matcher, labels: Labels): boolean {
  const v = labelValue(labels, m.name);
  switch (m.type) {
    case '=': return v === m.value;
    case '!=': return v !== m.value;
    case '=~': return m.re!.test(v);
    case '!~': return !m.re!.test(v);
  }
}

export function matchesAll(ms: readonly Matcher[], labels: Labels): boolean {
  for (const m of ms) if (!matches(m, labels)) return false;
  return true;
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}

export function toApiMatcher(m: Matcher): ApiMatcher {
  return { name: m.name, value: m.value, isRegex: m.type === '=~' || m.type === '!~', isEqual: m.type === '=' || m.type === '=~' };
}

export function fromApiMatcher(a: ApiMatcher): Matcher {
  if (typeof a !== 'object' || a === null || typeof a.name !== 'string' || typeof a.value !== 'string') {
    throw new Error('a matcher is {"name": string, "value": string, "isRegex": boolean, "isEqual": boolean}');
  }
  const eq = a.isEqual !== false;
  const type: MatchType = a.isRegex ? (eq ? '=~' : '!~') : (eq ? '=' : '!=');
  return newMatcher(a.name, type, a.value);
}
