/**
 * Inhibition, as in Alertmanager: an alert matching a rule's target_matchers is muted while some
 * firing alert matches its source_matchers and has the same values for every label in `equal` (a
 * label missing on both sides counts as equal). When the target also matches the source side, sources
 * that also match the target side are ignored, so that alerts matching both sides cannot inhibit one
 * another (Alertmanager's two-sided-match rule).
 */
import { Labels, labelValue } from './labels';
import { matchesAll } from './matchers';
import type { InhibitRule } from './config';

export interface InhibitCandidate {
  fingerprint: string;
  labels: Labels;
}

export class Inhibitor {
  constructor(private readonly rules: readonly InhibitRule[]) {}

  /** Fingerprints of the firing alerts that inhibit `target`, or [] when it is not inhibited. */
  inhibitedBy(target: InhibitCandidate, firing: Iterable<InhibitCandidate>): string[] {
    if (!this.rules.length) return [];
    const out = new Set<string>();
    const sources = [...firing];
    for (const rule of this.rules) {
      if (!matchesAll(rule.targetMatchers, target.labels)) continue;
      const twoSided = matchesAll(rule.sourceMatchers, target.labels);
      for (const src of sources) {
        if (twoSided && matchesAll(rule.targetMatchers, src.labels)) continue;
        if (src.fingerprint === target.fingerprint) continue;
        if (!matchesAll(rule.sourceMatchers, src.labels)) continue;
        if (rule.equal.every((n) => labelValue(src.labels, n) === labelValue(target.labels, n))) out.add(src.fingerprint);
      }
    }
    return [...out];
  }
}
