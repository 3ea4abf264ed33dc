/**
 * A literal prefilter for the CRS engine's regular expressions, in the manner of RE2's own
 * prefilter and Google Code Search: for each pattern, a set of literal strings of which any
 * match must contain at least one. A value is then scanned once (Aho-Corasick over every
 * literal of a transformation group) and only the patterns whose literals occur in it are run.
 * Benign values contain few of CRS's literals (`<script`, `union`, `/etc/`, `;`...), so most
 * rules are skipped without running a regular expression.
 *
 * Soundness is what matters: a pattern that could match a value must never be skipped. So the
 * literals are compared case-folded (ASCII lowercase, which is a superset for case-sensitive
 * patterns too), anything the extractor does not understand makes the pattern run always, and
 * non-ASCII characters and wide character classes count as "any character".
 */

/** What a regular-expression node can match, as far as literals go. */
interface Info {
  /** The node matches exactly one of these (folded) strings; null when unknown or too many. */
  exact: Set<string> | null;
  /** When not exact: every match contains one of these literals; null means no requirement. */
  req: string[] | null;
}

const MAX_EXACT = 64;
/** Classes of at most this many characters are expanded into exact strings. */
const MAX_CLASS = 8;

const ANY: Info = { exact: null, req: null };
const EMPTY = (): Info => ({ exact: new Set(['']), req: null });

class Unsupported extends Error {}

/** Folds a value the way the literals are folded: ASCII lowercase; RE2's case folding also maps U+017F (ſ) to s and U+212A (K) to k. */
export function foldValue(v: string): string {
  const l = v.toLowerCase();
  return l.indexOf('\u017f') < 0 ? l : l.replace(/\u017f/g, 's');
}

function charInfo(code: number): Info {
  if (code >= 0x80) return ANY;
  return { exact: new Set([String.fromCharCode(code).toLowerCase()]), req: null };
}

function toReq(i: Info): string[] | null {
  if (i.exact) {
    for (const s of i.exact) if (s === '') return null;
    return [...i.exact];
  }
  return i.req;
}

/** How selective a requirement is: longer literals are rarer; punctuation is rarer than letters. */
function quality(req: string[] | null): number {
  if (!req || !req.length) return 0;
  let min = Infinity;
  for (const s of req) {
    let w = 0;
    for (let k = 0; k < s.length; k++) w += /[a-z0-9]/.test(s[k]) ? 1 : 2;
    min = Math.min(min, w);
  }
  // Fewer alternatives break ties: each one is a chance to match.
  return min - Math.log2(req.length) / 64;
}

function best(a: string[] | null, b: string[] | null): string[] | null {
  return quality(b) > quality(a) ? b : a;
}

/** Two exact nodes one after the other (the caller keeps the product small). */
function concat(a: Info, b: Info): Info {
  const out = new Set<string>();
  for (const x of a.exact!) for (const y of b.exact!) out.add(x + y);
  return { exact: out, req: null };
}

function alternate(branches: Info[]): Info {
  if (branches.every((b) => b.exact) && branches.reduce((n, b) => n + b.exact!.size, 0) <= MAX_EXACT) {
    const out = new Set<string>();
    for (const b of branches) for (const s of b.exact!) out.add(s);
    return { exact: out, req: null };
  }
  const req: string[] = [];
  for (const b of branches) {
    const r = toReq(b);
    if (!r) return ANY;
    req.push(...r);
  }
  return { exact: null, req: [...new Set(req)] };
}

function repeat(x: Info, min: number, max: number): Info {
  if (max === 0) return EMPTY();
  if (min === 0) {
    if (max === 1 && x.exact && x.exact.size < MAX_EXACT) return { exact: new Set(['', ...x.exact]), req: null };
    // Any number of copies: not a fixed string, so it ends the run of literals around it.
    return ANY;
  }
  if (min === 1 && max === 1) return x;
  return { exact: null, req: toReq(x) };
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, a: 7 };

