/**
 * A period-aware expectation that needs neither timestamps nor a declared period. The series is
 * read as block means (the shape memory's blocks); the last `seasonBlocks` of them are kept, and for
 * every lag the typical absolute difference between a block and the block that many blocks earlier
 * is tracked. The lag with the smallest typical difference (at least `minLag` blocks, so that plain
 * smoothness does not pass for a season) is the series' period; a block is then judged by how far
 * it is from the block one period ago, in units of that lag's typical difference. A missing daily
 * peak or a flat stretch where the series usually cycles is far from last period's block while
 * staying inside the usual range.
 *
 * Nothing is assumed to be periodic: on a series without a season the residual is as noisy as the
 * series and the caller's likelihood judges it against its own history, so it rarely stands out.
 * Work: one pass over the lags per block (amortised over the block's points); memory: SEASON_BYTES.
 */

export interface SeasonParams {
  /** Blocks of history kept; the longest period recognised. */
  seasonBlocks: number;
  /** Shortest period recognised, in blocks. */
  minLag: number;
  /** Memory (blocks) of the per-lag typical difference. */
  lagMemory: number;
  /** The period is familiar when its typical difference is below this fraction of the lags' mean. */
  familiarRatio: number;
}

export const DEFAULT_SEASON_PARAMS: Readonly<SeasonParams> = Object.freeze({
  seasonBlocks: 256,
  minLag: 8,
  lagMemory: 200,
  familiarRatio: 0.3,
});

export interface SeasonState {
  blocks: number;
  /** The period (blocks) the last block was compared at; −1 while none could be judged. */
  period: number;
  ring: Float64Array;
  lagDiff: Float32Array;
  /** Highest and lowest point of each kept block, and of the block being filled. */
  ringHi: Float32Array;
  ringLo: Float32Array;
  curHi: number;
  curLo: number;
  /** Whether the period stands out: its typical difference is well below the lags' average. */
  familiar: boolean;
}

export function newSeasonState(q: SeasonParams): SeasonState {
  return {
    blocks: 0, period: -1, ring: new Float64Array(q.seasonBlocks), lagDiff: new Float32Array(q.seasonBlocks),
    ringHi: new Float32Array(q.seasonBlocks), ringLo: new Float32Array(q.seasonBlocks), curHi: -Infinity, curLo: Infinity, familiar: false,
  };
}

/** Records one point of the block being filled (its extremes are kept with the block). */
export function notePoint(st: SeasonState, x: number): void {
  if (x > st.curHi) st.curHi = x;
  if (x < st.curLo) st.curLo = x;
}

/**
 * How far x lies outside what the series did at this phase one period ago (the extremes of the
 * block one period back; widening that to its neighbours, for jitter, let too much pass on NAB);
 * 0 inside, NaN when the series has no familiar season. A spike that comes back every period was
 * predicted by the season, so its distance from the usual level is no news.
 */
export function seasonExcess(st: SeasonState, x: number, q: SeasonParams): number {
  const P = st.period;
  if (!st.familiar || P < 1 || P >= q.seasonBlocks) return NaN;
  const N = q.seasonBlocks;
  const c = st.blocks - P;
  if (c < 1) return NaN;
  const i = c % N;
  const hi = st.ringHi[i], lo = st.ringLo[i];
  return x > hi ? x - hi : x < lo ? lo - x : 0;
}

/**
 * Adds one block mean; returns the block's signed difference from the same phase one period ago in
 * units of that lag's typical difference, or NaN while no period can be judged yet. `floor` keeps a perfectly
 * repeating series from dividing by zero.
 */
