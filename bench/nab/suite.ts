/**
 * One-process development check: NAB (in-sample, held out by group and by file) and synthetic
 * corpora scored at the threshold fitted on NAB, standard profile unless --profile is given.
 *
 *   npx tsx bench/nab/suite.ts --data DIR --windows FILE [--synthetic SEED,...] [--param k=v ...] [--per-file] [--profile NAME]
 *
 * Synthetic corpora are generated in memory from their seeds (bench/nab/synthetic.ts).
 */
import { readCorpus, readWindows, NabSeries } from './corpus';
import { NAB_PROFILES, nullDetectorScore, scoreCorpus } from './scorer';
import { byFile, byGroup, fitAll, heldOut, normalise, rawAt } from './heldout';
import { synthesize, windowsOf, nabTime } from './synthetic';
import { parseNabTime } from './corpus';
import { scoreFiles } from './run';
import { AnomalyParams, DEFAULT_PARAMS } from '../../processors/anomaly/algorithm';

const argv = process.argv.slice(2);
const get = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
const params: AnomalyParams = { ...DEFAULT_PARAMS };
argv.forEach((a, i) => { if (a === '--param') { const [k, v] = argv[i + 1].split('='); (params as unknown as Record<string, number>)[k] = Number(v); } });
const profiles = get('--profile') ? [get('--profile')!] : ['standard'];
const perFile = argv.includes('--per-file');

function syntheticCorpus(seed: number): { corpus: NabSeries[]; windows: Map<string, Array<[number, number]>> } {
  const files = synthesize(seed);
  const windows = new Map<string, Array<[number, number]>>();
  const corpus = files.map((f) => {
    const name = `${f.group}/${f.file}`;
    windows.set(name, windowsOf(f).map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as [number, number]));
    const text = f.times.map(nabTime);
    return { name, group: f.group, file: f.file, timestampText: text, timestamps: f.times.map((t) => t * 1000), values: Float64Array.from(f.values) };
  });
  return { corpus, windows };
}

const corpus = readCorpus(get('--data')!);
const windows = readWindows(get('--windows')!);
const files = scoreFiles(corpus, windows, params);
const seeds = (get('--synthetic') ?? '').split(',').filter(Boolean).map(Number);
for (const name of profiles) {
  const cost = NAB_PROFILES[name];
  const cands = [{ label: 'x', files }];
  const fit = fitAll(cands, cost);
  const ins = scoreCorpus(files, name, cost);
  const parts = [`${name}: in-sample ${ins.normalized.toFixed(2)} (th ${fit.threshold.toFixed(3)})`];
  if (new Set(corpus.map((s) => s.group)).size > 1) parts.push(`by group ${heldOut(cands, byGroup, cost).normalized.toFixed(2)}`);
  parts.push(`by file ${heldOut(cands, byFile, cost).normalized.toFixed(2)}`);
  if (perFile) for (const f of ins.perFile) console.log(`  ${f.name.padEnd(58)} ${f.score.toFixed(3)} tp ${f.tp} fp ${f.fp}`);
  for (const seed of seeds) {
    const s = syntheticCorpus(seed);
    const sf = scoreFiles(s.corpus, s.windows, params);
    const raws = rawAt(sf, fit.threshold, cost);
    const perfect = sf.reduce((a, f) => a + f.windows.length, 0) * cost.tpWeight;
    const own = scoreCorpus(sf, name, cost);
    parts.push(`syn${seed} ${normalise(raws.reduce((a, b) => a + b, 0), nullDetectorScore(sf, cost), perfect).toFixed(2)} (own ${own.normalized.toFixed(1)}@${own.threshold.toFixed(2)})`);
    if (perFile) sf.forEach((f, i) => console.log(`  syn${seed} ${f.name.padEnd(40)} ${raws[i].toFixed(3)}`));
  }
  console.log(parts.join('  '));
}
