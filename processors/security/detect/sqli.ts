/**
 * SQL-injection classifier. The value is read three ways, as the three places it can land in a
 * query: bare (a numeric parameter, `WHERE id = <v>`), inside '...' and inside "...". In each
 * reading the lexer's token classes are folded (comments, unary signs, ORDER BY ...), and the
 * classifier asks whether what follows the injection point forms SQL that changes the query: a
 * UNION SELECT, a stacked statement, a boolean or arithmetic expression with calls or comparisons,
 * a clause (ORDER BY, INTO OUTFILE), or a comment cutting the rest of the query off. Plain words
 * joined by "and"/"or", numbers with dashes and apostrophes in names read as invalid or trivial
 * SQL and score low, which is what keeps ordinary text out.
 *
 * The score is a confidence in [0, 1]; `SQLI_THRESHOLD` is the default decision point.
 */
import { SqlClass, SqlToken, tokenizeSql } from './sqltokens';

export const SQLI_THRESHOLD = 0.5;

export interface InjectionFinding {
  score: number;
  /** Which rule fired, for the evidence attribute. */
  reason: string;
  /** Folded token classes of the reading that fired (like libinjection's fingerprints). */
  fingerprint: string;
  context: 'bare' | 'single-quote' | 'double-quote';
}

/** Calls that only make sense in an attack: delays, file access, error-based extraction, OS access. */
const DANGEROUS_FUNCTIONS = new Set([
  'sleep', 'benchmark', 'pg_sleep', 'load_file', 'extractvalue', 'updatexml', 'xp_cmdshell', 'sys_eval',
  'sys_exec', 'dbms_pipe.receive_message', 'utl_inaddr.get_host_address', 'utl_http.request', 'dbms_lock.sleep',
  'randomblob', 'pg_read_file', 'lo_import', 'xp_dirtree', 'xp_regread', 'geometrycollection', 'multipoint',
  'polygon', 'exp', 'name_const', 'get_lock', 'sp_executesql', 'openrowset', 'opendatasource', 'dbms_xmlgen.getxml',
  'ctxsys.drithsx.sn', 'make_set', 'elt', 'pg_sleep_for', 'dbms_lock', 'receive_message',
]);

/** Calls typical of data extraction; weaker than the above on their own. */
const EXTRACTION_FUNCTIONS = new Set([
  'version', 'user', 'database', 'schema', 'concat', 'concat_ws', 'group_concat', 'char', 'chr', 'ascii',
  'substring', 'substr', 'mid', 'hex', 'unhex', 'cast', 'convert', 'count', 'length', 'ord', 'if', 'iif',
  'ifnull', 'isnull', 'nullif', 'coalesce', 'floor', 'rand', 'md5', 'sha1', 'current_user', 'system_user',
  'db_name', 'user_name', 'host_name', 'suser_sname', 'is_srvrolemember', 'char_length', 'waitfor', 'left',
  'right', 'instr', 'locate', 'position', 'lower', 'upper', 'row', 'table_name', 'aes_decrypt', 'aes_encrypt',
  'unicode', 'nchar', 'bin', 'conv', 'strcmp', 'xmltype', 'to_char', 'utl_raw.cast_to_varchar2', 'sqlite_version',
]);

const SYSTEM_NAMES = ['information_schema', 'table_name', 'column_name', 'table_schema', 'mysql.user', 'sysobjects', 'syscolumns', 'sys.', 'pg_catalog', 'pg_shadow',
  'all_tables', 'sqlite_master', 'master..', 'msysobjects', 'dual', 'user_tables', 'dba_users', 'sysdatabases'];

interface Folded {
  f: SqlToken[];
  trailingComment: boolean;
  comments: number;
  /** A MySQL executable comment or an optimizer hint was used: SQL syntax with no benign use in a value. */
  execComment: boolean;
}

/** Two-word operators: NOT LIKE, SOUNDS LIKE, IS NOT, NOT BETWEEN ... read as one. */
const OPERATOR_PREFIXES = new Set(['not', 'sounds', 'is']);

const UNARY_PREV = new Set<SqlClass | undefined>([undefined, 'o', '&', '(', ',', ';', 'k', 'E', 'B', 'U']);
const UNARY_OPS = new Set(['-', '+', '!', '~', 'not', 'binary']);

