/**
 * The two kinds of failure a consumer can report, as in the Collector's consumererror package.
 * Receivers turn them into protocol answers: permanent → 400 / INVALID_ARGUMENT (the client must
 * not retry), retryable → 503 or 429 with Retry-After / UNAVAILABLE with RetryInfo.
 */

/** The data is bad and will never be accepted; retrying is pointless. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  /** Items rejected, when only some of a request was refused (OTLP partial success). */
  constructor(message: string, readonly rejectedItems?: number) {
    super(message);
  }
}

/**
 * The data was refused for now (memory pressure, full queue, downstream outage). `retryAfterMs`,
 * when set, is the delay the sender should wait; `throttled` marks rate limiting (HTTP 429) as
 * opposed to unavailability (HTTP 503).
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(message: string, readonly retryAfterMs?: number, readonly throttled = false) {
    super(message);
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

export function isRetryable(err: unknown): err is RetryableError {
  return err instanceof RetryableError;
}

/** A config problem, located in a file. `path` is the dotted YAML path. */
export interface ConfigIssue {
  file?: string;
  line?: number;
  col?: number;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ''} ` : '';
  return `${where}${i.path || '(root)'}: ${i.message}`;
}
