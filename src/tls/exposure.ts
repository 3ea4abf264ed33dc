/**
 * Safe defaults stay visible: a listener bound to a non-loopback address without TLS or without
 * authentication gets a warning at start, naming the listener and what it lacks.
 */
import type { Logger } from 'pino';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function warnIfExposed(logger: Logger, listener: string, host: string, has: { tls: boolean; auth: boolean }): void {
  if (isLoopbackHost(host)) return;
  const missing = [has.tls ? '' : 'TLS', has.auth ? '' : 'authentication'].filter(Boolean);
  if (missing.length) logger.warn({ listener, host }, `${listener} listens on a non-loopback address without ${missing.join(' or ')}: anyone who can reach ${host} can use it`);
}
