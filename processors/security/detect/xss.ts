/**
 * Cross-site-scripting classifier. The value is read the way an HTML5 parser would read it if it
 * were echoed into a page: in text (a tag opens with "<" and a letter), inside a tag after a quote
 * that closes an attribute value (`" onmouseover=...`), and as a whole URL attribute value
 * (`javascript:...`). What makes script run is then looked for: script-capable elements, event
 * handler attributes, script URLs in URL attributes, script in style. Ordinary markup (<b>, <br />,
 * <a href="/x">) scores low: it is not script.
 *
 * Single forward scans with bounded look-ahead; no regular expressions.
 */
import { htmlDecode } from './decode';
import { scoreJsCode } from './jscode';

export const XSS_THRESHOLD = 0.5;

export interface XssFinding {
  score: number;
  reason: string;
  context: 'html' | 'attribute' | 'url' | 'script' | '';
}

/** Elements that run or load script, or change how the page is parsed, by merely existing. */
const SCRIPT_ELEMENTS: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, {
  script: 0.95, iframe: 0.9, frame: 0.85, frameset: 0.8, object: 0.9, embed: 0.9, applet: 0.9, svg: 0.7, math: 0.6,
  base: 0.85, xml: 0.7, import: 0.8, vmlframe: 0.9, xss: 0.8, style: 0.7, isindex: 0.7,
  template: 0.5, portal: 0.7, handler: 0.8, listener: 0.8, set: 0.5, animate: 0.5, 'xml:namespace': 0.7, noscript: 0.5,
});

/** Attributes whose value is a URL a browser may navigate to or load. */
const URL_ATTRIBUTES = new Set([
  'href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'dynsrc', 'lowsrc', 'poster', 'codebase',
  'from', 'to', 'values', 'by', 'content', 'srcset', 'ping', 'cite', 'longdesc', 'usemap', 'profile', 'classid', 'archive',
  'datasrc', 'folder', 'xmlns', 'manifest', 'icon', 'code', 'target', 'attributename', 'filter', 'style',
]);

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isHtmlSpace(c: number): boolean {
  // \v counts too: old IE parsers separate attributes with it.
  return c === 32 || c === 9 || c === 10 || c === 11 || c === 12 || c === 13;
}

/** Drops NUL characters, which browsers skip or replace inside tag and attribute names. */
function stripNul(s: string): string {
  return s.indexOf('\0') < 0 ? s : s.split('\0').join('');
}

/** CSS as the style engine reads it: comments removed, backslash escapes decoded, lowercased. */
function normalizeCss(raw: string): string {
  const v = htmlDecode(raw.length > 2048 ? raw.slice(0, 2048) : raw);
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 47 && v.charCodeAt(i + 1) === 42) {
      const end = v.indexOf('*/', i + 2);
      i = end < 0 ? v.length : end + 1;
      continue;
    }
    if (c === 92 /* \\ */) {
      let j = i + 1;
      let code = 0;
      while (j < v.length && j < i + 7 && hexDigit(v.charCodeAt(j)) >= 0) code = code * 16 + hexDigit(v.charCodeAt(j++));
      if (j > i + 1) {
        if (code > 0 && code <= 0x10ffff) out += String.fromCodePoint(code);
        if (isHtmlSpace(v.charCodeAt(j))) j++;
        i = j - 1;
        continue;
      }
      continue;
    }
    out += v[i];
  }
  return out.toLowerCase();
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * The URL scheme a browser would see: entity references decoded, and whitespace and control
 * characters inside it dropped (browsers ignore them: "jav&#x09;ascript:", "\x01javascript:").
 */
