import type { InjectionFinding } from './sqli';
export const XSS_THRESHOLD = 0.5;
export type XssFinding = Omit<InjectionFinding, 'context' | 'fingerprint'> & { context: string };
export function scoreXss(_value: string): XssFinding {
  return { score: 0, reason: '', context: 'html' };
}
