/**
 * Streaming anomaly scoring of one numeric series. Pure: no I/O, no clock; constant work and a
 * fixed amount of memory per point (SERIES_STATE_BYTES), whatever the series' length.
 *
 * 1. Surprise. A robust level model (weighted mean and mean absolute deviation) and a step model
 *    (weighted mean absolute difference between successive points) give two sigma-distances; the
 *    larger, as s = log(1 + z), is the point's surprise. Values are clipped at CLIP deviations before
 *    the models learn them, so one outlier does not widen the band it is judged against.
 * 2. Two-stage likelihood, after Numenta's anomaly likelihood. Stage one judges s against the
 *    series' own history of surprises (weighted mean and variance; Gaussian tail p1): a sudden
 *    spike or step. Stage two judges a short moving average of s (`shortMemory` points) against the
 *    history of that average (p2): a run of moderately surprising points, as in a ramp, a change of
 *    texture or denser spikes, which no single point reveals.
 * 3. Seasonal expectation (seasonal.ts): block means compared with the block one detected period
 *    ago, with no timestamps and no declared period; the residual goes through the same two stages
 *    (p3). A quiet stage judges the recent typical step against the usual step (lower tail only,
 *    p4): a series that stops moving, as a stuck sensor does. A level stage judges a short average
 *    of the signed, clipped distance from the level (two-sided, p5): a lasting shift of a few
 *    deviations on a noisy series, which no single point and no unsigned average reveals; a
 *    reported shift moves the level at once. p = 4·min(p1, …, p5) (Bonferroni; see README for why
 *    4), and the score is −log10(p)/scoreDecades, capped at 1.
 *    Judging every series against itself is what makes a score comparable between a quiet and a
 *    noisy series.
 *    A season that stands out also discounts stage one: a point is judged by the smaller of its
 *    plain surprise and how far it lies outside the same block one period ago (seasonExcess), so
 *    a spike that returns every period is no news; the history still learns the plain surprise.
 *    A predicted transition is no news either (sequence.ts): stage one's tail is floored at the
 *    probability a small learner of (last 3 symbols → next symbol) gave the point's symbol.
 *    A seasonal surprise that already happened recently, at least about as large and in the same
 *    direction (habit.ts), is judged by how often such surprises happen, not by its Gaussian tail;
 *    it still starts a rest period, as the familiar incident it is.
 * 4. Rest period, as CAD OSE: after a score ≥ alarmLevel the next `restPeriod` seconds score 0, so
 *    one incident gives one alarm, as early as possible, rather than an alarm on every point of it;
 *    it ends early once the scores have been quiet for 2·shortMemory points (the incident is over).
 *    Below the alarm level, a run of near-alarm scores (each within 2·shortMemory points of the
 *    last) is reported once (and again only on a rise of half a decade), not on every point.
 *
 * Tried and dropped (see README): a CAD-style context-novelty memory, empirical (histogram) tails,
 * non-maximum suppression instead of the rest period, and an ARTime-like shape-prototype memory
 * (no measurable gain next to the seasonal expectation).
 */

import { SEQ_BYTES, SeqState, deserializeSeq, newSeqState, observeSymbol, serializeSeq, symbolOf } from './sequence';
import { HABIT_BYTES, HabitParams, HabitState, deserializeHabit, habitRate, habitRecord, habitTouch, newHabit, serializeHabit } from './habit';
import { DEFAULT_SEASON_PARAMS, SeasonState, deserializeSeason, newSeasonState, notePoint, observeBlock, seasonExcess, seasonStateBytes, serializeSeason } from './seasonal';

export interface AnomalyParams {
  /** Points a series must have seen before it may score above 0. */
  warmup: number;
  /** Memory (points) of the level model. */
  levelMemory: number;
  /** Memory (points) of the step-size model. */
  stepMemory: number;
  /** Memory (points) of the distribution of surprises (both likelihood stages). */
  surpriseMemory: number;
  /** Points averaged by the second likelihood stage. */
  shortMemory: number;
  /** −log10 of the tail probability that maps to score 1. */
  scoreDecades: number;
  /** A score from which the next `restPeriod` seconds are masked. */
  alarmLevel: number;
  /**
   * Seconds masked after an alarm (0 disables masking): time, not points, so an hourly series does
   * not rest for days. Counted in points of the series' own typical sampling interval.
   */
  restPeriod: number;
  /** Points averaged into one block of the seasonal model (default BLOCK_SIZE). */
  blockSize?: number;
  /** Ablation switches for bench/nab (0 turns a mechanism off; default on). */
  sequenceFloor?: number;
  habituation?: number;
  quietStage?: number;
  levelStage?: number;
}

