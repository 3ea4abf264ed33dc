import type { ResolvedRetry } from './config';

/**
 * Exponential backoff with jitter as the Collector uses it (cenkalti/backoff): each wait is the
 * current interval randomised by ±randomization_factor, and the interval grows by `multiplier` up
 * to `max_interval`.
 */
export class Backoff {
  private current: number;

  constructor(private readonly r: ResolvedRetry, private readonly random: () => number = Math.random) {
    this.current = r.initialMs;
  }

  next(): number {
    const base = this.current;
    this.current = Math.min(this.current * this.r.multiplier, this.r.maxIntervalMs);
    const delta = this.r.randomization * base;
    return base - delta + this.random() * 2 * delta;
  }
}