/**
 * Removes what does not change the meaning for the classifier: inner comments (a comment at the
 * very end is kept, it cuts off the rest of the query), unary signs, the BY of ORDER BY, the ALL
 * of UNION ALL.
 */
function fold(tokens: SqlToken[]): Folded {
  const f: SqlToken[] = [];
  let comments = 0;
  let execComment = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok.t === 'c') {
      comments++;
      if (tok.v === '/*!' || tok.v === '/*+') execComment = true;
      continue;
    }
    const prev = f.length ? f[f.length - 1] : undefined;
    // A cast ('{}'::jsonb, 1::int) keeps the value what it was.
    if (tok.t === 'o' && tok.v === '::' && prev && VALUE.has(prev.t) && tokens[i + 1] && (tokens[i + 1].t === 'n' || tokens[i + 1].t === 'k')) {
      i++;
      continue;
    }
    if (tok.t === 'o' && prev && prev.t === 'o' && OPERATOR_PREFIXES.has(prev.v) && /^[a-z]/.test(tok.v)) {
      f[f.length - 1] = tok;
      continue;
    }
    if (tok.t === 'o' && UNARY_OPS.has(tok.v) && UNARY_PREV.has(prev?.t)) continue;
    if (tok.t === 'n' && tok.v === 'binary' && UNARY_PREV.has(prev?.t)) continue;
    if (tok.t === 'k' && tok.v === 'by' && prev?.t === 'B') continue;
    if (tok.t === 'k' && (tok.v === 'all' || tok.v === 'distinct') && prev?.t === 'U') continue;
    if (tok.t === 'B' && (tok.v === 'group' || tok.v === 'order')) {
      const next = nextNonComment(tokens, i + 1);
      if (!next || next.v !== 'by') {
        f.push({ t: 'n', v: tok.v });
        continue;
      }
    }
    f.push(tok);
  }
  const last = tokens[tokens.length - 1];
  const trailingComment = last !== undefined && last.t === 'c' && last.v !== '/*!';
  if (trailingComment) f.push(last);
  return { f, trailingComment, comments, execComment };
}

function nextNonComment(tokens: SqlToken[], from: number): SqlToken | undefined {
  for (let i = from; i < tokens.length; i++) if (tokens[i].t !== 'c') return tokens[i];
  return undefined;
}

const VALUE = new Set<SqlClass>(['s', '1', 'v', 'n']);
const COMPARISON = new Set(['not', '=', '<', '>', '<=', '>=', '<>', '!=', '<=>', 'like', 'rlike', 'regexp', 'is', 'in', 'between', 'sounds', 'glob', '!<', '!>',
  '<@', '@>', '?|', '?&']);
/** Comparisons written with symbols only: text rarely puts them between two literals. */
const SYMBOLIC_COMPARISON = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>', '!<', '!>', '<@', '@>']);

/** Ends of an expression: end of input, a comment, a statement separator, a closing paren. */
function isEnd(tok: SqlToken | undefined): boolean {
  return tok === undefined || tok.t === 'c' || tok.t === ';' || tok.t === ')';
}

function functionScore(name: string): number {
  if (DANGEROUS_FUNCTIONS.has(name)) return 1;
  if (EXTRACTION_FUNCTIONS.has(name)) return 0.9;
  return 0.7;
}

