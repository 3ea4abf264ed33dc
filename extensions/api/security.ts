/**
 * The API's gate, run before every handler: Host check, authentication, the route's role,
 * state-change rules (JSON content type, Origin, CSRF token), and the audit log of every
 * state-changing call and every refusal. `GET /api/session` and `GET /api/audit` live here too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError, type ApiServer, type RouteOptions } from '../../src/api';
import { AuditEntry, AuditLog } from '../../src/storage/audit';
import { eraseSubjectEverywhere, subjectKeysInUse } from '../../src/storage/erasure';
import { eraseSubjectFromLiveState } from '../../src/storage/erasure-state';
import { ApiAuth, ApiAuthConfig } from './auth';
import { RequestGuard } from './csrf';
import { Role, RouteRole, allows, defaultRole, isStateChanging } from './roles';

export interface ApiSecurityConfig {
  auth?: ApiAuthConfig;
  allowed_hosts?: string[];
  allowed_origins?: string[];
  /** On unless turned off (the schema's default; programs that build the extension directly get it too). */
  audit?: { enabled?: boolean };
}

export type Admission =
  | { ok: true; principal: string | null; role: Role | null }
  | { ok: false; status: number; error: string; headers?: Record<string, string> };

export class ApiSecurity {
  readonly auth: ApiAuth;
  private guard?: RequestGuard;
  audit?: AuditLog;

  constructor(private readonly cfg: ApiSecurityConfig, private readonly dataDir: string, private readonly logger: Logger) {
    this.auth = new ApiAuth(cfg.auth);
  }

  /** With auth off every caller may do everything, so the console shows every action. */
  effectiveRole(role: Role | null): Role | null {
    return this.auth.enabled ? role : 'admin';
  }

  start(boundHost: string, getExtension: (id: string) => unknown): void {
    this.guard = new RequestGuard({ boundHost, allowedHosts: this.cfg.allowed_hosts ?? [], allowedOrigins: this.cfg.allowed_origins ?? [] });
    this.auth.bind(getExtension);
    if (this.cfg.audit?.enabled !== false) this.audit = AuditLog.open(this.dataDir);
  }

  stop(): void {
    this.audit?.close();
    this.audit = undefined;
  }

  routes(api: ApiServer): void {
    api.route('GET', '/api/session', (req) => ({
      principal: req.principal ?? null,
      role: this.effectiveRole(req.role ?? null),
      csrf_token: this.guard!.csrfToken(req.principal ?? null),
    }), { role: 'anonymous' });
    api.route('GET', '/api/audit', (req) => {
      if (!this.audit) return { enabled: false, records: [] };
      const limit = Number(req.query.get('limit') ?? 100);
      const before = req.query.get('before');
      return { enabled: true, records: this.audit.list({ limit: Number.isFinite(limit) ? limit : 100, before: before ? Number(before) : undefined }) };
    }, { role: 'admin' });
    // Erasure of a data subject from every store (src/storage/erasure.ts); audited like every state change.
    api.route('DELETE', '/api/subjects/:id', async (req) => {
      const subject = req.params.id;
      if (!subject || subject.length > 512) throw new ApiError(400, 'the subject id must be 1 to 512 characters');
      const stores = await eraseSubjectEverywhere(subject);
      // And the running components' state (security windows, block list, profiles; anomaly series).
      const state = eraseSubjectFromLiveState(subject, subjectKeysInUse());
      if (!stores.length && !state.length) throw new ApiError(409, 'no sqlite store and no component state is configured: there is nothing to erase from');
      this.logger.info({ stores: stores.length, state: state.length }, 'data subject erased');
      return { stores, state };
    }, { role: 'admin' });
  }

  /**
   * Decide whether a request may reach its handler. `pattern` is the matched route (undefined for
   * 404/405, which still need Host and authentication, so unknown paths reveal nothing).
   */
  async admit(req: IncomingMessage, res: ServerResponse, method: string, pattern: string | undefined, options: RouteOptions | undefined, params: Record<string, string>): Promise<Admission> {
    const guard = this.guard!;
    const hostProblem = guard.checkHost(req);
    if (hostProblem) return this.refuse(req, method, pattern, null, null, 403, hostProblem);
    const need: RouteRole = options?.role ?? defaultRole(method);
    const caller = await this.auth.identify(req);
    if (!caller.ok) {
      if (need === 'anonymous') return { ok: true, principal: null, role: null };
      return this.refuse(req, method, pattern, caller.principal, null, 401, caller.error, { 'WWW-Authenticate': this.auth.challenge });
    }
    if (pattern === undefined) return { ok: true, principal: caller.principal, role: caller.role };
    if (this.auth.enabled && !allows(caller.role, need)) {
      return this.refuse(req, method, pattern, caller.principal, caller.role, 403, `${method} ${pattern} needs the ${need} role${caller.role ? `; ${caller.principal} has ${caller.role}` : ''}`);
    }
    if (isStateChanging(method)) {
      const bad = guard.checkStateChange(req, guard.csrfToken(caller.principal));
      if (bad) return this.refuse(req, method, pattern, caller.principal, caller.role, bad.status, bad.error);
      // Record the call with its outcome once the answer has gone out.
      res.once('finish', () => this.record(req, {
        principal: caller.principal, role: caller.role, action: `${method} ${pattern}`, target: req.url?.split('?')[0] ?? pattern,
        outcome: res.statusCode < 400 ? 'ok' : 'failed', status: res.statusCode, detail: Object.keys(params).length ? { params } : undefined,
      }));
    }
    return { ok: true, principal: caller.principal, role: caller.role };
  }

  private refuse(req: IncomingMessage, method: string, pattern: string | undefined, principal: string | null, role: Role | null, status: number, error: string, headers?: Record<string, string>): Admission {
    this.record(req, { principal, role, action: `${method} ${pattern ?? '(no route)'}`, target: (req.url ?? '/').split('?')[0].slice(0, 512), outcome: 'refused', status, detail: { reason: error } });
    return { ok: false, status, error, headers };
  }

  private record(req: IncomingMessage, e: Omit<AuditEntry, 'remote'>): void {
    if (!this.audit) return;
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    try {
      this.audit.append({ ...e, remote });
    } catch (err) {
      // A failed audit write must be visible; the request itself has already been decided.
      this.logger.error({ err: (err as Error).message }, 'audit log write failed');
    }
  }
}
