/**
 * Injection evidence in a database span's query text. The text is SQL by design, so the value
 * classifier does not apply; what betrays an injected statement is what applications never write
 * on purpose: tautologies between literals (OR 1=1, 'a'='a'), attack-only calls (SLEEP,
 * BENCHMARK, WAITFOR DELAY), a second statement stacked after ";", a comment cutting off the end
 * right after a string, UNION SELECT from the catalog.
 */
import { SqlToken, tokenizeSql } from './sqltokens';

export interface StatementFinding {
  score: number;
  reason: string;
}

const ATTACK_CALLS = new Set(['sleep', 'benchmark', 'pg_sleep', 'load_file', 'extractvalue', 'updatexml', 'xp_cmdshell', 'dbms_pipe.receive_message', 'utl_inaddr.get_host_address', 'sys_eval']);

export function scoreStatement(sql: string): StatementFinding {
  const tokens = tokenizeSql(sql.length > 16384 ? sql.slice(0, 16384) : sql, 0, 2048) ?? [];
  const f: SqlToken[] = tokens.filter((t, i) => t.t !== 'c' || i === tokens.length - 1);
  let best: StatementFinding = { score: 0, reason: '' };
  const take = (score: number, reason: string): void => {
    if (score > best.score) best = { score, reason };
  };
  let statements = 1;
  for (let i = 0; i < f.length; i++) {
    const t = f[i];
    if (t.t === 'f' && ATTACK_CALLS.has(t.v)) take(0.9, `call ${t.v}()`);
    if (t.t === 'E' && t.v === 'waitfor') take(0.9, 'waitfor delay');
    if (t.t === '&') {
      // literal op literal right after AND/OR: 1=1, 'a'='a', 2>1
      const a = f[i + 1], o = f[i + 2], b = f[i + 3];
      if (a && o && b && (a.t === '1' || a.t === 's') && o.t === 'o' && (b.t === '1' || b.t === 's') && ['=', '<', '>', '<=', '>=', '<>', '!=', 'like'].includes(o.v)) take(0.85, 'tautology between literals');
    }
    if (t.t === ';' && f[i + 1]?.t === 'E') {
      statements++;
      if (['drop', 'shutdown', 'exec', 'execute', 'declare', 'truncate', 'alter', 'grant'].includes(f[i + 1].v)) take(0.8, `stacked ${f[i + 1].v}`);
    }
    if (t.t === 'U' && f[i + 1]?.t === 'E') {
      for (let k = i + 2; k < f.length && k < i + 40; k++) {
        if (f[k].t === 'n' && (f[k].v.startsWith('information_schema') || f[k].v.startsWith('mysql.user') || f[k].v.startsWith('sqlite_master') || f[k].v.startsWith('pg_'))) {
          take(0.85, 'union select from the catalog');
          break;
        }
      }
    }
  }
  const last = f[f.length - 1];
  if (last && last.t === 'c' && f[f.length - 2]?.t === 's') take(0.6, 'comment after a string literal');
  if (statements > 2) take(0.5, `${statements} statements in one query`);
  return best;
}
