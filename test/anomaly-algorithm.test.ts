import t from 'tap';
import { DEFAULT_PARAMS, NEAR_DECADES, NOMINAL_INTERVAL, deserializeSeries, newSeries, scorePoint, serializeSeries, expectedRange } from '../processors/anomaly/algorithm';
import { brokenPeriod, drift, gauss, rng, spike, step, Synthetic } from './fixtures/anomaly/synthetic';
import { validateConfig } from '../src/config/validate';
import { loadConfigSources } from '../src/config/load';
import { factories } from '../src/components';
import { toParams } from '../processors/anomaly/config';
import { deserializeHabit, habitRate, habitRecord, habitTouch, newHabit, serializeHabit } from '../processors/anomaly/habit';

const TH = DEFAULT_PARAMS.alarmLevel;

function run(s: Synthetic): number[] {
  const st = newSeries(DEFAULT_PARAMS);
  return s.values.map((v) => scorePoint(st, v, DEFAULT_PARAMS));
}
const alarmsIn = (scores: number[], from: number, to: number) => scores.slice(from, to).filter((x) => x >= TH).length;

t.test('scores are 0 during warm-up and always within [0, 1]', async (t) => {
  const scores = run(step());
  t.equal(Math.max(...scores.slice(0, DEFAULT_PARAMS.warmup)), 0);
  t.ok(scores.every((x) => x >= 0 && x <= 1));
});

t.test('a step is flagged when it happens, once', async (t) => {
  const s = step();
  const scores = run(s);
  t.ok(scores[s.anomalyAt] >= TH, `score at the step ${scores[s.anomalyAt]}`);
  // The rest period keeps one incident to one alarm (without timestamps a point stands for NOMINAL_INTERVAL).
  t.equal(alarmsIn(scores, s.anomalyAt + 1, s.anomalyAt + DEFAULT_PARAMS.restPeriod / NOMINAL_INTERVAL), 0);
  // Before it, at most the occasional new extreme of the noise (see README, known weaknesses).
  t.ok(alarmsIn(scores, 0, s.anomalyAt) <= 2, `false alarms before the step: ${alarmsIn(scores, 0, s.anomalyAt)}`);
});

t.test('the rest period is time, not points: an hourly series rests hours, not days', async (t) => {
  // Two spikes 10 rows apart: 10 hours on hourly data (past the 6-hour rest period, reported),
  // 10 minutes on 1-minute data (inside it, masked).
  const g = gauss(rng(7));
  const values = Array.from({ length: 1500 }, () => 100 + g());
  values[1200] = 160;
  values[1210] = 40;
  const scoresAt = (interval: number) => {
    const st = newSeries(DEFAULT_PARAMS);
    return values.map((v, i) => scorePoint(st, v, DEFAULT_PARAMS, 1.7e9 + i * interval));
  };
  const hourly = scoresAt(3600);
  const minutely = scoresAt(60);
  t.ok(hourly[1200] >= TH && minutely[1200] >= TH, `first spike: ${hourly[1200]}, ${minutely[1200]}`);
  t.ok(hourly[1210] >= TH, `second spike, hourly: ${hourly[1210]}`);
  t.equal(minutely[1210], 0, 'second spike, 1-minute: masked');
});

t.test('a spike is flagged on the spike', async (t) => {
  const s = spike();
  const scores = run(s);
  t.ok(scores[s.anomalyAt] >= TH, `score at the spike ${scores[s.anomalyAt]}`);
  t.ok(alarmsIn(scores, 0, s.anomalyAt) <= 3, `false alarms before the spike: ${alarmsIn(scores, 0, s.anomalyAt)}`);
});