export const DEFAULT_PARAMS: Readonly<AnomalyParams> = Object.freeze({
  warmup: 100,
  levelMemory: 2000,
  stepMemory: 1000,
  surpriseMemory: 2000,
  shortMemory: 30,
  scoreDecades: 5,
  alarmLevel: 0.65,
  restPeriod: 21600,
});

/** Seconds a point stands for when the caller gives no timestamps (a common metric interval). */
export const NOMINAL_INTERVAL = 300;
/** Memory (gaps) of the typical sampling interval; a gap is clipped at GAP_CLIP times it, so an outage does not stretch it. */
const INTERVAL_MEMORY = 20;
const GAP_CLIP = 10;

/**
 * Values are clipped to this many deviations before the models learn from them. Tight clipping
 * keeps an episode from teaching the model that it is normal while it lasts (NAB: 3 beat 6 and 12).
 */
const CLIP = 3;

/** Points per block: 256 blocks of 6 points hold a day of 1-minute points, a week of 5-minute points. */
const BLOCK_SIZE = 6;
/** Blocks averaged by the seasonal residual's second stage (a missing peak spans several blocks). */
const SEASON_SHORT = 4;
/**
 * A block that differs from last period's by less than this fraction of the series' usual deviation
 * is never a seasonal surprise, however exactly the series usually repeats (otherwise tiny
 * differences in a near-perfect cycle read as huge ratios). NAB: 0.05–0.2 all score alike.
 */
const SEASON_FLOOR = 0.1;
/** Points after which the sequence member starts learning (its symbols are read against the level model). */
const SEQ_START = 20;
/**
 * Scores within this many decades of tail probability below the alarm level are near-alarm: they
 * form runs that are reported once (NAB, final version: 0.8–1.5 score 77.5–78.2; see README).
 */
export const NEAR_DECADES = 1.25;
/** Memory (blocks) of the seasonal surprise's distribution. */
const SEASON_SURPRISE_MEMORY = 500;
/**
 * Points whose surprises are not learnt by the likelihood stages: the scale models start from
 * nothing (a deviation of 0 after one point), so the first few surprises are huge artefacts, and with
 * equal weights over the first `surpriseMemory` points they inflated the surprise variance for
 * thousands of points (NAB: speed_7578's first dip scored 0.39 instead of 1). 5–15 score alike.
 */
const SETTLE = 10;
/**
 * The quiet stage's floor, as a fraction of the usual step: a series whose steps fall to nothing
 * (a stuck sensor, a frozen gauge) is judged by log((recent step + floor) / usual step).
 */
const QUIET_FLOOR = 0.05;
/**
 * A rest period ends early once scores have stayed below QUIET_LEVEL for `2 × shortMemory` points
 * in a row (two full memories of stage two's average): the incident is over, and a new one right
 * after it must not be masked. 0.15 is a tail probability of about 1 in 6, nothing unusual.
 */
const QUIET_LEVEL = 0.15;
/**
 * Habituation of the seasonal stage (habit.ts): a block residual whose tail probability is below
 * HABIT_CANDIDATE (a score of about 0.5) is an event. An event is familiar when an earlier one in
 * the last `horizon` points had the same sign and a log-residual at least `tolerance` below it
 * (residual within ×0.6) or larger; its p is then floored at the rate of such events per block.
 * NAB: tolerance 0.1–0.3 and horizon 3000–10000 points score within 0.8 (0.5: 75.7); candidates from 2e-3 up
 * remember ordinary residuals and discount real anomalies (see README).
 */
const HABIT: Readonly<HabitParams> = Object.freeze({ horizon: 5000, tolerance: 0.2, gap: 30 });
const HABIT_CANDIDATE = 1e-3;
/**
 * The level stage's clip, in deviations: a point counts towards a shift by at most this much (held
 * out on NAB's development groups / synthetic seeds 1 and 51: 4 → 70.15 / 62.9 / 63.6,
 * 5 → 70.64 / 62.8 / 69.8, 6 → 69.60 / 54.2 / 72.5).
 */
const LEVEL_CLIP = 5;
/**
 * A reported alarm whose level-stage tail is below this moves the level to the recent values
 * (1e-4 → 69.95 / 45.3 / 59.2; 1e-2 → 62.85 / 53.5 / 69.5).
 */
