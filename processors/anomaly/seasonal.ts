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
}

export const DEFAULT_SEASON_PARAMS: Readonly<SeasonParams> = Object.freeze({
  seasonBlocks: 256,
  minLag: 8,
  lagMemory: 200,
});

export interface SeasonState {
  blocks: number;
  /** The period (blocks) the last block was compared at; −1 while none could be judged. */
  period: number;
  ring: Float64Array;
  lagDiff: Float32Array;
}

export function newSeasonState(q: SeasonParams): SeasonState {
  return { blocks: 0, period: -1, ring: new Float64Array(q.seasonBlocks), lagDiff: new Float32Array(q.seasonBlocks) };
}

/**
 * Adds one block mean; returns the block's distance from the same phase one period ago in units of
 * that lag's typical difference, or NaN while no period can be judged yet. `floor` keeps a perfectly
 * repeating series from dividing by zero.
 */
export function observeBlock(st: SeasonState, m: number, floor: number, q: SeasonParams): number {
  const N = q.seasonBlocks;
  const b = st.blocks;
  const D = st.lagDiff;
  const R = st.ring;
  const avail = Math.min(b, N - 1);
  // One pass: find the period (the lag with the smallest typical difference among those seen often
  // enough to trust, before this block is learnt) and learn every lag's typical difference.
  let best = -1;
  let bestD = Infinity;
  const steady = 1 / q.lagMemory;
  const trusted = b - 2 * q.minLag;
  const judged = avail >= 2 * q.minLag;
  for (let k = 1, pos = (b - 1 + N) % N; k <= avail; k++, pos = pos === 0 ? N - 1 : pos - 1) {
    const e = Math.abs(m - R[pos]);
    const seen = b - k + 1;
    const a = seen < q.lagMemory ? 1 / seen : steady;
    const d = D[k];
    if (judged && k >= q.minLag && k <= trusted && d < bestD) { bestD = d; best = k; }
    // Clipped, so that an episode does not teach every lag that it is normal while it lasts.
    D[k] = d + a * ((seen <= 4 ? e : Math.min(e, 3 * d + floor)) - d);
  }
  st.period = best;
  const r = best > 0 ? Math.abs(m - R[(b - best) % N]) / (bestD + floor) : NaN;
  R[b % N] = m;
  st.blocks = b + 1;
  return r;
}

export function seasonStateBytes(q: SeasonParams): number {
  return q.seasonBlocks * 16 + 2 * 80 + 24;
}

export function serializeSeason(st: SeasonState): Record<string, unknown> {
  return { blocks: st.blocks, period: st.period, ring: Array.from(st.ring), lagDiff: Array.from(st.lagDiff) };
}

const finiteArray = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

export function deserializeSeason(v: unknown, q: SeasonParams): SeasonState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.blocks !== 'number' || !Number.isInteger(o.blocks) || o.blocks < 0) return undefined;
  if (typeof o.period !== 'number' || !Number.isInteger(o.period) || o.period >= q.seasonBlocks || o.period > o.blocks) return undefined;
  if (!finiteArray(o.ring, q.seasonBlocks) || !finiteArray(o.lagDiff, q.seasonBlocks)) return undefined;
  const st = newSeasonState(q);
  st.blocks = o.blocks;
  st.period = o.period < 1 ? -1 : o.period;
  st.ring.set(o.ring);
  st.lagDiff.set(o.lagDiff);
  return st;
}