t.test('a slow drift does not keep alarming', async (t) => {
  const scores = run(drift());
  t.ok(alarmsIn(scores, 0, scores.length) <= 2, `alarms over a slow drift: ${alarmsIn(scores, 0, scores.length)}`);
  // ... whereas the same drift 50× faster is a ramp: no single point stands out, but the run of
  // moderately surprising points does (second likelihood stage), within a few noise widths.
  const fast = drift();
  fast.values = fast.values.map((v, i) => (i < 1000 ? v : v + 0.1 * (i - 1000)));
  const fastScores = run(fast);
  const first = fastScores.findIndex((x, i) => i >= 1000 && x >= TH);
  t.ok(first >= 1000 && first < 1150, `ramp alarmed at ${first}`);
  t.equal(alarmsIn(fastScores, 0, 1000), alarmsIn(scores, 0, 1000), 'identical before the ramp');
});

t.test('a lasting level shift becomes the new normal', async (t) => {
  const s = step();
  const st = newSeries(DEFAULT_PARAMS);
  s.values.forEach((v) => scorePoint(st, v, DEFAULT_PARAMS));
  // 400 points after the shift the level model sits on the new level (a clipped model alone would
  // still be creeping towards it, calling every later point surprising).
  const [lo, hi] = expectedRange(st);
  t.ok(lo < 130 && hi > 130 && lo > 110, `expected range ${lo}..${hi}`);
  const later = newSeries(DEFAULT_PARAMS);
  const tail = [...s.values, ...step(9).values.slice(800)];
  const scores = tail.map((v) => scorePoint(later, v, DEFAULT_PARAMS));
  t.equal(alarmsIn(scores, 1200, tail.length), 0, 'no alarms once the new level is established');
});

t.test('a periodic series: normal periods stay below the threshold after warm-up', async (t) => {
  const s = brokenPeriod();
  const scores = run(s);
  t.ok(alarmsIn(scores, 200, s.anomalyAt) <= 1, `alarms in normal periods: ${alarmsIn(scores, 200, s.anomalyAt)}`);
});

t.test('a periodic series with one broken period: the break alarms early in that period', async (t) => {
  const s = brokenPeriod();
  const st = newSeries(DEFAULT_PARAMS);
  const scores = s.values.map((v, i) => {
    // Just before the break, the seasonal expectation has found the 48-point cycle (8 blocks of 6
    // points) or a multiple of it...
    if (i === s.anomalyAt) t.ok(st.sea.period > 0 && st.sea.period % 8 === 0, `period ${st.sea.period} blocks`);
    return scorePoint(st, v, DEFAULT_PARAMS);
  });
  // ...and a flat stretch at the mean, inside the usual range, is far from last period's shape.
  const first = scores.findIndex((x, i) => i >= s.anomalyAt && x >= TH);
  t.ok(first >= s.anomalyAt && first < s.anomalyAt + 24, `broken period alarmed at ${first} (starts at ${s.anomalyAt})`);
});

t.test('the seasonal model needs no timestamps and stays quiet on a series without a season', async (t) => {
  const scores = run(drift());
  const st = newSeries(DEFAULT_PARAMS);
  drift().values.forEach((v) => scorePoint(st, v, DEFAULT_PARAMS));
  t.ok(st.sea.blocks > 300, 'blocks were judged');
  t.ok(alarmsIn(scores, 0, scores.length) <= 2, `alarms on noise with a slow drift: ${alarmsIn(scores, 0, scores.length)}`);
});

t.test('a spike that recurs every period stops alarming; the same spike out of phase still alarms', async (t) => {
  // A cycle of 120 points (amplitude 10, noise 0.5) with a +15 spike at the same phase of every
  // cycle, and one extra spike 60 points after one of them.
  const g = gauss(rng(7));
  const offPhase = 3090;
  const values = Array.from({ length: 3600 }, (_, i) =>
    50 + 10 * Math.sin((2 * Math.PI * i) / 120) + 0.5 * g() + (i % 120 === 30 || i === offPhase ? 15 : 0));
  const scores = run({ values, anomalyAt: offPhase });
  const recurring = (from: number, to: number) => scores.filter((x, i) => i >= from && i < to && i % 120 === 30 && x >= TH).length;
  t.equal(recurring(600, 3600), 0, 'once the season knows them, the recurring spikes no longer alarm');
  t.ok(scores[offPhase] >= TH, `an out-of-phase spike alarms: ${scores[offPhase]}`);
});

