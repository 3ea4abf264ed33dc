/**
 * `security` processor (traces, logs): runs the detectors on HTTP server spans, database spans and
 * security-event log records, and marks the item that caused a threat with `security.threat.*`
 * attributes. The `security_events` connector turns marked items into security events for a logs
 * pipeline. See README.md.
 */
import { API_EXTENSION, ApiServer } from '../../src/api';
import type { Component, Consumer, CreateSettings, Host, ProcessorFactory } from '../../src/component';
import { AnyValue, Attributes, Double, KvList, LogRecord, Logs, Signal, Span, SpanKind, Traces, setAttr, stringValue } from '../../src/model';
import { SecurityConfig, securityConfigSchema } from './config';
import { inspectValue } from './detect/injection';
import { scoreStatement } from './detect/statement';
import { SecurityEngine, Threat, ThreatType, severityOf } from './engine';
import { crsRequest } from './crs/request';
import { familyScore } from './crs/ruleset';

export const THREAT_ATTR = {
  type: 'security.threat.type',
  score: 'security.threat.score',
  severity: 'security.threat.severity',
  evidence: 'security.threat.evidence',
  attribute: 'security.threat.attribute',
  detector: 'security.threat.detector',
  count: 'security.threat.count',
  user: 'security.threat.user',
  ip: 'security.threat.source_ip',
} as const;

const FAILURE_EVENTS = new Set(['auth.failure', 'auth.error', 'login.failure', 'authentication.failure']);
const SUCCESS_EVENTS = new Set(['auth.success', 'login.success', 'authentication.success']);
const DENIED_EVENTS = new Set(['access.denied', 'authorization.failure']);

/** Longest evidence excerpt kept: enough to see the payload's shape, never a whole body. */
const EVIDENCE_MAX = 120;

export class SecurityProcessor<S extends Signal> implements Component, Consumer<S> {
  private readonly engine: SecurityEngine;
  private readonly exact: Set<string>;
  private readonly prefixes: string[];
  private readonly statementAttrs: string[];

  constructor(private readonly s: CreateSettings<SecurityConfig>, private readonly signal: S, private readonly next: Consumer<S>) {
    this.engine = SecurityEngine.acquire(s.id, s.config, s.dataDir, s.logger, s.telemetry);
    const attrs = s.config.request_attributes;
    this.exact = new Set(attrs.filter((a) => !a.endsWith('.*')));
    this.prefixes = attrs.filter((a) => a.endsWith('.*')).map((a) => a.slice(0, -1));
    this.statementAttrs = s.config.statement_attributes;
  }

  async start(host: Host): Promise<void> {
    this.engine.start(host.getExtension<ApiServer>(API_EXTENSION));
  }

  async shutdown(): Promise<void> {
    await this.engine.release();
  }

  async consume(data: import('../../src/model').SignalData[S]): Promise<void> {
    const now = Date.now();
    if (this.signal === 'traces') {
      for (const rs of (data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) this.inspectSpan(span, now);
    } else if (this.signal === 'logs') {
      for (const rl of (data as Logs).resourceLogs) for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) this.inspectLog(rec, now);
    }
    await this.next.consume(data);
  }

  private first(attrs: Attributes, keys: string[]): string | undefined {
    for (const k of keys) {
      const v = attrs[k];
      if (v !== undefined && v !== null && v !== '') return stringValue(v);
    }
    return undefined;
  }