/** How SQL-like a statement starting at f[i] is (SELECT ... FROM, DROP TABLE, EXEC xp_ ...). */
function statementScore(f: SqlToken[], i: number): number {
  const tok = f[i];
  if (!tok || tok.t !== 'E') return 0;
  let a = f[i + 1];
  let b = f[i + 2];
  switch (tok.v) {
    case 'select':
      if (!a) return 0.4;
      if (a.t === 'o' && a.v === '*') return 0.95;
      if (a.t === 'f' || a.t === 'v' || a.t === '(' || (a.t === 'k' && (a.v === 'top' || a.v === 'distinct' || a.v === 'all' || a.v === 'case'))) return 0.95;
      if (VALUE.has(a.t)) {
        if (b && (b.t === ',' || b.t === 'o' || b.t === '&' || (b.t === 'k' && (b.v === 'from' || b.v === 'into' || b.v === 'as' || b.v === 'where')) || b.t === 'B' || b.t === 'U' || b.t === 'c' || b.t === ';' || b.t === ')')) return 0.95;
        return a.t === 'n' ? 0.45 : 0.6;
      }
      return 0.3;
    case 'insert':
    case 'replace':
      return a && a.t === 'k' && a.v === 'into' ? 0.95 : 0.3;
    case 'update':
      return a && a.t === 'n' && b && b.t === 'k' && b.v === 'set' ? 0.95 : 0.3;
    case 'delete':
      if (a && a.t === 'n' && (a.v === 'low_priority' || a.v === 'quick' || a.v === 'ignore')) a = f[i + 2];
      return a && a.t === 'k' && a.v === 'from' ? 0.95 : 0.3;
    case 'drop': case 'create': case 'alter': case 'truncate':
      if (a && (a.t === 'k' && (a.v === 'table' || a.v === 'database') || a.t === 'n' && ['user', 'procedure', 'function', 'view', 'index', 'login', 'schema', 'trigger'].includes(a.v))) return 0.95;
      return a && a.t === 'n' ? 0.6 : 0.35;
    case 'exec': case 'execute':
      if (!a) return 0.35;
      if (a.t === 'k' && a.v === 'as') return 0.9;
      if (a.t === 's' || a.t === 'v' || a.t === '(') return 0.9;
      return (a.t === 'n' || a.t === 'f') && (a.v.startsWith('xp_') || a.v.startsWith('sp_') || a.v.startsWith('master')) ? 0.95 : 0.35;
    case 'declare':
      return a && a.t === 'v' ? 0.95 : 0.3;
    case 'shutdown':
      return !a || isEnd(a) ? 0.9 : 0.3;
    case 'waitfor':
      return a && a.t === 'k' && a.v === 'delay' || a && a.t === 'n' && a.v === 'time' ? 1 : 0.3;
    case 'call':
      return a && a.t === 'f' ? 0.85 : 0.3;
    case 'load':
      return a && a.t === 'n' && (a.v === 'data' || a.v === 'xml') ? 0.95 : 0.3;
    case 'do':
      return a && a.t === '(' ? 0.8 : 0.2;
    default:
      return a && (a.t === 'n' || a.t === 'k') ? 0.6 : 0.3;
  }
}

/** An open string the query's own closing quote completes (same quote as the reading's). */
function closesWithQuery(tok: SqlToken | undefined, quote: number): boolean {
  return tok !== undefined && tok.t === 's' && tok.open === true && tok.q === quote;
}

/**
 * Reads a value expression from f[i]: operands joined by operators (1+2=3+4, col*0 like '0').
 * Returns where it ends and what it contained.
 */
function readExpression(f: SqlToken[], i: number): { end: number; ops: number; cmp: boolean; words: number; literals: number; closes: boolean } {
  let k = i;
  let ops = 0;
  let words = 0;
  let literals = 0;
  let cmp = false;
  for (let steps = 0; steps < 12 && k < f.length; steps++) {
    const t = f[k];
    if (!VALUE.has(t.t)) break;
    if (t.t === 'n') words++;
    else literals++;
    const o = f[k + 1];
    if (!o || o.t !== 'o' || o.v === '.' || !f[k + 2] || !VALUE.has(f[k + 2].t)) {
      k++;
      break;
    }
    ops++;
    if (COMPARISON.has(o.v)) cmp = true;
    k += 2;
  }
  const last = f[k - 1];
  return { end: k, ops, cmp, words, literals, closes: last !== undefined && last.t === 's' && last.open === true };
}

