/**
 * A SQL lexer for untrusted fragments, in the spirit of libinjection: it does not parse SQL, it
 * reads a value the way a database would if the value were pasted into a query, and reduces it to
 * a short sequence of token classes that the classifier reasons about.
 *
 * Token classes:
 *   s string   1 number/literal   v variable (@x, @@x)   n name   f function name (followed by "(")
 *   k keyword  E statement (SELECT, DROP ...)   U set operator (UNION ...)   B clause (ORDER BY ...)
 *   & logic operator   o operator   ( ) , ; .   c comment   X anything else
 *
 * One forward scan; string and comment bodies are skipped with indexOf, so the cost is linear in
 * the input, and at most `maxTokens` tokens are produced.
 */
export type SqlClass = 's' | '1' | 'v' | 'n' | 'f' | 'k' | 'E' | 'U' | 'B' | '&' | 'o' | '(' | ')' | ',' | ';' | '.' | 'c' | 'X';

export interface SqlToken {
  t: SqlClass;
  /** Lowercased text for words and operators (capped), '' otherwise. */
  v: string;
  /** A string whose closing quote is missing (the query's own quote would close it). */
  open?: boolean;
  /** Strings: the quote character. Comments: true when a word follows the marker at once ("#2", "--kids"). */
  q?: number;
  glued?: boolean;
  /** Comments: text follows the marker ("# blah"). */
  body?: boolean;
}

const WORDS: Record<string, SqlClass> = Object.assign(Object.create(null) as Record<string, SqlClass>, {
  union: 'U', intersect: 'U', except: 'U',
  select: 'E', insert: 'E', update: 'E', delete: 'E', drop: 'E', create: 'E', alter: 'E', truncate: 'E',
  exec: 'E', execute: 'E', declare: 'E', shutdown: 'E', waitfor: 'E', grant: 'E', revoke: 'E', handler: 'E',
  call: 'E', load: 'E', do: 'E',
  and: '&', or: '&', xor: '&',
  like: 'o', rlike: 'o', regexp: 'o', not: 'o', is: 'o', in: 'o', between: 'o', div: 'o', mod: 'o',
  sounds: 'o', glob: 'o', collate: 'o', escape: 'o', exists: 'o',
  group: 'B', order: 'B', having: 'B', limit: 'B', offset: 'B', procedure: 'B',
  from: 'k', where: 'k', as: 'k', by: 'k', all: 'k', distinct: 'k', top: 'k', values: 'k', table: 'k',
  join: 'k', on: 'k', case: 'k', when: 'k', then: 'k', else: 'k', end: 'k', set: 'k', into: 'k',
  delay: 'k', outfile: 'k', dumpfile: 'k', if: 'k', begin: 'k', using: 'k', database: 'k', ascii: 'k',
  null: '1', true: '1', false: '1', current_user: 'v', session_user: 'v', system_user: 'v',
  current_date: 'v', current_time: 'v', current_timestamp: 'v', localtime: 'v', sysdate: 'v',
});

/** Classes a word keeps even when "(" follows (SELECT(1), UNION(SELECT ...), AND(1=1) ...). */
const NOT_FUNCTION = new Set<SqlClass>(['E', 'U', '&', 'o', 'B']);
const FUNCTION_KEYWORDS = new Set(['if', 'database', 'ascii', 'values', 'exists']);

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || (c >= 0x80 && c !== 0xa0 && c !== 0xfffd);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  // U+FFFD: a byte that is not UTF-8 (%A0, %C0 ...) between keywords acts as a separator in
  // several databases' lexers.
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0 || c === 0xfffd;
}

const MAX_WORD = 40;

/**
 * Tokens of `s` read as if it followed an opening `quote` (39 ', 34 ") or as bare SQL (0). Returns
 * null in a quote context when the value never closes the quote: then it cannot break out of it.
 */
