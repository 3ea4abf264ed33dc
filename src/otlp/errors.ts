/**
 * A payload that is not valid OTLP. The message names where the problem is, as a path through the
 * request in OTLP/JSON field names ("resourceSpans[0].scopeSpans[0].spans[3].traceId"), so a
 * sender can find it; payload contents are never quoted, since they may hold secrets.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  /** Where the problem is ("" for the top level). */
  path: string;

  constructor(readonly detail: string, path = '') {
    super(path ? `${path}: ${detail}` : detail);
    this.path = path;
  }

  /** Puts an outer path segment in front, as the error travels up through nested messages. */
  within(segment: string): this {
    this.path = this.path ? (this.path[0] === '[' ? segment + this.path : `${segment}.${this.path}`) : segment;
    this.message = `${this.path}: ${this.detail}`;
    return this;
  }
}

/**
 * Re-throws `err` from inside `segment`. Errors that are not DecodeErrors (a RangeError from a
 * Buffer read past the end, a stack overflow) still describe bad input here, so they are turned
 * into DecodeErrors rather than escaping as internal failures.
 */
export function rethrowWithin(err: unknown, segment: string): never {
  if (err instanceof DecodeError) throw err.within(segment);
  const detail = err instanceof RangeError ? 'truncated or malformed message' : `malformed message (${(err as Error)?.message ?? err})`;
  throw new DecodeError(detail, segment);
}
