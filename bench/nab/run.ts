/**
 * Runs the anomaly processor's streaming algorithm over a NAB-layout corpus and scores it with
 * NAB's rules.
 *
 *   node -r ts-node/register/transpile-only bench/nab/run.ts --data DIR --windows FILE \
 *     [--profiles FILE] [--out DIR] [--detector NAME] [--param key=value ...] [--quiet]
 *
 * Each file is streamed row by row through a fresh series state (value column, timestamps as
 * given). With --out, NAB's results files are written (<out>/<group>/<detector>_<file>.csv with
 * timestamp,value,anomaly_score,label) so NAB's own scorer can check the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus, readProfiles, readWindows } from './corpus';
import { NAB_PROFILES, Profiles, ScoredFile, scoreCorpus } from './scorer';
import { AnomalyParams, SeriesState, newSeries, scorePoint, DEFAULT_PARAMS } from '../../processors/anomaly/algorithm';

interface Args {
  data: string;
  windows: string;
  profiles?: string;
  out?: string;
  detector: string;
  params: Partial<AnomalyParams>;
  quiet: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { data: '', windows: '', detector: 'vigil', params: {}, quiet: false };
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
    else if (k === '--quiet') a.quiet = true;
    else if (k === '--param') {
      const [pk, pv] = v().split('=');
      (a.params as Record<string, number>)[pk] = Number(pv);
    } else throw new Error(`unknown argument ${k}`);
  }
  if (!a.data || !a.windows) throw new Error('usage: run.ts --data DIR --windows FILE [--profiles FILE] [--out DIR] [--param k=v]');
  return a;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const corpus = readCorpus(args.data);
  const windows = readWindows(args.windows);
  const profiles: Profiles = args.profiles ? readProfiles(args.profiles) : NAB_PROFILES;
  const params: AnomalyParams = { ...DEFAULT_PARAMS, ...args.params };

  const files: ScoredFile[] = [];
  let points = 0;
  let busyNs = 0n;
  for (const s of corpus) {
    const scores = new Float64Array(s.values.length);
    const state: SeriesState = newSeries(params);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < s.values.length; i++) scores[i] = scorePoint(state, s.values[i], params);
    busyNs += process.hrtime.bigint() - t0;
    points += s.values.length;
    const w = windows.get(s.name) ?? [];
    files.push({ name: s.name, timestamps: s.timestamps, scores, windows: w });
    if (args.out) writeResults(args.out, args.detector, s, scores, w);
  }

  const results = Object.entries(profiles).map(([name, cost]) => scoreCorpus(files, name, cost));
  if (!args.quiet) {
    const std = results.find((r) => r.profile === 'standard') ?? results[0];
    console.log(`per file (${std.profile} profile, threshold ${std.threshold.toFixed(4)}):`);
    for (const f of std.perFile) console.log(`  ${f.name.padEnd(58)} score ${f.score.toFixed(3).padStart(7)}  tp ${String(f.tp).padStart(5)}  fp ${String(f.fp).padStart(5)}  windows ${windows.get(f.name)?.length ?? 0}`);
  }
  for (const r of results) {
    console.log(`${r.profile.padEnd(20)} normalised ${r.normalized.toFixed(2).padStart(6)}  (raw ${r.raw.toFixed(3)}, null ${r.nullScore.toFixed(3)}, perfect ${r.perfect}, threshold ${r.threshold.toFixed(4)})`);
  }
  console.log(`${corpus.length} files, ${points} points, scoring ${(points / (Number(busyNs) / 1e9)).toFixed(0)} points/s (includes JIT warm-up)`);
}

function writeResults(out: string, detector: string, s: ReturnType<typeof readCorpus>[number], scores: Float64Array, w: Array<[number, number]>): void {
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

main();
