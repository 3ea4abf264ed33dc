/**
 * Runs the anomaly processor's streaming algorithm over a NAB-layout corpus and scores it with
 * NAB's rules, in-sample (NAB's protocol: the threshold is fitted on the files it scores) and held
 * out (heldout.ts: threshold, and any swept constant, fitted on the other groups or files).
 *
 *   npx tsx bench/nab/run.ts --data DIR --windows FILE \
 *     [--profiles FILE] [--out DIR] [--detector NAME] [--param key=value ...] \
 *     [--sweep key=v1,v2,... ...] [--check-data DIR --check-windows FILE] [--quiet]
 *
 * Each file is streamed row by row through a fresh series state (value column, timestamps as
 * given). --sweep scores every combination of the listed values; the in-sample figure then picks
 * the best combination on the whole corpus, the held-out figures pick it per fold without the
 * fold's files. --check-data scores a second corpus (e.g. bench/nab/synthetic.ts's) at the setting
 * and threshold fitted on --data: a held-out check on data that is not NAB. With --out, NAB's
 * results files are written (<out>/<group>/<detector>_<file>.csv with
 * timestamp,value,anomaly_score,label) so NAB's own scorer can check the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NabSeries, readCorpus, readProfiles, readWindows } from './corpus';
import { NAB_PROFILES, Profiles, ScoredFile, nullDetectorScore, scoreCorpus } from './scorer';
import { Candidate, byFile, byGroup, fitAll, heldOut, normalise, rawAt } from './heldout';
import { AnomalyParams, SeriesState, newSeries, scorePoint, DEFAULT_PARAMS } from '../../processors/anomaly/algorithm';

interface Args {
  data: string;
  windows: string;
  profiles?: string;
  out?: string;
  detector: string;
  params: Partial<AnomalyParams>;
  sweep: Array<[string, number[]]>;
  checkData?: string;
  checkWindows?: string;
  quiet: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { data: '', windows: '', detector: 'vigil', params: {}, sweep: [], quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--data') a.data = v();
    else if (k === '--windows') a.windows = v();
    else if (k === '--profiles') a.profiles = v();
    else if (k === '--out') a.out = v();
    else if (k === '--detector') a.detector = v();
    else if (k === '--check-data') a.checkData = v();
    else if (k === '--check-windows') a.checkWindows = v();
    else if (k === '--quiet') a.quiet = true;
    else if (k === '--param') {
      const [pk, pv] = v().split('=');
      (a.params as Record<string, number>)[pk] = Number(pv);
    } else if (k === '--sweep') {
      const [pk, pv] = v().split('=');
      const values = pv.split(',').map(Number);
      if (values.some((x) => !Number.isFinite(x))) throw new Error(`--sweep ${pk}: values must be numbers`);
      a.sweep.push([pk, values]);
    } else throw new Error(`unknown argument ${k}`);
  }
  if (!a.data || !a.windows) throw new Error('usage: run.ts --data DIR --windows FILE [--profiles FILE] [--out DIR] [--param k=v] [--sweep k=v1,v2] [--check-data DIR --check-windows FILE]');
  if (!a.checkData !== !a.checkWindows) throw new Error('--check-data and --check-windows go together');
  return a;
}

/** Every combination of the swept values, each as a parameter override and a label. */
function grid(sweep: Array<[string, number[]]>): Array<{ label: string; params: Record<string, number> }> {
  let out = [{ label: '', params: {} as Record<string, number> }];
  for (const [k, values] of sweep) {
    out = out.flatMap((o) => values.map((v) => ({ label: `${o.label}${o.label ? ' ' : ''}${k}=${v}`, params: { ...o.params, [k]: v } })));
  }
  return out.map((o) => ({ label: o.label || 'defaults', params: o.params }));
}

let points = 0;
let busyNs = 0n;