/** Parses RE2 syntax just far enough to know its literals. */
class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Info {
    const info = this.alternation();
    if (this.i < this.s.length) throw new Unsupported(`unexpected ${this.s[this.i]} at ${this.i}`);
    return info;
  }

  private alternation(): Info {
    const branches = [this.sequence()];
    while (this.s[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0] : alternate(branches);
  }

  /**
   * A concatenation: runs of exact atoms are joined into longer literals (`union` + `\s+` +
   * `select` gives the runs `union` and `select`); the most selective run is the requirement.
   */
  private sequence(): Info {
    let run = EMPTY();
    let req: string[] | null = null;
    let exactSoFar = true;
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      const atom = this.quantifiers(this.atom());
      if (atom.exact && run.exact!.size * atom.exact.size <= MAX_EXACT) {
        run = concat(run, atom);
        continue;
      }
      exactSoFar = false;
      req = best(req, toReq(run));
      if (atom.exact) run = atom;
      else {
        req = best(req, toReq(atom));
        run = EMPTY();
      }
    }
    if (exactSoFar) return run;
    return { exact: null, req: best(req, toReq(run)) };
  }

  private quantifiers(atom: Info): Info {
    for (;;) {
      const c = this.s[this.i];
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        this.i++;
        [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      } else if (c === '{') {
        const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.s.slice(this.i, this.i + 24));
        if (!m) return atom; // a literal brace, read by atom() next time round
        this.i += m[0].length;
        min = Number(m[1]);
        max = m[2] ? (m[3] ? Number(m[3]) : Infinity) : min;
      } else return atom;
      if (this.s[this.i] === '?') this.i++; // lazy: same language
      atom = repeat(atom, min, max);
    }
  }

  private atom(): Info {
    const c = this.s[this.i];
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '.') {
      this.i++;
      return ANY;
    }
    if (c === '^' || c === '$') {
      this.i++;
      return EMPTY();
    }
    if (c === '\\') return this.escape();
    if (c === '*' || c === '+' || c === '?') throw new Unsupported(`quantifier without operand at ${this.i}`);
    const code = this.s.codePointAt(this.i)!;
    this.i += code > 0xffff ? 2 : 1;
    return charInfo(code);
  }

  private group(): Info {
    this.i++; // (
    if (this.s[this.i] === '?') {
      const m = /^\?(?:P?<[A-Za-z_]\w*>|([imsU-]*)(:|\)))/.exec(this.s.slice(this.i, this.i + 40));
      if (!m) throw new Unsupported(`group syntax at ${this.i}`);
      this.i += m[0].length;
      // (?flags): case folding is already applied to every literal; other flags do not change literals.
      if (m[2] === ')') return EMPTY();
    }
    const inner = this.alternation();
    if (this.s[this.i] !== ')') throw new Unsupported(`unclosed group at ${this.i}`);
    this.i++;
    return inner;
  }

  /** An escape outside a class: a character, an empty-width assertion, or a class (any). */
  private escape(): Info {
    const r = this.escapeCode(false);
    if (r === 'empty') return EMPTY();
    if (r === 'wide') return ANY;
    if (typeof r === 'object') {
      // \Q…\E: exact only when every character is ASCII.
      if (/[^\x00-\x7f]/.test(r.text)) return ANY;
      return { exact: new Set([r.text.toLowerCase()]), req: null };
    }
    return charInfo(r);
  }

  /** Reads an escape at `\`: a code point, 'wide' for a class escape, 'empty' for an assertion, or a \Q…\E string. */
  private escapeCode(inClass: boolean): number | 'wide' | 'empty' | { text: string } {
    this.i++; // backslash
    const c = this.s[this.i];
    if (c === undefined) throw new Unsupported('trailing backslash');
    this.i++;
    if ('dDwWsS'.includes(c)) return 'wide';
    if (c === 'p' || c === 'P') {
      if (this.s[this.i] === '{') {
        const end = this.s.indexOf('}', this.i);
        if (end < 0) throw new Unsupported('unclosed \\p{');
        this.i = end + 1;
      } else this.i++;
      return 'wide';
    }
    if (!inClass && 'bBAz'.includes(c)) return 'empty';
    if (c === 'C') return 'wide';
    if (c === 'Q' && !inClass) {
      // RE2 reads \Q…\E as literal text.
      const end = this.s.indexOf('\\E', this.i);
      const text = this.s.slice(this.i, end < 0 ? this.s.length : end);
      this.i = end < 0 ? this.s.length : end + 2;
      return { text };
    }
    if (c in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[c];
    if (c === 'x') {
      if (this.s[this.i] === '{') {
        const end = this.s.indexOf('}', this.i);
        if (end < 0) throw new Unsupported('unclosed \\x{');
        const code = parseInt(this.s.slice(this.i + 1, end), 16);
        this.i = end + 1;
        if (!Number.isFinite(code)) throw new Unsupported('bad \\x{}');
        return code;
      }
      const hex = this.s.slice(this.i, this.i + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Unsupported('bad \\x');
      this.i += 2;
      return parseInt(hex, 16);
    }
    if (/[0-7]/.test(c)) {
      let j = this.i;
      while (j < this.i + 2 && /[0-7]/.test(this.s[j] ?? '')) j++;
      const code = parseInt(c + this.s.slice(this.i, j), 8);
      this.i = j;
      return code;
    }
    if (/[A-Za-z0-9]/.test(c)) throw new Unsupported(`escape \\${c}`);
    return c.codePointAt(0)!;
  }

  /** A bracket class: its characters when few and ASCII, else any. */
  private charClass(): Info {
    this.i++; // [
    let negated = false;
    if (this.s[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const chars = new Set<string>();
    let wide = false;
    let first = true;
    while (this.i < this.s.length && (this.s[this.i] !== ']' || first)) {
      first = false;
      if (this.s.startsWith('[:', this.i)) {
        const end = this.s.indexOf(':]', this.i + 2);
        if (end < 0) throw new Unsupported('unclosed [:class:]');
        this.i = end + 2;
        wide = true;
        continue;
      }
      const lo = this.classChar();
      if (this.s[this.i] === '-' && this.s[this.i + 1] !== ']' && this.i + 1 < this.s.length) {
        this.i++;
        const hi = this.classChar();
        if (typeof lo !== 'number' || typeof hi !== 'number') throw new Unsupported('class range with a class escape');
        if (hi - lo >= MAX_CLASS || hi >= 0x80) wide = true;
        else for (let k = lo; k <= hi; k++) chars.add(String.fromCharCode(k).toLowerCase());
        continue;
      }
      if (lo === 'wide') wide = true;
      else if (typeof lo === 'number') {
        if (lo >= 0x80) wide = true;
        else chars.add(String.fromCharCode(lo).toLowerCase());
      }
    }
    if (this.s[this.i] !== ']') throw new Unsupported('unclosed class');
    this.i++;
    if (negated || wide || chars.size > MAX_CLASS || chars.size === 0) return ANY;
    return { exact: chars, req: null };
  }

  private classChar(): number | 'wide' {
    if (this.s[this.i] === '\\') {
      const r = this.escapeCode(true);
      if (r === 'empty' || typeof r === 'object') throw new Unsupported('assertion in a class');
      return r;
    }
    const code = this.s.codePointAt(this.i)!;
    this.i += code > 0xffff ? 2 : 1;
    return code;
  }
}

/**
 * The literals one of which every match of `source` contains, folded; null when the pattern
 * has no usable requirement (it may match without any literal, or the syntax is not understood).
 */
export function requiredLiterals(source: string): string[] | null {
  let info: Info;
  try {
    info = new Parser(source).parse();
  } catch (e) {
    if (e instanceof Unsupported) return null; // run it always
    throw e;
  }
  const req = toReq(info);
  return req && req.length && req.every((s) => s.length > 0) ? req : null;
}

/**
 * Aho-Corasick over the literals of a group of patterns: one pass over a folded value finds every
 * pattern one of whose literals occurs in it.
 */
export class LiteralPrefilter {
  private readonly next: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Patterns (by position in `members`) whose literal ends at this state, fail chain included. */
  private readonly out: number[][] = [[]];
  /** Patterns without a requirement: always candidates. */
  private readonly always: number[] = [];
  private readonly runAlways: Uint8Array;
  private readonly stamp: Uint32Array;
  private generation = 0;
  private readonly filtered: number;

  /** `literals[k]` for member k: its required literals, or null to run it always. */
  constructor(literals: Array<string[] | null>) {
    this.stamp = new Uint32Array(literals.length);
    this.runAlways = new Uint8Array(literals.length);
    let filtered = 0;
    literals.forEach((lits, member) => {
      if (!lits) {
        this.always.push(member);
        this.runAlways[member] = 1;
        return;
      }
      filtered++;
      for (const lit of lits) this.insert(lit, member);
    });
    this.filtered = filtered;
    this.link();
  }

  private insert(lit: string, member: number): void {
    let s = 0;
    for (let k = 0; k < lit.length; k++) {
      const c = lit.charCodeAt(k);
      let t = this.next[s].get(c);
      if (t === undefined) {
        t = this.next.length;
        this.next.push(new Map());
        this.fail.push(0);
        this.out.push([]);
        this.next[s].set(c, t);
      }
      s = t;
    }
    if (!this.out[s].includes(member)) this.out[s].push(member);
  }

  private link(): void {
    const queue: number[] = [];
    for (const t of this.next[0].values()) queue.push(t);
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q];
      for (const [c, t] of this.next[s]) {
        let f = this.fail[s];
        while (f !== 0 && !this.next[f].has(c)) f = this.fail[f];
        const g = this.next[f].get(c);
        this.fail[t] = g !== undefined && g !== t ? g : 0;
        for (const m of this.out[this.fail[t]]) if (!this.out[t].includes(m)) this.out[t].push(m);
        queue.push(t);
      }
    }
  }

  /** Members that may match `folded` (a value passed through foldValue), in ascending order. */
  candidates(folded: string): number[] {
    const found = this.hits(folded);
    found.push(...this.always);
    return found.length > 1 ? found.sort((a, b) => a - b) : found;
  }

  /** Members without a requirement, which every value may match. */
  isUnfiltered(member: number): boolean {
    return this.runAlways[member] === 1;
  }

  /** Members with a literal in `folded`, in the order found (the unfiltered ones not included). */
  hits(folded: string): number[] {
    if (++this.generation === 0xffffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    const found: number[] = [];
    let remaining = this.filtered;
    let s = 0;
    for (let k = 0; k < folded.length && remaining > 0; k++) {
      const c = folded.charCodeAt(k);
      let t = this.next[s].get(c);
      while (t === undefined && s !== 0) {
        s = this.fail[s];
        t = this.next[s].get(c);
      }
      s = t ?? 0;
      const o = this.out[s];
      for (let j = 0; j < o.length; j++) {
        const m = o[j];
        if (this.stamp[m] !== this.generation) {
          this.stamp[m] = this.generation;
          found.push(m);
          remaining--;
        }
      }
    }
    return found;
  }

  /** Patterns that always run (no literal requirement), for the load report. */
  get unfiltered(): number {
    return this.always.length;
  }
}