/** How strongly the tokens from f[i] read as an injected boolean/arithmetic operand. */
function operandScore(f: SqlToken[], i: number, quote: number, depth = 0): number {
  const a = f[i];
  if (!a) return 0;
  const b = f[i + 1];
  if (a.t === 'f') return functionScore(a.v);
  if (a.t === 'E') return statementScore(f, i);
  if (a.t === '(') {
    if (b && b.t === 'E') return Math.max(0.9, statementScore(f, i + 1));
    if (b && (VALUE.has(b.t) || b.t === 'f' || b.t === '(')) {
      if (depth < 3) {
        const inner = operandScore(f, i + 1, quote, depth + 1);
        if (inner >= 0.6) return inner;
      }
      return b.t === 'n' ? 0.35 : 0.6;
    }
    return 0.4;
  }
  // @@version is SQL only; a lone @name is as often a mention in prose ("ping @bob and @alice").
  if (a.t === 'v') return a.v === '@' ? (b && b.t === 'o' && b.v === ':=' ? 0.85 : 0.4) : 0.85;
  if (a.t === 'k' && a.v === 'case') return 0.85;
  if (!VALUE.has(a.t)) return 0.2;
  if (b && b.t === 'o' && b.v !== '.') {
    const c = f[i + 2];
    if (!c) return a.t === 'n' ? 0.3 : 0.55;
    if (c.t === 'f' || c.t === 'v' || c.t === 'E') return 0.9;
    if (c.t === '(') return a.t === 'n' ? 0.5 : operandScore(f, i + 2, quote, depth + 1) >= 0.6 ? 0.9 : 0.6;
    if (!VALUE.has(c.t)) return 0.3;
    const e = readExpression(f, i);
    const d = f[e.end];
    // Complete: the condition ends the value, or the query's closing quote completes it.
    const ends = isEnd(d) || d.t === '&' || d.t === 'U' || d.t === 'B' || (quote !== 0 && e.closes && f[e.end - 1].q === quote);
    if (e.literals === 0) return e.cmp ? (ends ? 0.75 : 0.5) : 0.3;
    if (e.words > 0) return e.cmp ? (ends ? 0.85 : 0.6) : (ends && quote ? 0.55 : 0.35);
    if (!e.cmp) return ends ? 0.6 : 0.45;
    return ends ? 0.95 : 0.8;
  }
  if (b && b.t === '&' && depth < 3) {
    // A chain: x' or col && '1
    return operandScore(f, i + 2, quote, depth + 1);
  }
  if (a.t === '1') {
    if (b && b.t === 'c' && !b.glued) return 0.8;
    if (isEnd(b)) return quote ? 0.7 : 0.45;
    if (b.t === 'U' || b.t === 'B') return 0.7;
    return 0.35;
  }
  if (a.t === 's') {
    // ' OR '1 : the query's own closing quote completes the string (double-quoted strings are
    // MySQL-only and '"' is common in text as an inch mark, hence the lower score).
    if (closesWithQuery(a, quote)) return quote === 39 ? 0.6 : 0.55;
    if (b && b.t === 'c' && !b.glued) return quote ? 0.8 : 0.5;
    if (b && (b.t === 'U' || b.t === 'B')) return 0.7;
    return 0.4;
  }
  if (a.t === 'n') return b && b.t === 'c' && !b.glued ? 0.45 : b && b.t === 'U' ? 0.45 : 0.25;
  return 0.2;
}

/**
 * The condition at f[i] compares a plain word with a number or word (`rating > 4`) in a value
 * that itself starts with a plain word: a search filter written as text ("price < 50 and rating
 * > 4"), not an injection, which gives the query's slot a value first and then adds a condition
 * (`1 and 1=1`, `x' or sleep(5)`). Conditions with calls, variables or strings are not this.
 */
function proseFilter(f: SqlToken[], i: number): boolean {
  const a = f[i];
  const op = f[i + 1];
  const c = f[i + 2];
  return f[0]?.t === 'n' && a?.t === 'n' && op?.t === 'o' && COMPARISON.has(op.v) && !!c && (c.t === '1' || c.t === 'n') && !f[i + 3];
}

interface Reading {
  quote: number;
  trailing: boolean;
  /** The slot's value is a plain word: prose is more likely than a column name. */
  wordLed: boolean;
}

/**
 * Scores what follows the injection point f[b] (just after the value that fills the query's
 * slot). `closedParens` counts the ")" the value used to climb out of the query's own brackets.
 */
