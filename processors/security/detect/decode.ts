/**
 * Decoding applied before the injection detectors look at a value. Attackers encode payloads so
 * that naive matchers miss them (`%27`, `%2527`, `&#x3c;`, `%u003c`), so the detectors see the
 * value the application will eventually act on. Every function here is a single forward scan:
 * linear in the input, no regular expressions.
 */

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Lenient percent-decoding: malformed escapes stay as they are (decodeURIComponent would throw),
 * `%uXXXX` (IIS) is understood, and UTF-8 sequences are decoded when valid. `plusAsSpace` is for
 * form and query-string values.
 */
export function percentDecode(s: string, plusAsSpace: boolean): string {
  if (s.indexOf('%') < 0 && (!plusAsSpace || s.indexOf('+') < 0)) return s;
  const bytes: number[] = [];
  let out = '';
  const flush = (): void => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 < s.length) {
        const h = hexVal(s.charCodeAt(i + 1));
        const l = hexVal(s.charCodeAt(i + 2));
        if (h >= 0 && l >= 0) {
          bytes.push(h * 16 + l);
          i += 2;
          continue;
        }
      }
      if ((s.charCodeAt(i + 1) | 32) === 117 /* u */ && i + 5 < s.length) {
        const a = hexVal(s.charCodeAt(i + 2)), b = hexVal(s.charCodeAt(i + 3));
        const d = hexVal(s.charCodeAt(i + 4)), e = hexVal(s.charCodeAt(i + 5));
        if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
          flush();
          out += String.fromCharCode(((a * 16 + b) * 16 + d) * 16 + e);
          i += 5;
          continue;
        }
      }
    }
    flush();
    out += plusAsSpace && c === 43 ? ' ' : s[i];
  }
  flush();
  return out;
}

const NAMED: Record<string, string> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ', colon: ':', lpar: '(', rpar: ')',
  sol: '/', bsol: '\\', tab: '\t', newline: '\n', semi: ';', comma: ',', period: '.', equals: '=',
  excl: '!', num: '#', grave: '`', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}', plus: '+', percnt: '%',
};

/**
 * HTML character references, as browsers read them: the terminating `;` is optional for numeric
 * references (`&#106avascript`), leading zeros are allowed, and unknown names stay literal.
 */
export function htmlDecode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 38 /* & */) {
      out += s[i++];
      continue;
    }
    let j = i + 1;
    if (s.charCodeAt(j) === 35 /* # */) {
      j++;
      const hex = (s.charCodeAt(j) | 32) === 120;
      if (hex) j++;
      let v = 0;
      const start = j;
      while (j < s.length && j - start < 10) {
        const d = hex ? hexVal(s.charCodeAt(j)) : (s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57 ? s.charCodeAt(j) - 48 : -1);
        if (d < 0) break;
        v = v * (hex ? 16 : 10) + d;
        j++;
      }
      if (j > start && v <= 0x10ffff) {
        // &#0; becomes U+FFFD, as in browsers.
        out += v === 0 ? '\ufffd' : String.fromCodePoint(v);
        if (s.charCodeAt(j) === 59) j++;
        i = j;
        continue;
      }
      out += s[i++];
      continue;
    }
    const start = j;
    while (j < s.length && j - start < 10 && ((s.charCodeAt(j) | 32) >= 97 && (s.charCodeAt(j) | 32) <= 122)) j++;
    const name = s.slice(start, j).toLowerCase();
    const rep = NAMED[name];
    if (rep !== undefined && j > start) {
      out += rep;
      if (s.charCodeAt(j) === 59) j++;
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

/**
 * The forms of a value worth inspecting: the value itself, then its percent-decoded form (twice,
 * for double encoding), each also HTML-decoded. Duplicates are dropped so that plain values cost
 * one detector pass.
 */
export function decodedForms(value: string, plusAsSpace = false): string[] {
  // In a query string or form body "+" is a space: the raw text is never what the application
  // reads ("select+size+10" is the words "select size 10", not an arithmetic expression).
  const forms = plusAsSpace && value.indexOf('+') >= 0 ? [] : [value];
  let cur = value;
  for (let round = 0; round < 2; round++) {
    const next = percentDecode(cur, plusAsSpace && round === 0);
    if (next === cur) break;
    forms.push(next);
    cur = next;
  }
  const html = htmlDecode(cur);
  if (html !== cur) forms.push(html);
  return forms;
}
