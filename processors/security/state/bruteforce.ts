/**
 * Brute force and credential stuffing, after fail2ban: failures are counted in sliding windows
 * per user, per source IP, and per IP across distinct users; crossing a threshold raises a threat
 * and (for IPs) puts the address on the block list until it expires. fail2ban's defaults: 5
 * failures in 10 minutes, 10-minute ban.
 *
 * Time: windows and bans run on the receive clock (`now`), which the sender cannot move. A
 * failure counts at its own timestamp only within `clockSkewMs` before now; older ones (a late
 * batch) count as received now, future ones as now. So a late batch is still an attack seen now
 * (one block, not a flood of expired ones), and a timestamp an hour ahead cannot stretch a ban.
 */
import { LRUCache } from 'lru-cache';

export interface BruteForceConfig {
  maxFailures: number;
  windowMs: number;
  blockMs: number;
  /** Distinct users failing from one IP within the window that make it credential stuffing. */
  stuffingUsers: number;
  maxTracked: number;
  /** How far before the receive time a failure's own timestamp is believed (default 60 s). */
  clockSkewMs?: number;
  /** While an IP is blocked, at most one blocked_source report per this interval (default 60 s). */
  blockedReportMs?: number;
}

/** What to report about a request from a blocked address: the first, then one summary per interval. */
export interface BlockedReport {
  /** Requests from the address since the previous report (this one included). */
  attempts: number;
  first: boolean;
  entry: BlockEntry;
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
  /** Requests seen from the address while blocked. */
  attempts?: number;
  /** When the last blocked_source report went out, and requests since then. */
  reportedAt?: number;
  unreported?: number;
}

export interface BruteForceSnapshot {
  users: Array<[string, number[]]>;
  ips: Array<[string, number[], Array<[string, number]>]>;
  blocked: BlockEntry[];
}

export class BruteForceDetector {
  private readonly users: LRUCache<string, Window>;
  private readonly ips: LRUCache<string, IpWindow>;
  /** Bounded like the windows: a flood of blocked addresses evicts the least recently active. */
  private readonly blocked: LRUCache<string, BlockEntry>;
  private readonly skewMs: number;
  private readonly reportMs: number;

  constructor(readonly cfg: BruteForceConfig) {
    this.users = new LRUCache({ max: cfg.maxTracked });
    this.ips = new LRUCache({ max: cfg.maxTracked });
    this.blocked = new LRUCache({ max: cfg.maxTracked });
    this.skewMs = Math.min(cfg.clockSkewMs ?? 60_000, cfg.windowMs);
    this.reportMs = cfg.blockedReportMs ?? 60_000;
  }

  /** The time a failure counts at: its own timestamp when within [now - skew, now], else now. */
  countedAt(eventMs: number | undefined, now: number): number {
    if (eventMs === undefined || !Number.isFinite(eventMs) || eventMs > now || eventMs < now - this.skewMs) return now;
    return eventMs;
  }

  /** Adds a time (kept sorted: slightly late failures land in order) and drops what left the window. */
  private add(w: Window, at: number, now: number): void {
    let k = w.times.length;
    while (k > 0 && w.times[k - 1] > at) k--;
    w.times.splice(k, 0, at);
    const from = now - this.cfg.windowMs;
    k = 0;
    while (k < w.times.length && w.times[k] <= from) k++;
    if (k) w.times.splice(0, k);
    const cap = this.cfg.maxFailures * 4;
    if (w.times.length > cap) w.times.splice(0, w.times.length - cap);
  }

  /**
   * Records a failed authentication; returns the threats it triggers (usually none). `eventMs` is
   * the failure's own timestamp, `now` the receive time (see the header for how they combine).
   */
  failure(user: string | undefined, ip: string | undefined, eventMs: number | undefined, now: number): BruteForceThreat[] {
    const out: BruteForceThreat[] = [];
    const at = this.countedAt(eventMs, now);
    if (user) {
      let w = this.users.get(user);
      if (!w) this.users.set(user, (w = { times: [] }));
      this.add(w, at, now);
      // Fire once when the threshold is crossed, then again at each further multiple.
      if (w.times.length >= this.cfg.maxFailures && w.times.length % this.cfg.maxFailures === 0) {
        out.push({ type: 'brute_force', score: Math.min(1, 0.6 + 0.1 * (w.times.length / this.cfg.maxFailures)), key: `user:${user}`, failures: w.times.length, evidence: `${w.times.length} failed logins for user in ${this.cfg.windowMs / 1000}s` });
      }
    }
    if (ip) {
      let w = this.ips.get(ip);
      if (!w) this.ips.set(ip, (w = { times: [], users: new Map() }));
      this.add(w, at, now);
      if (user) {
        w.users.delete(user);
        w.users.set(user, at);
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

  /**
   * A request from `ip`: undefined when the address is not blocked; else whether to report it now
   * (the first request after the block, then at most one summary per `blockedReportMs`).
   */
  blockedRequest(ip: string, now: number): BlockedReport | undefined | null {
    if (!this.isBlocked(ip, now)) return undefined;
    const b = this.blocked.get(ip)!;
    b.attempts = (b.attempts ?? 0) + 1;
    b.unreported = (b.unreported ?? 0) + 1;
    if (b.reportedAt !== undefined && now - b.reportedAt < this.reportMs) return null;
    const report = { attempts: b.unreported, first: b.reportedAt === undefined, entry: b };
    b.reportedAt = now;
    b.unreported = 0;
    return report;
  }

  isBlocked(ip: string, now: number): boolean {
    const b = this.blocked.peek(ip);
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
    for (const [ip, b] of this.blocked.entries()) if (b.until <= now) this.blocked.delete(ip);
    return [...this.blocked.values()].sort((a, b) => a.since - b.since);
  }

  /**
   * Erasure of a data subject: its failure window as a user, its mentions in address windows, and,
   * when the subject is an address, that address's window and block entry. Returns what went.
   */
  forget(subject: string): Record<string, number> {
    let mentions = 0;
    for (const w of this.ips.values()) if (w.users.delete(subject)) mentions++;
    return {
      users: this.users.delete(subject) ? 1 : 0,
      user_in_ip_windows: mentions,
      ip_windows: this.ips.delete(subject) ? 1 : 0,
      blocked: this.blocked.delete(subject) ? 1 : 0,
    };
  }

  snapshot(now: number): BruteForceSnapshot {
    const from = now - this.cfg.windowMs;
    const users: BruteForceSnapshot['users'] = [];
    // Least recently used first, so a restore re-inserts in the same order of use.
    for (const [u, w] of this.users.rentries() as Generator<[string, Window]>) {
      const t = w.times.filter((x) => x > from);
      if (t.length) users.push([u, t]);
    }
    const ips: BruteForceSnapshot['ips'] = [];
    for (const [ip, w] of this.ips.rentries() as Generator<[string, IpWindow]>) {
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