/**
 * A 48-point cycle whose peak comes a quarter period late at irregular times (the same surprise
 * for the seasonal stage each time, while the series keeps moving as usual), then one period in
 * opposite phase (twice as far from the usual shape).
 */
function recurringBreaks(seed = 4) {
  const g = gauss(rng(seed));
  const P = 48;
  const broken = [24, 37, 45];
  const inverted = 92;
  const values = Array.from({ length: 100 * P }, (_, i) => {
    const k = Math.floor(i / P);
    const phase = broken.includes(k) ? Math.PI / 2 : k === inverted ? Math.PI : 0;
    return 60 + 10 * Math.sin((2 * Math.PI * i) / P + phase) + 0.5 * g();
  });
  return { values, P, broken, inverted };
}

t.test('a seasonal surprise that recurs irregularly is paged once; a larger one still alarms', async (t) => {
  for (const seed of [4, 5, 6]) {
    const { values, P, broken, inverted } = recurringBreaks(seed);
    const scores = run({ values, anomalyAt: broken[0] * P });
    const alarmed = (k: number) => alarmsIn(scores, k * P, (k + 1) * P) > 0;
    t.ok(alarmed(broken[0]), `seed ${seed}: the first late peak alarms`);
    t.notOk(alarmed(broken[1]) || alarmed(broken[2]), `seed ${seed}: the same late peak again, a few periods later, does not`);
    t.ok(alarmed(inverted), `seed ${seed}: an inverted period alarms`);
    t.equal(alarmsIn(scores, 200, broken[0] * P), 0, `seed ${seed}: no alarms before the first break`);
  }
});

t.test('a series that stops moving alarms though its value stays in the usual range', async (t) => {
  // Noise around 40 (steps of about 1.1), then from 3000 a stuck reading with tiny jitter: no
  // value leaves the usual band and no step is large, but the series has stopped moving.
  const g = gauss(rng(11));
  const stuckAt = 3000;
  const values = Array.from({ length: 3600 }, (_, i) => (i < stuckAt ? 40 + g() : 40.3 + 0.01 * g()));
  const scores = run({ values, anomalyAt: stuckAt });
  const first = scores.findIndex((x, i) => i >= stuckAt && x >= TH);
  t.ok(first >= stuckAt && first < stuckAt + 60, `stuck series alarmed at ${first} (stuck from ${stuckAt})`);
  t.equal(alarmsIn(scores, 0, stuckAt), 0, 'no alarm while it moves');
  // Without the quiet stage nothing would be unusual here: the stuck value is the usual level.
  t.ok(Math.abs(values[stuckAt + 10] - 40) < 1.2533 * 3, 'the stuck value is inside the usual band');
});

