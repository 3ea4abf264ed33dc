/**
 * The Numenta Anomaly Benchmark's scoring rules, reimplemented from their description and NAB's
 * sweeper so that our detector can be judged without Python:
 *
 * - each labelled window earns the scaled sigmoid of its earliest detection's relative position
 *   (weighted by tpWeight, scaled so the window's first row earns exactly tpWeight);
 * - a window without detection costs fnWeight;
 * - a detection outside every window costs fpWeight times the scaled sigmoid of its distance past
 *   the preceding window (the full fpWeight when no window precedes it);
 * - the first min(floor(15% of rows), 750) rows are probationary and not scored at all;
 * - one threshold per profile is chosen for the whole corpus (the one maximising the total);
 * - the total is normalised: 100·(raw − null)/(perfect − null), where null is the optimised score of
 *   a detector that says 0.5 everywhere and perfect is tpWeight for every label.
 */

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export type Profiles = Record<string, CostMatrix>;

/** NAB's config/profiles.json. */
export const NAB_PROFILES: Profiles = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
};

export const PROBATION_PERCENT = 0.15;

/** One file of the corpus as the scorer sees it: row times, detector scores, window limits. */
export interface ScoredFile {
  name: string;
  timestamps: number[];
  scores: ArrayLike<number>;
  /** [start, end] timestamps (inclusive), each equal to some row's timestamp, in time order. */
  windows: Array<[number, number]>;
}

/** A scorable row: its detector score, its sweep score and the window it is in (null outside). */
export interface SweepPoint {
  anomalyScore: number;
  sweepScore: number;
  window: string | null;
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function probationLength(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

/**
 * -1 at the left edge of a window earns ≈0.987, 0 (the right edge) earns 0, positions past the
 * window go towards -1 (fully penalised from 3 on).
 */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3.0) return -1.0;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1.0;
}

/** Sweep score of every non-probationary row of one file. */
export function sweepFile(file: ScoredFile, cost: CostMatrix, probationPercent = PROBATION_PERCENT): SweepPoint[] {
  const { timestamps, scores } = file;
  if (timestamps.length !== scores.length) throw new Error(`${file.name}: ${timestamps.length} timestamps but ${scores.length} scores`);
  const indexOf = new Map<number, number>();
  for (let i = 0; i < timestamps.length; i++) if (!indexOf.has(timestamps[i])) indexOf.set(timestamps[i], i);
  const pending = file.windows.slice();
  const maxTP = scaledSigmoid(-1.0);
  const probation = probationLength(timestamps.length, probationPercent);
  const out: SweepPoint[] = [];

  let cur: [number, number] | null = null;
  let curName: string | null = null;
  let curRight = 0;
  let curWidth = 0;
  let prevRight: number | null = null;
  let prevWidth = 0;

  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    if (pending.length > 0 && t === pending[0][0]) {
      cur = pending.shift()!;
      const left = indexOf.get(cur[0]);
      const right = indexOf.get(cur[1]);
      if (left === undefined || right === undefined) throw new Error(`${file.name}: window limits must be row timestamps`);
      curName = `${file.name}|${cur[0]}`;
      curRight = right;
      curWidth = right - left + 1;
    }
    let weighted: number;
    if (cur !== null) {
      // NAB's "+ 1" means even the last row of a window sits slightly left of 0.
      const position = -(curRight - i + 1) / curWidth;
      weighted = (scaledSigmoid(position) * cost.tpWeight) / maxTP;
    } else {
      const position = prevRight === null ? 3.0 : Math.abs(prevRight - i) / (prevWidth - 1);
      weighted = scaledSigmoid(position) * cost.fpWeight;
    }
    if (i >= probation) out.push({ anomalyScore: scores[i], sweepScore: weighted, window: curName });
    if (cur !== null && t === cur[1]) {
      prevRight = i;
      prevWidth = curWidth;
      cur = null;
      curName = null;
    }
  }
  return out;
}

