/**
 * `memory_limiter` processor, as the Collector's: above the soft limit (limit − spike) new data is
 * refused with a retryable error, so receivers answer 503 / UNAVAILABLE with Retry-After and the
 * senders keep their data, instead of the process growing until it is killed. Above the hard limit
 * it also asks V8 for a garbage collection when the process runs with --expose-gc.
 *
 * What is measured is memory in use: the V8 heap in use plus memory held outside it (request
 * buffers, typed arrays). It is what data occupies, and it falls once refused and exported data is
 * collected. Resident memory (RSS) is not used for the decision because V8 and malloc keep freed
 * pages: after a burst, RSS stays high with nothing in use, and a limiter deciding on it would refuse
 * for ever. RSS is still reported, and above the soft limit a garbage collection is forced (at most
 * once per check interval) so that in-use memory is measured, not garbage.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Consumer, CreateSettings, ProcessorFactory } from '../../src/component';
import { PermanentError, RetryableError } from '../../src/errors';
import { Signal, SignalData } from '../../src/model';
import { durationSchema, parseDuration } from '../../src/util/duration';

export interface MemoryLimiterConfig {
  check_interval: string | number;
  limit_mib: number;
  spike_limit_mib: number;
  limit_percentage: number;
  spike_limit_percentage: number;
}

const MiB = 1024 * 1024;

/** Memory available to this process: the cgroup's limit when there is one, else the machine's. */
export function availableMemory(): number {
  for (const f of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = readFileSync(f, 'utf8').trim();
      const n = Number(v);
      if (v !== 'max' && Number.isFinite(n) && n > 0 && n < totalmem()) return n;
    } catch { /* not in a cgroup with a limit */ }
  }
  return totalmem();
}

/** Memory in use by data: the V8 heap in use plus buffers and typed arrays outside it. */
export function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