const SHIFT_P = 1e-3;

export interface SeriesState {
  /** Points seen. */
  n: number;
  prev: number;
  mean: number;
  dev: number;
  stepDev: number;
  /** Weighted mean and variance of the surprise (stage one). */
  sMean: number;
  sVar: number;
  /** Short moving average of the surprise, and the weighted mean and variance of it (stage two). */
  sShort: number;
  aMean: number;
  aVar: number;
  /** Signed count of successive points clipped on the same side (level-shift detection). */
  outRun: number;
  /** Points since the last alarm, and successive quiet points since it (an early end of the rest period). */
  sinceAlarm: number;
  quiet: number;
  /** 1 when the current rest period was started by a habituated (unreported) incident. */
  softRest: number;
  /** The last score. */
  lastScore: number;
  /** The last point's time (seconds, 0 before any) and the series' typical sampling interval (seconds, 0 while unknown). */
  lastT: number;
  interval: number;
  /** Points since the last score near the alarm level, and the highest score of the current run. */
  held: number;
  runMax: number;
  /** Sum and count of the current block. */
  blockSum: number;
  blockCount: number;
  /** The period-aware expectation, and the weighted mean/variance of its surprise and of a short average of it. */
  sea: SeasonState;
  eMean: number;
  eVar: number;
  eShort: number;
  ebMean: number;
  ebVar: number;
  /** Short moving average of the absolute step, and the weighted mean/variance of its log ratio to the usual step (quiet stage). */
  vShort: number;
  vMean: number;
  vVar: number;
  /** Short moving average of the signed, clipped distance from the level (in deviations), its weighted mean and variance (level stage). */
  lShort: number;
  lMean: number;
  lVar: number;
  /** Short moving average of the values: where the level goes when the level stage reports a shift. */
  xShort: number;
  /** Which symbols (quantised values) follow which: the sequence member (sequence.ts). */
  seq: SeqState;
  /** Recent seasonal surprises (habituation). */
  habit: HabitState;
}

export function newSeries(p?: AnomalyParams): SeriesState {
  return {
    seq: newSeqState(), habit: newHabit(), sea: newSeasonState(DEFAULT_SEASON_PARAMS), eMean: 0, eVar: 1, eShort: 0, ebMean: 0, ebVar: 1,
    n: 0, prev: 0, mean: 0, dev: 0, stepDev: 0, sMean: 0, sVar: 1, sShort: 0, aMean: 0, aVar: 1, outRun: 0, blockSum: 0, blockCount: 0,
    sinceAlarm: Number.MAX_SAFE_INTEGER, quiet: 0, softRest: 0, lastScore: 0, lastT: 0, interval: 0, held: 1e9, runMax: 0, vShort: 0, vMean: 0, vVar: 1, lShort: 0, lMean: 0, lVar: 1, xShort: 0,
  };
}

/** Upper tail of the standard normal via erfc (Numerical Recipes' Chebyshev fit, error < 1.2e-7). */
export function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const r = t * Math.exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return 0.5 * (x >= 0 ? r : 2 - r);
}

/**
 * Bonferroni factor over the stages (point, short average, seasonal, quiet, level). Left at 4 when the
 * level stage came: 5 lowered every held-out figure (README, "Second round"); it only sets where the alarm level sits.
 */
const STAGES = 4;

/** The score of the smallest stage tail probability: −log10 of its Bonferroni bound, in `scoreDecades`, capped at 1. */
function scoreOf(pMin: number, p: AnomalyParams): number {
  return Math.min(1, -Math.log10(Math.min(1, Math.max(STAGES * pMin, 1e-300))) / p.scoreDecades);
}

