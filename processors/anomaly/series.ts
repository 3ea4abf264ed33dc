/**
 * The set of series one component scores: a bounded map from series key to algorithm state, with
 * idle series evicted, the least recently seen evicted first when the cap is reached, and the
 * states persisted through the shared StateStore so that a restart resumes without a new warm-up.
 */
import { StateStore } from '../../src/state';
import { registerSubjectEraser, seriesKeyNames } from '../../src/storage/erasure-state';
import { AnomalyParams, SeriesState, deserializeSeries, expectedRange, newSeries, scorePoint, serializeSeries } from './algorithm';

export interface TrackerOptions {
  /** Namespace in the state store (the component id). */
  component: string;
  params: AnomalyParams;
  maxSeries: number;
  idleMs: number;
  /** Data directory for persistence; undefined keeps state in memory only. */
  dataDir?: string;
}

export interface Entry {
  state: SeriesState;
  lastSeenMs: number;
  /** The previous raw value, for counters scored by their increase. */
  lastRaw?: number;
  dirty: boolean;
}

export interface Scored {
  score: number;
  expected: [number, number];
  /** False while the series is still warming up. */
  ready: boolean;
}

export class SeriesTracker {
  private readonly series = new Map<string, Entry>();
  private readonly removed = new Set<string>();
  private store?: StateStore;
  private unregisterEraser?: () => void;
  evicted = 0;

  constructor(private readonly o: TrackerOptions) {}

  get size(): number {
    return this.series.size;
  }

  /** Loads persisted series (the most recently seen first, up to the cap). */
  open(): void {
    this.unregisterEraser = registerSubjectEraser(this.ns(), (subject, keys) => ({ series: this.forget(subject, keys) }));
    if (this.o.dataDir === undefined) return;
    this.store = StateStore.open(this.o.dataDir);
    const rows = this.store.list<{ s: unknown; t: number; r?: number }>(this.ns());
    rows.sort((a, b) => a.value.t - b.value.t);
    for (const row of rows.slice(-this.o.maxSeries)) {
      const state = deserializeSeries(row.value.s, this.o.params);
      if (state) this.series.set(row.key, { state, lastSeenMs: row.value.t, lastRaw: row.value.r, dirty: false });
    }
  }

  /** The entry of a series, created (evicting the least recently seen if full) when new. */
  entry(key: string, nowMs: number): Entry {
    let e = this.series.get(key);
    if (e) {
      // Re-insert so Map order stays least-recently-seen first.
      this.series.delete(key);
    } else {
      if (this.series.size >= this.o.maxSeries) {
        const oldest = this.series.keys().next().value as string;
        this.drop(oldest);
      }
      e = { state: newSeries(this.o.params), lastSeenMs: nowMs, dirty: true };
      this.removed.delete(key);
    }
    e.lastSeenMs = nowMs;
    this.series.set(key, e);
    return e;
  }

  /** Scores a value observed at `timeSec` (Unix seconds; its spacing sets the rest period's length in points). */
  score(e: Entry, value: number, timeSec: number): Scored {
    const expected = expectedRange(e.state);
    const score = scorePoint(e.state, value, this.o.params, timeSec);
    e.dirty = true;
    return { score, expected, ready: e.state.n > this.o.params.warmup };
  }

  /** Drops series not seen for idleMs. */
  evictIdle(nowMs: number): void {
    for (const [key, e] of this.series) {
      if (nowMs - e.lastSeenMs <= this.o.idleMs) break; // Map order: oldest first
      this.drop(key);
    }
  }

  private drop(key: string): void {
    this.series.delete(key);
    this.removed.add(key);
    this.evicted++;
  }

  /** Writes changed series and deletes evicted ones, in one transaction. */
  persist(): void {
    const store = this.store;
    if (!store) return;
    const ns = this.ns();
    store.transaction(() => {
      for (const key of this.removed) store.delete(ns, key);
      for (const [key, e] of this.series) {
        if (!e.dirty) continue;
        store.put(ns, key, { s: serializeSeries(e.state), t: e.lastSeenMs, r: e.lastRaw });
        e.dirty = false;
      }
    });
    this.removed.clear();
  }

  /**
   * Erasure of a data subject: series whose key names it under one of `keys`, in memory and in the
   * state file (also those not loaded, beyond the cap), written through at once. Returns how many.
   */
  forget(subject: string, keys: string[]): number {
    const names = new Set<string>();
    for (const key of this.series.keys()) if (seriesKeyNames(key, subject, keys)) names.add(key);
    for (const row of this.store?.list(this.ns()) ?? []) if (seriesKeyNames(row.key, subject, keys)) names.add(row.key);
    for (const key of names) {
      this.series.delete(key);
      this.removed.add(key);
    }
    if (this.store) this.store.scrubbing(() => this.persist());
    return names.size;
  }

  close(): void {
    this.unregisterEraser?.();
    this.unregisterEraser = undefined;
    this.persist();
    this.store?.release();
    this.store = undefined;
  }

  private ns(): string {
    return `anomaly:${this.o.component}`;
  }
}
