/**
 * Who is calling the API, and with which role. Principals come from the config:
 *
 *   auth:
 *     tokens: [{ principal: ci, role: viewer, token: ${env:CI_TOKEN} }]          # Authorization: Bearer
 *     users:  [{ name: alice, role: admin, password_hash: "$2b$10$..." }]       # Authorization: Basic (bcrypt)
 *     authenticator: basicauth/ops      # or an authenticator extension, with roles per principal:
 *     roles: { bob: operator }
 *     bearer_token: ...                 # the older single token: principal "token", role admin
 *
 * With none of these, auth is off: every caller may do everything (bind to loopback then).
 */
import type { IncomingMessage } from 'node:http';
import { BcryptUsers, ServerAuthenticator, TokenSet, basicCredentials, bearerToken, isServerAuthenticator } from '../../src/auth/credentials';
import type { Role } from './roles';
import { ROLES } from './roles';

export interface ApiAuthConfig {
  bearer_token?: string;
  tokens?: Array<{ principal: string; role: Role; token: string }>;
  users?: Array<{ name: string; role: Role; password_hash: string }>;
  authenticator?: string;
  roles?: Record<string, Role>;
}

export type Caller =
  | { ok: true; principal: string | null; role: Role | null }
  | { ok: false; status: 401; error: string; principal: string | null };

export const authConfigSchema = {
  type: 'object',
  description: 'Principals and their roles (viewer, operator, admin). Without it every caller may do everything.',
  properties: {
    bearer_token: { type: 'string', minLength: 1, secret: true, description: 'One token with the admin role (principal "token").' },
    tokens: {
      type: 'array',
      items: {
        type: 'object',
        required: ['principal', 'role', 'token'],
        properties: {
          principal: { type: 'string', minLength: 1 },
          role: { enum: [...ROLES] },
          token: { type: 'string', minLength: 16, secret: true, description: 'Sent as "Authorization: Bearer <token>".' },
        },
      },
    },
    users: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'role', 'password_hash'],
        properties: {
          name: { type: 'string', minLength: 1, pattern: '^[^:]+$' },
          role: { enum: [...ROLES] },
          password_hash: { type: 'string', pattern: '^\\$2[aby]\\$\\d\\d\\$', secret: true, description: 'bcrypt hash (htpasswd -nB user).' },
        },
      },
    },
    authenticator: { type: 'string', description: 'Id of an authenticator extension (bearertokenauth, basicauth) whose principals get roles from "roles".' },
    roles: { type: 'object', additionalProperties: { enum: [...ROLES] }, description: 'Role of each principal the authenticator extension names.' },
  },
};

export class ApiAuth {
  private readonly tokens: TokenSet;
  private readonly users: BcryptUsers;
  private readonly roleOf = new Map<string, Role>();
  private extension?: ServerAuthenticator;
  readonly enabled: boolean;

  constructor(private readonly cfg: ApiAuthConfig = {}) {
    const tokens = [...(cfg.tokens ?? [])];
    if (cfg.bearer_token) tokens.push({ principal: 'token', role: 'admin', token: cfg.bearer_token });
    for (const t of tokens) this.roleOf.set(t.principal, t.role);
    for (const u of cfg.users ?? []) this.roleOf.set(u.name, u.role);
    this.tokens = new TokenSet(tokens);
    this.users = new BcryptUsers(new Map((cfg.users ?? []).map((u) => [u.name, u.password_hash])));
    this.enabled = this.tokens.size > 0 || this.users.size > 0 || cfg.authenticator !== undefined;
  }

  /** Resolve the authenticator extension once the extensions are up. */
  bind(getExtension: (id: string) => unknown): void {
    if (!this.cfg.authenticator) return;
    const ext = getExtension(this.cfg.authenticator);
    if (!isServerAuthenticator(ext)) throw new Error(`extensions.api.auth.authenticator: "${this.cfg.authenticator}" is not a started authenticator extension (list it under service.extensions)`);
    this.extension = ext;
  }

  get challenge(): string {
    return this.extension?.challenge ?? (this.users.size ? 'Basic realm="vigil", charset="UTF-8"' : 'Bearer realm="vigil"');
  }

  async identify(req: IncomingMessage): Promise<Caller> {
    if (!this.enabled) return { ok: true, principal: null, role: null };
    const bearer = bearerToken(req.headers);
    if (bearer !== undefined && this.tokens.size) {
      const p = this.tokens.match(bearer);
      if (p !== undefined) return { ok: true, principal: p, role: this.roleOf.get(p) ?? null };
    }
    const basic = basicCredentials(req.headers);
    if (basic && this.users.size && (await this.users.check(basic.user, basic.password))) {
      return { ok: true, principal: basic.user, role: this.roleOf.get(basic.user) ?? null };
    }
    if (this.extension) {
      const r = await this.extension.authenticate(req.headers);
      if (r.ok) return { ok: true, principal: r.principal, role: this.cfg.roles?.[r.principal] ?? null };
    }
    const given = bearer !== undefined || basic !== undefined || req.headers.authorization !== undefined;
    // The user name of a refused basic login is worth auditing (who was tried); the password never is.
    return { ok: false, status: 401, error: given ? 'wrong credentials' : 'authentication required', principal: basic?.user ?? null };
  }
}