function schemeOf(raw: string): string {
  const v = htmlDecode(raw.length > 256 ? raw.slice(0, 256) : raw);
  let out = '';
  for (let i = 0; i < v.length && out.length < 24; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 0xfffd || c === 0xa0) continue;
    if (c === 58 /* : */) return out.toLowerCase();
    if (!(isAlpha(c) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return '';
    out += v[i];
  }
  return '';
}

const SCRIPT_SCHEMES = ['javascript', 'vbscript', 'livescript', 'mocha', 'ecmascript'];

function scriptUrlScore(raw: string): number {
  const scheme = schemeOf(raw);
  if (SCRIPT_SCHEMES.includes(scheme)) return 0.95;
  const lead = leadingWord(raw);
  for (const sc of SCRIPT_SCHEMES) if (lead.startsWith(sc)) return 0.8;
  if (raw.length < 2048 && htmlDecode(raw).toLowerCase().indexOf('javascript:') >= 0) return 0.7;
  if (scheme === 'data') {
    const v = raw.toLowerCase();
    return v.indexOf('html') >= 0 || v.indexOf('script') >= 0 || v.indexOf('svg') >= 0 || v.indexOf('base64') >= 0 ? 0.85 : 0.4;
  }
  return 0;
}

/** The letters a value starts with, skipping what browsers skip (controls, spaces). */
function leadingWord(raw: string): string {
  const v = htmlDecode(raw.length > 64 ? raw.slice(0, 64) : raw);
  let out = '';
  for (let i = 0; i < v.length && out.length < 16; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 0xfffd || c === 0xa0) continue;
    if (!isAlpha(c)) break;
    out += v[i];
  }
  return out.toLowerCase();
}

/**
 * Style values: script in CSS (expression(), script URLs, bindings) scores high, loading from
 * elsewhere (url(), @import) is CSS injection's exfiltration channel. Plain declarations
 * (`color: red; margin: 0 auto`) are what every page's markup carries: low.
 */
function styleScore(raw: string): number {
  const v = normalizeCss(raw);
  if (v.indexOf('expression') >= 0 && v.indexOf('(') >= 0) return 0.9;
  if (v.indexOf('javascript:') >= 0 || v.indexOf('vbscript:') >= 0) return 0.9;
  if (v.indexOf('behavior') >= 0 || v.indexOf('binding') >= 0) return 0.85;
  if (v.indexOf('url(') >= 0 || v.indexOf('@import') >= 0) return 0.65;
  return cssConfusion(raw) ? 0.55 : 0.2;
}

/**
 * Inline CSS that plays on the CSS parser rather than styling: braces or brackets that end the
 * declaration block, markup, backslash escapes, control characters, an unbalanced quote. Authors'
 * inline styles (`color: red; margin: 0 auto; font-family: "Open Sans"`) use none of them.
 */
function cssConfusion(raw: string): boolean {
  const v = htmlDecode(raw.length > 2048 ? raw.slice(0, 2048) : raw);
  let single = 0;
  let double = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 123 || c === 125 || c === 91 || c === 93 || c === 60 || c === 62 || c === 92 || c < 32 || c === 0xfffd) return true;
    if (c === 39) single++;
    else if (c === 34) double++;
  }
  return single % 2 === 1 || double % 2 === 1;
}

/**
 * <link> and <meta> are ordinary head markup; what makes them dangerous is what they point at:
 * an HTML import or a stylesheet from another origin, a refresh to a script URL or a cookie.
 */
/** <link rel=stylesheet href=//elsewhere>: CSS from an origin the page did not choose. */
function foreignStylesheet(tagText: string): boolean {
  const v = tagText.toLowerCase();
  if (v.indexOf('stylesheet') < 0) return false;
  const h = v.indexOf('href');
  if (h < 0) return false;
  let k = h + 4;
  while (k < v.length && (isHtmlSpace(v.charCodeAt(k)) || v[k] === '=' || v[k] === '"' || v[k] === "'")) k++;
  return v.startsWith('//', k) || v.startsWith('http:', k) || v.startsWith('https:', k);
}

function headElementScore(tag: string, name: string, value: string): number {
  const v = value.toLowerCase();
  if (tag === 'link') {
    if (name === 'rel' && v.indexOf('import') >= 0) return 0.8;
    if (name === 'href' && v.startsWith('data:')) return 0.75;
  } else if (tag === 'meta') {
    if (name === 'http-equiv' && (v.indexOf('refresh') >= 0 || v.indexOf('set-cookie') >= 0 || v === 'link')) return 0.65;
    // A charset the page never declares itself (UTF-7 and kin) turns harmless bytes into markup.
    if ((name === 'charset' || name === 'content') && v.indexOf('utf-7') >= 0 || v.indexOf('utf7') >= 0) return 0.7;
  }
  return 0;
}

