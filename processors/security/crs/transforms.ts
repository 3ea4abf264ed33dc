/**
 * The ModSecurity transformations CRS request rules use (t:...). Each is a single forward pass.
 * Percent and HTML decoding reuse the detectors' decoders (lenient, as ModSecurity is).
 */
import { createHash } from 'node:crypto';
import { htmlDecode, percentDecode } from '../detect/decode';

export type Transform = (s: string) => string;

function jsDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (/[0-7]/.test(n)) {
      let j = i + 1;
      while (j < i + 4 && /[0-7]/.test(s[j] ?? '')) j++;
      out += String.fromCharCode(parseInt(s.slice(i + 1, j), 8) & 0xff);
      i = j - 1;
    } else {
      const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', a: '\x07' };
      out += map[n] ?? n;
      i++;
    }
  }
  return out;
}

function cssDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    let j = i + 1;
    while (j < s.length && j < i + 7 && /[0-9a-fA-F]/.test(s[j])) j++;
    if (j > i + 1) {
      const code = parseInt(s.slice(i + 1, j), 16);
      out += code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
      if (s[j] === ' ') j++;
      i = j - 1;
    } else if (s[i + 1] === '\n') i++;
    else if (i + 1 < s.length) {
      out += s[i + 1];
      i++;
    }
  }
  return out;
}

/** t:cmdLine: what a shell sees (quotes, carets, backslashes dropped; separators spaced). */
function cmdLine(s: string): string {
  let out = '';
  let space = false;
  for (const ch of s.toLowerCase()) {
    if (ch === '\\' || ch === '"' || ch === "'" || ch === '^') continue;
    if (ch === ' ' || ch === ',' || ch === ';' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (!space) out += ' ';
      space = true;
      continue;
    }
    if ((ch === '/' || ch === '(') && out.endsWith(' ')) out = out.slice(0, -1);
    out += ch;
    space = false;
  }
  return out;
}

function normalizePath(s: string, win: boolean): string {
  let p = win ? s.replace(/\\/g, '/') : s;
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(seg);
  }
  p = (abs ? '/' : '') + out.join('/');
  return s.endsWith('/') && p !== '/' ? p + '/' : p;
}

/** Drops /* ... *\/ comments (and an unterminated one), --, # to end of line: t:replaceComments. */
function replaceComments(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      out += ' ';
      i = end < 0 ? s.length : end + 2;
    } else out += s[i++];
  }
  return out;
}

function removeComments(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      i = end < 0 ? s.length : end + 2;
    } else if ((s[i] === '-' && s[i + 1] === '-') || s[i] === '#') {
      const end = s.indexOf('\n', i);
      i = end < 0 ? s.length : end;
    } else if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      i = end < 0 ? s.length : end + 3;
    } else out += s[i++];
  }
  return out;
}

export const TRANSFORMS: Record<string, Transform> = {
  lowercase: (s) => s.toLowerCase(),
  uppercase: (s) => s.toUpperCase(),
  urldecode: (s) => percentDecode(s, true),
  urldecodeuni: (s) => percentDecode(s, true),
  htmlentitydecode: htmlDecode,
  // Strings here are already Unicode; %uXXXX is handled by urlDecodeUni.
  utf8tounicode: (s) => s,
  removenulls: (s) => (s.indexOf('\0') < 0 ? s : s.split('\0').join('')),
  replacenulls: (s) => (s.indexOf('\0') < 0 ? s : s.split('\0').join(' ')),
  jsdecode: jsDecode,
  cssdecode: cssDecode,
  cmdline: cmdLine,
  compresswhitespace: (s) => s.replace(/[\s\u00a0]+/g, ' '),
  removewhitespace: (s) => s.replace(/[\s\u00a0]+/g, ''),
  trim: (s) => s.trim(),
  trimleft: (s) => s.trimStart(),
  trimright: (s) => s.trimEnd(),
  normalisepath: (s) => normalizePath(s, false),
  normalizepath: (s) => normalizePath(s, false),
  normalisepathwin: (s) => normalizePath(s, true),
  normalizepathwin: (s) => normalizePath(s, true),
  replacecomments: replaceComments,
  removecomments: removeComments,
  removecommentschar: (s) => s.replace(/\/\*|\*\/|--|#/g, ''),
  length: (s) => String(Buffer.byteLength(s)),
  sha1: (s) => createHash('sha1').update(s).digest().toString('latin1'),
  md5: (s) => createHash('md5').update(s).digest().toString('latin1'),
  hexencode: (s) => Buffer.from(s, 'latin1').toString('hex'),
  hexdecode: (s) => Buffer.from(s, 'hex').toString('latin1'),
  base64decode: (s) => Buffer.from(s, 'base64').toString('latin1'),
  base64decodeext: (s) => Buffer.from(s, 'base64').toString('latin1'),
  base64encode: (s) => Buffer.from(s, 'latin1').toString('base64'),
  escapeseqdecode: jsDecode,
};
