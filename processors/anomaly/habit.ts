/**
 * Habituation: a short memory of a stage's recent surprises (signed size and when they happened),
 * so that a surprise that has already happened recently, at least about as large and in the same
 * direction, is judged by how often such surprises happen rather than by how far it lies in the
 * stage's Gaussian tail. An operator does not want the fifth identical page of the week; a larger
 * surprise, one in the other direction, or the same one after the memory has forgotten it, is
 * still news. Fixed memory (HAB_EVENTS events), constant work per point.
 */

/** Events remembered. */
export const HAB_EVENTS = 16;

export interface HabitState {
  /** Ring of signed sizes and of the point index of each event; `count` events written so far. */
  size: Float64Array;
  at: Float64Array;
  count: number;
  /** The rate the latest event was judged by (its later points, or an average's echo of it, share it). */
  lastRate: number;
  /**
   * When the latest event last showed (an event lasts while its surprises follow each other within
   * `gap`): an ongoing episode longer than `gap` must not vouch for itself as an earlier event.
   */
  lastAt: number;
}

export function newHabit(): HabitState {
  return { size: new Float64Array(HAB_EVENTS), at: new Float64Array(HAB_EVENTS), count: 0, lastRate: 0, lastAt: -1e9 };
}

export interface HabitParams {
  /** Events further back than this (points) are forgotten. */
  horizon: number;
  /** An earlier event matches when it has the same sign and a size at least (size − tolerance). */
  tolerance: number;
  /** Surprises closer than this (points) to the latest event are part of it (its largest size is kept). */
  gap: number;
}

/**
 * The rate (events per point) at which surprises at least about this large, in this direction,
 * have happened recently (matches over the time since the oldest match); 0 when none did.
 */
export function habitRate(h: HabitState, size: number, now: number, q: HabitParams): number {
  const n = Math.min(h.count, HAB_EVENTS);
  let m = 0;
  let oldest = now;
  const latest = (h.count - 1) % HAB_EVENTS;
  for (let k = 0; k < n; k++) {
    const t = h.at[k];
    // The latest event's age runs from its last surprise, not its first.
    const age = k === latest ? now - h.lastAt : now - t;
    // The current event (closer than `gap`) does not vouch for itself.
    if (age > q.horizon || age <= q.gap) continue;
    const z = h.size[k];
    if (Math.sign(z) !== Math.sign(size) || Math.abs(z) < Math.abs(size) - q.tolerance) continue;
    m++;
    if (t < oldest) oldest = t;
  }
  const rate = m === 0 ? 0 : m / (now - oldest);
  // Within the latest event, its own rate still holds for later points no larger than it (or a
  // moving average's echo of it): the same news. An event that grows beyond that is judged afresh.
  if (h.count > 0) {
    const last = (h.count - 1) % HAB_EVENTS;
    if (now - h.lastAt <= q.gap && Math.abs(size) <= Math.abs(h.size[last])) return Math.max(rate, h.lastRate);
  }
  return rate;
}

/** Records a surprise (signed size) at point `now` and the rate it was judged by; merged into the latest event when close. */
export function habitRecord(h: HabitState, size: number, now: number, rate: number, q: HabitParams): void {
  h.lastRate = rate;
  if (h.count > 0) {
    const last = (h.count - 1) % HAB_EVENTS;
    if (now - h.lastAt <= q.gap && Math.sign(h.size[last]) === Math.sign(size)) {
      if (Math.abs(size) > Math.abs(h.size[last])) h.size[last] = size;
      h.lastAt = now;
      return;
    }
  }
  const i = h.count % HAB_EVENTS;
  h.size[i] = size;
  h.at[i] = now;
  h.lastAt = now;
  h.count++;
}

/**
 * A surprise that is part of the latest event but too small to be an event by itself (a short
 * average's echo of it, a block just above the event level) keeps the event going.
 */
export function habitTouch(h: HabitState, size: number, now: number, q: HabitParams): void {
  if (h.count === 0) return;
  const last = (h.count - 1) % HAB_EVENTS;
  if (now - h.lastAt <= q.gap && Math.sign(h.size[last]) === Math.sign(size)) h.lastAt = now;
}

export function serializeHabit(h: HabitState): Record<string, unknown> {
  return { size: Array.from(h.size), at: Array.from(h.at), count: h.count, lastRate: h.lastRate, lastAt: h.lastAt };
}

export function deserializeHabit(v: unknown): HabitState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === HAB_EVENTS && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!ok(o.size) || !ok(o.at)) return undefined;
  if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) return undefined;
  if (typeof o.lastRate !== 'number' || !Number.isFinite(o.lastRate) || o.lastRate < 0) return undefined;
  if (typeof o.lastAt !== 'number' || !Number.isFinite(o.lastAt)) return undefined;
  const h = newHabit();
  h.size.set(o.size);
  h.at.set(o.at);
  h.count = o.count;
  h.lastRate = o.lastRate;
  h.lastAt = o.lastAt;
  return h;
}

/** Approximate bytes of one HabitState. */
export const HABIT_BYTES = HAB_EVENTS * 16 + 3 * 8 + 64;
