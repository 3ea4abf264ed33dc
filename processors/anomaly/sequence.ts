/**
 * A bounded sequence learner: which value follows which recent values. The caller quantises each
 * point into a symbol (a log-scaled bin of its distance from the running level, in units of the
 * running deviation); the learner keeps hashed, decaying counts of (last ORDER symbols → next
 * symbol) and returns the probability it gave the observed symbol in its context, before learning it.
 *
 * The prediction blends the context's own counts with the series' overall symbol frequencies
 * (an escape to order 0, as in prediction by partial match), so a context never seen before
 * predicts what the series usually does rather than nothing. A transition seen many times (a
 * spike that always follows the same run-up, a burst that always decays the same way) is no news,
 * whatever its distance from the level: the part of HTM / ARTime that a level model lacks.
 *
 * Memory: PAIRS counts and fingerprints, CONTEXTS totals (bytes) and NSYM 16-bit marginals (about
 * 1.6 KB). Counts are halved when one saturates, which is both the bound and a forgetting of old
 * habits (amortised constant work per point). Each pair slot keeps a fingerprint of the transition
 * it counts: without it a never-seen transition (a first spike) could borrow the count of a
 * frequent one hashed to the same slot and be taken as predicted.
 */

/** Symbols per side of the level: bins of log1p(|u|)·SCALE, u in deviations. */
export const HALF = 10;
export const NSYM = 2 * HALF + 1;
const SCALE = 2;
/** Symbols of context. */
export const ORDER = 3;
/** Hashed (context, symbol) counts and context totals: 2^bits slots each. */
const PAIRS_BITS = 9;
const PAIRS = 1 << PAIRS_BITS;
const CONTEXTS_BITS = 9;
const CONTEXTS = 1 << CONTEXTS_BITS;
const TAGS_AT = PAIRS + CONTEXTS;
const TAB = TAGS_AT + PAIRS;
/** The packed context keeps its last ORDER − 1 symbols before the next is appended. */
const CTX_DROP = NSYM ** (ORDER - 1);
/** Weight of the order-0 escape (in counts). */
const ESCAPE = 0.25;

export interface SeqState {
  /** The last ORDER symbols, packed base NSYM. */
  ctx: number;
  /** Symbols seen so far (the context is full once ≥ ORDER). */
  seen: number;
  /**
   * One buffer (fewer objects per series): PAIRS (context, symbol) counts, then CONTEXTS context
   * totals, then an 8-bit fingerprint of the (context, symbol) each pair slot counts (1–255; 0 = empty).
   */
  tab: Uint8Array;
  marg: Uint16Array;
  margTotal: number;
}

export function newSeqState(): SeqState {
  return { ctx: 0, seen: 0, tab: new Uint8Array(TAB), marg: new Uint16Array(NSYM), margTotal: 0 };
}

/** Symbol of a value u deviations from the level. */
export function symbolOf(u: number): number {
  const a = Math.log1p(Math.abs(u)) * SCALE;
  const k = a >= HALF ? HALF : Math.floor(a + 0.5);
  return HALF + (u < 0 ? -k : k);
}

// Multiplicative (Fibonacci) hashing: the top bits of the product index the tables.
const pairHash = (ctx: number, sym: number) => Math.imul(ctx * NSYM + sym + 1, 0x9e3779b1);
const ctxSlot = (ctx: number) => Math.imul(ctx + 1, 0x85ebca6b) >>> (32 - CONTEXTS_BITS);

function halve(a: Uint8Array | Uint16Array, n: number): void {
  for (let i = 0; i < n; i++) a[i] >>= 1;
}

/**
 * Observes one symbol: returns P(sym | context) (blended with the symbol's overall frequency),
 * or NaN while the context is not full yet, then learns the transition.
 */
export function observeSymbol(st: SeqState, sym: number): number {
  let prob = NaN;
  const full = st.seen >= ORDER;
  let ps = 0, cs = 0;
  if (full) {
    const h = pairHash(st.ctx, sym);
    ps = h >>> (32 - PAIRS_BITS);
    const tag = 1 + ((h >>> 8) % 255);
    cs = PAIRS + ctxSlot(st.ctx);
    const t = st.tab;
    const mine = t[TAGS_AT + ps] === tag;
    const c = mine ? t[ps] : 0, n = t[cs];
    const p0 = st.marg[sym] / (st.margTotal + 1);
    prob = (Math.min(c, n) + ESCAPE * p0) / (n + ESCAPE);
    if (t[ps] === 255 || t[cs] === 255) halve(t, TAGS_AT);
    t[cs]++;
    // A slot held by another transition is taken over only once its count has worn down (each
    // colliding transition wears it by one), so frequent transitions keep their slots and a
    // rare one never borrows another's count.
    if (mine) t[ps]++;
    else if (t[ps] <= 1) { t[TAGS_AT + ps] = tag; t[ps] = 1; }
    else t[ps]--;
  }
  if (st.marg[sym] === 65535) { halve(st.marg, NSYM); st.margTotal = 0; for (let i = 0; i < NSYM; i++) st.margTotal += st.marg[i]; }
  st.marg[sym]++;
  st.margTotal++;
  st.ctx = (st.ctx % CTX_DROP) * NSYM + sym;
  st.seen++;
  return prob;
}

export const SEQ_BYTES = TAB + 2 * NSYM + 2 * 80 + 40;

export function serializeSeq(st: SeqState): Record<string, unknown> {
  // The byte table as base64: a third of its size as a JSON array of numbers, for every series
  // persisted every `persist_interval`.
  return { ctx: st.ctx, seen: st.seen, margTotal: st.margTotal, tab: Buffer.from(st.tab.buffer, st.tab.byteOffset, st.tab.byteLength).toString('base64'), marg: Array.from(st.marg) };
}

const intArray = (v: unknown, n: number, max: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max);

export function deserializeSeq(v: unknown): SeqState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  for (const k of ['ctx', 'seen', 'margTotal']) if (typeof o[k] !== 'number' || !Number.isInteger(o[k]) || (o[k] as number) < 0) return undefined;
  if ((o.ctx as number) >= NSYM ** ORDER) return undefined;
  if (typeof o.tab !== 'string' || !intArray(o.marg, NSYM, 65535)) return undefined;
  const tab = Buffer.from(o.tab, 'base64');
  if (tab.length !== TAB) return undefined;
  const st = newSeqState();
  st.ctx = o.ctx as number;
  st.seen = o.seen as number;
  st.margTotal = o.margTotal as number;
  st.tab.set(tab);
  st.marg.set(o.marg);
  return st;
}
