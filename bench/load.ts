/**
 * The load generator: keeps up to N requests in flight, either back to back (max rate) or on a
 * fixed schedule of items per second, and records what came back.
 */
import { withFreshIds, type PayloadSet } from './payloads';
import type { SendResult, Transport } from './transport';

export interface PhaseOptions {
  /** Items per second to offer; 0 = as fast as the server answers. */
  rate: number;
  concurrency: number;
  durationMs: number;
  /** Give every request ids of its own (traces), so stores keyed on ids see no duplicates. */
  freshIds: boolean;
  /** Called about once a second with the counts so far. */
  onTick?: (p: PhaseStats) => void;
}

export interface PhaseStats {
  elapsedMs: number;
  requests: number;
  byStatus: Record<string, number>;
  itemsSent: number;
  /** Items in 2xx answers, less those the server reported rejected in a partial success. */
  itemsAccepted: number;
  itemsRejected: number;
  /** Error answers (429/503/gRPC) that said when to retry. */
  retryAfter: number;
  /** Fixed-rate mode: requests not sent because all N slots were busy for too long. */
  skipped: number;
  inFlight: number;
  latency: LatencySummary;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Latencies in ms. Bounded: past the cap it keeps a uniform sample (reservoir). */
export class LatencyRecorder {
  private values: Float64Array;
  private n = 0;
  private seen = 0;
  private maxSeen = 0;

  constructor(private readonly cap = 1_000_000) {
    this.values = new Float64Array(Math.min(cap, 4096));
  }

  add(ms: number): void {
    this.seen++;
    if (ms > this.maxSeen) this.maxSeen = ms;
    if (this.n < this.cap) {
      if (this.n === this.values.length) {
        const bigger = new Float64Array(Math.min(this.cap, this.values.length * 2));
        bigger.set(this.values);
        this.values = bigger;
      }
      this.values[this.n++] = ms;
    } else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.cap) this.values[j] = ms;
    }
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.n).sort();
    const q = (p: number) => (this.n === 0 ? 0 : sorted[Math.min(this.n - 1, Math.ceil(p * this.n) - 1)]);
    return { count: this.seen, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: this.maxSeen };
  }
}

export class Generator {
  private seq = 0;
  private next = 0;
  /** Items acknowledged over every phase so far, warm-up included. */
  totalAccepted = 0;

  constructor(private readonly transport: Transport, private readonly set: PayloadSet) {}

  get itemsPerRequest(): number {
    const ps = this.set.payloads;
    return ps.reduce((a, p) => a + p.items, 0) / ps.length;
  }

  async runPhase(o: PhaseOptions): Promise<PhaseStats> {
    const start = performance.now();
    const deadline = start + o.durationMs;
    const stats: PhaseStats = {
      elapsedMs: 0, requests: 0, byStatus: {}, itemsSent: 0, itemsAccepted: 0, itemsRejected: 0,
      retryAfter: 0, skipped: 0, inFlight: 0, latency: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 },
    };
    const latencies = new LatencyRecorder();
    const snapshot = (): PhaseStats => ({ ...stats, byStatus: { ...stats.byStatus }, elapsedMs: performance.now() - start, latency: latencies.summary() });

    const record = (items: number, r: SendResult, ms: number) => {
      stats.requests++;
      stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
      latencies.add(ms);
      if (r.ok) {
        stats.itemsAccepted += items - r.rejectedItems;
        this.totalAccepted += items - r.rejectedItems;
        stats.itemsRejected += r.rejectedItems;
      } else if (r.retryAfter) stats.retryAfter++;
    };

    let wake: (() => void) | undefined;
    const sendOne = () => {
      const p = this.set.payloads[this.next++ % this.set.payloads.length];
      const body = o.freshIds ? withFreshIds(p, ++this.seq) : p.body;
      stats.inFlight++;
      stats.itemsSent += p.items;
      const t0 = performance.now();
      this.transport.send(body).then((r) => {
        stats.inFlight--;
        record(p.items, r, performance.now() - t0);
        wake?.();
      });
    };

    const ticker = setInterval(() => o.onTick?.(snapshot()), 1000);
    try {
      if (o.rate <= 0) {
        // Closed loop: a finished request immediately makes room for the next one.
        await new Promise<void>((resolve) => {
          wake = () => {
            if (performance.now() >= deadline) {
              if (stats.inFlight === 0) resolve();
              return;
            }
            while (stats.inFlight < o.concurrency) sendOne();
          };
          wake();
        });
      } else {
        await this.openLoop(o, start, deadline, stats, sendOne, (w) => (wake = w));
      }
    } finally {
      clearInterval(ticker);
      wake = undefined;
    }
    return snapshot();
  }

  /**
   * Open loop: requests go out on a schedule whatever the server does, the way independent clients
   * behave. A backlog longer than half a second while all slots are busy is dropped and counted,
   * as an SDK with a full queue would.
   */
  private openLoop(o: PhaseOptions, start: number, deadline: number, stats: PhaseStats, sendOne: () => void, setWake: (w: () => void) => void): Promise<void> {
    const reqPerMs = o.rate / this.itemsPerRequest / 1000;
    const maxBacklog = Math.max(1, reqPerMs * 500);
    let issued = 0;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (now >= deadline) {
          if (timer) clearTimeout(timer);
          timer = undefined;
          if (stats.inFlight === 0) resolve();
          return;
        }
        let due = Math.floor((now - start) * reqPerMs) + 1 - issued;
        while (due > 0 && stats.inFlight < o.concurrency) {
          sendOne();
          issued++;
          due--;
        }
        if (due > maxBacklog) {
          stats.skipped += due;
          issued += due;
        }
        if (!timer) {
          const nextDue = start + (issued + 0) / reqPerMs;
          timer = setTimeout(() => {
            timer = undefined;
            tick();
          }, Math.max(1, Math.min(deadline, nextDue) - now));
        }
      };
      setWake(tick);
      tick();
    });
  }
}
