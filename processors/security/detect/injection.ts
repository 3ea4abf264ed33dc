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

export function inspectValue(value: string, opts: InspectOptions = {}): InjectionResult {
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