/**
 * The score at every distinct threshold, highest first; the entry for threshold t counts every row
 * with score ≥ t as a detection (the first entry, 1.1, has none).
 */
export function scoresByThreshold(points: SweepPoint[], cost: CostMatrix): ThresholdScore[] {
  const sorted = points.slice().sort((a, b) => b.anomalyScore - a.anomalyScore);
  const windowBest = new Map<string, number>();
  for (const p of sorted) if (p.window !== null) windowBest.set(p.window, -cost.fnWeight);
  let windowSum = -cost.fnWeight * windowBest.size;
  let fpSum = 0;
  let tn = 0;
  let fn = 0;
  for (const p of sorted) if (p.window === null) tn++; else fn++;
  let tp = 0;
  let fp = 0;
  let threshold = 1.1;
  const out: ThresholdScore[] = [];
  for (const p of sorted) {
    if (p.anomalyScore !== threshold) {
      out.push({ threshold, score: windowSum + fpSum, tp, fp, tn, fn });
      threshold = p.anomalyScore;
    }
    if (p.window === null) {
      fp++;
      tn--;
      fpSum += p.sweepScore;
    } else {
      tp++;
      fn--;
      const best = windowBest.get(p.window)!;
      if (p.sweepScore > best) {
        windowSum += p.sweepScore - best;
        windowBest.set(p.window, p.sweepScore);
      }
    }
  }
  out.push({ threshold, score: windowSum + fpSum, tp, fp, tn, fn });
  return out;
}

/** The file's score at a threshold, as NAB's scoreDataSet picks it. */
export function scoreAtThreshold(byThreshold: ThresholdScore[], threshold: number): ThresholdScore {
  let prev: ThresholdScore | undefined;
  for (const s of byThreshold) {
    if (s.threshold === threshold) return s;
    if (s.threshold < threshold) return prev ?? s;
    prev = s;
  }
  return prev!;
}

export interface ProfileResult {
  profile: string;
  threshold: number;
  raw: number;
  nullScore: number;
  perfect: number;
  normalized: number;
  perFile: Array<{ name: string; score: number; tp: number; fp: number; fn: number }>;
}

/** The best corpus-wide threshold and the resulting normalised score for one profile. */
export function scoreCorpus(files: ScoredFile[], profile: string, cost: CostMatrix, probationPercent = PROBATION_PERCENT): ProfileResult {
  const sweeps = files.map((f) => sweepFile(f, cost, probationPercent));
  const all: SweepPoint[] = [];
  for (const s of sweeps) for (const p of s) all.push(p);
  const corpus = scoresByThreshold(all, cost);
  let best = corpus[0];
  for (const s of corpus) if (s.score > best.score) best = s;

  const perFile = files.map((f, i) => {
    const s = scoreAtThreshold(scoresByThreshold(sweeps[i], cost), best.threshold);
    return { name: f.name, score: s.score, tp: s.tp, fp: s.fp, fn: s.fn };
  });
  const raw = perFile.reduce((a, b) => a + b.score, 0);
  const nullScore = nullDetectorScore(files, cost, probationPercent);
  const labels = files.reduce((a, f) => a + f.windows.length, 0);
  const perfect = labels * cost.tpWeight;
  return { profile, threshold: best.threshold, raw, nullScore, perfect, normalized: (100 * (raw - nullScore)) / (perfect - nullScore), perFile };
}

/** NAB's baseline: a detector answering 0.5 for every row, with its own optimised threshold. */
export function nullDetectorScore(files: ScoredFile[], cost: CostMatrix, probationPercent = PROBATION_PERCENT): number {
  const constant = files.map((f) => ({ ...f, scores: new Float64Array(f.timestamps.length).fill(0.5) }));
  const all: SweepPoint[] = [];
  for (const f of constant) for (const p of sweepFile(f, cost, probationPercent)) all.push(p);
  const byThreshold = scoresByThreshold(all, cost);
  return Math.max(...byThreshold.map((s) => s.score));
}