/** Streams every file through a fresh series state. */
export function scoreFiles(corpus: NabSeries[], windows: Map<string, Array<[number, number]>>, params: AnomalyParams): ScoredFile[] {
  return corpus.map((s) => {
    const scores = new Float64Array(s.values.length);
    const state: SeriesState = newSeries(params);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < s.values.length; i++) scores[i] = scorePoint(state, s.values[i], params, s.timestamps[i] / 1000);
    busyNs += process.hrtime.bigint() - t0;
    points += s.values.length;
    return { name: s.name, timestamps: s.timestamps, scores, windows: windows.get(s.name) ?? [] };
  });
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const corpus = readCorpus(args.data);
  const windows = readWindows(args.windows);
  const profiles: Profiles = args.profiles ? readProfiles(args.profiles) : NAB_PROFILES;
  const settings = grid(args.sweep);
  const candidates: Candidate[] = settings.map((g) => ({
    label: g.label,
    files: scoreFiles(corpus, windows, { ...DEFAULT_PARAMS, ...args.params, ...g.params }),
  }));
  const check = args.checkData ? readCorpus(args.checkData) : undefined;
  const checkWindows = args.checkWindows ? readWindows(args.checkWindows) : undefined;
  const checkCandidates = check && checkWindows
    ? settings.map((g) => scoreFiles(check, checkWindows, { ...DEFAULT_PARAMS, ...args.params, ...g.params }))
    : undefined;

  if (args.out) {
    for (let i = 0; i < corpus.length; i++) writeResults(args.out, args.detector, corpus[i], candidates[0].files[i].scores, candidates[0].files[i].windows);
  }
  const groups = new Set(corpus.map((s) => s.group)).size;
  console.log(`data: ${args.data} (${groups} groups, ${corpus.length} files)${settings.length > 1 ? `; ${settings.length} settings swept` : ''}`);
  for (const [name, cost] of Object.entries(profiles)) {
    const fit = fitAll(candidates, cost);
    const best = candidates[fit.candidate];
    const inSample = scoreCorpus(best.files, name, cost);
    if (!args.quiet && name === 'standard') {
      console.log(`per file (${name} profile, in-sample threshold ${inSample.threshold.toFixed(4)}${settings.length > 1 ? `, ${best.label}` : ''}):`);
      for (const f of inSample.perFile) console.log(`  ${f.name.padEnd(58)} score ${f.score.toFixed(3).padStart(7)}  tp ${String(f.tp).padStart(5)}  fp ${String(f.fp).padStart(5)}  windows ${windows.get(f.name)?.length ?? 0}`);
    }
    let line = `${name.padEnd(20)} in-sample ${inSample.normalized.toFixed(2).padStart(6)} (threshold ${inSample.threshold.toFixed(4)}${settings.length > 1 ? `, ${best.label}` : ''})`;
    if (groups >= 2) {
      const logo = heldOut(candidates, byGroup, cost);
      line += `  held out: by group ${logo.normalized.toFixed(2).padStart(6)}`;
      if (!args.quiet) {
        for (const f of logo.folds) {
          const own = normalise(f.raw, f.nullScore, f.perfect);
          console.log(`  ${name} fold ${f.fold.padEnd(24)} threshold ${f.threshold.toFixed(4)}${settings.length > 1 ? ` ${f.label}` : ''}  raw ${f.raw.toFixed(3)} (null ${f.nullScore.toFixed(3)}, perfect ${f.perfect})  normalised ${Number.isNaN(own) ? 'n/a (no windows)' : own.toFixed(2)}`);
        }
      }
    }
    if (corpus.length >= 2) line += `  by file ${heldOut(candidates, byFile, cost).normalized.toFixed(2).padStart(6)}`;
    if (check && checkCandidates) {
      const files = checkCandidates[fit.candidate];
      const raw = rawAt(files, fit.threshold, cost).reduce((a, b) => a + b, 0);
      const perfect = files.reduce((a, f) => a + f.windows.length, 0) * cost.tpWeight;
      const own = scoreCorpus(files, name, cost);
      line += `  check corpus at this threshold ${normalise(raw, nullDetectorScore(files, cost), perfect).toFixed(2).padStart(6)} (its own best ${own.normalized.toFixed(2)})`;
    }
    console.log(line);
  }
  console.log(`${points} points scored, ${(points / (Number(busyNs) / 1e9)).toFixed(0)} points/s (includes JIT warm-up)`);
}

function writeResults(out: string, detector: string, s: NabSeries, scores: ArrayLike<number>, w: Array<[number, number]>): void {
  const dir = join(out, s.group);
  mkdirSync(dir, { recursive: true });
  const lines = ['timestamp,value,anomaly_score,label'];
  let wi = 0;
  for (let i = 0; i < scores.length; i++) {
    const t = s.timestamps[i];
    while (wi < w.length && t > w[wi][1]) wi++;
    const label = wi < w.length && t >= w[wi][0] && t <= w[wi][1] ? 1 : 0;
    lines.push(`${s.timestampText[i]},${s.values[i]},${scores[i]},${label}`);
  }
  writeFileSync(join(dir, `${detector}_${s.file}`), lines.join('\n') + '\n');
}

if (require.main === module) main();
