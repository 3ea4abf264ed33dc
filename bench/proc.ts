/**
 * A process's CPU time and resident memory, read from Linux /proc (what `top` and `ps` show).
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ), the unit of utime/stime in /proc/PID/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcSample {
  /** performance.now() when read. */
  at: number;
  /** User + system CPU seconds used so far. */
  cpuSeconds: number;
  rssBytes: number;
}

/** undefined once the process is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return { at: performance.now(), cpuSeconds: (utime + stime) / ticksPerSecond(), rssBytes: m ? Number(m[1]) * 1024 : 0 };
  } catch {
    return undefined;
  }
}

/** Samples a process once a second, keeping the samples for the report. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly pid: number) {}

  start(intervalMs = 1000): void {
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), intervalMs);
    this.timer.unref();
  }

  sampleNow(): ProcSample | undefined {
    const s = sampleProcess(this.pid);
    if (s) this.samples.push(s);
    return s;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** CPU use between two samples as a percentage of one core. */
  static cpuPercent(a: ProcSample, b: ProcSample): number {
    const wall = (b.at - a.at) / 1000;
    return wall > 0 ? ((b.cpuSeconds - a.cpuSeconds) / wall) * 100 : 0;
  }

  /** RSS figures over samples taken in [from, to]: peak, and "steady" = median of the later half. */
  rss(from: number, to: number): { peak: number; steady: number } {
    const inWindow = this.samples.filter((s) => s.at >= from && s.at <= to);
    const all = inWindow.length > 0 ? inWindow : this.samples.slice(-1);
    if (all.length === 0) return { peak: 0, steady: 0 };
    const later = all.slice(Math.floor(all.length / 2)).map((s) => s.rssBytes).sort((x, y) => x - y);
    return { peak: Math.max(...this.samples.map((s) => s.rssBytes)), steady: later[Math.floor(later.length / 2)] };
  }
}