function breakScore(f: SqlToken[], b: number, r: Reading, closedParens: number): [number, string] {
  const t = f[b];
  if (!t) return [0, ''];
  const quote = r.quote;
  const prev = f[b - 1];
  const escaped = quote !== 0 || closedParens > 0;
  const wordLed = !escaped && r.wordLed;
  switch (t.t) {
    case '&': {
      let s = operandScore(f, b + 1, quote);
      // A bare value led by a word, joined to another word's comparison ("price < 50 and rating
      // > 4"): a filter written in prose. An injection into a numeric slot gives the slot a value
      // first; a condition with calls, variables or subqueries still scores through operandScore.
      if (wordLed && proseFilter(f, b + 1)) s *= 0.6;
      if (escaped && s >= 0.6) s = Math.min(1, s + 0.1);
      if (r.trailing && s >= 0.45) s = Math.min(1, s + 0.15);
      return [s, 'boolean expression'];
    }
    case 'U': {
      const a = f[b + 1];
      if (a && (a.t === 'E' || (a.t === '(' && f[b + 2]?.t === 'E'))) return [1, 'union select'];
      // "-1 union", "1' union/*": the SELECT is cut off or mangled, the intent is not.
      return [prev && (prev.t === '1' || escaped) && (!a || a.t === 'c' || a.t === '1') ? 0.6 : 0.3, 'union'];
    }
    case ';': {
      const a = f[b + 1];
      const s = statementScore(f, b + 1);
      if (s > 0) return [s, 'stacked statement'];
      if (a && (a.t === 'k' || a.t === 'f') && (a.v === 'if' || a.v === 'begin')) return [escaped ? 0.85 : 0.7, 'stacked statement'];
      // '; anything --: a new statement, the rest of the query commented out.
      if (quote && r.trailing && f[f.length - 1].v === '--') return [0.7, 'stacked statement'];
      return [0, ''];
    }
    case 'c':
      // The value closes the query's quote (or brackets) and comments out the rest.
      if (t.glued) return [0, ''];
      if (quote) return [t.v === '#' && t.body ? 0.45 : 0.85, 'comment truncation'];
      if (!prev || wordLed) return [0, ''];
      if (closedParens > 0) return [0.75, 'comment truncation'];
      // 1 -- : cuts off the rest of the query's conditions (AND owner = ...).
      if (t.v !== '#' && (prev.t === ')' || prev.t === 'v' || prev.t === '1')) return [0.55, 'comment truncation'];
      return [0, ''];
    case 'B': {
      const a = f[b + 1];
      if (!a) return [0.3, 'clause'];
      const strong = escaped || (prev !== undefined && prev.t !== 'n');
      if (VALUE.has(a.t) || a.t === 'f' || a.t === '(') {
        if (t.v === 'limit' || t.v === 'offset') return [(strong || r.trailing) && a.t === '1' && (isEnd(f[b + 2]) || f[b + 2].t === ',') ? 0.6 : 0.3, 'clause'];
        if (t.v === 'procedure') return [a.v === 'analyse' ? 0.95 : 0.5, 'clause'];
        // HAVING needs a condition; "having issues?" is English.
        if (t.v === 'having') return a.t === '(' || (f[b + 2]?.t === 'o' && COMPARISON.has(f[b + 2].v)) ? [Math.max(0.6, operandScore(f, b + 1, quote)), 'clause'] : [0.3, 'clause'];
        return [strong ? 0.85 : 0.45, 'clause'];
      }
      return [0.3, 'clause'];
    }
    case 'o': {
      if (t.v === '.') return [0, ''];
      const a = f[b + 1];
      if (!a) return [0, ''];
      if (a.t === 'f' || a.t === '(' || a.t === 'v' || a.t === 'E') {
        const s = operandScore(f, b + 1, quote);
        return [escaped ? s : wordLed ? s * 0.6 : s * 0.9, 'operator expression'];
      }
      if (VALUE.has(a.t)) {
        const after = f[b + 2];
        const symbolic = t.v === '=' || t.v === '<>' || t.v === '!=' || t.v === '||' || t.v === '<' || t.v === '>';
        if (after && after.t === 'c' && !after.glued) return [escaped ? 0.85 : (wordLed || a.t === 'n' ? 0.3 : 0.6), 'operator expression'];
        if (quote) {
          // 'A' & 'B' ; '=' ; x'-'0 : an expression the query's closing quote completes
          // (MySQL's implicit conversions make any of them a usable condition).
          if (closesWithQuery(a, quote)) return [quote === 39 ? 0.6 : 0.45, 'operator expression'];
          if (a.t === '1' && isEnd(after)) return [symbolic ? 0.55 : 0.4, 'operator expression'];
          if (a.t !== 'n' && after && after.t === 'o' && COMPARISON.has(after.v) && f[b + 3] && (VALUE.has(f[b + 3].t) || f[b + 3].t === 'f') && f[b + 3].t !== 'n') return [0.8, 'operator expression'];
          const e = readExpression(f, b + 1);
          // Without a comparison, a double-quoted reading is usually markup: x" / en / 2.0 / "…
          if (e.closes && f[e.end - 1].q === quote && e.ops > 0) return [e.cmp ? 0.7 : (e.words && e.literals < 2) || quote === 34 ? 0.45 : 0.55, 'operator expression'];
        }
        // 11!=1, '{"b":2}'::jsonb <@ '{"a":1}': the whole value is a comparison between literals.
        if (!quote && b === 1 && prev && (prev.t === '1' || prev.t === 's') && a.t !== 'n' && SYMBOLIC_COMPARISON.has(t.v) && isEnd(after)) return [0.6, 'literal comparison'];
        if (!quote && a.t !== 'n' && !wordLed && after && after.t === 'o' && f[b + 3] && (f[b + 3].t === 'f' || f[b + 3].t === '(' || f[b + 3].t === 'v')) return [0.8, 'operator expression'];
        return [0, ''];
      }
      return [0, ''];
    }
    case 'k': {
      const a = f[b + 1];
      if (t.v === 'into' && a && (a.v === 'outfile' || a.v === 'dumpfile')) return [1, 'into outfile'];
      if (t.v === 'where' && a && (VALUE.has(a.t) || a.t === 'f' || a.t === '(') && (escaped || prev?.t === '1') && f[b + 2] && (f[b + 2].t === 'o' || f[b + 2].t === '&')) return [0.7, 'clause'];
      // 1) FROM users WHERE ...: the value closes a sub-expression and rewrites the query's tail.
      if (t.v === 'from' && escaped && a && a.t === 'n' && (!f[b + 2] || f[b + 2].t === 'k' || f[b + 2].t === 'B' || f[b + 2].t === 'c' || f[b + 2].t === ';' || f[b + 2].t === 'U')) return [0.7, 'clause'];
      if (t.v === 'if' && a && a.t === '(') return [0.7, 'conditional'];
      // 1)) AS alias WHERE 3368=3368: sqlmap closes the query's brackets and names them.
      if (t.v === 'as' && escaped && a && a.t === 'n' && f[b + 2]) return breakScore(f, b + 2, r, closedParens);
      return [0, ''];
    }
    case 'f':
      if ((t.v === 'if' || t.v === 'iif') && escaped) return [0.75, 'conditional'];
      return [0, ''];
    case 'E':
      return [statementScore(f, b) * (quote ? 0.8 : prev && (prev.t === '1' || prev.t === ')') ? 0.6 : 0.45), 'statement'];
    default:
      return [0, ''];
  }
}

