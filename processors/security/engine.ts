/**
 * The detection engine behind one `security` processor id. A processor id listed in a traces and
 * a logs pipeline gets one instance per pipeline (the Collector's rule), but they must share
 * state: the auth-failure logs and the HTTP spans of one attacker feed the same windows and the
 * same block list. So instances of one id share this engine (reference counted).
 */
import type { Logger } from 'pino';
import type { ApiServer } from '../../src/api';
import { StateStore } from '../../src/state';
import { registerSubjectEraser } from '../../src/storage/erasure-state';
import type { Telemetry } from '../../src/telemetry';
import { parseDuration } from '../../src/util/duration';
import { existsSync } from 'node:fs';
import { DEFAULT_CRS_PATH, SecurityConfig } from './config';
import { CrsRuleSet, LoadResult } from './crs/ruleset';
import { BlockEntry, BruteForceDetector, BruteForceSnapshot } from './state/bruteforce';
import { ProfileStore, UserProfile } from './state/profile';
import { RateLimiter } from './state/ratelimit';
import { ThreatIntel } from './state/threatintel';

export type ThreatType =
  | 'sql_injection' | 'xss' | 'brute_force' | 'credential_stuffing' | 'rate_limit' | 'anomalous_behavior'
  | 'threat_intel' | 'blocked_source' | 'web_attack';

export interface Threat {
  type: ThreatType;
  score: number;
  evidence: string;
  /** The attribute that carried the evidence (url.query, db.statement, event.name ...). */
  attribute?: string;
  detector: string;
  user?: string;
  ip?: string;
}

export function severityOf(score: number): 'low' | 'medium' | 'high' | 'critical' {
  return score >= 0.9 ? 'critical' : score >= 0.75 ? 'high' : score >= 0.5 ? 'medium' : 'low';
}

interface RecentThreat {
  at: number;
  type: ThreatType;
  severity: string;
  ip?: string;
  user?: string;
}

const engines = new Map<string, SecurityEngine>();
/** Rule sets by path list: several processors (or restarts) share one compiled copy. */
const ruleSets = new Map<string, { ruleset: CrsRuleSet; result: LoadResult }>();

/**
 * The CRS rule set a config asks for: its `crs.rules`, else Debian's package when installed.
 * Unreadable files named in the config are an error at start; a missing package is not.
 */
export function loadCrs(cfg: SecurityConfig, logger: Logger): CrsRuleSet | undefined {
  if (!cfg.crs.enabled) return undefined;
  const paths = cfg.crs.rules.length ? cfg.crs.rules : existsSync(DEFAULT_CRS_PATH) ? [DEFAULT_CRS_PATH] : [];
  if (!paths.length) {
    logger.warn(`security: OWASP CRS not found at ${DEFAULT_CRS_PATH} (install modsecurity-crs or set crs.rules); running Vigil's own detectors only`);
    return undefined;
  }
  const key = paths.join('\u0000');
  let loaded = ruleSets.get(key);
  if (!loaded) {
    try {
      loaded = CrsRuleSet.load(paths);
    } catch (e) {
      throw new Error(`security: cannot load CRS rules from ${paths.join(', ')}: ${(e as Error).message}`);
    }
    ruleSets.set(key, loaded);
    const r = loaded.result;
    logger.info({ files: r.files.length, rules: r.rules, control: r.control, unsupported: r.unsupported.length, patterns_without_literals: r.unfiltered, paranoia_level: cfg.crs.paranoia_level }, 'security: OWASP CRS rules loaded');
    // Rules that cannot run are named, each with the reason, never dropped silently.
    for (const u of r.unsupported) logger.warn(`security: CRS rule not run: ${u}`);
  }
  return loaded.ruleset;
}

export class SecurityEngine {
  readonly bruteForce: BruteForceDetector;
  readonly rateLimiter?: RateLimiter;
  readonly profiles?: ProfileStore;
  readonly intel?: ThreatIntel;
  readonly crs?: CrsRuleSet;
  private readonly recent: RecentThreat[] = [];
  private readonly recentMs: number;
  private store?: StateStore;
  private timer?: NodeJS.Timeout;
  private refs = 0;
  private started = false;
  private unregisterEraser?: () => void;
  private readonly threatCounter;

  private constructor(readonly id: string, readonly cfg: SecurityConfig, private readonly dataDir: string, private readonly logger: Logger, telemetry: Telemetry) {
    const bf = cfg.brute_force;
    this.bruteForce = new BruteForceDetector({
      maxFailures: bf.max_failures, windowMs: parseDuration(bf.window), blockMs: parseDuration(bf.block_duration),
      stuffingUsers: bf.stuffing_users, maxTracked: cfg.max_tracked,
      clockSkewMs: parseDuration(bf.clock_skew), blockedReportMs: parseDuration(bf.blocked_report_interval),
    });
    if (cfg.rate_limit.enabled) this.rateLimiter = new RateLimiter(cfg.rate_limit.rules, cfg.max_tracked);
    if (cfg.profile.enabled) this.profiles = new ProfileStore({ minObservations: cfg.profile.min_observations, maxUsers: cfg.profile.max_users, maxItems: cfg.profile.max_items_per_user });
    if (cfg.threat_intel.files.length) {
      this.intel = new ThreatIntel(cfg.threat_intel.files, cfg.threat_intel.include_private, (file, err) => logger.warn({ file, err: err.message }, 'security: cannot read threat-intel feed'));
    }
    this.recentMs = parseDuration(cfg.recent_window);
    this.crs = loadCrs(cfg, logger);
    this.threatCounter = telemetry.counter('vigil_processor_security_threats_total', 'Threats detected by type and severity', ['processor', 'type', 'severity']);
  }

