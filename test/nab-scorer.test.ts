import t from 'tap';
import { NAB_PROFILES, ScoredFile, probationLength, scaledSigmoid, scoreCorpus, scoresByThreshold, sweepFile } from '../bench/nab/scorer';
import { parseNabTime } from '../bench/nab/corpus';

const standard = NAB_PROFILES.standard;

// 20 rows, one window over rows 10..13. Probation = min(floor(0.15·20), 750) = 3 rows.
// Scores: row 1 = 1.0 (probationary, must be ignored), row 5 = 0.9 (FP before any window: −0.11),
// row 11 = 0.8 (in window at position −(13−11+1)/4 = −0.75), row 16 = 0.7 (FP 3 rows past a window
// of width 4: position 3/3 = 1).
function handMade(): ScoredFile {
  const timestamps = Array.from({ length: 20 }, (_, i) => 1_000 * i);
  const scores = new Array<number>(20).fill(0);
  scores[1] = 1.0;
  scores[5] = 0.9;
  scores[11] = 0.8;
  scores[16] = 0.7;
  return { name: 'g/hand.csv', timestamps, scores, windows: [[10_000, 13_000]] };
}

t.test('building blocks', async (t) => {
  t.equal(probationLength(20), 3);
  t.equal(probationLength(100_000), 750);
  // 2·sigmoid(5) − 1 and 2·sigmoid(2.5) − 1 as given in NAB's documentation.
  t.ok(Math.abs(scaledSigmoid(-1) - 0.98661) < 1e-5);
  t.ok(Math.abs(scaledSigmoid(-0.5) - 0.84828) < 1e-5);
  t.equal(scaledSigmoid(0), 0);
  t.equal(scaledSigmoid(3), -1);
  t.equal(parseNabTime('2014-04-10 07:15:00.000000'), parseNabTime('2014-04-10 07:15:00'));
});

t.test('hand-computed scores by threshold', async (t) => {
  const points = sweepFile(handMade(), standard);
  t.equal(points.length, 17, 'the three probationary rows are dropped');
  const byT = scoresByThreshold(points, standard);
  const at = (th: number) => byT.find((s) => s.threshold === th)!.score;
  // Hand computation (S(x) = 2/(1+e^(5x)) − 1, S(−1) = 0.986614):
  //   no detection: one missed window                    = −1
  //   ≥ 0.9: + FP before any window, −0.11               = −1.11
  //   ≥ 0.8: the window earns S(−0.75)/S(−1) = 0.954045/0.986614 = 0.966989 instead of −1
  //                                                     = −0.11 + 0.966989 = 0.856989
  //   ≥ 0.7: FP at position 1 costs 0.11·|S(1)| = 0.108528 → 0.748461
  t.ok(Math.abs(at(1.1) - -1) < 1e-6);
  t.ok(Math.abs(at(0.9) - -1.11) < 1e-6);
  t.ok(Math.abs(at(0.8) - 0.856989) < 1e-5, `0.8 → ${at(0.8)}`);
  t.ok(Math.abs(at(0.7) - 0.748461) < 1e-5, `0.7 → ${at(0.7)}`);
  t.notOk(byT.some((s) => s.threshold === 1.0), 'the probationary score is never a threshold');
});

t.test('normalised corpus score', async (t) => {
  // Null detector (0.5 everywhere) on this short file: flagging every row earns the window's full 1,
  // 7 FPs before it (−0.77) and 6 after it at positions 1/3 … 2 (S sum −5.596872, ·0.11 = −0.615656):
  // −0.385656, better than −1 for no detection, so null = −0.385656. Perfect = 1 label = 1.
  // Normalised = 100·(0.856989 + 0.385656)/(1 + 0.385656) = 89.6792.
  const r = scoreCorpus([handMade()], 'standard', standard);
  t.equal(r.threshold, 0.8);
  t.ok(Math.abs(r.nullScore - -0.385656) < 1e-5, `null ${r.nullScore}`);
  t.equal(r.perfect, 1);
  t.ok(Math.abs(r.normalized - 89.6792) < 1e-3, `normalized ${r.normalized}`);
  // reward_low_FP_rate (fp 0.22): flagging all = 1 − 1.54 − 1.231312 = −1.771312, so null = −1;
  // best is still threshold 0.8: −0.22 + 0.966989 = 0.746989 → 100·1.746989/2 = 87.3495.
  const fp = scoreCorpus([handMade()], 'reward_low_FP_rate', NAB_PROFILES.reward_low_FP_rate);
  t.ok(Math.abs(fp.nullScore - -1) < 1e-9);
  t.ok(Math.abs(fp.normalized - 87.3495) < 1e-3, `low FP ${fp.normalized}`);
});

t.test('one threshold for the whole corpus, earliest detection per window', async (t) => {
  // Second file: a window over rows 10..19 detected at row 10 (score 0.6) and again at 18 (0.95).
  const b: ScoredFile = { name: 'g/b.csv', timestamps: Array.from({ length: 20 }, (_, i) => i), scores: new Array(20).fill(0), windows: [[10, 19]] };
  (b.scores as number[])[10] = 0.6;
  (b.scores as number[])[18] = 0.95;
  const pts = sweepFile(b, standard);
  const byT = scoresByThreshold(pts, standard);
  const late = byT.find((s) => s.threshold === 0.95)!.score;
  const early = byT.find((s) => s.threshold === 0.6)!.score;
  // Row 18: position −(19−18+1)/10 = −0.2 → (2/(1+e^−1) − 1)/0.986614 = 0.462117/0.986614 = 0.468387
  t.ok(Math.abs(late - 0.468387) < 1e-5, `late ${late}`);
  // Row 10 is the window's first row: exactly tpWeight.
  t.ok(Math.abs(early - 1) < 1e-9, `early ${early}`);
  const r = scoreCorpus([handMade(), b], 'standard', standard);
  t.equal(r.perFile.length, 2);
  t.ok(Math.abs(r.raw - r.perFile[0].score - r.perFile[1].score) < 1e-12);
});
