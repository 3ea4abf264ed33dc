/**
 * Per-user behaviour profiles learned online: usual hours of day, endpoints, source networks,
 * request and error rates. A request is scored by how far it departs from its user's profile,
 * with the reasons; profiles need `minObservations` before they score anything, and both the
 * per-user sets and the number of users are capped.
 */
import { LRUCache } from 'lru-cache';

export interface ProfileConfig {
  minObservations: number;
  maxUsers: number;
  /** Distinct endpoints / networks remembered per user. */
  maxItems: number;
}

export interface UserProfile {
  n: number;
  /** Requests per hour of day (UTC). */
  hours: number[];
  endpoints: Record<string, number>;
  networks: Record<string, number>;
  errors: number;
  /** Exponentially weighted request rate (per minute) and the current minute's count. */
  rate: number;
  minute: number;
  minuteCount: number;
}

export interface ProfileAssessment {
  score: number;
  reasons: string[];
}

/** The /24 (IPv4) or /48 (IPv6) a client address belongs to: users move within their networks. */
export function networkOf(ip: string): string {
  if (ip.indexOf(':') >= 0) return ip.split(':').slice(0, 3).join(':') + '::/48';
  const parts = ip.split('.');
  return parts.length === 4 ? `${parts[0]}.${parts[1]}.${parts[2]}.0/24` : ip;
}

function bump(map: Record<string, number>, key: string, cap: number): void {
  if (Object.prototype.hasOwnProperty.call(map, key)) {
    map[key]++;
    return;
  }
  const keys = Object.keys(map);
  if (keys.length >= cap) {
    // Forget the rarest item to make room.
    let min = keys[0];
    for (const k of keys) if (map[k] < map[min]) min = k;
    delete map[min];
  }
  Object.defineProperty(map, key, { value: 1, enumerable: true, writable: true, configurable: true });
}

export class ProfileStore {
  private readonly users: LRUCache<string, UserProfile>;

  constructor(readonly cfg: ProfileConfig) {
    this.users = new LRUCache({ max: cfg.maxUsers });
  }

  /** Scores the request against the profile as it was, then learns from it. */
  observe(user: string, req: { timeMs: number; endpoint?: string; ip?: string; error?: boolean }): ProfileAssessment {
    let p = this.users.get(user);
    if (!p) this.users.set(user, (p = { n: 0, hours: new Array(24).fill(0), endpoints: {}, networks: {}, errors: 0, rate: 0, minute: 0, minuteCount: 0 }));
    const hour = new Date(req.timeMs).getUTCHours();
    const minute = Math.floor(req.timeMs / 60_000);
    const net = req.ip ? networkOf(req.ip) : undefined;
    const reasons: string[] = [];
    let score = 0;
    if (p.n >= this.cfg.minObservations) {
      const hourShare = p.hours[hour] / p.n;
      if (hourShare < 0.01) {
        score += 0.3;
        reasons.push(`unusual hour ${hour}:00 UTC`);
      }
      if (req.endpoint && !Object.prototype.hasOwnProperty.call(p.endpoints, req.endpoint) && Object.keys(p.endpoints).length < this.cfg.maxItems) {
        score += 0.2;
        reasons.push(`new endpoint ${req.endpoint}`);
      }
      if (net && !Object.prototype.hasOwnProperty.call(p.networks, net)) {
        score += 0.35;
        reasons.push(`new network ${net}`);
      }
      const current = minute === p.minute ? p.minuteCount + 1 : 1;
      if (p.rate > 0 && current > Math.max(10, p.rate * 5)) {
        score += 0.3;
        reasons.push(`request rate ${current}/min vs usual ${p.rate.toFixed(1)}/min`);
      }
      const errRate = p.errors / p.n;
      if (req.error && errRate < 0.05 && current > 5) {
        score += 0.15;
        reasons.push(`errors where the user usually has ${Math.round(errRate * 100)}%`);
      }
    }
    // Learn.
    p.n++;
    p.hours[hour]++;
    if (req.endpoint) bump(p.endpoints, req.endpoint, this.cfg.maxItems);
    if (net) bump(p.networks, net, this.cfg.maxItems);
    if (req.error) p.errors++;
    if (minute !== p.minute) {
      if (p.minute) p.rate = p.rate === 0 ? p.minuteCount : 0.8 * p.rate + 0.2 * p.minuteCount;
      p.minute = minute;
      p.minuteCount = 0;
    }
    p.minuteCount++;
    return { score: Math.min(1, score), reasons };
  }

  get size(): number {
    return this.users.size;
  }

  /** Erasure of a data subject: its behaviour profile. */
  forget(user: string): number {
    return this.users.delete(user) ? 1 : 0;
  }

  snapshot(): Array<[string, UserProfile]> {
    return [...this.users.rentries()] as Array<[string, UserProfile]>;
  }

  restore(entries: Array<[string, UserProfile]>): void {
    for (const [u, p] of entries) this.users.set(u, p);
  }
}