export function observeBlock(st: SeasonState, m: number, floor: number, q: SeasonParams): number {
  const N = q.seasonBlocks;
  const b = st.blocks;
  const D = st.lagDiff;
  const R = st.ring;
  const avail = Math.min(b, N - 1);
  // Find the period: the lag with the smallest typical difference among those seen often enough
  // to trust, before this block is learnt. (Preferring the shortest lag nearly as good, to avoid
  // picking a multiple of the period, scored lower on NAB: see README.)
  let best = -1;
  let bestD = Infinity;
  const trusted = Math.min(avail, b - 2 * q.minLag);
  let sumD = 0;
  if (avail >= 2 * q.minLag) {
    for (let k = q.minLag; k <= trusted; k++) { sumD += D[k]; if (D[k] < bestD) { bestD = D[k]; best = k; } }
  }
  // Learn every lag's typical difference.
  const steady = 1 / q.lagMemory;
  for (let k = 1, pos = (b - 1 + N) % N; k <= avail; k++, pos = pos === 0 ? N - 1 : pos - 1) {
    const e = Math.abs(m - R[pos]);
    const seen = b - k + 1;
    const a = seen < q.lagMemory ? 1 / seen : steady;
    const d = D[k];
    // Clipped, so that an episode does not teach every lag that it is normal while it lasts.
    D[k] = d + a * ((seen <= 4 ? e : Math.min(e, 3 * d + floor)) - d);
  }
  st.period = best;
  st.familiar = best > 0 && bestD < q.familiarRatio * (sumD / (trusted - q.minLag + 1));
  st.ringHi[b % N] = st.curHi;
  st.ringLo[b % N] = st.curLo;
  st.curHi = -Infinity;
  st.curLo = Infinity;
  const r = best > 0 ? (m - R[(b - best) % N]) / (bestD + floor) : NaN;
  R[b % N] = m;
  st.blocks = b + 1;
  return r;
}

export function seasonStateBytes(q: SeasonParams): number {
  return q.seasonBlocks * (8 + 4 + 4 + 4) + 4 * 80 + 48;
}

// The histories are saved as base64 of their bytes (host byte order, little-endian on every
// platform Node supports): about a third of a JSON array of decimal numbers, for every series
// persisted every `persist_interval`.
const toBase64 = (a: Float64Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function fromBase64<T extends Float64Array | Float32Array>(v: unknown, make: (n: number) => T, n: number): T | undefined {
  if (typeof v !== 'string') return undefined;
  const bytes = Buffer.from(v, 'base64');
  const out = make(n);
  if (bytes.length !== out.byteLength) return undefined;
  new Uint8Array(out.buffer).set(bytes);
  return out.every((x) => Number.isFinite(x)) ? out : undefined;
}

export function serializeSeason(st: SeasonState): Record<string, unknown> {
  // The extremes of an empty block are ±Infinity, which JSON cannot carry: saved as null.
  const fin = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    blocks: st.blocks, period: st.period, familiar: st.familiar, ring: toBase64(st.ring), lagDiff: toBase64(st.lagDiff),
    ringHi: toBase64(st.ringHi), ringLo: toBase64(st.ringLo), curHi: fin(st.curHi), curLo: fin(st.curLo),
  };
}

export function deserializeSeason(v: unknown, q: SeasonParams): SeasonState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.blocks !== 'number' || !Number.isInteger(o.blocks) || o.blocks < 0) return undefined;
  if (typeof o.period !== 'number' || !Number.isInteger(o.period) || o.period >= q.seasonBlocks || o.period > o.blocks) return undefined;
  const N = q.seasonBlocks;
  const f64 = (n: number) => new Float64Array(n), f32 = (n: number) => new Float32Array(n);
  const ring = fromBase64(o.ring, f64, N), lagDiff = fromBase64(o.lagDiff, f32, N);
  const ringHi = fromBase64(o.ringHi, f32, N), ringLo = fromBase64(o.ringLo, f32, N);
  if (!ring || !lagDiff || !ringHi || !ringLo) return undefined;
  if (typeof o.familiar !== 'boolean') return undefined;
  const extreme = (v: unknown, empty: number) => (v === null ? empty : typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const curHi = extreme(o.curHi, -Infinity), curLo = extreme(o.curLo, Infinity);
  if (curHi === undefined || curLo === undefined) return undefined;
  const st = newSeasonState(q);
  st.blocks = o.blocks;
  st.period = o.period < 1 ? -1 : o.period;
  st.ring = ring;
  st.lagDiff = lagDiff;
  st.ringHi = ringHi;
  st.ringLo = ringLo;
  st.curHi = curHi;
  st.curLo = curLo;
  st.familiar = o.familiar;
  return st;
}
