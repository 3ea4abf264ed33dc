import t from 'tap';
import { NAB_PROFILES, ScoredFile, scoreCorpus } from '../bench/nab/scorer';
import { Candidate, byFile, byGroup, fitAll, heldOut, normalise } from '../bench/nab/heldout';
import { synthesize, windowsOf } from '../bench/nab/synthetic';

const standard = NAB_PROFILES.standard;

// A tiny corpus: 40 rows per file, one window over rows 20..23 (probation: 6 rows).
function file(name: string, scoreInWindow: number, falseAlarm: number): ScoredFile {
  const timestamps = Array.from({ length: 40 }, (_, i) => 1_000 * i);
  const scores = new Array<number>(40).fill(0);
  scores[21] = scoreInWindow;
  scores[10] = falseAlarm;
  return { name, timestamps, scores, windows: [[20_000, 23_000]] };
}

// Group a's detections sit at 0.9 and its false alarms at 0.5; group b is the reverse: the
// threshold that suits one group is wrong for the other, so held out scores below in-sample.
const files = [file('a/1.csv', 0.9, 0.5), file('a/2.csv', 0.9, 0.5), file('b/1.csv', 0.5, 0.9)];
const one: Candidate[] = [{ label: 'only', files }];

t.test('in-sample fits one threshold on everything', async (t) => {
  const fit = fitAll(one, standard);
  const nab = scoreCorpus(files, 'standard', standard);
  t.equal(fit.threshold, nab.threshold);
  t.ok(Math.abs(fit.raw - nab.raw) < 1e-9);
});

t.test('leave one group out applies the other groups\' threshold', async (t) => {
  const r = heldOut(one, byGroup, standard);
  t.same(r.folds.map((f) => f.fold), ['a', 'b']);
  // Fold a is fitted on b alone: b's best threshold is 0.5 (catch its window, at the cost of its
  // false alarm at 0.9), which on a also counts both of a's false alarms at 0.5.
  const a = r.folds.find((f) => f.fold === 'a')!;
  t.equal(a.threshold, 0.5);
  // Fold b is fitted on a: 0.9 catches a's windows without false alarms, and misses b's window.
  const b = r.folds.find((f) => f.fold === 'b')!;
  t.equal(b.threshold, 0.9);
  t.ok(b.raw < -1, `b at a's threshold: missed window and a false alarm (${b.raw})`);
  const inSample = scoreCorpus(files, 'standard', standard);
  t.ok(r.normalized < inSample.normalized, `held out ${r.normalized} < in-sample ${inSample.normalized}`);
  t.ok(Math.abs(r.raw - (a.raw + b.raw)) < 1e-9, 'the pooled raw score is the sum of the folds');
  t.ok(Math.abs(r.normalized - normalise(r.raw, r.nullScore, r.perfect)) < 1e-9);
});

t.test('a swept constant is chosen per fold, without the fold', async (t) => {
  // Setting "good" is right on group a only, "bad" on group b only: each fold picks the other's.
  const good = [file('a/1.csv', 0.9, 0), file('a/2.csv', 0.9, 0), file('b/1.csv', 0, 0.9)];
  const bad = [file('a/1.csv', 0, 0.9), file('a/2.csv', 0, 0.9), file('b/1.csv', 0.9, 0)];
  const cands: Candidate[] = [{ label: 'good', files: good }, { label: 'bad', files: bad }];
  const r = heldOut(cands, byGroup, standard);
  t.equal(r.folds.find((f) => f.fold === 'a')!.label, 'bad');
  t.equal(r.folds.find((f) => f.fold === 'b')!.label, 'good');
  t.equal(fitAll(cands, standard).candidate, 0, 'in-sample picks the setting that is best on the majority');
  // Leave one file out: a/1 is fitted on a/2 and b/1 together, where "good" wins.
  t.equal(heldOut(cands, byFile, standard).folds.find((f) => f.fold === 'a/1.csv')!.label, 'good');
});

t.test('held-out scoring needs two folds', async (t) => {
  t.throws(() => heldOut([{ label: 'x', files: [files[0], files[1]] }], byGroup, standard), /two folds/);
});

t.test('the synthetic corpus is reproducible and its windows follow NAB\'s rule', async (t) => {
  const a = synthesize(5);
  const b = synthesize(5);
  t.same(a.map((f) => f.values.slice(0, 50)), b.map((f) => f.values.slice(0, 50)), 'same seed, same values');
  t.not(synthesize(6)[0].values.slice(0, 50).join(), a[0].values.slice(0, 50).join(), 'another seed, other values');
  t.same(new Set(a.map((f) => f.group)), new Set(['synthTweets', 'synthAdExchange', 'synthCloudwatch']));
  for (const f of a) {
    t.equal(f.times.length, f.values.length);
    t.ok(f.times.every((x, i) => i === 0 || x > f.times[i - 1]), `${f.file}: times increase`);
    const w = windowsOf(f);
    t.equal(w.length, f.anomalies.length);
    // Every anomaly starts after NAB's probationary 15 % and inside its window.
    for (const at of f.anomalies) t.ok(at > 0.15 * f.values.length, `${f.file}: anomaly at ${at} is scored`);
  }
});