t.test('a run of near-alarm scores is reported once or a few times, not on every point', async (t) => {
  // A gentle ramp (0.02 noise widths per point from 1500): the second stage's average climbs and
  // lingers just below the alarm level for a few hundred points.
  const g = gauss(rng(1));
  const values = Array.from({ length: 4000 }, (_, i) => 100 + g() + 0.02 * Math.max(0, i - 1500));
  const scores = run({ values, anomalyAt: 1500 });
  const near = (x: number) => x >= TH - NEAR_DECADES / DEFAULT_PARAMS.scoreDecades && x < TH;
  // A near-alarm score is reported again only after a quiet gap (2 × shortMemory points without
  // one) or when it is half a decade above the run's highest: the ramp, which keeps drifting for
  // 2,500 points, comes out as a few separate reports, never as a report on every point.
  const ramp = scores.slice(1500);
  const reports = ramp.map((x, i) => [i, x] as const).filter(([, x]) => near(x));
  t.ok(ramp.some(near) || ramp.some((x) => x >= TH), 'the ramp is noticed');
  t.equal(alarmsIn(scores, 0, 1500), 0, 'no alarm on the noise before the ramp');
  // v13's level stage reads the drift as a slow shift too: 7 separate reports over 2,500 points (v12: 6).
  t.ok(reports.length <= 8, `near-alarm reports over the ramp: ${reports.length}`);
  for (let k = 1; k < reports.length; k++) {
    const [i, x] = reports[k];
    const [j, y] = reports[k - 1];
    t.ok(i - j > 2 * DEFAULT_PARAMS.shortMemory || x >= y + 0.5 / DEFAULT_PARAMS.scoreDecades, `report at ${1500 + i} (${x.toFixed(2)}) after ${1500 + j} (${y.toFixed(2)})`);
  }
});

t.test('state survives serialisation exactly', async (t) => {
  const s = step();
  const a = newSeries(DEFAULT_PARAMS);
  for (const v of s.values.slice(0, 500)) scorePoint(a, v, DEFAULT_PARAMS);
  const b = deserializeSeries(JSON.parse(JSON.stringify(serializeSeries(a))), DEFAULT_PARAMS)!;
  t.ok(b);
  for (const v of s.values.slice(500)) t.equal(scorePoint(b, v, DEFAULT_PARAMS), scorePoint(a, v, DEFAULT_PARAMS));
  // Also at a block boundary, where the block being filled is empty (its extremes are ±Infinity).
  while (a.blockCount !== 0) scorePoint(a, 130, DEFAULT_PARAMS);
  const c = deserializeSeries(JSON.parse(JSON.stringify(serializeSeries(a))), DEFAULT_PARAMS)!;
  t.ok(c);
  t.same(c.sea.curHi, -Infinity);
  t.equal(deserializeSeries({ n: 'x' }, DEFAULT_PARAMS), undefined);
  // A state whose seasonal history is damaged is refused rather than misread.
  const damaged = JSON.parse(JSON.stringify(serializeSeries(a)));
  damaged.sea.ring = damaged.sea.ring.slice(1);
  t.equal(deserializeSeries(damaged, DEFAULT_PARAMS), undefined);
  // So is one whose sequence table is truncated.
  const cut = JSON.parse(JSON.stringify(serializeSeries(a)));
  cut.seq.tab = cut.seq.tab.slice(8);
  t.equal(deserializeSeries(cut, DEFAULT_PARAMS), undefined, 'a truncated sequence table is refused');
  // The habituation memory survives too.
  const { values } = recurringBreaks();
  const h = newSeries(DEFAULT_PARAMS);
  for (const v of values.slice(0, 2500)) scorePoint(h, v, DEFAULT_PARAMS);
  t.ok(h.habit.count > 0, 'seasonal surprises were remembered');
  const h2 = deserializeSeries(JSON.parse(JSON.stringify(serializeSeries(h))), DEFAULT_PARAMS)!;
  t.ok(h2);
  for (const v of values.slice(2500)) t.equal(scorePoint(h2, v, DEFAULT_PARAMS), scorePoint(h, v, DEFAULT_PARAMS));
  const [lo, hi] = expectedRange(a);
  t.ok(lo < 130 && hi > 130, `expected range ${lo}..${hi} follows the new level`);
});