/** Scores one point (0 = usual, 1 = as unusual as it gets) and learns from it. */
export function scorePoint(s: SeriesState, x: number, p: AnomalyParams, t = NaN): number {
  if (!Number.isFinite(x)) return 0;
  if (t === t && t > 0) {
    if (s.lastT > 0 && t > s.lastT) {
      const gap = s.interval > 0 ? Math.min(t - s.lastT, GAP_CLIP * s.interval) : t - s.lastT;
      s.interval += (s.interval > 0 ? 1 / INTERVAL_MEMORY : 1) * (gap - s.interval);
    }
    s.lastT = t;
  }
  s.n++;
  if (s.n === 1) {
    s.prev = x;
    s.mean = x;
    s.lastScore = 0;
    return 0;
  }
  // A floor on the scales so a perfectly flat series does not divide by zero; any change from
  // flat then scores as a large surprise, which it is.
  const floor = 1e-9 + 1e-6 * Math.abs(s.mean);
  const step = Math.abs(x - s.prev);
  const z = Math.max(step / (s.stepDev + floor), Math.abs(x - s.mean) / (s.dev + floor));
  const surprise = Math.log1p(z);
  // A value the season predicted (seen at this phase one period ago) is judged by how far it lies
  // beyond last period's range, not by its distance from the overall level. Only the point's own
  // judgement is discounted: the surprise history still learns the plain surprise, so a series
  // whose season explains most points does not become hypersensitive to the rest.
  const ex = seasonExcess(s.sea, x, DEFAULT_SEASON_PARAMS);
  const judged = ex === ex ? Math.min(surprise, Math.log1p(ex / (s.stepDev + floor))) : surprise;
  const sm = p.shortMemory;
  const ash = 1 / Math.min(s.n, sm);
  const short = s.sShort + ash * (surprise - s.sShort);

  // How often this value's symbol has followed the last few symbols (before learning it). Symbols
  // are read against the level model, so the learner starts once that has settled a little.
  const predicted = s.n > SEQ_START ? observeSymbol(s.seq, symbolOf((x - s.mean) / (1.2533 * s.dev + floor))) : NaN;

  let p3 = 1;
  // The seasonal stage's p before habituation: a familiar incident still starts a rest period.
  let p3raw = 1;
  s.blockSum += x;
  notePoint(s.sea, x);
  if (++s.blockCount >= (p.blockSize ?? BLOCK_SIZE)) {
    const m = s.blockSum / s.blockCount;
    s.blockSum = 0;
    s.blockCount = 0;
    const r = observeBlock(s.sea, m, 1e-9 + SEASON_FLOOR * s.dev + 1e-6 * Math.abs(s.mean), DEFAULT_SEASON_PARAMS);
    if (r === r) {
      const e = Math.log1p(Math.abs(r));
      const n = s.sea.blocks;
      const a = 1 / Math.min(n, SEASON_SURPRISE_MEMORY);
      const es = s.eShort + (1 / Math.min(n, SEASON_SHORT)) * (e - s.eShort);
      if (n > 4 * DEFAULT_SEASON_PARAMS.minLag) {
        const pBlock = normalTail((e - s.eMean) / Math.sqrt(s.eVar + 1e-12));
        p3 = p3raw = Math.min(pBlock, normalTail((es - s.ebMean) / Math.sqrt(s.ebVar + 1e-12)));
        if (p3 < HABIT_CANDIDATE && p.habituation !== 0) {
          // A surprise like recent ones is as likely as they were frequent (per block, as p3 is
          // judged once a block). The short average's echo of an event shares the event's rate.
          const size = r >= 0 ? e : -e;
          const rate = habitRate(s.habit, size, s.n, HABIT);
          p3 = Math.max(p3, Math.min(1, (p.blockSize ?? BLOCK_SIZE) * rate));
          // An episode is one event while its blocks keep coming within `gap`, whichever of the
          // two averages flags them: it must not habituate to itself once it outlasts `gap`.
          if (pBlock < HABIT_CANDIDATE) habitRecord(s.habit, size, s.n, rate, HABIT);
          else habitTouch(s.habit, size, s.n, HABIT);
        }
      }
      const d = e - s.eMean;
      s.eMean += a * d;
      s.eVar = (1 - a) * (s.eVar + a * d * d);
      s.eShort = es;
      const d2 = es - s.ebMean;
      s.ebMean += a * d2;
      s.ebVar = (1 - a) * (s.ebVar + a * d2 * d2);
    }
  }
  const ready = s.n > p.warmup;
  // Quiet stage: the recent typical step (unclipped, so a series that just jumped is not quiet) in
  // units of the usual step, on a log scale; only its lower tail counts: a series that stops moving.
  s.vShort += ash * (step - s.vShort);
  const usual = s.stepDev + floor;
  const v = Math.log((s.vShort + QUIET_FLOOR * usual) / usual);
  // Level stage: the short average of the *signed* distance from the level. A lasting shift of a
  // few deviations in a noisy series moves it steadily while single points stay unremarkable (and
  // stage two, which averages unsigned surprises, barely rises above the noise's own). Clipped at
  // LEVEL_CLIP deviations so one spike does not read as a shift.
  const zl = Math.max(-LEVEL_CLIP, Math.min(LEVEL_CLIP, (x - s.mean) / (1.2533 * s.dev + floor)));
  s.lShort += ash * (zl - s.lShort);
  s.xShort += ash * (x - s.xShort);
  let shifted = false;
  let score = 0;
  let alarmScore = 0;
  if (ready) {
    // A point is no rarer than the transition that led to it: when the sequence member has seen
    // this context followed by this symbol in a fraction P of cases, stage one's tail is floored
    // at P. A spike that always follows the same run-up, or a burst that always decays the same
    // way, is then no news however far from the level it lies; the same value after an unusual
    // context still is.
    let p1 = normalTail((judged - s.sMean) / Math.sqrt(s.sVar + 1e-12));
    if (predicted > p1 && p.sequenceFloor !== 0) p1 = predicted;
    const p2 = normalTail((short - s.aMean) / Math.sqrt(s.aVar + 1e-12));
    // Judged only once the usual step it is compared with has a full memory: before that, a lull
    // in an ordinary cycle reads as a stuck series.
    const p4 = s.n > p.stepMemory && p.quietStage !== 0 ? normalTail((s.vMean - v) / Math.sqrt(s.vVar + 1e-12)) : 1;
    // Two-sided: a shift up or down.
    const p5 = p.levelStage !== 0 ? Math.min(1, 2 * normalTail(Math.abs(s.lShort - s.lMean) / Math.sqrt(s.lVar + 1e-12))) : 1;
    score = scoreOf(Math.min(p1, p2, p3, p4, p5), p);
    shifted = p5 < SHIFT_P;
    alarmScore = p3raw < p3 ? scoreOf(Math.min(p1, p2, p3raw, p4, p5), p) : score;
  }

  // Learn after scoring, so that a point never explains itself away; not while the scales settle.
  s.sShort = short;
  if (s.n > SETTLE) {
    const as = 1 / Math.min(s.n - SETTLE, p.surpriseMemory);
    const d = surprise - s.sMean;
    s.sMean += as * d;
    s.sVar = (1 - as) * (s.sVar + as * d * d);
    const d2 = short - s.aMean;
    s.aMean += as * d2;
    s.aVar = (1 - as) * (s.aVar + as * d2 * d2);
    const d4 = v - s.vMean;
    s.vMean += as * d4;
    s.vVar = (1 - as) * (s.vVar + as * d4 * d4);
    const d5 = s.lShort - s.lMean;
    s.lMean += as * d5;
    s.lVar = (1 - as) * (s.lVar + as * d5 * d5);
  }
  const al = 1 / Math.min(s.n, p.levelMemory);
  const lim = CLIP * (s.dev + floor);
  const xc = ready ? Math.min(s.mean + lim, Math.max(s.mean - lim, x)) : x;
  s.dev += al * (Math.abs(xc - s.mean) - s.dev);
  s.mean += al * (xc - s.mean);
  // A level shift that lasts is the new normal: after a rest period's worth of points in a row beyond
  // the clip on the same side, the level jumps to the value instead of creeping towards it for thousands of
  // points (which would keep the series "surprising" and the expected range wrong).
  const side = xc > x ? -1 : xc < x ? 1 : 0;
  s.outRun = side !== 0 && Math.sign(s.outRun) !== -side ? s.outRun + side : side;
  const rest = restPoints(s, p);
  if (Math.abs(s.outRun) >= Math.max(sm, rest)) {
    s.mean = x;
    s.outRun = 0;
  }
  const ad = 1 / Math.min(s.n, p.stepMemory);
  const stepc = ready ? Math.min(step, CLIP * (s.stepDev + floor)) : step;
  s.stepDev += ad * (stepc - s.stepDev);
  s.prev = x;

  if (rest > 0) {
    // A habituated incident is not reported, but it is still an incident: its aftermath is masked,
    // except for a score that reaches the alarm level by itself (the incident grew beyond the
    // familiar), which is reported and starts an ordinary rest period.
    let masked = s.sinceAlarm < rest && !(s.softRest === 1 && score >= p.alarmLevel);
    // The rest period ends early when the incident is over: scores below QUIET_LEVEL for two of
    // stage two's memories in a row. A new incident right after the first is then reported.
    if (masked) {
      s.quiet = score < QUIET_LEVEL ? s.quiet + 1 : 0;
      if (s.quiet >= 2 * sm) {
        masked = false;
        s.sinceAlarm = Number.MAX_SAFE_INTEGER;
      }
    }
    if (s.sinceAlarm < Number.MAX_SAFE_INTEGER) s.sinceAlarm++;
    if (alarmScore >= p.alarmLevel && !masked) {
      s.sinceAlarm = 0;
      s.quiet = 0;
      s.softRest = score >= p.alarmLevel ? 0 : 1;
    }
    // One report per run. Scores within NEAR_DECADES of tail probability below the alarm level that
    // follow each other at most 2·shortMemory points apart (stage two's moving average climbing
    // slowly, the seasonal stage firing at each block's end, a noisy stretch that keeps brushing the
    // alarm level) form a run: one incident, as an alarm's rest period makes one incident of what
    // follows it (the same span after which a quiet rest period ends). Within a run a score is
    // reported again only when it rises by half a decade over the run's highest, or reaches the
    // alarm level, so an episode is not reported on every point. (A slow climb that plateaus
    // between the run's start and the alarm level shows only at its start: see README.)
    const high = score >= p.alarmLevel - NEAR_DECADES / p.scoreDecades;
    const inRun = s.held <= 2 * sm;
    if (!inRun) s.runMax = 0;
    const raw = score;
    if (masked) score = 0;
    else if (inRun && score < p.alarmLevel && score <= s.runMax + 0.5 / p.scoreDecades) score = 0;
    if (high) s.runMax = Math.max(s.runMax, raw);
    s.held = high ? 1 : Math.min(s.held + 1, 1e9);
  }
  // A reported shift is the new level at once (as CUSUM restarts after a detection): without this,
  // a noisy series that halved kept a level thousands of points stale (the clip-run rule above needs
  // every point beyond 3 deviations), its deviation inflated, and the next incident went unseen.
  if (shifted && s.sinceAlarm === 0) {
    s.mean = s.xShort;
    s.lShort = 0;
    s.outRun = 0;
  }
  s.lastScore = score;
  return score;
}

