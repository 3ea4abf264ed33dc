/**
 * Precision and recall of stub detection on the labelled fixtures (test/fixtures/codehealth/labelled).
 * Each function carries a label on the line above it (above its decorators or overload signatures):
 * `# expect: ok` / `// expect: ok` (not a stub), or `expect: stub/<kind>`.
 *
 *   node --import=@tapjs/typescript ... bench/codehealth/accuracy.ts [dev|dev2|heldout|heldout2|all]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSource, languageOf } from '../../receivers/codehealth/analyze';

export interface Accuracy {
  functions: number;
  stubs: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  /** Stubs found with the labelled kind, among true positives. */
  kindAgreement: number;
  errors: string[];
}

const SKIP = /^\s*(@|(export\s+)?(declare\s+)?(async\s+)?function\b.*;\s*$)/;

export async function measure(dir: string): Promise<Accuracy> {
  let tp = 0, fp = 0, fn = 0, functions = 0, stubs = 0, kindOk = 0;
  const errors: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!languageOf(f)) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    const lines = text.split('\n');
    const labelled = new Set<number>();
    lines.forEach((l, i) => { if (/expect: /.test(l)) labelled.add(i + 1); });
    const a = await analyzeSource(text, f);
    const used = new Set<number>();
    for (const fun of a.functions) {
      let i = fun.line - 2; // 0-based index of the line above
      while (i >= 0 && SKIP.test(lines[i])) i--;
      const m = i >= 0 ? /expect: (ok|stub\/(\w+))/.exec(lines[i]) : null;
      if (!m) { errors.push(`${f}:${fun.line} ${fun.name}: no label`); continue; }
      used.add(i + 1);
      functions++;
      const isStub = m[1] !== 'ok';
      const found = fun.verdict.status === 'stub';
      if (isStub) stubs++;
      if (isStub && found) { tp++; if (fun.verdict.status === 'stub' && fun.verdict.kind === m[2]) kindOk++; else errors.push(`${f}:${fun.line} ${fun.name}: kind ${fun.verdict.status === 'stub' ? fun.verdict.kind : ''}, labelled ${m[2]}`); }
      else if (isStub) { fn++; errors.push(`${f}:${fun.line} ${fun.name}: missed stub/${m[2]} (${JSON.stringify(fun.verdict)})`); }
      else if (found) { fp++; errors.push(`${f}:${fun.line} ${fun.name}: false stub ${JSON.stringify(fun.verdict)}`); }
    }
    for (const l of labelled) if (!used.has(l)) errors.push(`${f}:${l}: label without a function`);
  }
  return { functions, stubs, tp, fp, fn, precision: tp / (tp + fp || 1), recall: tp / (tp + fn || 1), kindAgreement: kindOk / (tp || 1), errors };
}

if (require.main === module) {
  const which = process.argv[2] ?? 'all';
  const base = join(__dirname, '../../test/fixtures/codehealth/labelled');
  (async () => {
    for (const set of which === 'all' ? ['dev', 'dev2', 'heldout', 'heldout2'] : [which]) {
      const r = await measure(join(base, set));
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      console.log(`${set}: ${r.functions} functions, ${r.stubs} labelled stubs; precision ${pct(r.precision)} (${r.tp}/${r.tp + r.fp}), recall ${pct(r.recall)} (${r.tp}/${r.tp + r.fn}), kind agreement ${pct(r.kindAgreement)}`);
      for (const e of r.errors) console.log(`  ${e}`);
    }
  })();
}
