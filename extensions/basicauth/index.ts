/**
 * `basicauth` extension, after the Collector's: receivers that reference it accept a request only
 * with `Authorization: Basic` credentials of a user in an htpasswd file with bcrypt hashes
 * (`htpasswd -B`), or inline in the config. The file is re-read when it changes. Passwords are
 * checked with bcryptjs; successful checks are remembered briefly (bcrypt is slow on purpose).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { ExtensionFactory } from '../../src/component';
import { AuthResult, BcryptUsers, Headers, ServerAuthenticator, basicCredentials, parseHtpasswd } from '../../src/auth/credentials';

export interface BasicAuthConfig {
  htpasswd: { file?: string; inline?: string };
}

export class BasicAuth implements ServerAuthenticator {
  readonly challenge = 'Basic realm="vigil", charset="UTF-8"';
  private readonly users = new BcryptUsers();

  constructor(private readonly cfg: BasicAuthConfig, private readonly logger: Logger) {}

  private load(): void {
    const users = new Map<string, string>();
    if (this.cfg.htpasswd.inline) for (const [u, h] of parseHtpasswd(this.cfg.htpasswd.inline, 'basicauth.htpasswd.inline')) users.set(u, h);
    const file = this.cfg.htpasswd.file;
    if (file) for (const [u, h] of parseHtpasswd(readFileSync(file, 'utf8'), file)) users.set(u, h);
    this.users.replace(users);
  }

  async start(): Promise<void> {
    try {
      this.load();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`basicauth: ${code ? `cannot read ${this.cfg.htpasswd.file}: ${code}` : (e as Error).message}`);
    }
    if (this.users.size === 0) throw new Error('basicauth: no users (htpasswd.file or htpasswd.inline)');
    const file = this.cfg.htpasswd.file;
    if (file) {
      watchFile(file, { interval: 500 }, () => {
        try {
          this.load();
          this.logger.info({ users: this.users.size }, 'htpasswd reloaded');
        } catch (e) {
          this.logger.warn({ file, err: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, 'cannot reload htpasswd; keeping the previous users');
        }
      });
    }
  }

  async shutdown(): Promise<void> {
    if (this.cfg.htpasswd.file) unwatchFile(this.cfg.htpasswd.file);
  }

  async authenticate(headers: Headers): Promise<AuthResult> {
    const c = basicCredentials(headers);
    if (!c) return { ok: false, reason: 'missing' };
    return (await this.users.check(c.user, c.password)) ? { ok: true, principal: c.user } : { ok: false, reason: 'invalid' };
  }
}

export const basicAuthFactory: ExtensionFactory<BasicAuthConfig> = {
  kind: 'extension',
  type: 'basicauth',
  description: 'Checks HTTP Basic credentials against an htpasswd file (bcrypt) for receivers that reference it.',
  configSchema: {
    type: 'object',
    required: ['htpasswd'],
    properties: {
      htpasswd: {
        type: 'object',
        properties: {
          file: { type: 'string', description: 'htpasswd file with bcrypt hashes (htpasswd -B); re-read when it changes.' },
          inline: { type: 'string', secret: true, description: 'htpasswd lines in the config.' },
        },
      },
    },
  },
  create: (s) => new BasicAuth(s.config, s.logger),
};