/** The rest period in points of the series' typical interval (NOMINAL_INTERVAL until one is known). */
export function restPoints(s: SeriesState, p: AnomalyParams): number {
  return p.restPeriod > 0 ? Math.max(1, Math.round(p.restPeriod / (s.interval > 0 ? s.interval : NOMINAL_INTERVAL))) : 0;
}

/** The band the level model expects values in (mean ± `width` robust deviations). */
export function expectedRange(s: SeriesState, width = 3): [number, number] {
  // 1.2533 turns a mean absolute deviation into a standard deviation under normality.
  const half = width * 1.2533 * s.dev;
  return [s.mean - half, s.mean + half];
}

const FIELDS = ['n', 'prev', 'mean', 'dev', 'stepDev', 'sMean', 'sVar', 'sShort', 'aMean', 'aVar', 'outRun', 'sinceAlarm', 'quiet', 'softRest', 'lastScore', 'lastT', 'interval', 'held', 'runMax',
  'blockSum', 'blockCount', 'eMean', 'eVar', 'eShort', 'ebMean', 'ebVar', 'vShort', 'vMean', 'vVar', 'lShort', 'lMean', 'lVar', 'xShort'] as const;
/** Bumped whenever the state's meaning changes, so an old persisted state is not misread. */
const STATE_VERSION = 13;

