/**
 * Script reached without a tag: a value that lands inside a JavaScript context (an inline script,
 * an event handler, a template) needs no `<script>`. Payloads then hide the sink's name from
 * filters that look for `alert(`: a tagged template (`` [].sort.call`${alert}1337` ``), a computed
 * member (`window["alert"](...)`, `top['al'+'ert']`), a function passed by reference.
 *
 * The value is split into JavaScript-like tokens (names, string literals, punctuation) and the
 * sinks are looked for where only code puts them. Prose that names a sink ("set an alert") has no
 * such structure. One forward scan over a bounded prefix; no regular expressions.
 */
import type { XssFinding } from './xss';

/** Functions and properties that run code or reach the page's secrets. */
const SINKS = new Set([
  'alert', 'prompt', 'confirm', 'eval', 'settimeout', 'setinterval', 'execscript', 'function', 'fromcharcode', 'atob',
  'write', 'writeln', 'cookie', 'domain', 'constructor', 'innerhtml', 'outerhtml', 'srcdoc', 'import', 'fetch',
]);

type Tok = { k: 'id' | 'str' | 'p'; v: string };

const MAX_SCAN = 4096;
const MAX_TOKENS = 512;

function isIdChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
}

function tokens(s: string): Tok[] {
  const out: Tok[] = [];
  const n = Math.min(s.length, MAX_SCAN);
  let i = 0;
  while (i < n && out.length < MAX_TOKENS) {
    const c = s.charCodeAt(i);
    if (c === 36 /* $ */ && s.charCodeAt(i + 1) === 123 /* { */) {
      out.push({ k: 'p', v: '${' });
      i += 2;
    } else if (isIdChar(c)) {
      let j = i + 1;
      while (j < n && isIdChar(s.charCodeAt(j))) j++;
      out.push({ k: 'id', v: s.slice(i, Math.min(j, i + 32)).toLowerCase() });
      i = j;
    } else if (c === 34 || c === 39) {
      // A string literal; an unclosed one runs to the end (it may be the app's own string).
      let j = i + 1;
      while (j < n && s.charCodeAt(j) !== c) j += s.charCodeAt(j) === 92 ? 2 : 1;
      out.push({ k: 'str', v: s.slice(i + 1, Math.min(j, i + 33)).toLowerCase() });
      i = j + 1;
    } else if (c <= 32) {
      i++;
    } else {
      out.push({ k: 'p', v: s[i] });
      i++;
    }
  }
  return out;
}

const isP = (t: Tok | undefined, v: string): boolean => t !== undefined && t.k === 'p' && t.v === v;
/** A call or a tagged template: what makes a reference run. */
const invokes = (t: Tok | undefined): boolean => isP(t, '(') || isP(t, '`');

/**
 * A computed member `[ "al" + "ert" ]` starting at toks[i] ("["): the name it builds (string
 * literals joined by +) and the index after "]", or undefined.
 */
function computedName(toks: Tok[], i: number): { name: string; end: number; joined: boolean } | undefined {
  let name = '';
  let k = i + 1;
  let joined = false;
  for (let parts = 0; parts < 8; parts++) {
    const t = toks[k];
    if (!t || t.k !== 'str') return undefined;
    name += t.v;
    k++;
    if (isP(toks[k], '+')) {
      joined = true;
      k++;
      continue;
    }
    break;
  }
  return isP(toks[k], ']') ? { name, end: k + 1, joined } : undefined;
}

export function scoreJsCode(value: string): XssFinding {
  const toks = tokens(value);
  let score = 0;
  let reason = '';
  const hit = (s: number, why: string): void => {
    if (s > score) {
      score = s;
      reason = why;
    }
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.k === 'p' && t.v === '[') {
      const c = computedName(toks, i);
      if (!c || !SINKS.has(c.name)) continue;
      // window["alert"](…), top['al'+'ert']`1`, document["cookie"]
      if (invokes(toks[c.end])) hit(c.joined ? 0.9 : 0.85, `computed call ${c.name}`);
      else if (i > 0 && toks[i - 1].k === 'id') hit(c.joined ? 0.8 : 0.7, `computed member ${c.name}`);
      continue;
    }
    if (t.k !== 'id' || !SINKS.has(t.v)) continue;
    const prev = toks[i - 1];
    const next = toks[i + 1];
    if (isP(prev, '${') && isP(next, '}')) hit(0.8, `${t.v} in template substitution`);
    else if (isP(next, '`')) hit(0.8, `tagged template ${t.v}`);
    else if (isP(prev, '.') && (isP(next, ')') || isP(next, ',')) && i > 1 && toks[i - 2].k === 'id') hit(0.6, `reference ${t.v}`);
    // .call / .apply / .bind with a sink handed over by reference: [].map.call(x, alert)
    else if ((isP(prev, ',') || isP(prev, '(')) && isP(next, ')') && i > 2 && calledVia(toks, i)) hit(0.75, `${t.v} passed by reference`);
  }
  return { score, reason, context: score ? 'script' : '' };
}

/** Is the argument list containing toks[i] that of .call/.apply/.bind or a timer (code shapes)? */
function calledVia(toks: Tok[], i: number): boolean {
  for (let k = i - 1; k >= 0 && k >= i - 12; k--) {
    if (isP(toks[k], '(')) {
      const fn = toks[k - 1];
      return fn !== undefined && fn.k === 'id' && (fn.v === 'call' || fn.v === 'apply' || fn.v === 'bind' || fn.v === 'settimeout' || fn.v === 'setinterval' || fn.v === 'map' || fn.v === 'foreach' || fn.v === 'then');
    }
  }
  return false;
}
