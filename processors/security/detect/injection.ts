/**
 * Entry point of the injection detectors for one attribute value: decodes it the ways an
 * application would (percent, HTML references), then keeps the strongest SQLi and XSS readings.
 */
import { decodedForms } from './decode';
import { InjectionFinding, SQLI_THRESHOLD, scoreSqli } from './sqli';
import { XSS_THRESHOLD, XssFinding, scoreXss } from './xss';

export interface InjectionResult {
  sqli: InjectionFinding;
  xss: XssFinding;
}

export interface InspectOptions {
  /** Read "+" as a space (query strings and form bodies). */
  plusAsSpace?: boolean;
  sqli?: boolean;
  xss?: boolean;
  /** Longest prefix inspected; attacks show in their first kilobytes and this bounds the cost. */
  maxLength?: number;
}

const NONE: InjectionResult = Object.freeze({
  sqli: Object.freeze({ score: 0, reason: '', fingerprint: '', context: 'bare' }),
  xss: Object.freeze({ score: 0, reason: '', context: '' }),
}) as InjectionResult;

/**
 * Letters, digits and `_ . : @ ~ / -` cannot carry an injection: SQL needs a quote, an operator,
 * white space (or its encodings) or a comment, and HTML/JavaScript need markup, quotes, parentheses
 * or encodings. Most path segments, ids and tokens are like this and skip the tokenizers.
 */
const PLAIN = /^[A-Za-z0-9_.:@~/-]*$/;
export function plain(v: string): boolean {
  return PLAIN.test(v) && v.indexOf('--') < 0 && v.indexOf('/*') < 0 && v.indexOf('*/') < 0;
}

/**
 * Telemetry repeats itself: the same user agents, routes and parameters arrive in span after span.
 * Results for short values are remembered (bounded; cleared when full), per combination of options.
 */
const CACHE_MAX_ENTRIES = 8192;
const CACHE_MAX_LENGTH = 512;
const caches = new Map<number, Map<string, InjectionResult>>();

export function inspectValue(value: string, opts: InspectOptions = {}): InjectionResult {
  const max = opts.maxLength ?? 16384;
  const v = value.length > max ? value.slice(0, max) : value;
  if (plain(v)) return NONE;
  if (v.length > CACHE_MAX_LENGTH) return inspectValueUncached(v, opts);
  const flags = (opts.plusAsSpace ? 1 : 0) | (opts.sqli === false ? 2 : 0) | (opts.xss === false ? 4 : 0);
  let cache = caches.get(flags);
  if (!cache) caches.set(flags, (cache = new Map()));
  let r = cache.get(v);
  if (r === undefined) {
    r = inspectValueUncached(v, opts);
    if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
    cache.set(v, r);
  }
  return r;
}

/** What a value costs the first time it is seen: the plain-value shortcut, then the detectors. */
export function inspectValueNoCache(value: string, opts: InspectOptions = {}): InjectionResult {
  return plain(value) ? NONE : inspectValueUncached(value, opts);
}

function inspectValueUncached(value: string, opts: InspectOptions = {}): InjectionResult {
  const max = opts.maxLength ?? 16384;
  const v = value.length > max ? value.slice(0, max) : value;
  let sqli: InjectionFinding = { score: 0, reason: '', fingerprint: '', context: 'bare' };
  let xss: XssFinding = { score: 0, reason: '', context: '' };
  for (const form of decodedForms(v, opts.plusAsSpace ?? false)) {
    if (opts.sqli !== false) {
      const s = scoreSqli(form);
      if (s.score > sqli.score) sqli = s;
    }
    if (opts.xss !== false) {
      const x = scoreXss(form);
      if (x.score > xss.score) xss = x;
    }
  }
  return { sqli, xss };
}

export { SQLI_THRESHOLD, XSS_THRESHOLD };
