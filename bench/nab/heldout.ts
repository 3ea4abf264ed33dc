/**
 * Held-out NAB scoring: what a detector scores on files whose threshold (and any constant swept
 * with it) was chosen without them.
 *
 * NAB's own protocol picks one threshold per profile on the whole corpus it reports, so the score
 * is in-sample: fitted to the very windows it counts. Here the corpus is split into folds (one
 * group, or one file); for each fold, the candidate setting and threshold that maximise the raw
 * score on the other folds are applied to it. The held-out raw scores of every fold are summed and
 * normalised with the whole corpus's null and perfect scores, so the figure is on the same scale as
 * the in-sample one and the gap between the two is the optimism of fitting.
 */
import { CostMatrix, ScoredFile, SweepPoint, ThresholdScore, nullDetectorScore, scoreAtThreshold, scoresByThreshold, sweepFile } from './scorer';

/** One detector setting: the same files (same order) scored with that setting. */
export interface Candidate {
  label: string;
  files: ScoredFile[];
}

export interface FoldResult {
  /** The fold's key: a group name, or a file name. */
  fold: string;
  files: number;
  /** The candidate and threshold fitted on the other folds. */
  label: string;
  threshold: number;
  /** Raw score of the fold's files at that setting, and the fold's own null and perfect scores. */
  raw: number;
  nullScore: number;
  perfect: number;
}

export interface HeldOutResult {
  /** Normalised held-out score: all folds' raw scores summed, normalised with the corpus's null and perfect. */
  normalized: number;
  raw: number;
  nullScore: number;
  perfect: number;
  folds: FoldResult[];
}

export interface Fit {
  candidate: number;
  threshold: number;
  raw: number;
}

/** Per candidate, per file: the sweep points and the file's score at every threshold (computed once). */
interface Prepared {
  sweeps: SweepPoint[][][];
  byThreshold: ThresholdScore[][][];
}

function prepare(candidates: Candidate[], cost: CostMatrix): Prepared {
  const n = candidates[0]?.files.length ?? 0;
  for (const c of candidates) {
    if (c.files.length !== n) throw new Error(`candidate ${c.label}: ${c.files.length} files, expected ${n}`);
  }
  const sweeps = candidates.map((c) => c.files.map((f) => sweepFile(f, cost)));
  const byThreshold = sweeps.map((perFile) => perFile.map((s) => scoresByThreshold(s, cost)));
  return { sweeps, byThreshold };
}

/** The candidate and threshold with the highest raw score over the given files (ties: the first candidate, the highest threshold). */
function fitPrepared(prep: Prepared, fileIdx: number[], cost: CostMatrix): Fit {
  let best: Fit = { candidate: 0, threshold: 1.1, raw: -Infinity };
  for (let c = 0; c < prep.sweeps.length; c++) {
    const points: SweepPoint[] = [];
    for (const i of fileIdx) for (const p of prep.sweeps[c][i]) points.push(p);
    for (const s of scoresByThreshold(points, cost)) {
      if (s.score > best.raw) best = { candidate: c, threshold: s.threshold, raw: s.score };
    }
  }
  return best;
}

/** Fits candidate and threshold on all files: NAB's (in-sample) protocol extended to a swept constant. */
export function fitAll(candidates: Candidate[], cost: CostMatrix): Fit {
  const prep = prepare(candidates, cost);
  return fitPrepared(prep, candidates[0].files.map((_, i) => i), cost);
}

/** The raw score of each file at a fixed candidate and threshold. */
export function rawAt(files: ScoredFile[], threshold: number, cost: CostMatrix): number[] {
  return files.map((f) => scoreAtThreshold(scoresByThreshold(sweepFile(f, cost), cost), threshold).score);
}

/**
 * Cross-validated score: `foldOf` assigns every file a fold; each fold is scored with the candidate
 * and threshold fitted on all the others. Needs at least two folds.
 */
export function heldOut(candidates: Candidate[], foldOf: (f: ScoredFile) => string, cost: CostMatrix): HeldOutResult {
  if (candidates.length === 0) throw new Error('no candidates');
  const files = candidates[0].files;
  const keys = [...new Set(files.map(foldOf))];
  if (keys.length < 2) throw new Error('held-out scoring needs at least two folds');
  const prep = prepare(candidates, cost);
  const folds: FoldResult[] = [];
  let raw = 0;
  for (const key of keys) {
    const test: number[] = [];
    const train: number[] = [];
    files.forEach((f, i) => (foldOf(f) === key ? test : train).push(i));
    const fit = fitPrepared(prep, train, cost);
    let foldRaw = 0;
    for (const i of test) foldRaw += scoreAtThreshold(prep.byThreshold[fit.candidate][i], fit.threshold).score;
    raw += foldRaw;
    const foldFiles = test.map((i) => files[i]);
    folds.push({
      fold: key, files: test.length, label: candidates[fit.candidate].label, threshold: fit.threshold, raw: foldRaw,
      nullScore: nullDetectorScore(foldFiles, cost),
      perfect: foldFiles.reduce((a, f) => a + f.windows.length, 0) * cost.tpWeight,
    });
  }
  const nullScore = nullDetectorScore(files, cost);
  const perfect = files.reduce((a, f) => a + f.windows.length, 0) * cost.tpWeight;
  return { normalized: normalise(raw, nullScore, perfect), raw, nullScore, perfect, folds };
}

/** NAB's normalisation; NaN when perfect equals null (a fold without windows). */
export function normalise(raw: number, nullScore: number, perfect: number): number {
  return perfect === nullScore ? NaN : (100 * (raw - nullScore)) / (perfect - nullScore);
}

/** Fold keys: the NAB group ("group/file.csv" → "group"), or the file itself. */
export const byGroup = (f: ScoredFile): string => f.name.split('/')[0];
export const byFile = (f: ScoredFile): string => f.name;
