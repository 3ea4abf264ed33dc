/**
 * Checks `vigil validate` adds to the config validation: what `run` would refuse at start-up before
 * binding a socket. Listen endpoints are parsed when a receiver or extension starts, so an endpoint
 * left empty by an unset `${env:...}` passed validation and then stopped `run`.
 */
import type { ConfigIssue } from '../errors';
import type { ValidatedConfig } from '../config/validate';
import { parseEndpoint } from '../util/net';

/** Every `endpoint` (host:port to listen on) of receivers and extensions that `run` could not bind. */
export function listenEndpointIssues(cfg: ValidatedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Unset-variable warnings carry the position of the reference: reuse it for the error.
  const where = new Map(cfg.warnings.map((w) => [w.path, w]));
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null) return;
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const p = `${path}.${k}`;
      if (k === 'endpoint' && typeof child === 'string') {
        try {
          parseEndpoint(child, p);
        } catch (e) {
          const w = where.get(p);
          const unset = w && /environment variable/.test(w.message) ? ` (${w.message.replace(/; using an empty value$/, '')})` : '';
          issues.push({ file: w?.file, line: w?.line, col: w?.col, path: p, message: `${(e as Error).message.replace(`${p}: `, '')}${unset}` });
        }
      } else walk(child, p);
    }
  };
  for (const [section, map] of [['receivers', cfg.receivers], ['extensions', cfg.extensions]] as const) {
    for (const [id, c] of map) walk(c.config, `${section}.${id}`);
  }
  return issues;
}
