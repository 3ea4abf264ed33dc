/**
 * Code health scan speed: a generated repository of N files (default 5,000; half Python, half
 * TypeScript, ~60 lines and 6 functions each, one of them a stub), a cold full scan, a warm full
 * rescan (nothing changed), and an incremental update after one file changes.
 *
 * Parsing runs in worker threads (one per idle core, none on a saturated machine) unless WORKERS says
 * otherwise (0: in the scanner's thread).
 *
 *   npm run build && node dist/bench/codehealth/scan.js [FILES] [WORKERS]
 */
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { RepositoryScanner } from '../../receivers/codehealth/analyze/scan';

function pyFile(i: number): string {
  let s = `"""Module ${i}."""\nimport logging\n\nlog = logging.getLogger(__name__)\n\n\nclass Service${i}:\n    def __init__(self, store):\n        self.store = store\n        self.count = 0\n\n`;
  for (let k = 0; k < 5; k++) {
    s += k === 3 && i % 2 === 0
      ? `    def fetch_${k}(self, key):\n        """Load the record for key."""\n        raise NotImplementedError\n\n`
      : `    def handle_${k}(self, key, value=None):\n        if key in self.store:\n            self.count += 1\n            return self.store[key]\n        self.store[key] = value\n        log.debug("stored %s", key)\n        return value\n\n`;
  }
  return s;
}

function tsFile(i: number): string {
  let s = `import { EventEmitter } from 'node:events';\n\nexport class Service${i} extends EventEmitter {\n  private readonly items = new Map<string, number>();\n\n  constructor(private readonly name: string) {\n    super();\n  }\n\n`;
  for (let k = 0; k < 5; k++) {
    s += k === 3 && i % 2 === 1
      ? `  async load${k}(key: string): Promise<number[]> {\n    return [];\n  }\n\n`
      : `  handle${k}(key: string, value = 0): number {\n    const prev = this.items.get(key) ?? 0;\n    this.items.set(key, prev + value);\n    this.emit('changed', key);\n    return prev + value;\n  }\n\n`;
  }
  return s + '}\n';
}

/** Write the generated tree of n files under root (also used to time `vigil codehealth scan`, see README). */
export function generateTree(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const dir = join(root, `component${i % 10}`, `pkg${Math.floor(i / 50) % 10}`);
    mkdirSync(dir, { recursive: true });
    if (i % 2) writeFileSync(join(dir, `service_${i}.ts`), tsFile(i));
    else writeFileSync(join(dir, `service_${i}.py`), pyFile(i));
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 5000);
  const root = mkdtempSync(join(tmpdir(), 'vigil-codehealth-bench-'));
  try {
    generateTree(root, n);
    const workers = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
    const scanner = new RepositoryScanner({ root, workers });
    // Warm this thread's parsers (WebAssembly compile, typescript module load) outside the
    // measurement, as a running collector has them warm after its first scan. Worker threads are
    // started for each large scan, so their start-up is inside the measurement.
    await new RepositoryScanner({ root: join(root, 'component1', 'pkg0') }).scan();
    await new RepositoryScanner({ root: join(root, 'component0', 'pkg0') }).scan();
    let t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const full = await scanner.scan();
    const fullMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const fullCpuMs = (cpu.user + cpu.system) / 1000;
    t0 = performance.now();
    await scanner.scan();
    const unchangedMs = performance.now() - t0;
    // Every file touched without a change (a checkout, a formatter run that changed nothing): the
    // content hash spares the parse.
    const now = new Date();
    for (let i = 0; i < n; i++) utimesSync(join(root, `component${i % 10}`, `pkg${Math.floor(i / 50) % 10}`, `service_${i}.${i % 2 ? 'ts' : 'py'}`), now, now);
    t0 = performance.now();
    const warm = await scanner.scan();
    const warmMs = performance.now() - t0;
    const changed = 'component3/pkg0/service_3.ts';
    writeFileSync(join(root, changed), tsFile(3).replace('return prev + value;', 'return prev - value;'));
    t0 = performance.now();
    const inc = await scanner.update([changed]);
    const incMs = performance.now() - t0;
    const mem = process.memoryUsage();
    console.log(JSON.stringify({
      files: full.files, functions: full.functions, stubs: full.stubs, full_scan_ms: Math.round(fullMs), full_scan_cpu_ms: Math.round(fullCpuMs), rescan_unchanged_ms: Math.round(unchangedMs), rescan_touched_ms: Math.round(warmMs), rescan_parsed: warm.parsed, workers: workers ?? 'default',
      incremental_ms: Math.round(incMs * 10) / 10, incremental_parsed: inc.parsed, rss_mib: Math.round(mem.rss / 1048576), heap_mib: Math.round(mem.heapUsed / 1048576),
      loadavg_1m: loadavg()[0].toFixed(1), cpus: cpus().length,
    }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) void main();