/** JSON-safe copy of a series state, for persistence. */
export function serializeSeries(s: SeriesState): Record<string, unknown> {
  const o: Record<string, unknown> = { v: STATE_VERSION };
  for (const k of FIELDS) o[k] = s[k];
  o.sea = serializeSeason(s.sea);
  o.seq = serializeSeq(s.seq);
  o.habit = serializeHabit(s.habit);
  return o;
}

/** Restores a state saved by serializeSeries; undefined when it does not fit (other version, damaged). */
export function deserializeSeries(v: unknown, p?: AnomalyParams): SeriesState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.v !== STATE_VERSION) return undefined;
  const s = newSeries(p);
  for (const k of FIELDS) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return undefined;
    s[k] = o[k] as number;
  }
  const sea = deserializeSeason(o.sea, DEFAULT_SEASON_PARAMS);
  if (!sea) return undefined;
  s.sea = sea;
  const seq = deserializeSeq(o.seq);
  if (!seq) return undefined;
  s.seq = seq;
  const habit = deserializeHabit(o.habit);
  if (!habit) return undefined;
  s.habit = habit;
  return s;
}

/** Approximate bytes held by one series state: its numbers, the object header and the seasonal history. */
export const SERIES_STATE_BYTES = FIELDS.length * 8 + 64 + seasonStateBytes(DEFAULT_SEASON_PARAMS) + SEQ_BYTES + HABIT_BYTES;
