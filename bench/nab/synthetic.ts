/**
 * Synthetic stress series in NAB's layout, a second held-out check that is not NAB.
 *
 *   npx tsx bench/nab/synthetic.ts --out DIR [--seed N]
 *
 * writes DIR/data/<group>/<file>.csv (timestamp,value) and DIR/combined_windows.json, so run.ts
 * scores them with the same scorer (`--check-data DIR/data --check-windows DIR/combined_windows.json`).
 * The three groups mimic the kinds of NAB data that were not available during development:
 *
 * - synthTweets: 5-minute mention counts with a daily and weekly rhythm and frequent, heavy-tailed
 *   bursts that are normal (not labelled); labelled: a surge far beyond the usual bursts lasting
 *   hours, and a sustained multi-day rise of the base rate.
 * - synthAdExchange: hourly cost-per-click / per-mille with a daily rhythm, multiplicative noise and
 *   missing hours; labelled: level shifts that last, a collapse to near zero.
 * - synthCloudwatch: 5-minute server metrics: CPU with plateaus (autoscaling regimes, normal) and a
 *   slow ramp to saturation (labelled), network bytes with heavy tails and a drop to nothing
 *   (labelled), disk writes stuck on a plateau (labelled), request counts with a daily rhythm and
 *   a surge (labelled).
 *
 * File k of seed s is generated from seed s + k (k up to 25), so seeds closer than 30 share files:
 * use distant seeds (e.g. 1001, 2001) for a check that is independent of the ones tuned on.
 *
 * Windows are sized as NAB sizes them: 10 % of the file's rows divided among its anomalies, centred
 * on each anomaly's onset. Everything is generated from a seed, so the files are reproducible.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: a small seeded PRNG, enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Poisson counts (Knuth for small rates, a rounded normal for large ones). */
function poisson(r: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss(r)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do { k++; p *= r(); } while (p > l);
  return k - 1;
}

/** Pareto-distributed size ≥ 1 with tail index alpha (heavy-tailed for alpha ≤ 2). */
function pareto(r: () => number, alpha: number): number {
  return Math.pow(1 - r(), -1 / alpha);
}

export interface SyntheticFile {
  group: string;
  file: string;
  /** Seconds since the epoch, one per row. */
  times: number[];
  values: number[];
  /** Row indexes where labelled anomalies start. */
  anomalies: number[];
}

const DAY = 86400;
const START = Date.UTC(2015, 2, 2) / 1000; // a Monday

function clock(rows: number, step: number, r: () => number, missing = 0): number[] {
  const out: number[] = [];
  let t = START;
  while (out.length < rows) {
    if (r() >= missing) out.push(t);
    t += step;
  }
  return out;
}

const daily = (t: number, peakHour: number) => Math.cos((2 * Math.PI * ((t % DAY) / 3600 - peakHour)) / 24);
const weekend = (t: number) => Math.floor((t - START) / DAY) % 7 >= 5;

function tweets(seed: number, name: string): SyntheticFile {
  const r = rng(seed);
  const rows = 8064; // four weeks of 5-minute counts
  const times = clock(rows, 300, r);
  const base = 5 + 40 * r();
  const surgeAt = 3000 + Math.floor(r() * 2000);
  const riseAt = surgeAt + 1200 + Math.floor(r() * 1200);
  const values: number[] = [];
  let burst = 0;
  for (let i = 0; i < rows; i++) {
    const t = times[i];
    // Bursts are normal here: about three a day, heavy-tailed in size, decaying over an hour or so.
    if (r() < 3 / 288) burst += base * 0.6 * pareto(r, 1.6);
    burst *= 0.93;
    let rate = base * (1 + 0.6 * daily(t, 15)) * (weekend(t) ? 0.6 : 1) + burst;
    if (i >= surgeAt && i < surgeAt + 36) rate += base * 25 * Math.exp(-(i - surgeAt) / 18); // a news storm
    if (i >= riseAt && i < riseAt + 864) rate *= 2.2; // three days of sustained interest
    values.push(poisson(r, rate));
  }
  return { group: 'synthTweets', file: name, times, values, anomalies: [surgeAt, riseAt] };
}

function adExchange(seed: number, name: string): SyntheticFile {
  const r = rng(seed);
  const rows = 1600; // about 70 days of hourly values, some hours missing
  const times = clock(rows, 3600, r, 0.04);
  const level0 = 0.2 + r() * 2;
  const shiftAt = 500 + Math.floor(r() * 300);
  const collapseAt = shiftAt + 400 + Math.floor(r() * 300);
  const values: number[] = [];
  let level = level0;
  for (let i = 0; i < rows; i++) {
    const t = times[i];
    if (i === shiftAt) level = level0 * (r() < 0.5 ? 1.9 : 0.45); // a campaign or a bidder change: lasts
    let v = level * (1 + 0.25 * daily(t, 20)) * Math.exp(0.18 * gauss(r));
    if (r() < 0.01) v *= 1 + 2 * r(); // the odd expensive hour, normal
    if (i >= collapseAt && i < collapseAt + 30) v *= 0.05; // the feed collapses for a day and a bit
    values.push(Number(v.toFixed(4)));
  }
  return { group: 'synthAdExchange', file: name, times, values, anomalies: [shiftAt, collapseAt] };
}