t.test('habituation: an episode that outlasts the gap does not vouch for itself', async (t) => {
  const q = { horizon: 5000, tolerance: 0.2, gap: 30 };
  const h = newHabit();
  // One long episode: an event at 1000, then blocks that keep it going every 6 points (some only
  // through the short average, as touches), well past `gap` from its start.
  habitRecord(h, -3, 1000, 0, q);
  for (let now = 1006; now <= 1090; now += 6) {
    t.equal(habitRate(h, -3, now, q), 0, `still the first event at ${now}`);
    if (now % 12 === 0) habitRecord(h, -3, now, 0, q);
    else habitTouch(h, -3, now, q);
  }
  // Once it has ended, the same surprise again is familiar.
  t.ok(habitRate(h, -3, 1500, q) > 0, 'a later recurrence is familiar');
  const back = deserializeHabit(JSON.parse(JSON.stringify(serializeHabit(h))));
  t.same(back, h, 'habit state survives serialisation');
});

t.test('a lasting halving of a noisy hourly price is flagged, and once', async (t) => {
  // Hourly values with 20 % multiplicative noise: a halving is only ~2.5 deviations per point, so no
  // single point is remarkable and the unsigned short average barely moves; the signed level stage
  // sees it. Afterwards the level follows (a reported shift is the new level), so it does not keep alarming.
  const g = gauss(rng(11));
  const values = Array.from({ length: 1400 }, (_, i) => (i >= 900 ? 0.5 : 1) * Math.exp(0.2 * g()));
  const st = newSeries(DEFAULT_PARAMS);
  const scores = values.map((v, i) => scorePoint(st, v, DEFAULT_PARAMS, 1.7e9 + i * 3600));
  const first = scores.findIndex((x, i) => i >= 900 && x >= TH);
  t.ok(first >= 900 && first < 940, `first alarm after the halving at ${first}`);
  t.ok(alarmsIn(scores, 940, 1400) <= 1, `alarms once the new level is established: ${alarmsIn(scores, 940, 1400)}`);
  t.ok(alarmsIn(scores, 200, 900) <= 2, `false alarms before: ${alarmsIn(scores, 200, 900)}`);
  const off = newSeries(DEFAULT_PARAMS);
  const ablated = values.map((v, i) => scorePoint(off, v, { ...DEFAULT_PARAMS, levelStage: 0 }, 1.7e9 + i * 3600));
  t.equal(alarmsIn(ablated, 900, 940), 0, 'without the level stage the halving is missed (the test can fail)');
});

t.test('a state saved by an older version is dropped, not misread', async (t) => {
  const a = newSeries(DEFAULT_PARAMS);
  for (const v of step().values.slice(0, 300)) scorePoint(a, v, DEFAULT_PARAMS);
  const saved = serializeSeries(a);
  t.equal(saved.v, 13);
  t.equal(deserializeSeries({ ...saved, v: 12 }, DEFAULT_PARAMS), undefined);
  const { lShort: _, ...missing } = saved;
  t.equal(deserializeSeries(missing, DEFAULT_PARAMS), undefined, 'a state without the level stage is refused');
});

t.test('config: the old key refractory still works, as rest_period, with a warning', async (t) => {
  const yaml = (algo: string) => `receivers:\n  otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } }\nprocessors:\n  anomaly:\n    algorithm: { ${algo} }\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    metrics: { receivers: [otlp], processors: [anomaly], exporters: [debug] }\n`;
  const load = (algo: string) => validateConfig(loadConfigSources([{ name: 'p.yaml', text: yaml(algo) }], {}), factories);
  const old = load('refractory: 150');
  const w = old.warnings.find((x) => x.path.includes('refractory'));
  t.ok(w, 'a warning names the key');
  t.match(w!.message, /deprecated, use rest_period: 150 points, read as 12\.5h|deprecated, use rest_period: 150 points, read as 750m/);
  t.equal(toParams(old.processors.get('anomaly')!.config as never).restPeriod, 150 * NOMINAL_INTERVAL);
  t.equal(toParams(load('refractory: "2h"').processors.get('anomaly')!.config as never).restPeriod, 7200);
  t.equal(load('rest_period: 2h').warnings.filter((x) => x.path.includes('refractory')).length, 0, 'no warning without the old key');
  t.throws(() => load('refractory: 150, rest_period: 2h'), /set only rest_period/);
});