function fingerprint(f: SqlToken[]): string {
  let s = '';
  for (let i = 0; i < f.length && i < 8; i++) s += f[i].t;
  return s;
}

/** Token classes that make a statement more than a sentence starting with "select". */
const RICH = new Set<SqlClass>(['f', 'o', 'v', 's', '1', ';', 'U', '(']);

/** Rules that hold wherever they occur: UNION SELECT, sub-selects, attack-only calls, stacked statements. */
function anywhereScore(f: SqlToken[], quote: number, trailing: boolean): [number, string] {
  let select = false;
  let best = 0;
  let why = '';
  let sysName = false;
  let sqlish = 0;
  for (let i = 0; i < f.length; i++) {
    const t = f[i];
    let s = 0;
    let r = '';
    switch (t.t) {
      case 'U': {
        const a = f[i + 1];
        if (a && (a.t === 'E' && a.v === 'select' || (a.t === '(' && f[i + 2]?.t === 'E'))) {
          s = statementScore(f, a.t === 'E' ? i + 1 : i + 2) >= 0.6 || i > 0 ? 1 : 0.6;
          r = 'union select';
        }
        break;
      }
      case '(':
        if (f[i + 1]?.t === 'E' && f[i + 1].v === 'select') {
          s = statementScore(f, i + 1) >= 0.9 ? 0.9 : 0.5;
          r = 'subquery';
        }
        break;
      case ';':
        s = statementScore(f, i + 1) * 0.95;
        r = 'stacked statement';
        break;
      case 'f': {
        if (DANGEROUS_FUNCTIONS.has(t.v)) {
          s = 0.9;
          r = `call ${t.v}()`;
          break;
        }
        if (EXTRACTION_FUNCTIONS.has(t.v)) sqlish++;
        const inner = f[i + 2];
        if (f[i + 1]?.t !== '(' || !inner) break;
        if (inner.t === 'f' && (EXTRACTION_FUNCTIONS.has(t.v) || EXTRACTION_FUNCTIONS.has(inner.v))) {
          // Nested calls, ascii(substring(version() ...)): expressions, not text.
          s = 0.75;
          r = 'nested calls';
        } else if (inner.t === 'v' && inner.v.startsWith('@')) {
          s = 0.75;
          r = 'server variable';
        } else if ((t.v === 'if' || t.v === 'iif' || t.v === 'elt' || t.v === 'nullif') && VALUE.has(inner.t) && f[i + 3]?.t === 'o' && COMPARISON.has(f[i + 3].v)) {
          s = 0.75;
          r = 'conditional';
        }
        break;
      }
      case 'E':
        if (t.v === 'waitfor' && statementScore(f, i) >= 1) {
          s = 1;
          r = 'waitfor delay';
        } else if ((t.v === 'exec' || t.v === 'execute') && statementScore(f, i) >= 0.9 && f[i + 1].t !== '(') {
          s = 0.85;
          r = 'exec';
        } else if (i === 0 && !quote) {
          // A whole statement given as the value.
          const st = statementScore(f, 0);
          let rich = 0;
          for (let k = 1; k < f.length && k < 16; k++) if (RICH.has(f[k].t)) rich++;
          s = st >= 0.9 ? (rich > 0 && f.length >= 3 ? 0.85 : 0.45) : 0;
          r = 'statement';
        } else if (t.v === 'select' && statementScore(f, i) >= 0.95 && (hasFrom(f, i + 1) || trailing)) {
          s = trailing ? 0.6 : 0.75;
          r = 'select';
        }
        if (t.v === 'select') select = true;
        break;
      case '&': {
        // An injected condition later in a bare value: "... 1 and 1=1", "x) or sleep(5)".
        const p = f[i - 1];
        if (i > 1 && p && (p.t === '1' || p.t === ')' || p.t === 's' || p.t === 'v') && !(!quote && proseFilter(f, i + 1))) {
          const o = operandScore(f, i + 1, quote);
          if (o >= 0.85) {
            s = o * 0.85;
            r = 'boolean expression';
          }
        }
        break;
      }
      case 'n':
        if (!sysName) sysName = isSystemName(t.v);
        break;
      case 'v':
        if (f[i + 1]?.t === 'o' && f[i + 1].v === ':=') {
          s = 0.7;
          r = 'variable assignment';
        }
        break;
      case 'k':
        if (t.v === 'into' && (f[i + 1]?.v === 'outfile' || f[i + 1]?.v === 'dumpfile')) {
          s = 0.95;
          r = 'into outfile';
        } else if (t.v === 'case' && hasCaseShape(f, i)) {
          s = 0.7;
          r = 'case expression';
        }
        break;
    }
    if (s > best) {
      best = s;
      why = r;
    }
  }
  if (best > 0 && (sysName || sqlish >= 2)) best = Math.min(1, best + 0.1);
  // SELECT naming the catalog (information_schema, table_name ...): reconnaissance, however mangled.
  if (select && sysName && best < 0.7) return [0.7, 'catalog select'];
  return [best, why];
}

