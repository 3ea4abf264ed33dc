/**
 * Pacing of GitHub writes, plugged into @octokit/plugin-throttling in place of its built-in
 * limiters (which are module-wide and fixed at 1 s between writes and 3 s between
 * notification-triggering writes such as new issues and comments). GitHub asks integrations to
 * space content creation out rather than burst it; a burst of alert groups opening at once is
 * exactly such a burst, so every write waits its turn here.
 */
export class Pacer {
  private next = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly intervalMs: number) {}

  /** Resolves when the caller may make its request; callers are served in order. */
  wait(): Promise<void> {
    const turn = this.tail.then(async () => {
      const now = Date.now();
      // unref: a caller waiting its turn must not keep a shut-down process alive.
      if (this.next > now) await new Promise((r) => setTimeout(r, this.next - now).unref());
      this.next = Date.now() + this.intervalMs;
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** The shape plugin-throttling expects of its Bottleneck groups: `group.key(id).schedule(opts, fn)`. */
  asLimiterGroup(): { key(id: string): { schedule<T>(opts: unknown, fn: () => Promise<T>): Promise<T> } } {
    return { key: () => ({ schedule: async <T>(_opts: unknown, fn: () => Promise<T>) => { await this.wait(); return fn(); } }) };
  }
}
