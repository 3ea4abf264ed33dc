/**
 * Rate-limit abuse: a token bucket per key (user, endpoint, user+endpoint). A request that finds
 * the bucket empty is over the limit; the threat is raised once per burst (when the bucket first
 * runs dry), not for every request that follows.
 */
import { LRUCache } from 'lru-cache';

export interface RateLimitRule {
  /** What the bucket is keyed on. */
  per: 'user' | 'ip' | 'endpoint' | 'user_endpoint';
  /** Sustained requests per second allowed. */
  rate: number;
  /** Burst size (bucket capacity). */
  burst: number;
}

interface Bucket {
  tokens: number;
  last: number;
  /** Requests refused since the bucket ran dry (reset when it refills). */
  over: number;
}

export interface RateLimitThreat {
  key: string;
  per: RateLimitRule['per'];
  score: number;
  evidence: string;
}

export class RateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(readonly rules: RateLimitRule[], maxTracked: number) {
    this.buckets = new LRUCache({ max: maxTracked });
  }

  hit(ids: { user?: string; ip?: string; endpoint?: string }, now: number): RateLimitThreat[] {
    const out: RateLimitThreat[] = [];
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r];
      const key = keyOf(rule.per, ids);
      if (key === undefined) continue;
      const k = `${r}|${key}`;
      let b = this.buckets.get(k);
      if (!b) this.buckets.set(k, (b = { tokens: rule.burst, last: now, over: 0 }));
      b.tokens = Math.min(rule.burst, b.tokens + ((now - b.last) / 1000) * rule.rate);
      b.last = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        if (b.tokens >= rule.burst / 2) b.over = 0;
        continue;
      }
      b.over++;
      if (b.over === 1) {
        out.push({ key, per: rule.per, score: 0.6, evidence: `more than ${rule.burst} requests in a burst / ${rule.rate}/s sustained per ${rule.per}` });
      } else if (b.over === rule.burst * 10) {
        out.push({ key, per: rule.per, score: 0.85, evidence: `${b.over} requests over the limit of ${rule.rate}/s per ${rule.per}` });
      }
    }
    return out;
  }
}

function keyOf(per: RateLimitRule['per'], ids: { user?: string; ip?: string; endpoint?: string }): string | undefined {
  switch (per) {
    case 'user': return ids.user;
    case 'ip': return ids.ip;
    case 'endpoint': return ids.endpoint;
    case 'user_endpoint': return ids.user && ids.endpoint ? `${ids.user} ${ids.endpoint}` : undefined;
  }
}