/** Calls and properties that XSS payloads use to prove or exploit execution. */
const JS_SINKS = ['alert(', 'prompt(', 'confirm(', 'eval(', 'fromcharcode(', 'document.cookie', 'document.write(', 'document.location', 'window.location', 'settimeout(', 'setinterval(', 'atob(', '.innerhtml', 'import(', 'constructor('];

/**
 * A value that ends a JavaScript string or expression and calls a sink: ";alert(1)//,
 * '-prompt(1)-'. Plain text mentioning these names without code around them scores low.
 */
function scanScript(s: string): XssFinding {
  const v = (s.length > 4096 ? s.slice(0, 4096) : s).toLowerCase();
  let best = 0;
  let reason = '';
  for (const sink of JS_SINKS) {
    const at = v.indexOf(sink);
    if (at < 0) continue;
    let score = 0.55;
    // What precedes: a quote or bracket closing the app's own string/expression, then a separator.
    for (let k = at - 1; k >= 0 && k >= at - 6; k--) {
      const c = v.charCodeAt(k);
      if (c === 34 || c === 39 || c === 96) {
        score = 0.8;
        break;
      }
      if (!(c === 59 || c === 45 || c === 43 || c === 41 || c === 125 || c === 32 || c === 40 || c === 124 || c === 38 || c === 61 || c === 62 || c === 44 || c === 42 || c === 47 || c === 46)) break;
    }
    if (score > best) {
      best = score;
      reason = `script sink ${sink.replace('(', '')}`;
    }
  }
  return { score: best, reason, context: best ? 'script' : '' };
}

/** Does an event-handler value look like script (call, assignment, template, URL)? */
function looksLikeScript(v: string): boolean {
  return v.indexOf('(') >= 0 || v.indexOf('`') >= 0 || v.indexOf('=') >= 0;
}

interface AttrScan {
  score: number;
  reason: string;
  /** Index after the tag's ">" (or the end of input). */
  end: number;
}

/**
 * Reads attributes from `i` up to the tag's end, scoring the dangerous ones. `inTag` is false when
 * reading after an injected quote, where only clearly script-bearing attributes count.
 */
function scanAttributes(s: string, i: number, inTag: boolean, tag: string): AttrScan {
  const n = s.length;
  let score = 0;
  let reason = '';
  const limit = Math.min(n, i + 1024);
  let attrs = 0;
  while (i < limit && attrs < 64) {
    let c = s.charCodeAt(i);
    if (isHtmlSpace(c) || c === 47 /* / */ || c === 0 || c === 34 || c === 39) {
      i++;
      continue;
    }
    if (c === 62 /* > */) return { score, reason, end: i + 1 };
    if (c === 60 /* < */ && !inTag) break;
    // Attribute name.
    const start = i;
    while (i < limit) {
      c = s.charCodeAt(i);
      if (isHtmlSpace(c) || c === 47 || c === 62 || c === 61) break;
      if (i > start && (c === 34 || c === 39)) break;
      i++;
    }
    if (i === start) {
      i++;
      continue;
    }
    const name = stripNul(s.slice(start, Math.min(i, start + 40))).toLowerCase();
    // Namespaced attributes (x:ontimer, ev:handler) act by their local name.
    const colon = name.lastIndexOf(':');
    const local = colon >= 0 ? name.slice(colon + 1) : name;
    attrs++;
    while (i < limit && isHtmlSpace(s.charCodeAt(i))) i++;
    let value = '';
    let hasValue = false;
    if (s.charCodeAt(i) === 61 /* = */) {
      hasValue = true;
      i++;
      while (i < limit && isHtmlSpace(s.charCodeAt(i))) i++;
      const q = s.charCodeAt(i);
      if (q === 34 || q === 39 || q === 96) {
        const end = s.indexOf(String.fromCharCode(q), i + 1);
        const stop = end < 0 ? n : end;
        value = s.slice(i + 1, Math.min(stop, i + 1 + 2048));
        i = end < 0 ? n : end + 1;
      } else {
        const vs = i;
        while (i < limit && !isHtmlSpace(s.charCodeAt(i)) && s.charCodeAt(i) !== 62) i++;
        value = s.slice(vs, Math.min(i, vs + 2048));
      }
    }
    let a = 0;
    let why = '';
    if (local.length > 3 && local.charCodeAt(0) === 111 && local.charCodeAt(1) === 110 && isAlpha(local.charCodeAt(2))) {
      // on*: an event handler runs its value as script.
      if (inTag) a = hasValue ? 0.95 : 0.4;
      else if (hasValue && looksLikeScript(value)) a = 0.85;
      why = `event handler ${name}`;
    } else if (inTag && (name === 'datasrc' || name === 'datafld' || name === 'dataformatas' || local === 'handler' || local === 'event')) {
      a = 0.8;
      why = `script binding ${name}`;
    } else if (inTag && (name === 'xmlns' || name.startsWith('xmlns:')) && !value.startsWith('http://www.w3.org/')) {
      // The W3C's own namespaces (XHTML, SVG, MathML) are what every XHTML page declares.
      a = 0.55;
      why = 'namespace declaration';
    } else if (hasValue && name === 'style') {
      a = styleScore(value);
      why = 'script in style';
    } else if (hasValue && (URL_ATTRIBUTES.has(name) || name.endsWith(':href'))) {
      a = scriptUrlScore(value);
      if (a === 0 && name === 'content' && value.toLowerCase().indexOf('url=') >= 0) a = scriptUrlScore(value.slice(value.toLowerCase().indexOf('url=') + 4));
      if (!inTag) a *= 0.9;
      why = `script URL in ${name}`;
    } else if (hasValue && name === 'srcdoc') {
      a = 0.8;
      why = 'srcdoc';
    } else if (name === 'autofocus' && !inTag) {
      a = 0.3;
    }
    if (tag === 'form' && name === 'action' && a === 0) a = 0.2;
    if ((tag === 'link' || tag === 'meta') && hasValue) {
      const h = headElementScore(tag, name, value);
      if (h > a) {
        a = h;
        why = `${name}=${value.slice(0, 24)}`;
      }
    }
    if (a > score) {
      score = a;
      reason = why;
    }
  }
  return { score, reason, end: i };
}

