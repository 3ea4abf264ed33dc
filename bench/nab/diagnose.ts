/**
 * Where a detector's scores fall relative to NAB's windows, file by file: for each window, its row
 * range, the highest score inside it and where the first score ≥ threshold lands; then the
 * scored rows outside every window that reach the threshold. For tuning; NAB's scoring is in run.ts.
 *
 *   npx tsx bench/nab/diagnose.ts --data DIR --windows FILE \
 *     [--threshold T] [--file SUBSTRING] [--param key=value ...]
 */
import { readCorpus, readWindows } from './corpus';
import { probationLength } from './scorer';
import { AnomalyParams, DEFAULT_PARAMS, newSeries, scorePoint } from '../../processors/anomaly/algorithm';

const argv = process.argv.slice(2);
const get = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
const params: AnomalyParams = { ...DEFAULT_PARAMS };
argv.forEach((a, i) => { if (a === '--param') { const [k, v] = argv[i + 1].split('='); (params as unknown as Record<string, number>)[k] = Number(v); } });
const th = Number(get('--threshold') ?? params.alarmLevel);
const only = get('--file');
const windows = readWindows(get('--windows')!);
for (const s of readCorpus(get('--data')!)) {
  if (only && !s.name.includes(only)) continue;
  const st = newSeries(params);
  const sc = Array.from(s.values, (v, i) => scorePoint(st, v, params, s.timestamps[i] / 1000));
  const prob = probationLength(s.values.length);
  const idx = new Map(s.timestamps.map((t, i) => [t, i] as [number, number]));
  const ws = (windows.get(s.name) ?? []).map(([a, b]) => [idx.get(a)!, idx.get(b)!]);
  console.log(`${s.name}  n=${s.values.length} probation=${prob}`);
  for (const [a, b] of ws) {
    let max = 0, at = -1, first = -1;
    for (let i = Math.max(a, prob); i <= b; i++) { if (sc[i] > max) { max = sc[i]; at = i; } if (first < 0 && sc[i] >= th) first = i; }
    console.log(`  window ${a}..${b}: max ${max.toFixed(3)} at ${at}; first ≥ th ${first < 0 ? '-' : `${first} (${((first - a) / (b - a + 1)).toFixed(2)})`}`);
  }
  const fps: string[] = [];
  for (let i = prob; i < sc.length; i++) if (sc[i] >= th && !ws.some(([a, b]) => i >= a && i <= b)) fps.push(`${i}:${sc[i].toFixed(2)}`);
  if (fps.length) console.log(`  fp: ${fps.join(' ')}`);
}