function isSystemName(name: string): boolean {
  for (const part of name.indexOf('.') > 0 ? name.split('.') : [name]) {
    for (const sys of SYSTEM_NAMES) if (part.startsWith(sys)) return true;
  }
  for (const sys of SYSTEM_NAMES) if (sys.indexOf('.') > 0 && name.startsWith(sys)) return true;
  return false;
}

function hasFrom(f: SqlToken[], from: number): boolean {
  for (let i = from; i < f.length && i < from + 24; i++) if (f[i].t === 'k' && f[i].v === 'from') return true;
  return false;
}

/** CASE [x] WHEN ... THEN: SQL's conditional, which prose does not produce. */
function hasCaseShape(f: SqlToken[], i: number): boolean {
  let when = false;
  for (let k = i + 1; k < f.length && k < i + 10; k++) {
    if (f[k].t !== 'k') continue;
    if (f[k].v === 'when') when = true;
    else if (f[k].v === 'then') return when;
  }
  return false;
}

/** Index just past a bracketed or called value starting at f[0], or 1. */
function valueEnd(f: SqlToken[], quote: number): number {
  if (quote || (f[0].t !== '(' && f[0].t !== 'f')) return 1;
  let depth = 0;
  for (let k = f[0].t === 'f' ? 1 : 0; k < f.length && k < 24; k++) {
    if (f[k].t === '(') depth++;
    else if (f[k].t === ')' && --depth === 0) return k + 1;
  }
  return 1;
}

