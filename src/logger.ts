/**
 * Vigil's own structured log (pino), to stderr so stdout stays free for command output.
 * Components log through `settings.logger`, a child carrying their id. Payload contents and
 * secrets are never logged; config values marked secret are redacted before any log call.
 */
import pino, { Logger } from 'pino';

export function createLogger(level: string = process.env.VIGIL_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