let gcFn: (() => void) | null | undefined;
/** V8's collector, exposed at run time so that `node` needs no --expose-gc flag. */
function forceGc(): void {
  if (gcFn === undefined) {
    try {
      if (typeof global.gc === 'function') gcFn = global.gc as () => void;
      else {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      }
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}

/** Shared by every pipeline's instance of the same memory_limiter id, as in the Collector. */
class MemoryGate {
  /** The signals of the pipelines this limiter sits in: only their receivers' requests are estimated against it. */
  readonly signals = new Set<Signal>();
  readonly hardBytes: number;
  readonly softBytes: number;
  readonly intervalMs: number;
  refusing = false;
  private lastCheck = 0;
  private lastGc = 0;
  private timer?: NodeJS.Timeout;
  private users = 0;
  private readonly usageGauge;
  private readonly rssGauge;
  private readonly refusedCounter;

  constructor(private readonly s: CreateSettings<MemoryLimiterConfig>, private readonly measure: () => number, private readonly gc: () => void = forceGc) {
    const c = s.config;
    const total = availableMemory();
    this.hardBytes = c.limit_mib > 0 ? c.limit_mib * MiB : (total * c.limit_percentage) / 100;
    const spike = c.limit_mib > 0 ? (c.spike_limit_mib > 0 ? c.spike_limit_mib * MiB : this.hardBytes * 0.2) : (total * c.spike_limit_percentage) / 100 || this.hardBytes * 0.2;
    this.softBytes = this.hardBytes - spike;
    this.intervalMs = parseDuration(c.check_interval);
    this.usageGauge = s.telemetry.gauge('vigil_processor_memory_limiter_in_use_bytes', 'Memory in use (V8 heap + external) at the last check', ['processor']).labels(s.id);
    this.rssGauge = s.telemetry.gauge('vigil_processor_memory_limiter_rss_bytes', 'Resident memory at the last check', ['processor']).labels(s.id);
    this.refusedCounter = s.telemetry.counter('vigil_processor_refused_total', 'Requests refused by a processor', ['processor', 'reason']).labels(s.id, 'memory');
  }

  /** Memory in use at the last check. */
  private lastUsed = 0;

  check(): void {
    const now = Date.now();
    let used = this.measure();
    if (used > this.softBytes && now - this.lastGc >= this.intervalMs) {
      // Part of what is counted may be garbage: collect before deciding to refuse.
      this.lastGc = now;
      this.gc();
      used = this.measure();
    }
    this.lastCheck = now;
    this.lastUsed = used;
    this.usageGauge.set(used);
    this.rssGauge.set(process.memoryUsage.rss());
    const was = this.refusing;
    this.refusing = used > this.softBytes;
    if (was !== this.refusing) {
      this.s.logger.warn({ inUseMiB: Math.round(used / MiB), softLimitMiB: Math.round(this.softBytes / MiB) }, this.refusing ? 'memory in use is above the soft limit; refusing data' : 'memory in use is back below the soft limit; accepting data');
    }
  }

  /** Throws a retryable error while memory is above the soft limit. */
  admit(): void {
    // Between timer ticks, look again at most every 50 ms: bursts can outgrow a 1 s interval.
    if (Date.now() - this.lastCheck >= Math.min(50, this.intervalMs)) this.check();
    if (this.refusing) {
      this.refusedCounter.inc();
      throw new RetryableError(`memory in use is above the memory_limiter's soft limit (${Math.round(this.softBytes / MiB)} MiB); retry later`, Math.max(1000, this.intervalMs));
    }
  }

  /**
   * Before a receiver decodes a request: will `bytes` more fit under the soft limit? Retryable when
   * not now; permanent when never (the estimate alone is over the soft limit).
   */
  admitEstimate(bytes: number): void {
    if (bytes > this.softBytes) {
      this.refusedCounter.inc();
      throw new PermanentError(`decoding this request needs about ${Math.round(bytes / MiB)} MiB, more than the memory_limiter's soft limit (${Math.round(this.softBytes / MiB)} MiB) allows; send smaller requests`);
    }
    if (Date.now() - this.lastCheck >= Math.min(50, this.intervalMs)) this.check();
    if (this.refusing || this.lastUsed + bytes > this.softBytes) {
      this.refusedCounter.inc();
      throw new RetryableError(`memory in use (${Math.round(this.lastUsed / MiB)} MiB) and the ~${Math.round(bytes / MiB)} MiB this request needs to decode are above the memory_limiter's soft limit (${Math.round(this.softBytes / MiB)} MiB); retry later`, Math.max(1000, this.intervalMs));
    }
  }

  acquire(): void {
    if (this.users++ === 0) {
      this.check();
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
  }

  release(): void {
    if (--this.users === 0 && this.timer) clearInterval(this.timer);
  }
}

const gates = new WeakMap<object, Map<string, MemoryGate>>();

/**
 * For receivers, before decoding a request of `signal`: refuses (RetryableError, or PermanentError
 * when it can never fit) when `bytes` more would put memory in use over the soft limit of a
 * memory_limiter in a pipeline of that signal in this collector. A limiter placed only in the metrics
 * pipelines never refuses spans. Does nothing when there is none.
 */
export function admitEstimate(telemetry: object, signal: Signal, bytes: number): void {
  const byId = gates.get(telemetry);
  if (!byId) return;
  for (const g of byId.values()) if (g.signals.has(signal)) g.admitEstimate(bytes);
}

export function createMemoryLimiter<S extends Signal>(s: CreateSettings<MemoryLimiterConfig>, next: Consumer<S>, measure: () => number = memoryInUse, gc?: () => void, signal?: S) {
  // One gate per (telemetry = collector, id): pipelines sharing the id share the measurement.
  let byId = gates.get(s.telemetry);
  if (!byId) gates.set(s.telemetry, (byId = new Map()));
  let gate = byId.get(s.id);
  if (!gate) byId.set(s.id, (gate = new MemoryGate(s, measure, gc)));
  const g = gate;
  if (signal) g.signals.add(signal);
  return {
    gate: g,
    async start() {
      g.acquire();
    },
    async shutdown() {
      g.release();
    },
    consume(data: SignalData[S]): Promise<void> {
      try {
        g.admit();
      } catch (e) {
        return Promise.reject(e);
      }
      return next.consume(data);
    },
  };
}

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  kind: 'processor',
  type: 'memory_limiter',
  description: 'Refuses data (retryably) while the process uses more memory than allowed, so it never runs out.',
  signals: ['traces', 'metrics', 'logs'],
  mutatesData: false,
  configSchema: {
    type: 'object',
    properties: {
      check_interval: durationSchema('1s', 'How often memory is measured.'),
      limit_mib: { type: 'integer', minimum: 0, default: 0, description: 'Hard limit in MiB of memory in use (V8 heap + buffers).' },
      spike_limit_mib: { type: 'integer', minimum: 0, default: 0, description: 'Headroom below the hard limit where refusing starts (default 20% of the limit).' },
      limit_percentage: { type: 'number', minimum: 0, maximum: 100, default: 0, description: 'Hard limit as a percentage of available memory (used when limit_mib is 0).' },
      spike_limit_percentage: { type: 'number', minimum: 0, maximum: 100, default: 0, description: 'Headroom as a percentage of available memory.' },
    },
  },
  validate(c) {
    const out: Array<{ path: string[]; message: string }> = [];
    if (!c.limit_mib && !c.limit_percentage) out.push({ path: ['limit_mib'], message: 'set limit_mib or limit_percentage (neither is set)' });
    if (c.limit_mib && c.spike_limit_mib >= c.limit_mib) out.push({ path: ['spike_limit_mib'], message: `must be below limit_mib (${c.limit_mib}), got ${c.spike_limit_mib}` });
    if (!c.limit_mib && c.limit_percentage && c.spike_limit_percentage >= c.limit_percentage) out.push({ path: ['spike_limit_percentage'], message: `must be below limit_percentage (${c.limit_percentage})` });
    try {
      if (parseDuration(c.check_interval) <= 0) out.push({ path: ['check_interval'], message: 'must be greater than 0' });
    } catch { /* schema reported it */ }
    return out;
  },
  create: (settings, signal, next) => createMemoryLimiter(settings, next, undefined, undefined, signal),
};