/**
 * A value echoed into HTML text: tags and what they carry. Every "<" is examined on its own, not
 * only where the previous tag ended: payloads hide tags inside attribute values and comments that
 * one parser closes earlier than another (mutation XSS).
 */
function scanMarkup(s: string): XssFinding {
  let best: XssFinding = { score: 0, reason: '', context: '' };
  const n = s.length;
  let i = s.indexOf('<');
  let tags = 0;
  while (i >= 0 && i < n && tags < 128) {
    let p = i + 1;
    while (s.charCodeAt(p) === 0) p++;
    const c = s.charCodeAt(p);
    let score = 0;
    let reason = '';
    const closing = c === 47 && (isAlpha(s.charCodeAt(p + 1)) || s.charCodeAt(p + 1) === 47);
    if (isAlpha(c) || closing) {
      tags++;
      let j = closing ? p + 1 : p;
      while (s.charCodeAt(j) === 47) j++;
      const nameStart = j;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (isHtmlSpace(d) || d === 47 || d === 62 || d === 60) break;
        j++;
      }
      const tag = stripNul(s.slice(nameStart, Math.min(j, nameStart + 40))).toLowerCase();
      const attrs = scanAttributes(s, j, true, tag);
      if (closing) {
        // A closing script/style tag escapes the raw-text element the value lands in; attributes
        // on closing tags are read by some parsers.
        score = Math.max(tag === 'script' ? 0.7 : tag === 'style' || tag === 'textarea' || tag === 'title' ? 0.4 : 0.1, attrs.score);
        reason = attrs.score > 0.5 ? `${attrs.reason} on </${tag}>` : `</${tag}>`;
      } else {
        let el = SCRIPT_ELEMENTS[tag] ?? 0;
        // Namespaced elements (svg:svg, x:template); C++ names in prose (std::vector) are not.
        if (el === 0 && tag.indexOf(':') > 0 && tag.indexOf('::') < 0) el = 0.6;
        score = Math.max(el, attrs.score);
        reason = attrs.score > el ? `${attrs.reason} on <${tag}>` : `<${tag}> element`;
        if (el > 0 && attrs.score > 0.5) score = Math.min(1, score + 0.05);
        // A page's own head links CDN stylesheets; a request value that does is CSS injection.
        if (tag === 'link' && score < 0.55 && foreignStylesheet(s.slice(j, attrs.end))) {
          score = 0.55;
          reason = 'stylesheet from another origin';
        }
        if (score === 0) score = 0.2;
      }
    } else if (c === 33 /* <! */) {
      const head = s.slice(p + 1, p + 10).toUpperCase();
      if (head.startsWith('[CDATA[')) {
        score = 0.4;
        reason = 'CDATA section';
      } else if (head.startsWith('ENTITY') || head.startsWith('ATTLIST') || head.startsWith('ELEMENT') || (head.startsWith('DOCTYPE') && s.indexOf('[', p) > 0)) {
        score = 0.7;
        reason = 'document type declaration';
      } else if (head.startsWith('--')) {
        score = 0.2;
        reason = 'HTML comment';
      }
    } else if (c === 63 /* <? */ && isAlpha(s.charCodeAt(p + 1))) {
      const word = s.slice(p + 1, p + 7).toLowerCase();
      // <?xml version="1.0"?> opens every XML document; other instructions are rarer.
      score = word.startsWith('import') ? 0.8 : word.startsWith('xml ') ? 0.2 : 0.5;
      reason = 'processing instruction';
    }
    if (score > best.score) best = { score, reason, context: 'html' };
    if (best.score >= 0.95) break;
    i = s.indexOf('<', i + 1);
  }
  return best;
}