function cpu(seed: number, name: string): SyntheticFile {
  const r = rng(seed);
  const rows = 4032; // two weeks at 5 minutes
  const times = clock(rows, 300, r);
  const rampAt = 2600 + Math.floor(r() * 600);
  const values: number[] = [];
  let plateau = 30;
  for (let i = 0; i < rows; i++) {
    // Autoscaling regimes: the load per instance sits on a plateau and moves to another now and then.
    if (r() < 1 / 400) plateau = 20 + 30 * r();
    let v = plateau + 3 * daily(times[i], 14) + 1.5 * gauss(r);
    if (r() < 0.004) v += 20 * r(); // a cron job's spike, normal
    if (i >= rampAt) v += Math.min(100, (i - rampAt) * 0.25); // a leak: a slow climb to saturation
    values.push(Number(Math.min(100, Math.max(0, v)).toFixed(3)));
  }
  return { group: 'synthCloudwatch', file: name, times, values, anomalies: [rampAt] };
}

function network(seed: number, name: string): SyntheticFile {
  const r = rng(seed);
  const rows = 4032;
  const times = clock(rows, 300, r);
  const dropAt = 2000 + Math.floor(r() * 1500);
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    let v = 2e6 * (1 + 0.5 * daily(times[i], 13)) * Math.exp(0.3 * gauss(r));
    if (r() < 0.01) v *= pareto(r, 1.3); // transfers: heavy-tailed, normal
    if (i >= dropAt && i < dropAt + 60) v = 2e3 * r(); // the interface goes dark for five hours
    values.push(Math.round(v));
  }
  return { group: 'synthCloudwatch', file: name, times, values, anomalies: [dropAt] };
}

function disk(seed: number, name: string): SyntheticFile {
  const r = rng(seed);
  const rows = 4032;
  const times = clock(rows, 300, r);
  const stuckAt = 1800 + Math.floor(r() * 1500);
  const values: number[] = [];
  let stuck = 0;
  for (let i = 0; i < rows; i++) {
    let v = r() < 0.7 ? 0 : 5e5 * pareto(r, 1.8); // writes come in flushes: mostly 0, heavy-tailed when not
    if (i === stuckAt) stuck = 4e6;
    if (i >= stuckAt && i < stuckAt + 200) v = stuck * (1 + 0.01 * gauss(r)); // a runaway writer saturates the disk
    values.push(Math.round(v));
  }
  return { group: 'synthCloudwatch', file: name, times, values, anomalies: [stuckAt] };
}

function requests(seed: number, name: string): SyntheticFile {
  const r = rng(seed);
  const rows = 4032;
  const times = clock(rows, 300, r);
  const surgeAt = 1800 + Math.floor(r() * 1500);
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    let rate = 400 * (1 + 0.7 * daily(times[i], 16)) * (weekend(times[i]) ? 0.5 : 1);
    if (i >= surgeAt && i < surgeAt + 24) rate *= 4; // a retry storm for two hours
    values.push(poisson(r, rate));
  }
  return { group: 'synthCloudwatch', file: name, times, values, anomalies: [surgeAt] };
}

/** The whole synthetic corpus for a seed. */
export function synthesize(seed: number): SyntheticFile[] {
  return [
    tweets(seed + 1, 'tweets_a.csv'), tweets(seed + 2, 'tweets_b.csv'), tweets(seed + 3, 'tweets_c.csv'),
    adExchange(seed + 11, 'cpc_a.csv'), adExchange(seed + 12, 'cpc_b.csv'), adExchange(seed + 13, 'cpm_c.csv'),
    cpu(seed + 21, 'cpu_a.csv'), cpu(seed + 22, 'cpu_b.csv'), network(seed + 23, 'network_in.csv'),
    disk(seed + 24, 'disk_write_bytes.csv'), requests(seed + 25, 'elb_request_count.csv'),
  ];
}

const pad = (n: number) => String(n).padStart(2, '0');
/** NAB's timestamp text (naive UTC). */
export function nabTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** NAB's window rule: 10 % of the rows shared among the anomalies, each window centred on its onset. */
export function windowsOf(f: SyntheticFile): Array<[string, string]> {
  const width = Math.floor((0.1 * f.values.length) / Math.max(1, f.anomalies.length));
  return f.anomalies.map((a) => {
    const lo = Math.max(0, a - Math.floor(width / 2));
    const hi = Math.min(f.values.length - 1, lo + width - 1);
    return [nabTime(f.times[lo]), nabTime(f.times[hi])];
  });
}

/** Writes the corpus in NAB's layout under `out`. */
export function writeCorpus(out: string, files: SyntheticFile[]): void {
  const windows: Record<string, Array<[string, string]>> = {};
  for (const f of files) {
    mkdirSync(join(out, 'data', f.group), { recursive: true });
    const lines = ['timestamp,value', ...f.values.map((v, i) => `${nabTime(f.times[i])},${v}`)];
    writeFileSync(join(out, 'data', f.group, f.file), lines.join('\n') + '\n');
    windows[`${f.group}/${f.file}`] = windowsOf(f);
  }
  writeFileSync(join(out, 'combined_windows.json'), JSON.stringify(windows, null, 1) + '\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  const out = get('--out');
  if (!out) throw new Error('usage: synthetic.ts --out DIR [--seed N]');
  const files = synthesize(Number(get('--seed') ?? 1));
  writeCorpus(out, files);
  console.log(`${files.length} files, ${files.reduce((a, f) => a + f.anomalies.length, 0)} labelled anomalies written to ${out}`);
}
