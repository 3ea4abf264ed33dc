/**
 * The `auth: { authenticator: <id> }` block of a receiver protocol, and resolving it at start to the
 * running authenticator extension (bearertokenauth, basicauth).
 */
import type { Host } from '../component';
import { ServerAuthenticator, isServerAuthenticator } from './credentials';

export interface ReceiverAuthConfig {
  authenticator: string;
}

export const receiverAuthSchema = {
  type: 'object',
  description: 'Require credentials checked by an authenticator extension (bearertokenauth, basicauth).',
  required: ['authenticator'],
  properties: { authenticator: { type: 'string', description: 'Id of the authenticator extension, listed in service.extensions.' } },
};

export function resolveAuthenticator(host: Host | undefined, cfg: ReceiverAuthConfig | undefined, where: string): ServerAuthenticator | undefined {
  if (!cfg) return undefined;
  const ext = host?.getExtension(cfg.authenticator);
  if (!isServerAuthenticator(ext)) throw new Error(`${where}.authenticator: "${cfg.authenticator}" is not a running authenticator extension; define it under extensions and list it in service.extensions`);
  return ext;
}
