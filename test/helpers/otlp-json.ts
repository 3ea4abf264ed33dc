/** OTLP/JSON requests with known, unique span ids, for counting what a crash kept. */

export function spanIdOf(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** A traces request body whose spans have the span ids spanIdOf(id) for each id. */
export function spansJson(ids: number[], opts: { startNanos?: (id: number) => string; service?: string } = {}): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: opts.service ?? 'crash-test' } }] },
      scopeSpans: [{
        scope: { name: 'crash' },
        spans: ids.map((id) => {
          const start = opts.startNanos ? opts.startNanos(id) : String(now + BigInt(id));
          return {
            traceId: id.toString(16).padStart(32, '0'), spanId: spanIdOf(id), name: 'op', kind: 1,
            startTimeUnixNano: start, endTimeUnixNano: start,
          };
        }),
      }],
    }],
  });
}

/** POST spans; resolves with the HTTP status and the parsed answer (or undefined on a network error). */
export async function postSpans(http: string, ids: number[], opts: Parameters<typeof spansJson>[1] = {}): Promise<{ status: number; body?: Record<string, unknown> }> {
  try {
    const res = await fetch(`http://${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: spansJson(ids, opts) });
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  } catch {
    return { status: 0 };
  }
}

/**
 * `count` senders posting 50 new span ids per request until stopped; `acked` holds every id that was
 * answered 200. The crash tests kill Vigil while these are in flight, then compare `acked` with
 * what survived.
 */
export function startSenders(http: string, count: number): { acked: number[]; stop(): Promise<void> } {
  const acked: number[] = [];
  let next = 1;
  let stopped = false;
  const sender = async (): Promise<void> => {
    while (!stopped) {
      const ids = Array.from({ length: 50 }, () => next++);
      if ((await postSpans(http, ids)).status === 200) acked.push(...ids);
    }
  };
  const running = Array.from({ length: count }, sender);
  return {
    acked,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}
