/**
 * A bounded memory of the short shapes a series makes, after ARTime's adaptive-resonance idea: the
 * series is downsampled into blocks of `blockSize` points, the last `shapeLength` block means form
 * a shape, and the shape is compared with a fixed number of learnt prototypes. A shape close to one
 * of them (within the vigilance) refines it; one close to none becomes a new prototype, replacing
 * the least recently matched when the memory is full. The distance to the nearest prototype is the
 * shape's novelty: a missing daily peak, a flat stretch where the series usually moves, denser
 * spikes — anomalies that stay inside the usual range and that no point-wise residual reveals.
 *
 * NAB's ARTime and CAD OSE are told each file's minimum and maximum before they start; a stream has
 * no such thing. Shapes are therefore expressed in units of a running robust centre and spread of
 * the block means, with a long memory, so a prototype keeps its meaning while the series' range
 * slowly widens; the prototypes themselves keep learning and follow what is left.
 *
 * Constant work per point (one comparison pass over the prototypes every `blockSize` points) and a
 * fixed amount of memory: PATTERN_BYTES.
 */

export interface PatternParams {
  /** Points averaged into one block. */
  blockSize: number;
  /** Blocks per shape. */
  shapeLength: number;
  /** Prototypes kept. */
  prototypes: number;
  /** Memory (blocks) of the centre and spread that shapes are expressed in. */
  scaleMemory: number;
  /** Memory (blocks) of the distribution of novelties. */
  noveltyMemory: number;
  /** Learning rate of a matched prototype. */
  learnRate: number;
  /** A shape farther than this (mean absolute distance per block, in spread units) from every prototype is a new one. */
  vigilance: number;
}

export const DEFAULT_PATTERN_PARAMS: Readonly<PatternParams> = Object.freeze({
  blockSize: 6,
  shapeLength: 8,
  prototypes: 64,
  scaleMemory: 2000,
  noveltyMemory: 500,
  learnRate: 0.1,
  vigilance: 0.2,
});

export interface PatternState {
  /** Blocks completed. */
  blocks: number;
  /** Running sum and count of the current block. */
  blockSum: number;
  blockCount: number;
  /** Centre and mean absolute deviation of block means. */
  centre: number;
  spread: number;
  /** Weighted mean and variance of the novelty surprise. */
  nMean: number;
  nVar: number;
  /** Typical distance to the nearest prototype. */
  typ: number;
  /** Prototypes in use. */
  used: number;
  /** The last shapeLength block means, as a ring (raw units). */
  ring: Float64Array;
  /** prototypes × shapeLength, in spread units around the centre. */
  protos: Float32Array;
  /** Block index at which each prototype last matched (least recently matched is replaced first). */
  lastMatch: Float64Array;
}

export function newPatternState(q: PatternParams): PatternState {
  return {
    blocks: 0, blockSum: 0, blockCount: 0, centre: 0, spread: 0, nMean: 0, nVar: 1, typ: 0, used: 0,
    ring: new Float64Array(q.shapeLength),
    protos: new Float32Array(q.prototypes * q.shapeLength),
    lastMatch: new Float64Array(q.prototypes),
  };
}

const shape = new Float64Array(256);

/**
 * Adds one point. Returns the log-novelty z-score of the shape that the point completes (how far
 * the nearest prototype is, against the series' usual distances), or NaN when no shape was judged.
 */
export function observe(st: PatternState, x: number, q: PatternParams): number {
  st.blockSum += x;
  if (++st.blockCount < q.blockSize) return NaN;
  const m = st.blockSum / st.blockCount;
  st.blockSum = 0;
  st.blockCount = 0;
  const L = q.shapeLength;
  st.ring[st.blocks % L] = m;
  st.blocks++;
  const b = st.blocks;
  if (b === 1) st.centre = m;

  let z = NaN;
  if (b >= L) {
    const floor = 1e-9 + 1e-6 * Math.abs(st.centre);
    const inv = 1 / (st.spread + floor);
    for (let i = 0; i < L; i++) shape[i] = (st.ring[(b + i) % L] - st.centre) * inv;
    let best = -1;
    let bestD = Infinity;
    const P = st.protos;
    for (let k = 0; k < st.used; k++) {
      let d = 0;
      const o = k * L;
      for (let i = 0; i < L; i++) d += Math.abs(shape[i] - P[o + i]);
      if (d < bestD) { bestD = d; best = k; }
    }
    if (best >= 0) {
      // Novelty as a surprise relative to the series' typical distance (learnt clipped, so a run of
      // novel shapes does not make novelty typical), judged against its own history like the point
      // surprise: the same calibration on a noiseless cycle as on a noisy one.
      const dist = bestD / L;
      const ld = Math.log1p(dist / (st.typ + 1e-3));
      const at = 1 / Math.min(b - L + 1, q.noveltyMemory);
      st.typ += at * ((b - L < L ? dist : Math.min(dist, 3 * st.typ)) - st.typ);
      const sd = Math.sqrt(st.nVar + 1e-12);
      z = (ld - st.nMean) / sd;
      const a = 1 / Math.min(b - L + 1, q.noveltyMemory);
      const dd = ld - st.nMean;
      st.nMean += a * dd;
      st.nVar = (1 - a) * (st.nVar + a * dd * dd);
    }
    if (best >= 0 && bestD <= q.vigilance * L) {
      const o = best * L;
      for (let i = 0; i < L; i++) P[o + i] += q.learnRate * (shape[i] - P[o + i]);
      st.lastMatch[best] = b;
    } else {
      let slot = st.used;
      if (slot < q.prototypes) st.used++;
      else {
        slot = 0;
        for (let k = 1; k < q.prototypes; k++) if (st.lastMatch[k] < st.lastMatch[slot]) slot = k;
      }
      const o = slot * L;
      for (let i = 0; i < L; i++) P[o + i] = shape[i];
      st.lastMatch[slot] = b;
    }
  }
  const a = 1 / Math.min(b, q.scaleMemory);
  st.spread += a * (Math.abs(m - st.centre) - st.spread);
  st.centre += a * (m - st.centre);
  return z;
}

export function patternStateBytes(q: PatternParams): number {
  return q.prototypes * q.shapeLength * 4 + q.prototypes * 8 + q.shapeLength * 8 + 3 * 80 + 9 * 8;
}

const SCALARS = ['blocks', 'blockSum', 'blockCount', 'centre', 'spread', 'nMean', 'nVar', 'typ', 'used'] as const;

export function serializePattern(st: PatternState): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of SCALARS) o[k] = st[k];
  o.ring = Array.from(st.ring);
  o.protos = Array.from(st.protos.subarray(0, st.used * st.ring.length));
  o.lastMatch = Array.from(st.lastMatch.subarray(0, st.used));
  return o;
}

const finiteArray = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

export function deserializePattern(v: unknown, q: PatternParams): PatternState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const st = newPatternState(q);
  for (const k of SCALARS) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return undefined;
    st[k] = o[k] as number;
  }
  const L = q.shapeLength;
  if (!Number.isInteger(st.used) || st.used < 0 || st.used > q.prototypes) return undefined;
  if (!finiteArray(o.ring, L) || !finiteArray(o.protos, st.used * L) || !finiteArray(o.lastMatch, st.used)) return undefined;
  st.ring.set(o.ring);
  st.protos.set(o.protos);
  st.lastMatch.set(o.lastMatch);
  return st;
}
