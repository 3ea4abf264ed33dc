/**
 * Brute force and credential stuffing, after fail2ban: failures are counted in sliding windows
 * per user, per source IP, and per IP across distinct users; crossing a threshold raises a threat
 * and (for IPs) puts the address on the block list until it expires. fail2ban's defaults: 5
 * failures in 10 minutes, 10-minute ban.
 */
import { Lru } from './lru';

export interface BruteForceConfig {
  maxFailures: number;
  windowMs: number;
  blockMs: number;
  /** Distinct users failing from one IP within the window that make it credential stuffing. */
  stuffingUsers: number;
  maxTracked: number;
}

export interface BruteForceThreat {
  type: 'brute_force' | 'credential_stuffing';
  score: number;
  key: string;
  failures: number;
  distinctUsers?: number;
  blockedUntilMs?: number;
  evidence: string;
}

interface Window {
  /** Failure times (ms), oldest first; at most maxFailures*4 kept. */
  times: number[];
}

interface IpWindow extends Window {
  users: Map<string, number>;
}

export interface BlockEntry {
  ip: string;
  reason: string;
  since: number;
  until: number;
}

export interface BruteForceSnapshot {
  users: Array<[string, number[]]>;
  ips: Array<[string, number[], Array<[string, number]>]>;
  blocked: BlockEntry[];
}

export class BruteForceDetector {
  private readonly users: Lru<string, Window>;
  private readonly ips: Lru<string, IpWindow>;
  private readonly blocked = new Map<string, BlockEntry>();

  constructor(readonly cfg: BruteForceConfig) {
    this.users = new Lru(cfg.maxTracked);
    this.ips = new Lru(cfg.maxTracked);
  }

  private prune(w: Window, now: number): void {
    const from = now - this.cfg.windowMs;
    let k = 0;
    while (k < w.times.length && w.times[k] <= from) k++;
    if (k) w.times.splice(0, k);
    const cap = this.cfg.maxFailures * 4;
    if (w.times.length > cap) w.times.splice(0, w.times.length - cap);
  }

  /** Records a failed authentication; returns the threats it triggers (usually none). */
  failure(user: string | undefined, ip: string | undefined, now: number): BruteForceThreat[] {
    const out: BruteForceThreat[] = [];
    if (user) {
      let w = this.users.get(user);
      if (!w) this.users.set(user, (w = { times: [] }));
      w.times.push(now);
      this.prune(w, now);
      // Fire once when the threshold is crossed, then again at each further multiple.
      if (w.times.length >= this.cfg.maxFailures && w.times.length % this.cfg.maxFailures === 0) {
        out.push({ type: 'brute_force', score: Math.min(1, 0.6 + 0.1 * (w.times.length / this.cfg.maxFailures)), key: `user:${user}`, failures: w.times.length, evidence: `${w.times.length} failed logins for user in ${this.cfg.windowMs / 1000}s` });
      }
    }
    if (ip) {
      let w = this.ips.get(ip);
      if (!w) this.ips.set(ip, (w = { times: [], users: new Map() }));
      w.times.push(now);
      this.prune(w, now);
      if (user) {
        w.users.delete(user);
        w.users.set(user, now);
      }
      const from = now - this.cfg.windowMs;
      for (const [u, t] of w.users) {
        if (t > from && w.users.size <= this.cfg.stuffingUsers * 4) break;
        w.users.delete(u);
      }
      const distinct = w.users.size;
      const crossed = w.times.length >= this.cfg.maxFailures && !this.isBlocked(ip, now);
      if (crossed) {
        const stuffing = distinct >= this.cfg.stuffingUsers;
        const until = now + this.cfg.blockMs;
        this.blocked.set(ip, { ip, reason: stuffing ? 'credential_stuffing' : 'brute_force', since: now, until });
        out.push({
          type: stuffing ? 'credential_stuffing' : 'brute_force',
          score: stuffing ? 0.9 : 0.8,
          key: `ip:${ip}`,
          failures: w.times.length,
          distinctUsers: distinct,
          blockedUntilMs: until,
          evidence: stuffing
            ? `${w.times.length} failed logins for ${distinct} users from one IP in ${this.cfg.windowMs / 1000}s`
            : `${w.times.length} failed logins from one IP in ${this.cfg.windowMs / 1000}s`,
        });
      }
    }
    return out;
  }

  /** A successful login clears the user's failure window (as most lockout policies do). */
  success(user: string | undefined): void {
    if (user) this.users.delete(user);
  }

  isBlocked(ip: string, now: number): boolean {
    const b = this.blocked.get(ip);
    if (!b) return false;
    if (b.until <= now) {
      this.blocked.delete(ip);
      return false;
    }
    return true;
  }

  block(ip: string, reason: string, now: number, ms = this.cfg.blockMs): void {
    this.blocked.set(ip, { ip, reason, since: now, until: now + ms });
  }

  /** The current block list, expired entries dropped. */
  blockList(now: number): BlockEntry[] {
    for (const [ip, b] of this.blocked) if (b.until <= now) this.blocked.delete(ip);
    return [...this.blocked.values()].sort((a, b) => a.since - b.since);
  }

  snapshot(now: number): BruteForceSnapshot {
    const from = now - this.cfg.windowMs;
    const users: BruteForceSnapshot['users'] = [];
    for (const [u, w] of this.users.entries()) {
      const t = w.times.filter((x) => x > from);
      if (t.length) users.push([u, t]);
    }
    const ips: BruteForceSnapshot['ips'] = [];
    for (const [ip, w] of this.ips.entries()) {
      const t = w.times.filter((x) => x > from);
      if (t.length) ips.push([ip, t, [...w.users].filter(([, x]) => x > from)]);
    }
    return { users, ips, blocked: this.blockList(now) };
  }

  restore(s: BruteForceSnapshot, now: number): void {
    for (const [u, t] of s.users ?? []) this.users.set(u, { times: t.filter((x) => x > now - this.cfg.windowMs) });
    for (const [ip, t, us] of s.ips ?? []) this.ips.set(ip, { times: t.filter((x) => x > now - this.cfg.windowMs), users: new Map(us) });
    for (const b of s.blocked ?? []) if (b.until > now) this.blocked.set(b.ip, b);
  }
}