  private inspectSpan(span: Span, now: number): void {
    const a = span.attributes;
    const threats: Threat[] = [];
    const user = this.first(a, this.s.config.user_attributes);
    const ip = this.first(a, this.s.config.client_address_attributes);
    const isHttpServer = span.kind === SpanKind.SERVER || a['http.request.method'] !== undefined || a['http.method'] !== undefined;
    if (isHttpServer) {
      this.ownScores = { sqli: 0, xss: 0 };
      for (const key of Object.keys(a)) {
        if (!this.exact.has(key) && !this.prefixes.some((p) => key.startsWith(p))) continue;
        this.injections(key, a[key], threats);
      }
      // CRS reads incoming requests: server spans (client spans are this service's own calls).
      if (this.engine.crs && (span.kind === SpanKind.SERVER || span.kind === SpanKind.UNSPECIFIED)) this.crs(a, threats, this.ownScores);
      const endpoint = stringValue(a['http.route']) ?? stringValue(a['url.path']);
      const status = Number(stringValue(a['http.response.status_code']) ?? stringValue(a['http.status_code']) ?? 0);
      if (this.engine.rateLimiter) {
        for (const r of this.engine.rateLimiter.hit({ user, ip, endpoint }, now)) {
          threats.push({ type: 'rate_limit', score: r.score, evidence: `${r.evidence} (${r.per} ${truncate(r.key)})`, detector: 'rate_limit', attribute: r.per });
        }
      }
      if (this.engine.profiles && user) {
        const p = this.engine.profiles.observe(user, { timeMs: spanTime(span, now), endpoint, ip, error: status >= 400 });
        if (p.score >= this.s.config.profile.threshold) threats.push({ type: 'anomalous_behavior', score: p.score, evidence: p.reasons.join('; '), detector: 'profile' });
      }
    }
    for (const key of this.statementAttrs) {
      const v = a[key];
      if (typeof v !== 'string' || !this.s.config.sqli.enabled) continue;
      const f = scoreStatement(v);
      if (f.score >= this.s.config.sqli.threshold) threats.push({ type: 'sql_injection', score: f.score, evidence: f.reason, attribute: key, detector: 'sql_statement' });
    }
    if (ip) this.sourceChecks(ip, threats, now);
    this.mark(a, threats, user, ip, now);
  }

  private inspectLog(rec: LogRecord, now: number): void {
    const a = rec.attributes;
    const threats: Threat[] = [];
    const event = rec.eventName || stringValue(a['event.name']) || '';
    const user = this.first(a, this.s.config.user_attributes);
    const ip = this.first(a, this.s.config.client_address_attributes);
    // The event's own time is only a hint: windows and bans run on the receive clock (bruteforce.ts).
    const eventMs = rec.timeUnixNano ? Number(rec.timeUnixNano / 1_000_000n) : rec.observedTimeUnixNano ? Number(rec.observedTimeUnixNano / 1_000_000n) : undefined;
    if (this.s.config.brute_force.enabled) {
      if (FAILURE_EVENTS.has(event) || DENIED_EVENTS.has(event)) {
        for (const bf of this.engine.bruteForce.failure(FAILURE_EVENTS.has(event) ? user : undefined, ip, eventMs, now)) {
          threats.push({ type: bf.type, score: bf.score, evidence: bf.evidence, attribute: 'event.name', detector: 'brute_force' });
        }
      } else if (SUCCESS_EVENTS.has(event)) {
        this.engine.bruteForce.success(user);
      }
    }
    for (const key of this.s.config.log_attributes) if (a[key] !== undefined) this.injections(key, a[key], threats);
    if (ip && event) this.sourceChecks(ip, threats, now);
    this.mark(a, threats, user, ip, now);
  }

  private sourceChecks(ip: string, threats: Threat[], now: number): void {
    const m = this.engine.intel?.lookup(ip);
    if (m) threats.push({ type: 'threat_intel', score: this.s.config.threat_intel.score, evidence: `source in ${m.feed} (${m.cidr}${m.note ? ` ; ${m.note}` : ''})`, attribute: 'client.address', detector: 'threat_intel' });
    if (threats.some((t) => t.type === 'brute_force' || t.type === 'credential_stuffing')) return;
    // Aggregated: the first request after the block, then one summary per interval, not one event
    // per attempt (a blocked bot retrying every second would otherwise flood the event stream).
    const r = this.engine.bruteForce.blockedRequest(ip, now);
    if (r) {
      const evidence = r.first ? `request from a blocked address (${r.entry.reason} until ${new Date(r.entry.until).toISOString()})` : `${r.attempts} requests from a blocked address since the last report (${r.entry.attempts} while blocked)`;
      threats.push({ type: 'blocked_source', score: 0.5, evidence, attribute: 'client.address', detector: 'block_list' });
    }
  }

  /** Vigil's best SQLi/XSS confidence on the current span, below the threshold too (CRS combines it). */
  private ownScores = { sqli: 0, xss: 0 };

  private injections(key: string, v: AnyValue, threats: Threat[]): void {
    const cfg = this.s.config;
    for (const value of valuesOf(key, v)) {
      const r = inspectValue(value.text, { plusAsSpace: value.plusAsSpace, sqli: cfg.sqli.enabled, xss: cfg.xss.enabled, maxLength: cfg.max_value_length });
      if (r.sqli.score > this.ownScores.sqli) this.ownScores.sqli = r.sqli.score;
      if (r.xss.score > this.ownScores.xss) this.ownScores.xss = r.xss.score;
      if (r.sqli.score >= cfg.sqli.threshold) {
        threats.push({ type: 'sql_injection', score: r.sqli.score, evidence: `${r.sqli.reason} (${r.sqli.context}, ${r.sqli.fingerprint}): ${truncate(value.text)}`, attribute: key, detector: 'sqli' });
      }
      if (r.xss.score >= cfg.xss.threshold) {
        threats.push({ type: 'xss', score: r.xss.score, evidence: `${r.xss.reason} (${r.xss.context}): ${truncate(value.text)}`, attribute: key, detector: 'xss' });
      }
    }
  }

