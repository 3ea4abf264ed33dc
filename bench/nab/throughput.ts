/**
 * Points scored per second on one core, and bytes per series.
 *
 *   node --expose-gc --import tsx bench/nab/throughput.ts --data DIR [--series N] [--rounds R]
 *
 * Replays every NAB file's values through N interleaved series states (round-robin, as a processor
 * sees many series), after one untimed warm-up round.
 */
import { readCorpus } from './corpus';
import { DEFAULT_PARAMS, newSeries, scorePoint, SeriesState, SERIES_STATE_BYTES } from '../../processors/anomaly/algorithm';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(name);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  if (def === undefined) throw new Error(`missing ${name}`);
  return def;
}

const corpus = readCorpus(arg('--data'));
const seriesCount = Number(arg('--series', '1000'));
const rounds = Number(arg('--rounds', '3'));
const values: number[] = [];
for (const s of corpus) for (const v of s.values) values.push(v);
const data = Float64Array.from(values);

const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const heapBefore = (globalThis.gc?.(), used());
const states: SeriesState[] = Array.from({ length: seriesCount }, () => newSeries(DEFAULT_PARAMS));
const heapAfter = (globalThis.gc?.(), used());

let sink = 0;
const T0 = 1.7e9;
function round(): number {
  const t0 = process.hrtime.bigint();
  // Each series sees a point every 5 minutes, as the processor passes point times.
  for (let i = 0; i < data.length; i++) sink += scorePoint(states[i % seriesCount], data[i], DEFAULT_PARAMS, T0 + 300 * Math.floor(i / seriesCount));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
round();
let best = Infinity;
for (let r = 0; r < rounds; r++) best = Math.min(best, round());
console.log(`${data.length} points × ${rounds} rounds over ${seriesCount} series: best ${(data.length / best).toFixed(0)} points/s`);
console.log(`memory per fresh series: ~${((heapAfter - heapBefore) / seriesCount).toFixed(0)} bytes measured (heap + array buffers delta${globalThis.gc ? '' : ' without --expose-gc, noisy'}), ${SERIES_STATE_BYTES} bytes estimated`);
if (sink < 0) console.log(sink);
