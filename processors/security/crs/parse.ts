/**
 * Reads ModSecurity rule files (SecRule, SecAction, SecMarker) as the OWASP Core Rule Set
 * publishes them: continuation lines, quoted operator and action lists, comma-separated actions
 * with '...' values, chained rules. Only the syntax is read here; what a rule means is decided in
 * ruleset.ts.
 */

export interface Variable {
  /** ARGS, REQUEST_HEADERS, TX ... */
  collection: string;
  /** After ':' : a name, or a /regex/ (kept with its slashes); '' for the whole collection. */
  key: string;
  /** `!ARGS:foo` removes a member from the rule's targets. */
  exclude: boolean;
  /** `&ARGS` counts members instead of reading them. */
  count: boolean;
}

export interface Action {
  name: string;
  value: string;
}

export interface RawRule {
  kind: 'rule' | 'action' | 'marker';
  file: string;
  line: number;
  variables: Variable[];
  /** `@rx`, `@pm` ... (`@rx` when the rule names no operator). */
  operator: string;
  argument: string;
  negated: boolean;
  actions: Action[];
  /** Marker name for SecMarker. */
  marker?: string;
}

/** Logical lines: continuation backslashes joined, comments and blank lines dropped. */
function logicalLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  const lines = text.split(/\r?\n/);
  let cur = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!cur && (l.trim() === '' || l.trim().startsWith('#'))) continue;
    if (!cur) start = i + 1;
    if (l.endsWith('\\')) {
      cur += l.slice(0, -1);
      continue;
    }
    cur += l;
    out.push({ text: cur.trim(), line: start });
    cur = '';
  }
  if (cur.trim()) out.push({ text: cur.trim(), line: start });
  return out;
}

/** Splits a directive into words: bare words and "double-quoted" strings (\" escapes kept). */
function words(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    if (s[i] === '"') {
      let j = i + 1;
      let w = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && s[j + 1] === '"') {
          w += '"';
          j += 2;
          continue;
        }
        w += s[j++];
      }
      out.push(w);
      i = j + 1;
    } else {
      let j = i;
      while (j < s.length && !/\s/.test(s[j])) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  return out;
}

export function parseVariables(spec: string): Variable[] {
  const out: Variable[] = [];
  // '|' separates variables, except inside a /regex/ key.
  let parts: string[] = [];
  let cur = '';
  let inRegex = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === '/' && !inRegex && spec[i - 1] === ':') inRegex = true;
    else if (c === '/' && inRegex && spec[i - 1] !== '\\') inRegex = false;
    if (c === '|' && !inRegex) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  parts = parts.filter((p) => p);
  for (let p of parts) {
    let exclude = false;
    let count = false;
    if (p.startsWith('!')) {
      exclude = true;
      p = p.slice(1);
    }
    if (p.startsWith('&')) {
      count = true;
      p = p.slice(1);
    }
    const colon = p.indexOf(':');
    out.push({ collection: (colon < 0 ? p : p.slice(0, colon)).toUpperCase(), key: colon < 0 ? '' : p.slice(colon + 1), exclude, count });
  }
  return out;
}

/** `id:1,msg:'a, b',t:none` -> actions; values in '...' may contain commas. */
export function parseActions(s: string): Action[] {
  const out: Action[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ',' || /\s/.test(s[i]))) i++;
    if (i >= s.length) break;
    let j = i;
    while (j < s.length && s[j] !== ':' && s[j] !== ',') j++;
    const name = s.slice(i, j).trim();
    let value = '';
    if (s[j] === ':') {
      j++;
      if (s[j] === "'") {
        let k = j + 1;
        while (k < s.length && !(s[k] === "'" && s[k - 1] !== '\\')) k++;
        value = s.slice(j + 1, k).replace(/\\'/g, "'");
        j = k + 1;
      } else {
        let k = j;
        while (k < s.length && s[k] !== ',') k++;
        value = s.slice(j, k).trim();
        j = k;
      }
    }
    out.push({ name, value });
    i = j;
  }
  return out;
}

export function parseRules(text: string, file: string): { rules: RawRule[]; errors: string[] } {
  const rules: RawRule[] = [];
  const errors: string[] = [];
  for (const { text: l, line } of logicalLines(text)) {
    const w = words(l);
    const directive = w[0];
    if (directive === 'SecRule') {
      if (w.length < 3) {
        errors.push(`${file}:${line}: SecRule needs variables and an operator`);
        continue;
      }
      let op = w[2];
      let negated = false;
      if (op.startsWith('!@')) {
        negated = true;
        op = op.slice(1);
      }
      let operator = '@rx';
      let argument = op;
      if (op.startsWith('@')) {
        const sp = op.search(/\s/);
        operator = sp < 0 ? op : op.slice(0, sp);
        argument = sp < 0 ? '' : op.slice(sp + 1);
      }
      rules.push({ kind: 'rule', file, line, variables: parseVariables(w[1]), operator, argument, negated, actions: parseActions(w[3] ?? '') });
    } else if (directive === 'SecAction') {
      rules.push({ kind: 'action', file, line, variables: [], operator: '', argument: '', negated: false, actions: parseActions(w[1] ?? '') });
    } else if (directive === 'SecMarker') {
      rules.push({ kind: 'marker', file, line, variables: [], operator: '', argument: '', negated: false, actions: [], marker: w[1] });
    } else if (directive === 'SecComponentSignature') {
      continue;
    } else {
      errors.push(`${file}:${line}: ${directive} is not a rule directive`);
    }
  }
  return { rules, errors };
}