  /**
   * Runs the OWASP CRS rules on the request. Past CRS's anomaly threshold, each attack family
   * becomes a threat (or strengthens Vigil's own finding of the same type) carrying the rule ids
   * and messages. Score: CRS's points mapped to 0.75 at the threshold rising to 0.95; when Vigil's
   * detector agrees, the higher of the two plus 0.1.
   */
  private crs(a: Attributes, threats: Threat[], own: { sqli: number; xss: number }): void {
    const cfg = this.s.config.crs;
    const ev = this.engine.crs!.evaluate(crsRequest(a), cfg.paranoia_level);
    if (!ev.matches.length) return;
    const families = new Map<ThreatType, typeof ev.matches>();
    for (const m of ev.matches) {
      const type: ThreatType = m.category === 'sqli' ? 'sql_injection' : m.category === 'xss' ? 'xss' : 'web_attack';
      const list = families.get(type) ?? [];
      list.push(m);
      families.set(type, list);
    }
    for (const [type, ms] of families) {
      const points = ms.reduce((n, m) => n + m.points, 0);
      const mine = type === 'sql_injection' ? own.sqli : type === 'xss' ? own.xss : 0;
      const score = familyScore(points, mine, cfg.anomaly_threshold);
      const threshold = type === 'sql_injection' ? this.s.config.sqli.threshold : type === 'xss' ? this.s.config.xss.threshold : 0.5;
      if (score < threshold) continue;
      const ids = ms.slice(0, 4).map((m) => `${m.id} ${m.msg}`).join('; ');
      const evidence = `CRS ${ids}${ms.length > 4 ? ` (+${ms.length - 4} rules)` : ''} (anomaly ${points}, PL${cfg.paranoia_level}): ${truncate(ms[0].value)}`;
      const found = threats.find((t) => t.type === type);
      if (found) {
        found.score = Math.max(found.score, score);
        found.evidence = `${found.evidence}; ${evidence}`.slice(0, 600);
        found.detector = `${found.detector}+crs`;
      } else {
        threats.push({ type, score, evidence: type === 'web_attack' ? `${ms[0].category}: ${evidence}` : evidence, attribute: ms[0].variable.slice(0, 120), detector: 'crs' });
      }
    }
  }

  /** Writes the strongest threat on the item; all are recorded for the status API. */
  private mark(attrs: Attributes, threats: Threat[], user: string | undefined, ip: string | undefined, now: number): void {
    if (!threats.length) return;
    let top = threats[0];
    for (const t of threats) {
      t.user = user;
      t.ip = ip;
      this.engine.record(t, now);
      if (t.score > top.score) top = t;
    }
    setAttr(attrs, THREAT_ATTR.type, top.type);
    setAttr(attrs, THREAT_ATTR.score, top.score === Math.trunc(top.score) ? new Double(top.score) : top.score);
    setAttr(attrs, THREAT_ATTR.severity, severityOf(top.score));
    setAttr(attrs, THREAT_ATTR.evidence, top.evidence);
    setAttr(attrs, THREAT_ATTR.detector, top.detector);
    if (top.attribute) setAttr(attrs, THREAT_ATTR.attribute, top.attribute);
    if (user) setAttr(attrs, THREAT_ATTR.user, user);
    if (ip) setAttr(attrs, THREAT_ATTR.ip, ip);
    if (threats.length > 1) {
      setAttr(attrs, THREAT_ATTR.count, threats.length);
      setAttr(attrs, 'security.threat.types', [...new Set(threats.map((t) => t.type))]);
    }
  }
}

function spanTime(span: Span, now: number): number {
  const t = span.startTimeUnixNano ? Number(span.startTimeUnixNano / 1_000_000n) : now;
  return Math.abs(t - now) < 86_400_000 ? t : now;
}

/** An excerpt for evidence: short, single line. Payloads are attacker-controlled; keep them small. */
function truncate(s: string): string {
  let out = s.length > EVIDENCE_MAX ? s.slice(0, EVIDENCE_MAX) + '…' : s;
  out = out.replace(/[\r\n\t]/g, ' ');
  return out;
}

