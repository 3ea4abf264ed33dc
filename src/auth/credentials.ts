/**
 * Credential checks shared by the authenticator extensions (`bearertokenauth`, `basicauth`) and the
 * API's own principals: parsing the Authorization header, constant-time token matching, and
 * htpasswd bcrypt users. Nothing here logs or returns a credential.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { LRUCache } from 'lru-cache';

export type Headers = Record<string, string | string[] | undefined>;

/** The outcome of checking one request's credentials. */
export type AuthResult =
  | { ok: true; principal: string }
  /** `missing`: no credentials of this scheme; `invalid`: credentials given but wrong. */
  | { ok: false; reason: 'missing' | 'invalid' };

/** What receivers and the API ask of an authenticator extension (`auth: { authenticator: <id> }`). */
export interface ServerAuthenticator {
  authenticate(headers: Headers): Promise<AuthResult>;
  /** The `WWW-Authenticate` challenge for a 401. */
  readonly challenge: string;
}

export function isServerAuthenticator(v: unknown): v is ServerAuthenticator {
  return typeof v === 'object' && v !== null && typeof (v as ServerAuthenticator).authenticate === 'function' && typeof (v as ServerAuthenticator).challenge === 'string';
}

export function authorizationHeader(headers: Headers): string {
  const v = headers.authorization ?? headers.Authorization;
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

export function bearerToken(headers: Headers): string | undefined {
  return /^Bearer[ ]+(\S+)\s*$/i.exec(authorizationHeader(headers))?.[1];
}

export function basicCredentials(headers: Headers): { user: string; password: string } | undefined {
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(authorizationHeader(headers));
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return undefined;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * A set of accepted tokens, each naming a principal. Every candidate is compared (digests, so equal
 * lengths) and the loop never stops early, so timing tells nothing about which token nearly matched.
 */
export class TokenSet {
  private entries: Array<{ digest: Buffer; principal: string }> = [];

  constructor(tokens: Array<{ token: string; principal: string }> = []) {
    this.replace(tokens);
  }

  replace(tokens: Array<{ token: string; principal: string }>): void {
    this.entries = tokens.filter((t) => t.token.length > 0).map((t) => ({ digest: digest(t.token), principal: t.principal }));
  }

  get size(): number {
    return this.entries.length;
  }

  match(token: string): string | undefined {
    const d = digest(token);
    let found: string | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && found === undefined) found = e.principal;
    }
    return found;
  }
}

/** `user:$2y$...` lines (Apache htpasswd with bcrypt, `htpasswd -B`); blank lines and # comments ignored. */
export function parseHtpasswd(text: string, file = 'htpasswd'): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (!l || l.startsWith('#')) return;
    const c = l.indexOf(':');
    const user = c > 0 ? l.slice(0, c) : '';
    const hash = c > 0 ? l.slice(c + 1) : '';
    // Only bcrypt: the other htpasswd formats (MD5-crypt, SHA1, crypt) are too weak to accept.
    if (!user || !/^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
      throw new Error(`${file}:${i + 1}: expected "user:<bcrypt hash>" (create with "htpasswd -B"); other hash formats are refused`);
    }
    users.set(user, hash.replace(/^\$2y\$/, '$2b$').replace(/^\$2x\$/, '$2b$'));
  });
  return users;
}

/**
 * Users with bcrypt hashes. bcrypt is slow on purpose (tens of ms), so a successful check is
 * remembered for a while under a digest of user+password+hash; a wrong password is always rechecked.
 */
export class BcryptUsers {
  private users = new Map<string, string>();
  private readonly verified = new LRUCache<string, true>({ max: 1024, ttl: 5 * 60_000 });
  // A hash to compare against when the user does not exist, so unknown users cost as much as known ones.
  private static readonly dummy = bcrypt.hashSync('not a password', 10);

  constructor(users?: Map<string, string>) {
    if (users) this.replace(users);
  }

  replace(users: Map<string, string>): void {
    this.users = users;
    this.verified.clear();
  }

  get size(): number {
    return this.users.size;
  }

  async check(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    const key = createHash('sha256').update(`${user}\0${password}\0${hash ?? ''}`).digest('base64');
    if (hash && this.verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash ?? BcryptUsers.dummy);
    if (ok && hash) this.verified.set(key, true);
    return ok && hash !== undefined;
  }
}