function classify(folded: Folded, quote: number): [number, string] {
  const f = folded.f;
  if (f.length === 0) return [0, ''];
  let best: [number, string] = [0, ''];
  const r: Reading = { quote, trailing: folded.trailingComment, wordLed: !quote && f[0].t === 'n' };
  // The value filling the slot is f[0] (the string the query's quote opened, in quoted
  // readings), possibly bracketed; then come the ")" that climb out of the query's brackets.
  let b = !quote && (f[0].t === '&' || f[0].t === 'U' || f[0].t === ';' || f[0].t === 'B') ? 0 : valueEnd(f, quote);
  let closed = 0;
  while (f[b] && f[b].t === ')') {
    b++;
    closed++;
  }
  // The value may be an expression or a list before the break: 1-1 union ..., 'a'||'b' or ...,
  // 17,23 order by 16, 1 and true; begin ... Walk it, scoring each point where the injected
  // part could begin.
  for (let steps = 0; steps < 8 && b < f.length; steps++) {
    const s = breakScore(f, b, r, closed);
    if (s[0] > best[0]) best = steps ? [s[0] * 0.9, s[1]] : s;
    const t = f[b];
    if (t.t === 'o' || t.t === ',' || t.t === '&') {
      const next = f[b + 1];
      if (!next || !VALUE.has(next.t)) break;
      if (next.t === 'n') r.wordLed = true;
      b += 2;
      while (f[b] && f[b].t === ')') {
        b++;
        closed++;
      }
    } else break;
  }
  const any = anywhereScore(f, quote, folded.trailingComment && !f[f.length - 1].glued);
  if (any[0] > best[0]) best = any;
  else if (best[0] >= 0.5 && any[0] >= 0.5) best = [Math.min(1, best[0] + 0.05), best[1]];
  if (folded.execComment && best[0] >= 0.3) best = [Math.min(1, best[0] + 0.3), best[1] + ' in executable comment'];
  return best;
}

const CONTEXTS: Array<[0 | 39 | 34, InjectionFinding['context']]> = [[0, 'bare'], [39, 'single-quote'], [34, 'double-quote']];

/** The strongest SQL-injection reading of one (already decoded) value, or a zero score. */
export function scoreSqli(value: string): InjectionFinding {
  let best: InjectionFinding = { score: 0, reason: '', fingerprint: '', context: 'bare' };
  if (value.length < 2) return best;
  for (const [quote, context] of CONTEXTS) {
    if (quote !== 0 && value.indexOf(String.fromCharCode(quote)) < 0) continue;
    const tokens = tokenizeSql(value, quote);
    if (!tokens) continue;
    const folded = fold(tokens);
    const [score, reason] = classify(folded, quote);
    if (score > best.score) best = { score: Math.floor(score * 100 + 1e-9) / 100, reason, fingerprint: fingerprint(folded.f), context };
    if (best.score >= 1) break;
  }
  return best;
}