interface Inspected {
  text: string;
  plusAsSpace: boolean;
}

/**
 * The values worth inspecting in one attribute: query strings split into parameter names and
 * values (an injection is judged per parameter, as the application reads them), paths split into
 * segments, JSON bodies into their string leaves, header arrays into their items.
 */
function valuesOf(key: string, v: AnyValue, depth = 0): Inspected[] {
  if (typeof v === 'string') {
    if (key === 'url.query' || key === 'url.full' || key === 'http.target') {
      const q = key === 'url.query' ? v : v.indexOf('?') >= 0 ? v.slice(v.indexOf('?') + 1) : '';
      const out: Inspected[] = [];
      if (key !== 'url.query') {
        const path = v.indexOf('?') >= 0 ? v.slice(0, v.indexOf('?')) : v;
        for (const seg of path.split('/')) if (seg.length > 2) out.push({ text: seg, plusAsSpace: false });
      }
      for (const pair of q.split(/[&;]/)) {
        if (!pair) continue;
        const eq = pair.indexOf('=');
        if (eq < 0) out.push({ text: pair, plusAsSpace: true });
        else {
          if (eq > 2) out.push({ text: pair.slice(0, eq), plusAsSpace: true });
          out.push({ text: pair.slice(eq + 1), plusAsSpace: true });
        }
        if (out.length > 256) break;
      }
      return out;
    }
    if (key === 'url.path') return v.split('/').filter((s) => s.length > 1).slice(0, 64).map((text) => ({ text, plusAsSpace: false }));
    // The application reads a Cookie header cookie by cookie: judge each value on its own.
    if (key === 'http.request.header.cookie') return cookieValues(v);
    const t = v.trimStart();
    if ((t.startsWith('{') || t.startsWith('[')) && v.length < 1_000_000) {
      try {
        const leaves: Inspected[] = [];
        jsonLeaves(JSON.parse(v), leaves, 0);
        return leaves;
      } catch {
        // not JSON: inspect as text
      }
    }
    if (key.indexOf('body') >= 0 && isFormEncoded(v)) return valuesOf('url.query', v);
    return [{ text: v, plusAsSpace: false }];
  }
  if (Array.isArray(v) && depth < 2) return v.slice(0, 64).flatMap((x) => valuesOf(key, x, depth + 1));
  if (v instanceof KvList && depth < 2) return Object.values(v.values).slice(0, 64).flatMap((x) => valuesOf(key, x, depth + 1));
  return [];
}

/**
 * application/x-www-form-urlencoded, one field or many: `name=value(&name=value)*`, names made of
 * form-name characters, no raw white space (encoders turn it into + or %20).
 */
const FORM_NAME = /^[A-Za-z0-9_.\-\[\]%$]{1,128}=/;
function isFormEncoded(v: string): boolean {
  if (!FORM_NAME.test(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) return false;
  }
  return true;
}

/** `a=1; b=2`: each cookie's value (percent-decoded by the detectors) and its name. */
function cookieValues(v: string): Inspected[] {
  const out: Inspected[] = [];
  for (const part of v.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.push({ text: p, plusAsSpace: false });
    else {
      if (eq > 2) out.push({ text: p.slice(0, eq), plusAsSpace: false });
      out.push({ text: p.slice(eq + 1), plusAsSpace: false });
    }
    if (out.length >= 128) break;
  }
  return out;
}

function jsonLeaves(v: unknown, out: Inspected[], depth: number): void {
  if (out.length >= 256 || depth > 8) return;
  if (typeof v === 'string') out.push({ text: v, plusAsSpace: false });
  else if (Array.isArray(v)) for (const x of v) jsonLeaves(x, out, depth + 1);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.length > 2) out.push({ text: k, plusAsSpace: false });
      jsonLeaves(x, out, depth + 1);
    }
  }
}

export const securityProcessorFactory: ProcessorFactory<SecurityConfig> = {
  kind: 'processor',
  type: 'security',
  description: 'Detects SQL injection, XSS, brute force, credential stuffing, rate-limit abuse, anomalous user behaviour and threat-intel sources; marks offending spans and logs with security.threat.* attributes',
  signals: ['traces', 'logs'],
  mutatesData: true,
  configSchema: securityConfigSchema,
  create: (settings, signal, next) => new SecurityProcessor(settings, signal, next),
};
