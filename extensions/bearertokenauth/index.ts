/**
 * `bearertokenauth` extension, after the Collector's: receivers that reference it
 * (`auth: { authenticator: bearertokenauth }`) accept a request only with
 * `Authorization: Bearer <token>` naming one of the configured tokens. Tokens come from the config
 * (use ${env:VAR}) and/or a file (one per line, `#` comments), which is re-read when it changes, so
 * tokens rotate without a restart. Tokens are compared in constant time and never logged.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { ExtensionFactory } from '../../src/component';
import { AuthResult, Headers, ServerAuthenticator, TokenSet, bearerToken } from '../../src/auth/credentials';

export interface BearerTokenAuthConfig {
  token?: string;
  tokens: string[];
  filename?: string;
}

export function readTokenFile(file: string): string[] {
  return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

export class BearerTokenAuth implements ServerAuthenticator {
  readonly challenge = 'Bearer realm="vigil"';
  private readonly set = new TokenSet();

  constructor(private readonly cfg: BearerTokenAuthConfig, private readonly logger: Logger) {}

  private load(): void {
    const inline = [...(this.cfg.token ? [this.cfg.token] : []), ...this.cfg.tokens];
    const fromFile = this.cfg.filename ? readTokenFile(this.cfg.filename) : [];
    this.set.replace([...inline, ...fromFile].map((token, i) => ({ token, principal: `token-${i + 1}` })));
  }

  async start(): Promise<void> {
    try {
      this.load();
    } catch (e) {
      throw new Error(`bearertokenauth: cannot read tokens from ${this.cfg.filename}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (this.set.size === 0) throw new Error('bearertokenauth: no tokens configured (token, tokens or filename)');
    if (this.cfg.filename) {
      watchFile(this.cfg.filename, { interval: 500 }, () => {
        try {
          this.load();
          this.logger.info({ tokens: this.set.size }, 'bearer tokens reloaded');
        } catch (e) {
          // Keep the previous tokens: a half-written file must not lock everybody out.
          this.logger.warn({ file: this.cfg.filename, err: (e as NodeJS.ErrnoException).code ?? 'unreadable' }, 'cannot reload bearer tokens; keeping the previous ones');
        }
      });
    }
  }

  async shutdown(): Promise<void> {
    if (this.cfg.filename) unwatchFile(this.cfg.filename);
  }

  async authenticate(headers: Headers): Promise<AuthResult> {
    const token = bearerToken(headers);
    if (token === undefined) return { ok: false, reason: 'missing' };
    const principal = this.set.match(token);
    return principal ? { ok: true, principal } : { ok: false, reason: 'invalid' };
  }
}

export const bearerTokenAuthFactory: ExtensionFactory<BearerTokenAuthConfig> = {
  kind: 'extension',
  type: 'bearertokenauth',
  description: 'Checks "Authorization: Bearer <token>" for receivers that reference it; tokens from config or a file re-read on change.',
  configSchema: {
    type: 'object',
    properties: {
      token: { type: 'string', minLength: 16, secret: true, description: 'One accepted token; use ${env:VAR}.' },
      tokens: { type: 'array', items: { type: 'string', minLength: 16, secret: true }, default: [], description: 'Several accepted tokens (rotation: old and new together).' },
      filename: { type: 'string', description: 'File with one token per line; re-read when it changes.' },
    },
  },
  create: (s) => new BearerTokenAuth(s.config, s.logger),
};