export function tokenizeSql(s: string, quote: 0 | 34 | 39, maxTokens = 128): SqlToken[] | null {
  const out: SqlToken[] = [];
  const n = s.length;
  let i = 0;
  if (quote !== 0) {
    const end = findStringEnd(s, 0, quote);
    if (end < 0) return null;
    out.push({ t: 's', v: '' });
    i = end + 1;
  }
  // Inside a MySQL executable comment (/*! ... */) the text is code; its closing */ is skipped.
  let inExecComment = false;
  while (i < n && out.length < maxTokens) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Strings, with their prefixes (N'..', X'..', B'..', E'..', _charset'..').
    if (c === 39 || c === 34) {
      const end = findStringEnd(s, i + 1, c);
      if (end < 0) {
        out.push({ t: 's', v: '', open: true, q: c });
        i = n;
      } else {
        // MySQL concatenates adjacent strings: 'a' 'b' is one literal.
        const prev = out[out.length - 1];
        if (!prev || prev.t !== 's' || prev.open) out.push({ t: 's', v: '', q: c });
        i = end + 1;
      }
      continue;
    }
    if (c === 96 /* ` */) {
      const end = s.indexOf('`', i + 1);
      out.push({ t: 'n', v: '`' });
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === 91 /* [ */) {
      const end = s.slice(i + 1, i + 130).indexOf(']') + i + 1;
      const prev = out[out.length - 1];
      if (end > i && prev && (prev.t === 'n' || prev.t === ')') && !isSpace(s.charCodeAt(i - 1))) {
        // A subscript (array[id], (expr)[1], PostgreSQL arrays): part of the value before it.
        i = end + 1;
        continue;
      }
      if (end > i) {
        out.push({ t: 'n', v: '[' });
        i = end + 1;
        continue;
      }
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      const j = readNumber(s, i);
      if (j < n && isWordChar(s.charCodeAt(j)) && (s.charCodeAt(j) | 32) !== 101 /* 1e1 read as a number */) {
        // MySQL names may start with digits ("9wytc", "1108_no"); but "1union", "1and" are a
        // number glued to a keyword, a classic filter evasion.
        let k = j;
        while (k < n && isWordChar(s.charCodeAt(k))) k++;
        // Oracle's 1f / 1d literal suffixes: 1dunion is 1d then UNION.
        const suffix = (s.charCodeAt(j) | 32) === 102 || (s.charCodeAt(j) | 32) === 100 ? 1 : 0;
        let cls = WORDS[s.slice(j, k).toLowerCase()];
        if (cls === undefined && suffix) cls = WORDS[s.slice(j + 1, k).toLowerCase()];
        else if (suffix) cls = cls ?? undefined;
        if (cls === 'U' || cls === '&' || cls === 'B' || cls === 'E' || cls === 'k') {
          out.push({ t: '1', v: '' });
          i = WORDS[s.slice(j, k).toLowerCase()] !== undefined ? j : j + 1;
        } else {
          out.push({ t: 'n', v: s.slice(i, Math.min(k, i + MAX_WORD)).toLowerCase() });
          i = k;
        }
        continue;
      }
      i = j;
      out.push({ t: '1', v: '' });
      continue;
    }
    if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(s.charCodeAt(j))) j++;
      // Dotted names (schema.table, master..sysdatabases), unless the first part is a keyword:
      // SELECT.`x` is SELECT then a name.
      const firstClass = s.charCodeAt(j) === 46 ? WORDS[s.slice(i, j).toLowerCase()] : undefined;
      if (s.charCodeAt(j) === 46 && (firstClass === undefined || firstClass === 'k')) {
        while (j < n && (isWordChar(s.charCodeAt(j)) || (s.charCodeAt(j) === 46 && j + 1 < n && (isWordChar(s.charCodeAt(j + 1)) || s.charCodeAt(j + 1) === 96 || s.charCodeAt(j + 1) === 46)))) j++;
      }
      // A prefixed string literal: N'x', X'0a', B'01', E'x', U&'x', _utf8'x'.
      const q = s.charCodeAt(j);
      if ((q === 39 || q === 34) && j - i <= 8 && (j - i === 1 || c === 95)) {
        const end = findStringEnd(s, j + 1, q);
        out.push(end < 0 ? { t: 's', v: '', open: true } : { t: 's', v: '' });
        i = end < 0 ? n : end + 1;
        continue;
      }
      if (q === 38 /* & */ && j - i === 1 && (c | 32) === 117 && s.charCodeAt(j + 1) === 39) {
        const end = findStringEnd(s, j + 2, 39);
        out.push(end < 0 ? { t: 's', v: '', open: true } : { t: 's', v: '' });
        i = end < 0 ? n : end + 1;
        continue;
      }
      const word = s.slice(i, Math.min(j, i + MAX_WORD)).toLowerCase();
      i = j;
      let t: SqlClass = WORDS[word] ?? 'n';
      if (!NOT_FUNCTION.has(t) && (t !== 'k' || FUNCTION_KEYWORDS.has(word)) && nextNonSpace(s, i) === 40) t = 'f';
      out.push({ t, v: word });
      continue;
    }
    if (c === 64 /* @ */ && s.charCodeAt(i + 1) === 62 /* > */) {
      out.push({ t: 'o', v: '@>' });
      i += 2;
      continue;
    }
    if (c === 64 /* @ */) {
      let j = i + 1;
      if (s.charCodeAt(j) === 64) j++;
      const q = s.charCodeAt(j);
      if (q === 39 || q === 34 || q === 96) {
        const end = findStringEnd(s, j + 1, q);
        j = end < 0 ? n : end + 1;
      } else {
        while (j < n && (isWordChar(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++;
      }
      // '@@x' is a server variable (only SQL has it), and so are '@1', '@"x"'; '@name' is also how
      // people mention each other ('@' then a letter).
      const mention = ((s.charCodeAt(i + 1) | 32) >= 97 && (s.charCodeAt(i + 1) | 32) <= 122);
      out.push({ t: 'v', v: mention ? '@' : '@@' });
      i = j;
      continue;
    }
    if (c === 45 /* - */ && s.charCodeAt(i + 1) === 45) {
      const end = lineEnd(s, i);
      out.push({ t: 'c', v: '--', glued: isWordChar(s.charCodeAt(i + 2)) });
      i = end;
      continue;
    }
    if (c === 35 /* # */) {
      const end = lineEnd(s, i);
      out.push({ t: 'c', v: '#', glued: isWordChar(s.charCodeAt(i + 1)), body: s.slice(i + 1, Math.min(end, i + 64)).trim() !== '' });
      i = end;
      continue;
    }
    if (c === 47 /* / */ && s.charCodeAt(i + 1) === 42 /* * */) {
      if (s.charCodeAt(i + 2) === 33 /* ! */) {
        // MySQL runs the body of /*!50000 ... */ as SQL: read it as code.
        let j = i + 3;
        while (j < i + 8 && isDigit(s.charCodeAt(j))) j++;
        inExecComment = true;
        out.push({ t: 'c', v: '/*!' });
        i = j;
        continue;
      }
      const end = s.indexOf('*/', i + 2);
      // /*+ ... */ is an optimizer hint (Oracle, MySQL 8): SQL syntax, not a remark.
      out.push({ t: 'c', v: s.charCodeAt(i + 2) === 43 ? '/*+' : '/*' });
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === 42 /* * */ && s.charCodeAt(i + 1) === 47 && inExecComment) {
      inExecComment = false;
      i += 2;
      continue;
    }
    switch (c) {
      case 40: out.push({ t: '(', v: '' }); i++; continue;
      case 41: out.push({ t: ')', v: '' }); i++; continue;
      case 44: out.push({ t: ',', v: '' }); i++; continue;
      case 59: out.push({ t: ';', v: '' }); i++; continue;
      case 46: out.push({ t: '.', v: '' }); i++; continue;
      case 92: // \N is MySQL's NULL
        if (s.charCodeAt(i + 1) === 78) {
          out.push({ t: '1', v: '' });
          i += 2;
          continue;
        }
        break;
      case 123: // ODBC escapes {fn ...}, {d '...'}: transparent
      case 125: i++; continue;
    }
    // <code>, </b>: markup in text, not two comparisons around a word.
    if (c === 60 /* < */) {
      let j = i + 1;
      if (s.charCodeAt(j) === 47) j++;
      const nameStart = j;
      while (j < n && j - nameStart < 16 && ((s.charCodeAt(j) | 32) >= 97 && (s.charCodeAt(j) | 32) <= 122)) j++;
      if (j > nameStart && s.charCodeAt(j) === 62 /* > */) {
        i = j + 1;
        continue;
      }
    }
    const op = readOperator(s, i);
    if (op > 0) {
      const text = s.slice(i, i + op);
      out.push({ t: text === '&&' || text === '||' ? '&' : 'o', v: text });
      i += op;
      continue;
    }
    out.push({ t: 'X', v: s[i] });
    i++;
  }
  return out;
}

/** Index of the quote closing a string whose body starts at `from`, or -1. Handles '' and \'. */
function findStringEnd(s: string, from: number, quote: number): number {
  let i = from;
  const q = String.fromCharCode(quote);
  for (;;) {
    const end = s.indexOf(q, i);
    if (end < 0) return -1;
    // Count the backslashes just before: an odd number escapes the quote (MySQL).
    let bs = 0;
    for (let k = end - 1; k >= from && s.charCodeAt(k) === 92; k--) bs++;
    if (bs % 2 === 1) {
      i = end + 1;
      continue;
    }
    if (s.charCodeAt(end + 1) === quote) {
      i = end + 2;
      continue;
    }
    return end;
  }
}

function lineEnd(s: string, from: number): number {
  const a = s.indexOf('\n', from);
  return a < 0 ? s.length : a + 1;
}

function nextNonSpace(s: string, from: number): number {
  let i = from;
  for (;;) {
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    // A comment between a function name and "(" still makes a call: sleep/**/(5).
    if (s.charCodeAt(i) === 47 && s.charCodeAt(i + 1) === 42) {
      const end = s.indexOf('*/', i + 2);
      if (end > 0) {
        i = end + 2;
        continue;
      }
    }
    return s.charCodeAt(i);
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
}

function readNumber(s: string, i: number): number {
  const n = s.length;
  if (s.charCodeAt(i) === 48 && ((s.charCodeAt(i + 1) | 32) === 120 || (s.charCodeAt(i + 1) | 32) === 98)) {
    const bin = (s.charCodeAt(i + 1) | 32) === 98;
    let j = i + 2;
    while (j < n && (bin ? s.charCodeAt(j) === 48 || s.charCodeAt(j) === 49 : isHexDigit(s.charCodeAt(j)))) j++;
    return j;
  }
  let j = i;
  while (j < n && isDigit(s.charCodeAt(j))) j++;
  if (s.charCodeAt(j) === 46) {
    j++;
    while (j < n && isDigit(s.charCodeAt(j))) j++;
  }
  if ((s.charCodeAt(j) | 32) === 101) {
    let k = j + 1;
    if (s.charCodeAt(k) === 43 || s.charCodeAt(k) === 45) k++;
    if (isDigit(s.charCodeAt(k))) {
      j = k;
      while (j < n && isDigit(s.charCodeAt(j))) j++;
    }
  }
  return j;
}

// PostgreSQL's JSON and array operators (<@, ->>, ?|, ?&; @> is read with variables) are comparisons and accessors too.
const OPS3 = new Set(['<=>', '!<>', '->>']);
const OPS2 = new Set(['<=', '>=', '<>', '!=', '||', '&&', '<<', '>>', ':=', '::', '!<', '!>', '^=', '|=', '&=', '+=', '-=', '*=', '/=', '%=',
  '<@', '->', '?|', '?&', '&<', '&>']);
const OPS1 = '=<>!|&^~+-*/%:?\\';

function readOperator(s: string, i: number): number {
  if (OPS3.has(s.slice(i, i + 3))) return 3;
  if (OPS2.has(s.slice(i, i + 2))) return 2;
  return OPS1.indexOf(s[i]) >= 0 ? 1 : 0;
}