/** A value that closes a quoted attribute value and adds attributes: `" onmouseover="alert(1)`. */
function scanAttributeBreakout(s: string): XssFinding {
  let best: XssFinding = { score: 0, reason: '', context: '' };
  let from = 0;
  for (let k = 0; k < 4; k++) {
    let q = -1;
    for (let i = from; i < s.length && i < from + 512; i++) {
      const c = s.charCodeAt(i);
      if (c === 34 || c === 39 || c === 96) {
        q = i;
        break;
      }
    }
    if (q < 0) break;
    const r = scanAttributes(s, q + 1, false, '');
    if (r.score > best.score) best = { score: r.score, reason: r.reason, context: 'attribute' };
    from = q + 1;
  }
  return best;
}

function codeAfterScheme(v: string): boolean {
  const colon = v.indexOf(':');
  const rest = v.slice(colon + 1, colon + 512);
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    // ( = ` . [ ; % & \ { : what code or encoded code needs.
    if (c === 40 || c === 61 || c === 96 || c === 46 || c === 91 || c === 59 || c === 37 || c === 38 || c === 92 || c === 123) return true;
  }
  return false;
}

export function scoreXss(value: string): XssFinding {
  let best: XssFinding = { score: 0, reason: '', context: '' };
  if (value.length < 3) return best;
  if (value.indexOf('<') >= 0) best = scanMarkup(value);
  if (best.score < 0.95 && value.indexOf('=') >= 0 && (value.indexOf('"') >= 0 || value.indexOf("'") >= 0 || value.indexOf('`') >= 0)) {
    const a = scanAttributeBreakout(value);
    if (a.score > best.score) best = a;
  }
  if (best.score < 0.85 && value.indexOf('=') >= 0) {
    // Unquoted attribute context: x onerror=alert(1)
    const r = scanAttributes(value, 0, false, '');
    if (r.score > best.score) best = { score: r.score, reason: r.reason, context: 'attribute' };
  }
  if (best.score < 0.8 && value.indexOf('(') >= 0 || value.indexOf('document.') >= 0) {
    const j = scanScript(value);
    if (j.score > best.score) best = j;
  }
  if (best.score < 0.9 && (value.indexOf('`') >= 0 || value.indexOf('[') >= 0 || value.indexOf('${') >= 0)) {
    const j = scoreJsCode(value);
    if (j.score > best.score) best = j;
  }
  if (best.score < 0.95 && value.indexOf(':') >= 0) {
    // The whole value as a link target: javascript:alert(1). Prose ("JavaScript: Basics of …")
    // names the language; a link target carries code after the scheme.
    const u = codeAfterScheme(value) ? scriptUrlScore(value) : 0;
    const score = u >= 0.95 ? 0.85 : u >= 0.85 ? 0.7 : 0;
    if (score > best.score) best = { score, reason: 'script URL', context: 'url' };
  }
  return best;
}