  static acquire(id: string, cfg: SecurityConfig, dataDir: string, logger: Logger, telemetry: Telemetry): SecurityEngine {
    const key = `${dataDir}\u0000${id}`;
    let e = engines.get(key);
    if (!e) engines.set(key, (e = new SecurityEngine(id, cfg, dataDir, logger, telemetry)));
    e.refs++;
    return e;
  }

  start(api: ApiServer | undefined): void {
    if (!this.started) {
      this.started = true;
      this.unregisterEraser = registerSubjectEraser(this.component(), (subject) => this.forget(subject));
      if (this.intel) {
        this.intel.load();
        this.intel.watch(parseDuration(this.cfg.threat_intel.reload_interval));
      }
      if (this.cfg.persist) {
        this.store = StateStore.open(this.dataDir);
        this.restore();
        this.timer = setInterval(() => this.persist(), Math.max(100, parseDuration(this.cfg.persist_interval)));
        this.timer.unref();
      }
    }
    // Routes: on every start, so a restarted api extension gets them again (later ones replace).
    api?.route('GET', '/api/security/status', () => this.status(Date.now()));
    api?.route('GET', '/api/security/blocked', () => ({ blocked: this.blocked(Date.now()) }));
  }

  async release(): Promise<void> {
    if (--this.refs > 0) return;
    engines.delete(`${this.dataDir}\u0000${this.id}`);
    this.unregisterEraser?.();
    if (this.timer) clearInterval(this.timer);
    this.intel?.stop();
    if (this.store) {
      this.persist();
      this.store.release();
      this.store = undefined;
    }
  }

  private component(): string {
    return `security/${this.id}`;
  }

  persist(): void {
    if (!this.store) return;
    const now = Date.now();
    try {
      const snap = this.bruteForce.snapshot(now);
      const profiles = this.profiles?.snapshot();
      this.store.transaction(() => {
        this.store!.put(this.component(), 'bruteforce', snap);
        if (profiles) this.store!.put(this.component(), 'profiles', profiles);
        this.store!.put(this.component(), 'recent', this.recentSince(now));
      });
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'security: could not persist detector state');
    }
  }

  /**
   * Erasure of a data subject (src/storage/erasure-state.ts): forgotten in memory, then written
   * through at once (scrubbed), so neither the next persist nor a restart brings it back.
   */
  forget(subject: string): Record<string, number> {
    const removed = this.bruteForce.forget(subject);
    removed.profiles = this.profiles?.forget(subject) ?? 0;
    const before = this.recent.length;
    for (let i = this.recent.length - 1; i >= 0; i--) if (this.recent[i].user === subject || this.recent[i].ip === subject) this.recent.splice(i, 1);
    removed.recent_threats = before - this.recent.length;
    if (this.store) this.store.scrubbing(() => this.persist());
    return removed;
  }

  private restore(): void {
    const now = Date.now();
    try {
      const bf = this.store!.get<BruteForceSnapshot>(this.component(), 'bruteforce');
      if (bf) this.bruteForce.restore(bf, now);
      const prof = this.store!.get<Array<[string, UserProfile]>>(this.component(), 'profiles');
      if (prof && this.profiles) this.profiles.restore(prof);
      const recent = this.store!.get<RecentThreat[]>(this.component(), 'recent');
      if (recent) this.recent.push(...recent.filter((r) => r.at > now - this.recentMs));
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'security: could not restore detector state, starting fresh');
    }
  }

  /** Records a threat for the status API and self metrics. */
  record(t: Threat, now: number): void {
    const severity = severityOf(t.score);
    this.threatCounter.labels(this.id, t.type, severity).inc();
    this.recent.push({ at: now, type: t.type, severity, ip: t.ip, user: t.user });
    // Bounded: the status view needs counts over the recent window, not every event of a flood.
    if (this.recent.length > this.cfg.max_recent) this.recent.splice(0, this.recent.length - this.cfg.max_recent);
  }

  private recentSince(now: number): RecentThreat[] {
    const from = now - this.recentMs;
    let k = 0;
    while (k < this.recent.length && this.recent[k].at <= from) k++;
    if (k) this.recent.splice(0, k);
    return this.recent;
  }

  blocked(now: number): Array<Pick<BlockEntry, 'ip' | 'reason' | 'since' | 'until' | 'attempts'> & { expires_at: string }> {
    return this.bruteForce.blockList(now).map((b) => ({ ip: b.ip, reason: b.reason, since: b.since, until: b.until, attempts: b.attempts ?? 0, expires_at: new Date(b.until).toISOString() }));
  }

  status(now: number): Record<string, unknown> {
    const recent = this.recentSince(now);
    const byType: Record<string, number> = {};
    const ips = new Map<string, number>();
    const users = new Map<string, number>();
    let critical = 0;
    let high = 0;
    for (const r of recent) {
      byType[r.type] = (byType[r.type] ?? 0) + 1;
      if (r.ip) ips.set(r.ip, (ips.get(r.ip) ?? 0) + 1);
      if (r.user) users.set(r.user, (users.get(r.user) ?? 0) + 1);
      if (r.severity === 'critical') critical++;
      if (r.severity === 'high') high++;
    }
    const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([key, count]) => ({ key, count }));
    const blocked = this.blocked(now);
    const status = critical > 0 || high >= 10 ? 'critical' : recent.length > 0 || blocked.length > 0 ? 'elevated' : 'normal';
    return {
      status,
      window_seconds: this.recentMs / 1000,
      recent_alerts_count: recent.length,
      threats_by_type: byType,
      top_ips: top(ips).map(({ key, count }) => ({ ip: key, count })),
      top_users: top(users).map(({ key, count }) => ({ user: key, count })),
      blocked,
      tracked: { profiles: this.profiles?.size ?? 0, threat_intel_entries: this.intel?.size ?? 0 },
    };
  }
}
